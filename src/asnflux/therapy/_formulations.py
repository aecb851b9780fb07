"""Asparaginase formulations: published PK structure and typical values from the knowledge base.

Every formulation is a linear model with an IM depot (first-order absorption, fraction F),
a central compartment (where activity is measured) and, for the two-compartment models, a
peripheral compartment. Typical values scale with body size as their sources do: per m²
BSA (PEG, Kloos 2021), allometrically with weight (Erwinia, Sassen 2017; E. coli, Völler
2018), or linearly with BSA from a reference (calaspargase label).
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

__all__ = ["FORMULATIONS", "Formulation", "formulation", "weight_from_bsa"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Formulation:
    name: str  # CLI name
    label: str
    dose_unit: str  # "IU/m**2" or "mg/m**2"
    iu_per_dose_unit: float  # IU per IU (1) or per mg (specific activity)
    routes: tuple[str, ...]
    scaling: str  # "bsa" | "allometric" | "bsa_reference"
    cl: float  # L/h, at the reference size (per m² for "bsa")
    v1: float  # L
    q: float  # L/h
    v2: float  # L
    ref_weight_kg: float = 70.0
    ref_bsa: float = 1.0
    exp_cl: float = 0.75
    exp_v: float = 1.0
    ka_im: float = math.nan  # 1/h
    f_im: float = math.nan
    peg_split_h: float | None = None  # clearance rises after this time after dose
    peg_slope_per_h: float | None = None
    cl_first_month: float = 1.0
    iiv_cl: float = 0.3
    iiv_v: float = 0.2
    km_mM: float = 0.015  # Km for Asn (PD)
    glutaminase: float = 0.03
    p_allergy: float = 0.1
    p_silent: float = 0.05
    sources: tuple[str, ...] = field(default_factory=tuple)

    def scaled(self, bsa: Array, weight: Array) -> tuple[Array, Array, Array, Array]:
        """Typical CL, V1, Q, V2 for patients of the given size."""
        if self.scaling == "bsa":
            s_cl = s_v = bsa
        elif self.scaling == "bsa_reference":
            s_cl = s_v = bsa / self.ref_bsa
        else:
            ratio = weight / self.ref_weight_kg
            s_cl, s_v = ratio**self.exp_cl, ratio**self.exp_v
        return self.cl * s_cl, self.v1 * s_v, self.q * s_cl, self.v2 * s_v


#: Body-surface areas accepted as input (m²): a newborn (~0.2) to a large adult (~2.7), with
#: margin; outside is a typing error, not a patient. An input plausibility range, not data.
BSA_RANGE_M2 = (0.1, 3.5)


def weight_from_bsa(bsa: Array, kb: KnowledgeBase | None = None) -> Array:
    """Weight (kg) from BSA (m²) by inverting Livingston & Lee 2001: BSA = a·W^b."""
    kb = kb or load_knowledge_base()
    a = kb.value("bsa.livingston.coefficient", "dimensionless")
    b = kb.value("bsa.livingston.exponent", "dimensionless")
    return np.asarray((np.asarray(bsa, float) / a) ** (1.0 / b))


def _flip_flop_ka(t_half_im_h: float) -> float:
    """Absorption rate when the IM terminal half-life is absorption-limited."""
    return math.log(2) / t_half_im_h


@cache
def _build() -> dict[str, Formulation]:
    kb = load_knowledge_base()
    v = kb.value
    iiv_default = v("pk.iiv.default", "dimensionless")
    iiv_v = v("pk.iiv.volume", "dimensionless")
    silent = v("imm.silent.default", "dimensionless")
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
        "ka_im": _flip_flop_ka(v("pk.erwinia.t_half.asselin", "h")),
        "f_im": v("pk.erwinia.bioavailability_im", "dimensionless"),
    }
    sassen_src = (
        "pk.erwinia.cl.sassen",
        "pk.erwinia.vc.sassen",
        "pk.erwinia.q.sassen",
        "pk.erwinia.vp.sassen",
        "pk.erwinia.iiv_cl.sassen",
        "pk.erwinia.cl_first_month.sassen",
        "pk.erwinia.bioavailability_im",
        "pk.erwinia.t_half.asselin",
    )
    erwinia_common: dict[str, Any] = dict(
        routes=("im", "iv"),
        scaling="allometric",
        **sassen,
        **erw_im,
        cl_first_month=v("pk.erwinia.cl_first_month.sassen", "dimensionless"),
        iiv_cl=v("pk.erwinia.iiv_cl.sassen", "dimensionless"),
        iiv_v=iiv_v,
        km_mM=erw_km,
        glutaminase=erw_gln,
        p_allergy=v("imm.allergy.erwinia", "dimensionless"),
        p_silent=silent,
    )
    peg_ka = math.log(2) / v("pk.peg.absorption_half_life_im", "h")
    # What the E. coli-derived enzymes share: Km and glutaminase of the E. coli enzyme,
    # default variability, silent inactivation.
    ecoli_common: dict[str, Any] = {
        "iiv_v": iiv_v,
        "km_mM": ecoli_km,
        "glutaminase": ecoli_gln,
        "p_silent": silent,
    }
    cal_t_half = kb.get("pk.calaspargase.t_half.label")
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
            f_im=v("pk.native_ecoli.bioavailability_im", "dimensionless"),
            iiv_cl=iiv_default,
            p_allergy=v("imm.allergy.native_ecoli", "dimensionless"),
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
            iiv_cl=iiv_default,
            p_allergy=v("imm.allergy.native_ecoli", "dimensionless"),
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
            ka_im=peg_ka,
            f_im=v("pk.peg.bioavailability_im", "dimensionless"),
            peg_split_h=v("pk.peg.cl_split_time.kloos", "h"),
            peg_slope_per_h=v("pk.peg.cl_slope.kloos", "1/h"),
            iiv_cl=iiv_default,
            p_allergy=v("imm.allergy.peg", "dimensionless"),
            **ecoli_common,
            sources=(
                "pk.peg.cl.kloos",
                "pk.peg.vd.kloos",
                "pk.peg.cl_split_time.kloos",
                "pk.peg.cl_slope.kloos",
                "pk.peg.bioavailability_im",
                "pk.peg.absorption_half_life_im",
            ),
        ),
        Formulation(
            "calaspargase",
            "calaspargase pegol (Asparlas)",
            "IU/m**2",
            1.0,
            ("iv",),
            "bsa_reference",
            cl=v("pk.calaspargase.cl.label", "L/h"),
            v1=v("pk.calaspargase.vss.label", "L"),
            q=0.0,
            v2=0.0,
            ref_bsa=v("pk.calaspargase.reference_bsa", "dimensionless"),
            iiv_cl=cal_t_half.uncertainty.value if cal_t_half.uncertainty else iiv_default,
            p_allergy=v("imm.allergy.peg", "dimensionless"),
            **ecoli_common,
            sources=(
                "pk.calaspargase.cl.label",
                "pk.calaspargase.vss.label",
                "pk.calaspargase.t_half.label",
                "pk.calaspargase.reference_bsa",
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
            v("pk.erwinia_recombinant.specific_activity", "IU/mg"),
            sources=(*sassen_src, "pk.erwinia_recombinant.specific_activity"),
            **erwinia_common,
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


def formulation(name: str) -> Formulation:
    table = _build()
    if name not in table:
        raise DataError(f"unknown formulation {name!r}; choose one of {', '.join(FORMULATIONS)}")
    return table[name]
