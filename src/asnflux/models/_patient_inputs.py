"""What the patient model is given: PD constants from the knowledge base, and a
population's covariates, random effects and antibody onsets.

Both the network model (:mod:`asnflux.models.patient`) and the cohort engines of
:mod:`asnflux.therapy` read them from here.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._errors import DataError
from ..knowledge import load_knowledge_base
from ..units import Q_

__all__ = ["FIRST_MONTH_H", "PD_RECORDS", "PDParams", "Population"]

Array = NDArray[np.float64]
# Sassen 2017's "first month of treatment", as 30 days from the start of the course.
FIRST_MONTH_H = 30 * 24.0


@dataclass(frozen=True)
class PDParams:
    asn0_mM: float
    k_asn: float
    gln0_mM: float
    k_gln: float
    km_gln_mM: float
    csf_ratio: float
    k_csf: float
    k_marrow: float
    msc_supply: float
    marrow_access: float
    mu_max: float
    k_growth: float
    k_starve: float
    k_gln_starve: float
    k_nt_gln: float
    kd_max: float
    tau_stress: float
    k_stress: float
    n_death: float
    blasts0: float
    resistant0: float
    rate_per_iu_ml: float  # mM/h per IU/mL
    csf_depleted_mM: float
    asn_depleted_mM: float

    @classmethod
    def from_kb(cls) -> PDParams:
        kb = load_knowledge_base()
        v = kb.value
        csf = kb.get("lit.csf.asn_physiological")  # a range, stored in mM
        if csf.low is None or csf.high is None:
            raise DataError("record lit.csf.asn_physiological must be a range")
        csf_mid = 0.5 * (float(csf.low) + float(csf.high))
        asn0 = v("seed.t2.plasma.asn", "mM")
        return cls(
            asn0_mM=asn0,
            csf_ratio=csf_mid / asn0,
            mu_max=math.log(2) / v("cell.all_blast.doubling_time", "h"),
            rate_per_iu_ml=float(Q_(1.0, "IU/mL").to("mM/h").magnitude),
            asn_depleted_mM=float(Q_(1.0, "µM").to("mM").magnitude),  # endpoint definition
            **{name: v(record, unit) for name, (record, unit) in PD_RECORDS.items()},
        )


#: PD constants read directly from one knowledge-base record each: field → (record, unit).
PD_RECORDS = {
    "k_asn": ("plasma.asn.turnover", "1/h"),
    "gln0_mM": ("plasma.gln.baseline", "mM"),
    "k_gln": ("plasma.gln.turnover", "1/h"),
    "km_gln_mM": ("asnase.glutaminase.km", "mM"),
    "k_csf": ("csf.exchange", "1/h"),
    "k_marrow": ("marrow.exchange", "1/h"),
    "msc_supply": ("marrow.msc_supply", "mM/h"),
    "marrow_access": ("marrow.enzyme_access", "dimensionless"),
    "k_growth": ("blast.asn.k_growth", "mM"),
    "k_starve": ("blast.asn.k_starvation", "mM"),
    "k_gln_starve": ("blast.gln.k_starvation", "mM"),
    "k_nt_gln": ("nucleotide.k_gln", "mM"),
    "kd_max": ("death.rate.max", "1/h"),
    "tau_stress": ("death.stress.time_constant", "h"),
    "k_stress": ("death.stress.k_half", "dimensionless"),
    "n_death": ("death.hill", "dimensionless"),
    "blasts0": ("blast.burden.initial", "dimensionless"),
    "resistant0": ("blast.resistant_fraction", "dimensionless"),
    "csf_depleted_mM": ("lit.csf.asn_depletion_lloq", "mM"),
}


def check_infection_episodes(episodes: Any, throughout: bool = False) -> None:
    """Episodes are (start, end) hour pairs, 0 ≤ start < end, finite, in order and apart
    (one ending where the next starts is one episode: give it merged); with an infection
    throughout the course there are none."""
    if episodes and throughout:
        raise DataError("give an infection throughout the course or episodes, not both")
    last = -math.inf
    for ep in episodes:
        try:
            a, b = (float(x) for x in ep)
        except (TypeError, ValueError):
            raise DataError(f"infection episode {ep!r}: expected (start, end) in hours") from None
        if not (math.isfinite(a) and math.isfinite(b) and 0 <= a < b):
            raise DataError(
                f"infection episode {a / 24:g}-{b / 24:g} days: expected 0 <= start < end"
            )
        if a <= last:  # touching episodes are one: merge them (their edge events would clash)
            raise DataError(
                f"infection episodes overlap, touch or are out of order at day {a / 24:g}: "
                "give them in order, each starting after the last has ended (merge touching "
                "ones)"
            )
        last = b


@dataclass
class Population:
    """Covariates, random effects (standard normal) and antibody onsets of N patients."""

    bsa: Array
    weight: Array
    z_cl: Array
    z_v: Array
    allergy_onset_h: dict[str, Array] = field(default_factory=dict)  # by antibody group
    silent_onset_h: dict[str, Array] = field(default_factory=dict)
    # Covariates of the models that have them (None: the model's reference patient)
    age_y: Array | None = None
    female: NDArray[np.bool_] | None = None
    # Between-occasion effects (standard normal), one column per dose of the regimen in its
    # order; used by the formulations whose model has IOV of clearance (None: none drawn)
    z_occ: Array | None = None
    # Covariates of the whole course (Kloos 2021's PEG model): the treatment phase (None:
    # the model's reference, induction) and an infection throughout
    phase: str | None = None
    infection: bool = False
    # Infection episodes instead of one throughout: (start, end) in hours from the start of
    # the regimen, in order and apart; clearance carries the infection factor inside each
    infection_h: tuple[tuple[float, float], ...] = ()

    @property
    def n(self) -> int:
        return len(self.bsa)

    def take(self, rows: Any) -> Population:
        """The patients at ``rows`` (indices, a slice or a boolean mask), with everything
        drawn for them; the course's covariates (phase, infection) stay as they are."""
        idx = np.atleast_1d(np.arange(self.n)[rows])

        def pick(a: Any) -> Any:
            return None if a is None else np.asarray(a)[idx]

        return dataclasses.replace(
            self,
            bsa=pick(self.bsa),
            weight=pick(self.weight),
            z_cl=pick(self.z_cl),
            z_v=pick(self.z_v),
            allergy_onset_h={k: pick(v) for k, v in self.allergy_onset_h.items()},
            silent_onset_h={k: pick(v) for k, v in self.silent_onset_h.items()},
            age_y=pick(self.age_y),
            female=pick(self.female),
            z_occ=pick(self.z_occ),
        )

    def check(self) -> None:
        n = self.n
        check_infection_episodes(self.infection_h, self.infection)
        for name in ("bsa", "weight", "z_cl", "z_v"):
            arr = np.asarray(getattr(self, name), float)
            if arr.shape != (n,) or not np.all(np.isfinite(arr)):
                raise DataError(f"population {name}: expected {n} finite values")
        if np.any(self.bsa <= 0):
            raise DataError(f"BSA must be positive, got {float(np.min(self.bsa)):g} m**2")
        if np.any(self.weight <= 0):
            raise DataError("weight must be positive")
        if self.age_y is not None:
            age = np.asarray(self.age_y, float)
            if age.shape != (n,) or not np.all(np.isfinite(age)) or np.any(age < 0):
                raise DataError(f"population age_y: expected {n} ages ≥ 0 years")
        if self.female is not None and np.shape(self.female) != (n,):
            raise DataError(f"population female: expected {n} values")
        if self.z_occ is not None:
            occ = np.asarray(self.z_occ, float)
            if occ.ndim != 2 or occ.shape[0] != n or not np.all(np.isfinite(occ)):
                raise DataError(f"population z_occ: expected {n} rows of finite values")
