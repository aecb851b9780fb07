"""Asparaginase formulations: published PK structure and typical values from the knowledge base.

Every formulation is a linear model with an IM depot (first-order absorption, fraction F),
a central compartment (where activity is measured) and, for the two-compartment models, a
peripheral compartment. Typical values scale with body size as their sources do: per m²
BSA (PEG, Kloos 2021; calaspargase, derived from the label's exposure per m²), or
allometrically with weight (Erwinia, Sassen 2017; E. coli, Völler 2018).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._errors import DataError
from ..knowledge import KnowledgeBase, load_knowledge_base

__all__ = [
    "ECOLI_GROUP",
    "FORMULATIONS",
    "Formulation",
    "formulation",
    "formulation_name",
    "group_of",
    "pk_models",
    "weight_from_bsa",
]

Array = NDArray[np.float64]

#: Kloos 2021's treatment phases with their own clearance factor (KB
#: ``pk.peg.cl_phase.*.kloos``), beside induction (protocol 1A, the reference) and protocol
#: 1B (fixed at 1): the DCOG ALL-11 phases of its Table 2.
KLOOS_PHASES = ("protocol_m", "mrg_intensification", "mrg_maintenance", "srg_protocol_iv")

#: Formulations whose antibodies cross-react (E. coli-derived); the rest are Erwinia's.
ECOLI_GROUP = ("native-ecoli", "ecoli-recombinant", "peg", "calaspargase")


def group_of(name: str) -> str:
    """Antibody cross-reactivity group: E. coli-derived enzymes vs Erwinia enzymes."""
    return "ecoli" if name.split("/")[0] in ECOLI_GROUP else "erwinia"


@dataclass(frozen=True)
class Formulation:
    name: str  # CLI name; "NAME/MODEL" for a population model other than the default
    label: str
    dose_unit: str  # "IU/m**2" or "mg/m**2"
    iu_per_dose_unit: float  # IU per IU (1) or per mg (specific activity)
    routes: tuple[str, ...]
    # "bsa": per m²; "allometric": (weight/ref)^exp; "bsa_linear": 1 + exp·(BSA − ref_bsa)
    scaling: str
    cl: float  # L/h, at the reference size (per m² for "bsa")
    v1: float  # L
    q: float  # L/h (for a transit chain: the flow from one compartment to the next)
    v2: float  # L
    ref_weight_kg: float = 70.0
    exp_cl: float = 0.75
    exp_v: float = 1.0
    pk_model: str = ""  # the population model's key (e.g. "kloos2021")
    ref_bsa: float = 1.0  # m², for "bsa_linear"
    transit_n: int = 0  # > 0: the central compartment is a chain of this many (Würthwein)
    age_cl_from_y: float = math.inf  # CL × (1 + age_cl_slope · (age − this)) above it
    age_cl_slope: float = 0.0  # per year
    female_cl: float = 1.0  # CL factor for girls
    # Kloos 2021: CL factor by treatment phase (the reference phase, induction, is 1) and
    # during an infection; empty / 1 where the model has no such covariate
    phase_cl: tuple[tuple[str, float], ...] = ()
    infection_cl: float = 1.0
    ka_im: float = math.nan  # 1/h
    f_im: float = math.nan
    peg_split_h: float | None = None  # clearance rises after this time after dose
    peg_slope_per_h: float | None = None
    cl_first_month: float = 1.0
    iiv_cl: float = 0.3
    iiv_v: float = 0.2
    cl_v_corr: float = 0.0  # correlation of the CL and V random effects (log scale)
    iov_cl: float = 0.0  # between-occasion variability of CL (log-normal SD); 0: none published
    # The population model's own residual error (SD): proportional, and additive in IU/mL;
    # NaN where its source publishes none (TDM then uses the KB's labelled assumption).
    ruv_prop: float = math.nan
    ruv_add: float = math.nan
    km_mM: float = 0.015  # Km for Asn (PD)
    glutaminase: float = 0.03
    sources: tuple[str, ...] = field(default_factory=tuple)

    @property
    def base(self) -> str:
        """The formulation's name without the population model's key."""
        return self.name.split("/")[0]

    def scaled(self, bsa: Array, weight: Array) -> tuple[Array, Array, Array, Array]:
        """Typical CL, V1, Q, V2 for patients of the given size."""
        if self.scaling == "bsa":
            s_cl = s_v = bsa
        elif self.scaling == "bsa_linear":
            s_cl = 1.0 + self.exp_cl * (np.asarray(bsa, float) - self.ref_bsa)
            s_v = 1.0 + self.exp_v * (np.asarray(bsa, float) - self.ref_bsa)
            if np.any(s_cl <= 0) or np.any(s_v <= 0):
                small = float(np.min(bsa))
                raise DataError(
                    f"{self.name}: BSA {small:g} m**2 is below the {self.pk_model} model's "
                    "linear size relation (clearance or volume would not be positive)"
                )
        else:
            ratio = weight / self.ref_weight_kg
            s_cl, s_v = ratio**self.exp_cl, ratio**self.exp_v
        return self.cl * s_cl, self.v1 * s_v, self.q * s_cl, self.v2 * s_v

    def eta_cl(self, z_cl: Any, z_v: Any) -> Any:
        """A patient's log-deviation of CL from standard-normal effects ``z_cl`` and ``z_v``
        (V's is ``iiv_v · z_v``): ω_CL·(ρ·z_v + √(1 − ρ²)·z_cl), ρ = ``cl_v_corr``."""
        rho = self.cl_v_corr
        return self.iiv_cl * (rho * np.asarray(z_v) + math.sqrt(1.0 - rho * rho) * np.asarray(z_cl))

    def covariate_cl(
        self,
        age_y: Array | None,
        female: Any,
        n: int,
        phase: str | None = None,
        infection: bool = False,
    ) -> Array:
        """Clearance factor from age, sex, treatment phase and an infection (1 where the
        model has no such covariate; a patient without them is the model's reference: young
        enough, a boy, in induction, without an infection). A phase the model does not know
        is an error."""
        factor = np.ones(n)
        if age_y is not None and self.age_cl_slope:
            over = np.clip(np.asarray(age_y, float) - self.age_cl_from_y, 0.0, None)
            factor = factor * (1.0 + self.age_cl_slope * over)
        if female is not None and self.female_cl != 1.0:
            factor = factor * np.where(np.asarray(female, bool), self.female_cl, 1.0)
        if phase is not None and self.phase_cl:
            phases = dict(self.phase_cl)
            if phase not in phases:
                raise DataError(
                    f"phase {phase!r}: {self.name} ({self.pk_model}) knows {', '.join(phases)}"
                )
            factor = factor * phases[phase]
        if infection:
            factor = factor * self.infection_cl
        return factor


#: Body-surface areas accepted as input (m²): a newborn (~0.2) to a large adult (~2.7), with
#: margin; outside is a typing error, not a patient. An input plausibility range, not data.
BSA_RANGE_M2 = (0.1, 3.5)


def weight_from_bsa(bsa: Array, kb: KnowledgeBase | None = None) -> Array:
    """Weight (kg) from BSA (m²) by inverting Livingston & Lee 2001: BSA = a·W^b."""
    kb = kb or load_knowledge_base()
    a = kb.value("bsa.livingston.coefficient", "dimensionless")
    b = kb.value("bsa.livingston.exponent", "dimensionless")
    return np.asarray((np.asarray(bsa, float) / a) ** (1.0 / b))


@cache
def _build() -> dict[str, Formulation]:
    kb = load_knowledge_base()
    v = kb.value
    iiv_default = v("pk.iiv.default", "dimensionless")
    iiv_v = v("pk.iiv.volume", "dimensionless")
    ecoli_km = v("asnase.ecoli.km", "mM")
    erw_km = v("asnase.erwinia.km", "mM")
    ecoli_gln = v("asnase.ecoli.glutaminase_fraction", "dimensionless")
    erw_gln = v("asnase.erwinia.glutaminase_fraction", "dimensionless")
    voller: dict[str, Any] = {
        "cl": v("pk.ecoli_recombinant.cl.voller", "L/h"),
        "v1": v("pk.ecoli_recombinant.v1.voller", "L"),
        "q": v("pk.ecoli_recombinant.q.voller", "L/h"),
        "v2": v("pk.ecoli_recombinant.v2.voller", "L"),
        "ref_weight_kg": v("pk.ecoli_recombinant.reference_weight", "kg"),
        "exp_cl": v("pk.ecoli_recombinant.allometric_cl", "dimensionless"),
        "exp_v": v("pk.ecoli_recombinant.allometric_v", "dimensionless"),
    }
    voller_src = (
        "pk.ecoli_recombinant.cl.voller",
        "pk.ecoli_recombinant.v1.voller",
        "pk.ecoli_recombinant.q.voller",
        "pk.ecoli_recombinant.v2.voller",
    )
    sassen: dict[str, Any] = {
        "cl": v("pk.erwinia.cl.sassen", "L/h"),
        "v1": v("pk.erwinia.vc.sassen", "L"),
        "q": v("pk.erwinia.q.sassen", "L/h"),
        "v2": v("pk.erwinia.vp.sassen", "L"),
        "ref_weight_kg": v("pk.erwinia.reference_weight", "kg"),
        "exp_cl": v("pk.ecoli_recombinant.allometric_cl", "dimensionless"),
        "exp_v": v("pk.ecoli_recombinant.allometric_v", "dimensionless"),
    }
    erw_im: dict[str, Any] = {
        "ka_im": v("pk.erwinia.ka_im.fit", "1/h"),
        "f_im": v("pk.erwinia.bioavailability_im.fit", "dimensionless"),
    }
    sassen_src = (
        "pk.erwinia.cl.sassen",
        "pk.erwinia.vc.sassen",
        "pk.erwinia.q.sassen",
        "pk.erwinia.vp.sassen",
        "pk.erwinia.iiv_cl.sassen",
        "pk.erwinia.iov_cl.sassen",
        "pk.erwinia.cl_first_month.sassen",
        "pk.erwinia.bioavailability_im.fit",
        "pk.erwinia.ka_im.fit",
    )
    erwinia_common: dict[str, Any] = dict(
        routes=("im", "iv"),
        pk_model="sassen2017",
        scaling="allometric",
        **sassen,
        **erw_im,
        cl_first_month=v("pk.erwinia.cl_first_month.sassen", "dimensionless"),
        iiv_cl=v("pk.erwinia.iiv_cl.sassen", "dimensionless"),
        iov_cl=v("pk.erwinia.iov_cl.sassen", "dimensionless"),
        iiv_v=iiv_v,
        km_mM=erw_km,
        glutaminase=erw_gln,
    )
    # Rylaze: the label-fit model's V/F at the nominal activity; CL = ke·V carries V's
    # variability and ke's (so the two random effects correlate).
    rylaze_sa = v("pk.erwinia_recombinant.specific_activity", "IU/mg")
    rylaze_v = v("pk.erwinia_recombinant.v_over_f.fit", "L/m**2")
    rylaze_omega_v = v("pk.erwinia_recombinant.iiv_v.fit", "dimensionless")
    rylaze_omega_ke = v("pk.erwinia_recombinant.iiv_ke.fit", "dimensionless")
    rylaze_omega_cl = math.hypot(rylaze_omega_v, rylaze_omega_ke)
    kloos_omega_cl = v("pk.peg.iiv_cl.kloos", "dimensionless")
    # Both PEG models: IM absorption (assumptions: neither source has IM data).
    peg_im: dict[str, Any] = {
        "ka_im": math.log(2) / v("pk.peg.absorption_half_life_im", "h"),
        "f_im": v("pk.peg.bioavailability_im", "dimensionless"),
    }
    peg_im_src = ("pk.peg.bioavailability_im", "pk.peg.absorption_half_life_im")
    # What the E. coli-derived enzymes share: Km and glutaminase of the E. coli enzyme,
    # default variability.
    ecoli_common: dict[str, Any] = {
        "iiv_v": iiv_v,
        "km_mM": ecoli_km,
        "glutaminase": ecoli_gln,
    }
    items = [
        Formulation(
            "native-ecoli",
            "native E. coli asparaginase",
            "IU/m**2",
            1.0,
            ("im", "iv"),
            "allometric",
            **voller,
            ka_im=v("pk.native_ecoli.ka_im.fit", "1/h"),
            pk_model="voller2018",
            f_im=v("pk.native_ecoli.bioavailability_im", "dimensionless"),
            iiv_cl=iiv_default,
            **ecoli_common,
            sources=(
                *voller_src,
                "pk.native_ecoli.disposition_as_recombinant",
                "pk.native_ecoli.ka_im.fit",
                "pk.native_ecoli.bioavailability_im",
            ),
        ),
        Formulation(
            "ecoli-recombinant",
            "recombinant E. coli asparaginase (Spectrila)",
            "IU/m**2",
            1.0,
            ("iv",),
            "allometric",
            **voller,
            pk_model="voller2018",
            iiv_cl=iiv_default,
            **ecoli_common,
            sources=voller_src,
        ),
        Formulation(
            "peg",
            "PEG-asparaginase (pegaspargase)",
            "IU/m**2",
            1.0,
            ("iv", "im"),
            "bsa",
            cl=v("pk.peg.cl.kloos", "L/h/m**2"),
            v1=v("pk.peg.vd.kloos", "L/m**2"),
            q=0.0,
            v2=0.0,
            peg_split_h=v("pk.peg.cl_split_time.kloos", "h"),
            peg_slope_per_h=v("pk.peg.cl_slope.kloos", "1/h"),
            pk_model="kloos2021",
            # Kloos' one random effect: Vd's log deviation is 1.26 x CL's (correlation 1).
            iiv_cl=kloos_omega_cl,
            cl_v_corr=1.0,
            iov_cl=v("pk.peg.iov_cl.kloos", "dimensionless"),
            phase_cl=(
                ("induction", 1.0),
                ("protocol-1b", 1.0),
                *(
                    (name.replace("_", "-"), v(f"pk.peg.cl_phase.{name}.kloos", "dimensionless"))
                    for name in KLOOS_PHASES
                ),
            ),
            infection_cl=v("pk.peg.cl_infection.kloos", "dimensionless"),
            ruv_prop=v("pk.peg.ruv_prop.kloos", "dimensionless"),
            ruv_add=v("pk.peg.ruv_add.kloos", "IU/mL"),
            **peg_im,
            **{
                **ecoli_common,
                "iiv_v": kloos_omega_cl * v("pk.peg.vd_eta_factor.kloos", "dimensionless"),
            },
            sources=(
                "pk.peg.cl.kloos",
                "pk.peg.vd.kloos",
                "pk.peg.cl_split_time.kloos",
                "pk.peg.cl_slope.kloos",
                "pk.peg.iiv_cl.kloos",
                "pk.peg.vd_eta_factor.kloos",
                "pk.peg.iov_cl.kloos",
                "pk.peg.ruv_prop.kloos",
                "pk.peg.ruv_add.kloos",
                "pk.peg.cl_infection.kloos",
                *(f"pk.peg.cl_phase.{name}.kloos" for name in KLOOS_PHASES),
                *peg_im_src,
            ),
        ),
        Formulation(
            "peg/wurthwein2021-pkpdsim",
            "PEG-asparaginase (pegaspargase), Würthwein 2021 transit model as in PKPDsim",
            "IU/m**2",
            1.0,
            ("iv", "im"),
            "bsa_linear",
            cl=v("pk.peg.cl.wurthwein_pkpdsim", "L/h"),
            v1=v("pk.peg.v.wurthwein_pkpdsim", "L"),
            q=v("pk.peg.q.wurthwein_pkpdsim", "L/h"),
            v2=0.0,
            exp_cl=v("pk.peg.bsa_slope_cl.wurthwein_pkpdsim", "1/m**2"),
            exp_v=v("pk.peg.bsa_slope_v.wurthwein_pkpdsim", "1/m**2"),
            ref_bsa=v("pk.peg.reference_bsa.wurthwein_pkpdsim", "m**2"),
            pk_model="wurthwein2021-pkpdsim",
            transit_n=round(v("pk.peg.transit_n.wurthwein_pkpdsim", "dimensionless")),
            age_cl_from_y=v("pk.peg.age_cl_from.wurthwein_pkpdsim", "year"),
            age_cl_slope=v("pk.peg.age_cl_slope.wurthwein_pkpdsim", "1/year"),
            female_cl=v("pk.peg.female_cl.wurthwein_pkpdsim", "dimensionless"),
            iiv_cl=v("pk.peg.iiv_cl.wurthwein_pkpdsim", "dimensionless"),
            ruv_prop=v("pk.peg.ruv_prop.wurthwein_pkpdsim", "dimensionless"),
            ruv_add=v("pk.peg.ruv_add.wurthwein_pkpdsim", "IU/mL"),
            **peg_im,
            **{**ecoli_common, "iiv_v": 0.0},  # the model has no variability on V
            sources=(
                "pk.peg.cl.wurthwein_pkpdsim",
                "pk.peg.v.wurthwein_pkpdsim",
                "pk.peg.q.wurthwein_pkpdsim",
                "pk.peg.transit_n.wurthwein_pkpdsim",
                "pk.peg.bsa_slope_cl.wurthwein_pkpdsim",
                "pk.peg.bsa_slope_v.wurthwein_pkpdsim",
                "pk.peg.age_cl_slope.wurthwein_pkpdsim",
                "pk.peg.female_cl.wurthwein_pkpdsim",
                "pk.peg.iiv_cl.wurthwein_pkpdsim",
                "pk.peg.ruv_prop.wurthwein_pkpdsim",
                "pk.peg.ruv_add.wurthwein_pkpdsim",
                *peg_im_src,
            ),
        ),
        Formulation(
            "calaspargase",
            "calaspargase pegol (Asparlas)",
            "IU/m**2",
            1.0,
            ("iv",),
            "bsa",
            cl=v("pk.calaspargase.cl.fit", "L/h/m**2"),
            v1=v("pk.calaspargase.v1.fit", "L/m**2"),
            q=v("pk.calaspargase.q.fit", "L/h/m**2"),
            v2=v("pk.calaspargase.v2.fit", "L/m**2"),
            iiv_cl=v("pk.calaspargase.iiv_cl.fit", "dimensionless"),
            pk_model="label-fit",
            **{**ecoli_common, "iiv_v": v("pk.calaspargase.iiv_v.fit", "dimensionless")},
            sources=(
                "pk.calaspargase.cl.fit",
                "pk.calaspargase.v1.fit",
                "pk.calaspargase.q.fit",
                "pk.calaspargase.v2.fit",
                "pk.calaspargase.iiv_cl.fit",
                "pk.calaspargase.iiv_v.fit",
                "pk.calaspargase.label_fit_assumptions",
            ),
        ),
        Formulation(
            "erwinia",
            "Erwinia chrysanthemi asparaginase (crisantaspase)",
            "IU/m**2",
            1.0,
            sources=sassen_src,
            **erwinia_common,
        ),
        Formulation(
            "erwinia-recombinant",
            "recombinant crisantaspase (Rylaze)",
            "mg/m**2",
            rylaze_sa,
            ("im",),
            "bsa",
            cl=rylaze_v * v("pk.erwinia_recombinant.ke.fit", "1/h"),
            v1=rylaze_v,
            q=0.0,
            v2=0.0,
            pk_model="label-fit",
            ka_im=v("pk.erwinia_recombinant.ka.fit", "1/h"),
            f_im=1.0,  # apparent: F is inside V/F
            iiv_cl=rylaze_omega_cl,
            iiv_v=rylaze_omega_v,
            cl_v_corr=rylaze_omega_v / rylaze_omega_cl,
            km_mM=erw_km,
            glutaminase=erw_gln,
            sources=(
                "pk.erwinia_recombinant.ka.fit",
                "pk.erwinia_recombinant.ke.fit",
                "pk.erwinia_recombinant.v_over_f.fit",
                "pk.erwinia_recombinant.iiv_v.fit",
                "pk.erwinia_recombinant.iiv_ke.fit",
                "pk.erwinia_recombinant.label_fit_assumptions",
                "pk.erwinia_recombinant.specific_activity",
            ),
        ),
        Formulation(
            "erwinia-recombinant/sassen2017-calibrated",
            "recombinant crisantaspase (Rylaze) as native Erwinia, calibrated activity per mg",
            "mg/m**2",
            rylaze_sa,
            sources=(*sassen_src, "pk.erwinia_recombinant.specific_activity"),
            **{**erwinia_common, "pk_model": "sassen2017-calibrated"},
        ),
    ]
    return {f.name: f for f in items}


FORMULATIONS = (
    "native-ecoli",
    "peg",
    "calaspargase",
    "erwinia",
    "erwinia-recombinant",
    "ecoli-recombinant",
)


def pk_models(name: str) -> tuple[str, ...]:
    """The population models a formulation can be simulated with, its default first."""
    table = _build()
    base = formulation(name).base
    default = table[base].pk_model
    others = sorted(f.pk_model for key, f in table.items() if key.startswith(base + "/"))
    return (default, *others) if default else tuple(others)


def formulation_name(name: str, pk_model: str | None) -> str:
    """The formulation key for ``name`` simulated with ``pk_model`` (None: its default)."""
    base = formulation(name).base
    if pk_model is None or pk_model == _build()[base].pk_model:
        return base
    models = pk_models(base)
    if pk_model not in models:
        choices = ", ".join(m for m in models if m) or "none but its default"
        raise DataError(f"--pk-model {pk_model!r} is not a model of {base}; choose {choices}")
    return f"{base}/{pk_model}"


def formulation(name: str) -> Formulation:
    table = _build()
    if name not in table:
        raise DataError(f"unknown formulation {name!r}; choose one of {', '.join(FORMULATIONS)}")
    return table[name]
