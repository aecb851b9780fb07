"""Immunogenicity driven by dose events: a neutralising reaction is drawn at each dose.

At every dose a patient receives, a patient without an earlier reaction to the dose's
antibody group (E. coli-derived or Erwinia enzymes) reacts with a probability set by the
dose's place in the patient's exposure history:

- the first exposure to the group (``first``);
- the first dose of an enzyme class after exposure to another class of the same group
  (``cross``: PEG after native E. coli, which primes antibodies that cross-react);
- a dose after an asparaginase-free interval of at least ``gap`` while the patient is still
  early in the course (at most ``max_gap_doses`` earlier doses of the class: DCOG ALL-11's
  interval after three induction doses raised reactions, NOPHO ALL2008's 6-week intervals
  after five doses did not; ``gap``);
- otherwise the 2nd and 3rd dose of the class (``early``) or any later one (``late``),

times a route factor (IM against IV for PEG). A reaction is a clinical allergy (the
group's further doses are not given; clearance of circulating enzyme ×20) or, with the
class's silent share, a silent inactivation (clearance ×10), from that dose on. The rates
are fitted to cited trials (:mod:`._imm_fit`, knowledge-base ``imm.*.fit`` records); the
validation suite checks them against trials not used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._errors import DataError
from ..knowledge import load_knowledge_base
from ._regimen import GRID_H, Regimen

__all__ = ["ImmunogenicityModel", "Reactions", "draw_reactions", "rate_class"]

#: Enzyme class whose immunogenicity rates a formulation uses (its own trials' data, or an
#: assumption recorded in the knowledge base: ``imm.class_mapping``).
_CLASS = {
    "peg": "peg",
    "calaspargase": "peg",
    "native-ecoli": "native_ecoli",
    "ecoli-recombinant": "native_ecoli",
    "erwinia": "erwinia",
    "erwinia-recombinant": "erwinia",
}
_GROUP = {"peg": "ecoli", "native_ecoli": "ecoli", "erwinia": "erwinia"}


def rate_class(name: str) -> str:
    """The enzyme class (``peg``, ``native_ecoli``, ``erwinia``) of a formulation name."""
    return _CLASS[name.split("/")[0]]


@dataclass(frozen=True)
class Rates:
    """Per-dose probabilities of a neutralising reaction for one enzyme class."""

    first: float
    cross: float
    gap: float
    early: float
    late: float
    silent_share: float
    route_factor: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ImmunogenicityModel:
    rates: dict[str, Rates]
    gap_h: float
    max_gap_doses: int

    @classmethod
    def from_kb(cls) -> ImmunogenicityModel:
        kb = load_knowledge_base()

        def v(key: str) -> float:
            return kb.value(key, "dimensionless")

        peg = Rates(
            first=v("imm.peg.first.fit"),
            cross=v("imm.peg.cross.fit"),
            gap=v("imm.peg.gap.fit"),
            early=v("imm.peg.early.fit"),
            late=v("imm.peg.late.fit"),
            silent_share=v("imm.peg.silent_share.fit"),
            route_factor={"iv": 1.0, "im": v("imm.peg.im_factor.fit")},
        )
        p_native = v("imm.native_ecoli.per_dose.fit")
        native = Rates(
            p_native, p_native, p_native, p_native, p_native,
            silent_share=v("imm.native_ecoli.silent_share"),
        )  # fmt: skip
        p_erw = v("imm.erwinia.per_dose.fit")
        erwinia = Rates(
            p_erw, p_erw, p_erw, p_erw, p_erw, silent_share=v("imm.erwinia.silent_share.fit")
        )
        return cls(
            {"peg": peg, "native_ecoli": native, "erwinia": erwinia},
            kb.value("imm.gap.threshold", "h"),
            round(kb.value("imm.gap.max_prior_doses", "dimensionless")),
        )


@dataclass
class Reactions:
    """Per antibody group: onset (h; inf: none) and the regimen index of the dose (-1:
    none) of an allergy and of a silent inactivation, for N patients."""

    allergy_onset_h: dict[str, np.ndarray]
    silent_onset_h: dict[str, np.ndarray]
    allergy_dose: dict[str, np.ndarray]
    silent_dose: dict[str, np.ndarray]

    def columns(self) -> dict[str, np.ndarray]:
        """Per-patient table columns: onset day and dose number (1-based in the regimen)."""
        out: dict[str, np.ndarray] = {}
        for g in self.allergy_onset_h:
            for kind, onset, dose in (
                ("allergy", self.allergy_onset_h[g], self.allergy_dose[g]),
                ("silent", self.silent_onset_h[g], self.silent_dose[g]),
            ):
                out[f"{kind}_onset_day_{g}"] = np.where(np.isfinite(onset), onset / 24, np.nan)
                out[f"{kind}_dose_{g}"] = np.where(dose >= 0, dose + 1.0, np.nan)
        return out


def _override(
    regimen: Regimen, p_allergy: float | None, p_silent: float | None, model: ImmunogenicityModel
) -> dict[str, tuple[float, float]]:
    """Per group, per-dose (allergy, silent) probabilities spread evenly over the group's
    doses so that a patient given all of them reacts with ``p_allergy``/``p_silent``."""
    out = {}
    for g in dict.fromkeys(_GROUP[rate_class(d.formulation)] for d in regimen.doses):
        mine = [d for d in regimen.doses if _GROUP[rate_class(d.formulation)] == g]
        share = model.rates[rate_class(mine[0].formulation)].silent_share
        # One given alone: the other in the class's fitted proportion to it.
        if p_allergy is None:
            pa = float(p_silent or 0.0) * (1 - share) / share if share > 0 else 0.0
            ps = float(p_silent or 0.0)
        elif p_silent is None:
            pa, ps = p_allergy, (p_allergy * share / (1 - share) if share < 1 else 0.0)
        else:
            pa, ps = p_allergy, p_silent
        total = pa + ps
        if total > 1:
            raise DataError(
                f"p_allergy {pa:.3g} plus p_silent {ps:.3g} (the other in the class's silent "
                f"share {share:.3g}) exceeds 1; give both"
            )
        q = 1.0 - (1.0 - total) ** (1.0 / len(mine))
        out[g] = (q * pa / total, q * ps / total) if total > 0 else (0.0, 0.0)
    return out


def draw_reactions(
    regimen: Regimen,
    n: int,
    rng: np.random.Generator,
    *,
    enabled: bool = True,
    p_allergy: float | None = None,
    p_silent: float | None = None,
    model: ImmunogenicityModel | None = None,
) -> Reactions:
    """Walk the regimen's doses in time order and draw each patient's reaction at each.

    ``p_allergy``/``p_silent`` (probabilities a patient given every dose of a group reacts
    so over the regimen) replace the fitted rates by a constant per-dose probability; one
    given alone sets the other in the class's fitted silent share. One uniform number
    per patient and dose is drawn in every case, so a seed gives the same patients.
    """
    model = model or ImmunogenicityModel.from_kb()  # probabilities checked by the caller
    override = (
        _override(regimen, p_allergy, p_silent, model)
        if p_allergy is not None or p_silent is not None
        else None
    )
    groups = list(dict.fromkeys(_GROUP[rate_class(d.formulation)] for d in regimen.doses))
    inf = np.full(n, np.inf)
    allergy = {g: inf.copy() for g in groups}
    silent = {g: inf.copy() for g in groups}
    a_dose = {g: np.full(n, -1) for g in groups}
    s_dose = {g: np.full(n, -1) for g in groups}
    last_h = {g: np.full(n, -np.inf) for g in groups}  # last dose of the group received
    n_group = {g: np.zeros(n, int) for g in groups}
    n_class = {c: np.zeros(n, int) for c in model.rates}
    for j, d in enumerate(regimen.doses):
        cls = rate_class(d.formulation)
        g = _GROUP[cls]
        u = rng.random(n)
        received = allergy[g] > d.time_h  # an allergic patient is not given the group again
        if d.if_allergy is not None:  # a replacement: only after an allergy to that group
            received = received & (allergy[d.if_allergy] < d.time_h)
        naive = received & (silent[g] > d.time_h)
        r = model.rates[cls]
        if override is not None:
            pa_dose, ps_dose = override[g]
            p_any = np.full(n, pa_dose + ps_dose)
            share = ps_dose / (pa_dose + ps_dose) if pa_dose + ps_dose > 0 else 0.0
        else:
            k = n_class[cls]
            gap = d.time_h - last_h[g] >= model.gap_h
            p_any = np.where(
                n_group[g] == 0,
                r.first,
                np.where(
                    k == 0,
                    r.cross,
                    np.where(
                        gap & (k <= model.max_gap_doses), r.gap, np.where(k <= 2, r.early, r.late)
                    ),
                ),
            ) * r.route_factor.get(d.route, 1.0)
            p_any = np.minimum(p_any, 1.0)
            share = r.silent_share
        react = enabled & naive & (u < p_any)
        is_allergy = react & (u < p_any * (1.0 - share))
        is_silent = react & ~is_allergy
        onset = d.time_h + GRID_H  # from the dose on (most allergies within hours)
        allergy[g] = np.where(is_allergy, onset, allergy[g])
        silent[g] = np.where(is_silent, onset, silent[g])
        a_dose[g] = np.where(is_allergy, j, a_dose[g])
        s_dose[g] = np.where(is_silent, j, s_dose[g])
        last_h[g] = np.where(received, d.time_h, last_h[g])
        n_group[g] += received
        n_class[cls] += received
    return Reactions(allergy, silent, a_dose, s_dose)
