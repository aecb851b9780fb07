"""The patient model as a network model: one patient, one regimen, exportable to SBML.

Same equations as the vectorised engine (:mod:`asnflux.therapy`): per formulation a depot,
central and peripheral amount (IU) with rate rules; serum activity = central / V1; plasma
Asn and Gln turnover with enzymatic sinks; CSF and marrow Asn; blast stress and
populations. Doses, and antibody onsets, are SBML events. Used to check the engine against
libroadrunner and as the reference in the cohort benchmark.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from .._errors import DataError
from ..network import Compartment, Event, Model, Parameter, Reaction, Species
from ._formulations import formulation, group_of
from ._patient_inputs import FIRST_MONTH_H, PD_RECORDS, PDParams, Population

__all__ = ["Regimen", "build_patient_model", "patient_values", "pd_values"]


class _Dose(Protocol):
    """A dose as the patient model reads it (``asnflux.therapy.Dose`` is one)."""

    @property
    def time_h(self) -> float: ...
    @property
    def formulation(self) -> str: ...
    @property
    def amount(self) -> float: ...
    @property
    def route(self) -> str: ...
    @property
    def if_allergy(self) -> str | None: ...


class Regimen(Protocol):
    """A dosing schedule as the patient model reads it (``asnflux.therapy.Regimen`` is
    one): its doses in time order and the formulations they use, first-used first."""

    @property
    def doses(self) -> Sequence[_Dose]: ...
    @property
    def formulations(self) -> list[str]: ...


def _p(pid: str, value: float, unit: str, name: str, how: str, **kw: object) -> Parameter:
    return Parameter(pid, float(value), unit, name, derived=how, **kw)  # type: ignore[arg-type]


def _onset(onsets: dict[str, np.ndarray], group: str, index: int) -> float:
    """Antibody onset (h) of patient ``index`` in ``group``; infinite when none."""
    return float(onsets[group][index]) if group in onsets else math.inf


def _key(name: str) -> str:
    """A formulation's id fragment (``peg/wurthwein2021`` → ``peg__wurthwein2021``)."""
    return name.replace("-", "_").replace("/", "__")


def _chains(regimen: Regimen, name: str) -> list[list[Any]]:
    """The dose chains of one formulation: one per dose when each dose keeps its own
    clearance clock (Kloos' PEG), else one for all its doses."""
    f = formulation(name)
    mine = [d for d in regimen.doses if d.formulation == name]
    per_dose = f.peg_split_h is not None and f.peg_slope_per_h is not None
    return [[d] for d in mine] if per_dose else [mine]


def patient_values(pop: Population, regimen: Regimen) -> dict[str, np.ndarray]:
    """Every per-patient value of the patient model, one array entry per patient of
    ``pop``: covariate-scaled clearances and volumes with their random effects, antibody
    onsets, occasion factors and the amounts of the doses at time zero (its initial
    state). :func:`build_patient_model` takes one patient's entries; an ensemble run takes
    them all (the model's structure is the same for every patient of one regimen)."""
    if pop.z_occ is not None and pop.z_occ.shape[1] < len(regimen.doses):
        raise DataError(
            f"population z_occ has {pop.z_occ.shape[1]} occasion(s) for a regimen of "
            f"{len(regimen.doses)} doses"
        )
    n = pop.n
    bsa = np.asarray(pop.bsa, float)
    out: dict[str, np.ndarray] = {"bsa": bsa}
    for name in regimen.formulations:
        f = formulation(name)
        k = _key(name)
        cl, v1, q, v2 = (
            np.broadcast_to(np.asarray(x, float), (n,)) for x in f.scaled(bsa, pop.weight)
        )
        cov = f.covariate_cl(pop.age_y, pop.female, n, pop.phase, pop.infection)
        cl = cl * cov * np.exp(f.eta_cl(pop.z_cl, pop.z_v))
        out[f"CL_{k}"] = cl
        out[f"V1_{k}"] = v1 * np.exp(f.iiv_v * pop.z_v)
        out[f"Q_{k}"] = q * np.ones(n)
        out[f"V2_{k}"] = (
            np.maximum(v2 * np.exp(f.iiv_v * pop.z_v), 1e-300) if f.v2 > 0 else np.ones(n)
        )
        g = group_of(name)
        for kind, onsets in (("silent", pop.silent_onset_h), ("allergy", pop.allergy_onset_h)):
            at = np.asarray(onsets[g], float) if g in onsets else np.full(n, math.inf)
            out[f"{kind}_at_{k}"] = np.minimum(at, 1e12)
        # Between-occasion variability: each dose starts an occasion of its formulation.
        iov = pop.z_occ is not None and f.iov_cl > 0
        occ = {
            id(d): np.exp(f.iov_cl * pop.z_occ[:, j]) if iov else np.ones(n)  # type: ignore[index]
            for j, d in enumerate(regimen.doses)
        }
        at_zero = [occ[id(d)] for d in regimen.doses if d.formulation == name and d.time_h == 0]
        out[f"occ_{k}"] = at_zero[-1] if at_zero else np.ones(n)
        if iov:
            for j, d in enumerate(regimen.doses):
                if d.formulation == name and d.time_h > 0:
                    out[f"occ_{k}_{j}"] = occ[id(d)]
        for c, doses in enumerate(_chains(regimen, name), start=1):
            depot, central = np.zeros(n), np.zeros(n)
            for d in doses:  # doses at time zero are initial amounts (no event at the start)
                if d.time_h == 0:
                    amount = d.amount * bsa * f.iu_per_dose_unit
                    if d.route == "im":
                        depot = depot + amount * f.f_im
                    else:
                        central = central + amount
            out[f"depot_{k}_{c}"] = depot
            out[f"central_{k}_{c}"] = central
    return out


# Units of the PD constants that are parameters of the model (ids as in pd_values).
_PD_UNITS = {
    "k_asn": "1/h",
    "asn0": "mM",
    "k_gln": "1/h",
    "gln0": "mM",
    "Km_gln": "mM",
    "csf_ratio": "dimensionless",
    "k_csf": "1/h",
    "k_marrow": "1/h",
    "msc_supply": "mM/h",
    "access": "dimensionless",
    "mu_max": "1/h",
    "K_growth": "mM",
    "K_starve": "mM",
    "K_gln_starve": "mM",
    "K_nt_gln": "mM",
    "kd_max": "1/h",
    "tau_stress": "h",
    "K_stress": "dimensionless",
    "n_death": "dimensionless",
}


def pd_values(pd: PDParams) -> dict[str, Any]:
    """The patient model's values that come from ``pd``, by model id: PD constants,
    the initial plasma, CSF and marrow levels and blast counts, and the endpoint limits.
    Fields may be arrays (one entry per member of an ensemble run)."""
    return {
        "rate_per_IU": pd.rate_per_iu_ml,
        "k_asn": pd.k_asn,
        "asn0": pd.asn0_mM,
        "k_gln": pd.k_gln,
        "gln0": pd.gln0_mM,
        "Km_gln": pd.km_gln_mM,
        "csf_ratio": pd.csf_ratio,
        "k_csf": pd.k_csf,
        "k_marrow": pd.k_marrow,
        "msc_supply": pd.msc_supply,
        "access": pd.marrow_access,
        "mu_max": pd.mu_max,
        "K_growth": pd.k_growth,
        "K_starve": pd.k_starve,
        "K_gln_starve": pd.k_gln_starve,
        "K_nt_gln": pd.k_nt_gln,
        "kd_max": pd.kd_max,
        "tau_stress": pd.tau_stress,
        "K_stress": pd.k_stress,
        "n_death": pd.n_death,
        "Asn_plasma": pd.asn0_mM,
        "Gln_plasma": pd.gln0_mM,
        "Asn_csf": pd.asn0_mM * pd.csf_ratio,
        "Asn_marrow": pd.asn0_mM + pd.msc_supply / pd.k_marrow,
        "blasts_s": pd.blasts0 * (1 - pd.resistant0),
        "blasts_r": pd.blasts0 * pd.resistant0,
        "asn_depleted": pd.asn_depleted_mM,
        "csf_depleted": pd.csf_depleted_mM,
    }


def build_patient_model(
    pop: Population,
    regimen: Regimen,
    index: int = 0,
    *,
    endpoint_states: bool = False,
    pd: PDParams | None = None,
) -> Model:
    """Patient ``index`` of ``pop`` on ``regimen`` as a :class:`~asnflux.network.Model`;
    ``endpoint_states`` adds the cohort's duration endpoints as states (``t_saa_above``,
    ``t_asn_depleted``, ``t_csf_depleted``, in h; threshold ``saa_threshold``); ``pd``
    replaces the knowledge base's PD constants (an array field: the patient's entry)."""
    pd = pd or PDParams.from_kb()
    pdv = {k: float(np.ravel(v)[index] if np.ndim(v) else v) for k, v in pd_values(pd).items()}
    values = {k: float(v[index]) for k, v in patient_values(pop, regimen).items()}
    params: list[Parameter] = []
    events: list[Event] = []
    bsa = values["bsa"]
    params.append(_p("bsa", bsa, "m**2", "body-surface area", "patient covariate"))
    infected: dict[str, str] = {}  # per formulation with the covariate: its factor's id
    act_terms, km_terms, gln_terms = [], [], []
    # The allergy onset parameter of each antibody group (any formulation of it carries it).
    allergy_of = {
        group_of(name): "allergy_at_" + _key(name) for name in reversed(regimen.formulations)
    }
    for name in regimen.formulations:
        f = formulation(name)
        k = _key(name)
        cl, v1, q, v2 = (values[f"{x}_{k}"] for x in ("CL", "V1", "Q", "V2"))
        silent, allergy = values[f"silent_at_{k}"], values[f"allergy_at_{k}"]
        src = ", ".join(f.sources[:4])
        per_dose = f.peg_split_h is not None and f.peg_slope_per_h is not None
        chains = _chains(regimen, name)
        iov = pop.z_occ is not None and f.iov_cl > 0
        index_of = {id(d): j for j, d in enumerate(regimen.doses)}
        # Infection episodes (Kloos 2021's time-varying covariate): a clearance factor set
        # by events at each episode's start and end, so the edges are step boundaries
        episodes = ""
        if pop.infection_h and f.infection_cl != 1.0:
            ill_at_start = pop.infection_h[0][0] == 0.0
            params += [
                _p(f"inf_{k}", f.infection_cl, "dimensionless",
                   "clearance factor during an infection", f"{f.pk_model}'s infection covariate"),
                _p(f"infm_{k}", f.infection_cl if ill_at_start else 1.0, "dimensionless",
                   "clearance factor of the infection state now", "set at each episode's edges",
                   variable=True),
            ]  # fmt: skip
            infected[f"infm_{k}"] = f"inf_{k}"
            episodes = f" * infm_{k}"
        params += [
            _p(f"CL_{k}", cl, "L/h", f"{f.label} clearance", f"typical value scaled ({src})"),
            _p(f"V1_{k}", v1, "L", f"{f.label} central volume", "typical value scaled"),
            _p(f"Q_{k}", q, "L/h", "inter-compartmental clearance", "typical value scaled"),
            _p(
                f"V2_{k}",
                v2,
                "L",
                "peripheral volume",
                "typical value scaled (1 L placeholder when one-compartment: Q is 0)",
            ),
            _p(
                f"ka_{k}",
                f.ka_im if not math.isnan(f.ka_im) else 1.0,
                "1/h",
                "IM absorption",
                "from the formulation",
            ),
            _p(
                f"F_{k}",
                f.f_im if not math.isnan(f.f_im) else 1.0,
                "dimensionless",
                "IM bioavailability",
                "from the formulation",
            ),
            _p(
                f"iu_{k}",
                f.iu_per_dose_unit,
                "dimensionless",
                "IU per dose unit per m2",
                "1 for IU doses; specific activity for mg doses",
            ),
            _p(
                f"m1_{k}",
                f.cl_first_month,
                "dimensionless",
                "first-month clearance factor",
                "Sassen 2017 for Erwinia, else 1",
            ),
            _p(f"silent_at_{k}", silent, "h", "silent inactivation onset", "cohort"),
            _p(f"allergy_at_{k}", allergy, "h", "allergy onset", "cohort"),
            _p(
                f"split_{k}",
                f.peg_split_h or 1e12,
                "h",
                "PEG clearance rise onset",
                "Kloos 2021 (PEG only)",
            ),
            _p(
                f"slope_{k}",
                f.peg_slope_per_h or 0.0,
                "1/h",
                "PEG clearance rise slope",
                "Kloos 2021 (PEG only)",
            ),
            _p(
                f"mult_{k}",
                1.0,
                "dimensionless",
                "clearance multiplier (month, antibodies)",
                "rule",
                assignment=f"piecewise(m1_{k}, time < first_month, 1) * "
                f"piecewise(m_silent, time >= silent_at_{k}, 1) * "
                f"piecewise(m_allergy, time >= allergy_at_{k}, 1)" + episodes,
            ),
            _p(
                f"occ_{k}",
                values[f"occ_{k}"],
                "dimensionless",
                "clearance factor of the current occasion (between-occasion variability)",
                "patient's occasion effects; each dose sets it",
                variable=True,
            ),
            _p(f"Km_{k}", f.km_mM, "mM", "Km for Asn", "from the formulation"),
            _p(
                f"glut_{k}",
                f.glutaminase,
                "dimensionless",
                "glutaminase fraction",
                "from the formulation",
            ),
        ]
        params += [
            _p(f"occ_{k}_{j}", values[f"occ_{k}_{j}"], "dimensionless",
               f"clearance factor of the occasion dose {j + 1} starts", "patient's occasion effect")
            for j, d in enumerate(regimen.doses)
            if iov and d.formulation == name and d.time_h > 0
        ]  # fmt: skip
        centrals = []
        for c, doses in enumerate(chains, start=1):
            kc = f"{k}_{c}"
            init = {"depot": values[f"depot_{kc}"], "central": values[f"central_{kc}"]}
            clock = ""
            if per_dose:
                params.append(
                    _p(f"t_dose_{kc}", doses[0].time_h, "h", "time of this dose", "the regimen")
                )
                clock = (
                    f" * (1 + slope_{k} * piecewise(time - t_dose_{kc} - split_{k}, "
                    f"time - t_dose_{kc} > split_{k}, 0))"
                )
            params += [
                _p(
                    f"depot_{kc}",
                    init["depot"],
                    "IU",
                    "depot amount",
                    "state",
                    rate_rule=f"-ka_{k} * depot_{kc}",
                ),
            ]
            loss = f"(CL_{k} * occ_{k} * mult_{k}{clock} / V1_{k} + Q_{k} / V1_{k})"
            if f.transit_n:  # a chain: each passes on at Q/V1, the last out of the body
                chain = [f"central_{kc}"] + [f"tr{j}_{kc}" for j in range(2, f.transit_n + 1)]
                rules = {chain[0]: f"ka_{k} * depot_{kc} - {loss} * {chain[0]}"}
                for prev, this in itertools.pairwise(chain):
                    rules[this] = f"Q_{k} / V1_{k} * {prev} - {loss} * {this}"
                for sid, rule in rules.items():
                    first = sid == chain[0]
                    params.append(
                        _p(
                            sid,
                            init["central"] if first else 0.0,
                            "IU",
                            "first transit compartment" if first else "transit compartment",
                            "state",
                            rate_rule=rule,
                        )
                    )
                centrals += chain
            else:
                params += [
                    _p(
                        f"central_{kc}",
                        init["central"],
                        "IU",
                        "central amount",
                        "state",
                        rate_rule=f"ka_{k} * depot_{kc} - {loss} * central_{kc} + "
                        f"Q_{k} / V2_{k} * peripheral_{kc}",
                    ),
                    _p(
                        f"peripheral_{kc}",
                        0.0,
                        "IU",
                        "peripheral amount",
                        "state",
                        rate_rule=f"Q_{k} / V1_{k} * central_{kc} - Q_{k} / V2_{k} * "
                        f"peripheral_{kc}",
                    ),
                ]
                centrals.append(f"central_{kc}")
            for i, d in enumerate(x for x in doses if x.time_h > 0):
                target = f"depot_{kc}" if d.route == "im" else f"central_{kc}"
                frac = f"F_{k} * " if d.route == "im" else ""
                added = f"piecewise(0, time >= allergy_at_{k}, {frac}{d.amount!r} * bsa * iu_{k})"
                if d.if_allergy is not None:  # a replacement, given only after that allergy
                    added = f"piecewise({added}, time >= {allergy_of[d.if_allergy]}, 0)"
                events.append(
                    Event(
                        f"dose_{kc}_{i + 1}",
                        d.time_h,
                        {
                            target: f"{target} + {added}",
                            **({f"occ_{k}": f"occ_{k}_{index_of[id(d)]}"} if iov else {}),
                        },
                        f"{d.amount:g} {f.dose_unit} {d.route}",
                    )
                )
        params.append(
            _p(
                f"saa_{k}",
                0.0,
                "IU/mL",
                f"{f.label} serum activity",
                "central / V1 (summed over dose chains)",
                assignment=f"({' + '.join(centrals)}) / V1_{k} * mL_per_L",
            )
        )
        act_terms.append(f"saa_{k}")
        km_terms.append(f"saa_{k} * Km_{k}")
        gln_terms.append(f"saa_{k} * glut_{k}")
    for i, (start, end) in enumerate(pop.infection_h if infected else (), start=1):
        if start > 0:  # an episode from time zero is the factor's initial value
            events.append(Event(f"infection_{i}_start", start, dict(infected), "infection"))
        events.append(Event(f"infection_{i}_end", end, dict.fromkeys(infected, "1"), "recovery"))
    from ..knowledge import load_knowledge_base

    kb = load_knowledge_base()
    params += [
        _p("mL_per_L", 1e-3, "L/mL", "unit conversion", "1 L = 1000 mL"),
        _p("first_month", FIRST_MONTH_H, "h", "first month of treatment", "30 days"),
        *(
            Parameter(
                f"m_{kind}",
                kb.value(f"imm.clearance_multiplier.{kind}", "dimensionless"),
                "dimensionless",
                f"clearance multiplier ({kind})",
                record=f"imm.clearance_multiplier.{kind}",
            )
            for kind in ("silent", "allergy")
        ),
        _p(
            "SAA",
            0.0,
            "IU/mL",
            "total serum asparaginase activity",
            "sum over formulations",
            assignment=" + ".join(act_terms),
        ),
        _p(
            "rate_per_IU",
            pdv["rate_per_IU"],
            "mM/h/(IU/mL)",
            "activity to rate",
            "1 IU/mL = 60 mM/h",
        ),
        _p(
            "Km_eff",
            1.0,
            "mM",
            "activity-weighted Km",
            "rule",
            assignment=f"piecewise(({' + '.join(km_terms)}) / SAA, SAA > 0, "
            f"Km_{_key(regimen.formulations[0])})",
        ),
        _p("Vasn", 0.0, "mM/h", "enzymatic Asn capacity", "rule", assignment="rate_per_IU * SAA"),
        _p(
            "Vgln",
            0.0,
            "mM/h",
            "enzymatic Gln capacity",
            "rule",
            assignment=f"rate_per_IU * ({' + '.join(gln_terms)})",
        ),
    ]
    if endpoint_states:
        params += _endpoint_states(pdv)
    params += [
        _p(pid, pdv[pid], unit, pid, "PD parameter from the knowledge base (PDParams)")
        for pid, unit in _PD_UNITS.items()
    ]
    params += [
        _p(
            "stress_s",
            0.0,
            "dimensionless",
            "sensitive-blast stress",
            "state",
            rate_rule="(K_starve / (K_starve + Asn_marrow) - stress_s) / tau_stress",
        ),
        _p(
            "stress_r",
            0.0,
            "dimensionless",
            "resistant-blast stress",
            "state",
            rate_rule="(K_gln_starve / (K_gln_starve + Gln_plasma) - stress_r) / tau_stress",
        ),
        _p(
            "blasts_s",
            pdv["blasts_s"],
            "dimensionless",
            "sensitive blasts",
            "state",
            rate_rule="(mu_max * Asn_marrow / (K_growth + Asn_marrow) - kd_max * "
            "stress_s^n_death / (K_stress^n_death + stress_s^n_death)) * blasts_s",
        ),
        _p(
            "blasts_r",
            pdv["blasts_r"],
            "dimensionless",
            "resistant blasts",
            "state",
            rate_rule="(mu_max * Gln_plasma / (K_nt_gln + Gln_plasma) - kd_max * "
            "stress_r^n_death / (K_stress^n_death + stress_r^n_death)) * blasts_r",
        ),
    ]
    comps = [
        Compartment("plasma", "plasma", 1.0),
        Compartment("csf", "CSF", 1.0),
        Compartment("marrow", "marrow interstitium", 1.0),
    ]
    species = [
        Species("Asn_plasma", "plasma Asn", "plasma", pdv["Asn_plasma"], "CHEBI:17196", "C4H8N2O3"),
        Species(
            "Gln_plasma", "plasma Gln", "plasma", pdv["Gln_plasma"], "CHEBI:18050", "C5H10N2O3"
        ),
        Species("Asn_csf", "CSF Asn", "csf", pdv["Asn_csf"], "CHEBI:17196", "C4H8N2O3"),
        Species("Asn_marrow", "marrow Asn", "marrow", pdv["Asn_marrow"], "CHEBI:17196", "C4H8N2O3"),
    ]
    b: dict[str, Any] = {"boundary": True, "sbo": "SBO:0000628"}
    reactions = [
        Reaction(
            "Asn_influx", "Asn into plasma", {}, {"Asn_plasma": 1}, "k_asn * asn0", "plasma", **b
        ),
        Reaction(
            "Asn_clearance",
            "Asn out of plasma",
            {"Asn_plasma": 1},
            {},
            "k_asn * Asn_plasma",
            "plasma",
            **b,
        ),
        Reaction(
            "Asn_hydrolysis",
            "asparaginase in plasma",
            {"Asn_plasma": 1},
            {},
            "Vasn * Asn_plasma / (Km_eff + Asn_plasma)",
            "plasma",
            **b,
        ),
        Reaction(
            "Gln_influx", "Gln into plasma", {}, {"Gln_plasma": 1}, "k_gln * gln0", "plasma", **b
        ),
        Reaction(
            "Gln_clearance",
            "Gln out of plasma",
            {"Gln_plasma": 1},
            {},
            "k_gln * Gln_plasma",
            "plasma",
            **b,
        ),
        Reaction(
            "Gln_hydrolysis",
            "glutaminase side activity",
            {"Gln_plasma": 1},
            {},
            "Vgln * Gln_plasma / (Km_gln + Gln_plasma)",
            "plasma",
            **b,
        ),
        Reaction(
            "CSF_in",
            "Asn into CSF",
            {},
            {"Asn_csf": 1},
            "k_csf * csf_ratio * Asn_plasma",
            "csf",
            **b,
        ),
        Reaction("CSF_out", "Asn out of CSF", {"Asn_csf": 1}, {}, "k_csf * Asn_csf", "csf", **b),
        Reaction(
            "marrow_in",
            "Asn into marrow (plasma and MSC)",
            {},
            {"Asn_marrow": 1},
            "k_marrow * Asn_plasma + msc_supply",
            "marrow",
            **b,
        ),
        Reaction(
            "marrow_out",
            "Asn out of marrow",
            {"Asn_marrow": 1},
            {},
            "k_marrow * Asn_marrow + access * Vasn * Asn_marrow / (Km_eff + Asn_marrow)",
            "marrow",
            **b,
        ),
    ]
    return Model(
        "asnflux_patient", "AsnFlux patient model", comps, species, params, reactions, events
    )


def _endpoint_states(pdv: dict[str, float]) -> list[Parameter]:
    """Endpoints as states integrated with the model (h): time with SAA at or above the
    threshold, with plasma Asn below 1 µM, with CSF Asn at or below its LLOQ. Their
    integrands switch at the thresholds, which libroadrunner's CVODE steps through slowly
    at tight tolerances, so the export leaves them out unless asked; the compiled engine
    recognises them as durations and measures them on its dense output, at no cost in
    steps."""
    return [
        _p("saa_threshold", 0.1, "IU/mL", "SAA threshold counted", "the cohort's threshold"),
        _p("asn_depleted", pdv["asn_depleted"], "mM", "plasma Asn depletion", "endpoint: 1 µM"),
        Parameter(
            "csf_depleted",
            pdv["csf_depleted"],
            "mM",
            "CSF Asn depletion (assay LLOQ)",
            record=PD_RECORDS["csf_depleted_mM"][0],
        ),
        _p(
            "t_saa_above",
            0.0,
            "h",
            "time with SAA at or above the threshold",
            "endpoint",
            rate_rule="piecewise(1, SAA >= saa_threshold, 0)",
        ),
        _p(
            "t_asn_depleted",
            0.0,
            "h",
            "time with plasma Asn below 1 µM",
            "endpoint",
            rate_rule="piecewise(1, Asn_plasma < asn_depleted, 0)",
        ),
        _p(
            "t_csf_depleted",
            0.0,
            "h",
            "time with CSF Asn at or below the LLOQ",
            "endpoint",
            rate_rule="piecewise(1, Asn_csf <= csf_depleted, 0)",
        ),
    ]
