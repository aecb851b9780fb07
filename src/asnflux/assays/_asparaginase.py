"""L-asparaginase activity by Nessler ammonia detection (the seed's second protocol).

Input is one table with a row per well or tube:

=========  ==========================================================================
column     meaning
=========  ==========================================================================
sample     sample or standard name (replicates share a name)
type       ``standard``, ``enzyme_blank`` (substrate, no enzyme), ``substrate_blank``
           (sample, no substrate), or ``sample``
nh4_mM     nominal NH4+ concentration of a standard in the read solution (mM)
absorbance A480 (or A436/A450) reading
dilution   dilution factor of the sample before the assay (samples only; default 1)
=========  ==========================================================================

Activity (IU/mL of the original sample) = c(NH3) × V_reaction / (t × V_sample) × dilution,
with c in mM (= µmol/mL) read off the standard curve after subtracting each blank's excess
over the zero standard. 1 IU = 1 µmol NH3 per minute (Oncaspar/Elspar labels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import DataError, FitError
from .._repr import CompactRepr
from .._tables import finite_numbers
from ..knowledge import load_knowledge_base
from ..units import magnitude
from ._calibration import Calibration, calibrate
from ._common import concentrations, dilution_factors, locate, numeric_signal

__all__ = ["AsparaginaseResult", "asparaginase_activity"]

_TYPES = ("standard", "enzyme_blank", "substrate_blank", "sample")
# The clinical efficacy surrogate: minimal plasma activity that depleted CSF Asn.
_THRESHOLD_RECORD = "lit.saa.csf_depletion_min"


@dataclass(frozen=True, repr=False)
class AsparaginaseResult(CompactRepr):
    calibration: Calibration
    samples: pd.DataFrame
    threshold_iu_per_ml: float
    threshold_source: str

    def to_dict(self) -> dict[str, Any]:
        fit = self.calibration.fit
        return {
            "protocol": "asparaginase-nessler",
            "calibration": {
                "model": fit.model.name,
                "parameters": {k: v.to_dict() for k, v in fit.parameters.items()},
                "r2": fit.r2,
                "range_mM": [self.calibration.lloq, self.calibration.uloq],
                "back_calculated": self.calibration.back_calculated().to_dict(orient="records"),
            },
            "threshold_IU_per_mL": self.threshold_iu_per_ml,
            "threshold_source": self.threshold_source,
            "samples": self.samples.replace({np.nan: None}).to_dict(orient="records"),
        }


def _reaction(reaction_volume: Any, sample_volume: Any, time: Any) -> tuple[float, float, float]:
    """Reaction volume (mL), enzyme-sample volume (mL) and time (min), checked positive."""
    v_rxn = magnitude(reaction_volume, "mL", name="reaction_volume")
    v_smp = magnitude(sample_volume, "mL", name="sample_volume")
    t_min = magnitude(time, "min", name="time")
    for name, val in (("reaction_volume", v_rxn), ("sample_volume", v_smp), ("time", t_min)):
        if val <= 0:
            raise DataError(f"{name} must be positive, got {val:g}")
    if v_smp > v_rxn:
        raise DataError(
            f"sample_volume {v_smp:g} mL exceeds reaction_volume {v_rxn:g} mL (the sample is "
            "part of the reaction)"
        )
    return v_rxn, v_smp, t_min


def _protein_option(protein: Any) -> float | None:
    """Protein concentration of the undiluted sample (mg/mL), if given; must be positive."""
    if protein is None:
        return None
    mg = magnitude(protein, "mg/mL", name="protein")
    if mg <= 0:
        raise DataError(f"protein must be positive, got {mg:g} mg/mL")
    return mg


def _validated_absorbance(df: pd.DataFrame, where: str) -> pd.Series:
    """Check the required columns and types; return the absorbance column as numbers."""
    missing = [c for c in ("sample", "type", "absorbance") if c not in df.columns]
    if missing:
        raise DataError(f"{where}: missing column(s) {', '.join(missing)}")
    bad = ~df["type"].isin(_TYPES)
    if bad.any():
        i = int(np.nonzero(bad.to_numpy())[0][0])
        raise DataError(
            f"{locate(df, i)}, column 'type': {df['type'].iloc[i]!r} is not one of "
            f"{', '.join(_TYPES)}"
        )
    return pd.Series(numeric_signal(df, "absorbance"), index=df.index)


def asparaginase_activity(
    table: pd.DataFrame,
    *,
    reaction_volume: Any,
    sample_volume: Any,
    time: Any,
    calibration_model: str = "linear",
    weights: str = "none",
    protein: Any = None,
) -> AsparaginaseResult:
    """Activities in IU/mL from a Nessler plate or tube series.

    ``reaction_volume``, ``sample_volume`` and ``time`` are quantities (``"1.1 mL"``,
    ``"0.1 mL"``, ``"10 min"``). Samples outside the calibrated range are reported as
    ``<LLOQ``/``>ULOQ`` with the dilution that would bring them into range. Where the
    protein concentration of the undiluted sample is known (``protein="2 mg/mL"`` for all
    samples, or a ``protein_mg_per_mL`` column per sample) the specific activity in IU/mg
    is reported as well.
    """
    where = str(table.attrs.get("path", "table"))
    absorbance = _validated_absorbance(table, where)
    v_rxn, v_smp, t_min = _reaction(reaction_volume, sample_volume, time)
    df = table.copy()
    df["absorbance"] = absorbance
    std_mask = (df["type"] == "standard").to_numpy()
    if not std_mask.any():
        raise DataError(f"{where}: no standards (rows of type 'standard')")
    std = df[std_mask]
    conc = concentrations(df, std_mask, "mM", legacy="nh4_mM")
    cal = calibrate(
        conc,
        std["absorbance"].to_numpy(float),
        model=calibration_model,
        weights=weights,
    )
    a_zero = float(cal.fit.predict([0.0])[0])

    def blank_excess(kind: str, name: str | None = None) -> float:
        rows = df[df["type"] == kind]
        if name is not None and (rows["sample"] == name).any():
            rows = rows[rows["sample"] == name]
        return float(rows["absorbance"].mean() - a_zero) if len(rows) else 0.0

    protein_all = _protein_option(protein)
    kb = load_knowledge_base()
    threshold = kb.get(_THRESHOLD_RECORD)
    thr = threshold.magnitude("IU/mL")
    ref = kb.cite([threshold])[0]
    enzyme_blank = blank_excess("enzyme_blank")
    out = []
    for key, grp in df[df["type"] == "sample"].groupby("sample", sort=False):
        name = str(key)
        dil = dilution_factors(grp, f"{where}: sample {name!r}")
        n = len(grp)
        a_net = (
            float(grp["absorbance"].mean()) - enzyme_blank - blank_excess("substrate_blank", name)
        )
        pred = cal.inverse(a_net, n_replicates=n)
        factor = v_rxn / (t_min * v_smp) * dil
        row: dict[str, Any] = {
            "sample": name,
            "replicates": n,
            "dilution": dil,
            "net_absorbance": a_net,
            "nh3_mM": pred.value,
            "status": pred.status,
            "activity_IU_per_mL": None if pred.value is None else pred.value * factor,
            "activity_se": None if pred.se is None else pred.se * factor,
            "at_or_above_threshold": None,
            "recommended_dilution": None,
        }
        mg_per_ml = _sample_protein(grp, name, where, protein_all)
        row["protein_mg_per_mL"] = mg_per_ml
        row["specific_activity_IU_per_mg"] = None
        row["specific_activity_se"] = None
        if pred.value is not None and mg_per_ml is not None:
            row["specific_activity_IU_per_mg"] = pred.value * factor / mg_per_ml
            row["specific_activity_se"] = (pred.se or 0.0) * factor / mg_per_ml
        if pred.value is not None:
            row["at_or_above_threshold"] = bool(pred.value * factor >= thr)
        elif pred.status == ">ULOQ":
            # Aim for the middle of the calibrated range, estimated by extrapolating the
            # curve; if even that fails, a tenfold step is the usual next serial dilution.
            try:
                x_ext = cal.extrapolate(a_net)
                mid = 0.5 * (cal.lloq + cal.uloq)
                row["recommended_dilution"] = float(dil * math.ceil(x_ext / mid))
            except FitError:
                row["recommended_dilution"] = float(dil * 10)
        elif dil > 1:
            # Below range after dilution: undo one tenfold serial-dilution step.
            row["recommended_dilution"] = max(1.0, dil / 10)
        out.append(row)
    if not out:
        raise DataError(f"{where}: no rows of type 'sample'")
    return AsparaginaseResult(cal, pd.DataFrame(out), thr, ref.format())


def _sample_protein(
    grp: pd.DataFrame, name: str, where: str, protein_all: float | None
) -> float | None:
    if "protein_mg_per_mL" in grp.columns:
        cells = grp["protein_mg_per_mL"]
        vals = np.unique(finite_numbers(cells[cells.notna()]))
        if len(vals) > 1 or (len(vals) == 1 and not vals[0] > 0):
            shown = ", ".join(f"{v:g}" for v in vals)
            raise DataError(
                f"{where}: sample {name!r}: protein_mg_per_mL must be one finite positive "
                f"value, got {shown}"
            )
        if len(vals) == 1:
            return float(vals[0])
    return protein_all


@dataclass(frozen=True, repr=False)
class AspartateActivityResult(CompactRepr):
    """Asparaginase activity from aspartate measured by LC-MS/MS (ICH M10 verdicts kept)."""

    lcms: Any  # LcmsResult; typed loosely to keep the protocols' modules independent
    samples: pd.DataFrame
    threshold_iu_per_ml: float
    threshold_source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "protocol": "asparaginase-aspartate-lcms",
            "lcms": self.lcms.to_dict(),
            "threshold_IU_per_mL": self.threshold_iu_per_ml,
            "threshold_source": self.threshold_source,
            "samples": self.samples.replace({np.nan: None}).to_dict(orient="records"),
        }


def asparaginase_activity_from_aspartate(
    lcms: Any,
    *,
    reaction_volume: Any,
    sample_volume: Any,
    time: Any,
    blank_sample: str | None = None,
    protein: Any = None,
) -> AspartateActivityResult:
    """Activity (IU/mL) from the aspartate formed, quantified by :func:`lcms_quantify`.

    Each unknown of the LC-MS result is a stopped reaction; its aspartate concentration
    (µM in the reaction, dilution already applied) minus that of ``blank_sample`` (the
    substrate-only reaction: commercial asparagine carries traces of aspartate) gives the
    aspartate formed. Activity = c × V_reaction / (t × V_sample); 1 IU = 1 µmol/min.
    """
    v_rxn, v_smp, t_min = _reaction(reaction_volume, sample_volume, time)
    mg = _protein_option(protein)
    table = lcms.unknowns
    blank_uM = 0.0
    if blank_sample is not None:
        rows = table[table["sample"] == blank_sample]
        if rows.empty:
            raise DataError(
                f"blank_sample {blank_sample!r} is not among the unknowns "
                f"({', '.join(map(str, table['sample'].unique()))})"
            )
        vals = rows["concentration_uM"].dropna()
        blank_uM = float(vals.mean()) if len(vals) else 0.0  # <LLOQ blank: below detection
        table = table[table["sample"] != blank_sample]
    kb = load_knowledge_base()
    threshold = kb.get(_THRESHOLD_RECORD)
    thr = threshold.magnitude("IU/mL")
    factor = 1e-3 * v_rxn / (t_min * v_smp)  # µM = nmol/mL → µmol/mL, per min per mL sample
    out = []
    for rec in table.to_dict(orient="records"):
        c, se = rec.get("concentration_uM"), rec.get("se_uM")
        ok = c is not None and not pd.isna(c)
        act = (c - blank_uM) * factor if ok else None
        out.append(
            {
                "sample": rec["sample"],
                "status": rec["status"],
                "aspartate_uM": c if ok else None,
                "activity_IU_per_mL": act,
                "activity_se": se * factor if ok else None,
                "specific_activity_IU_per_mg": None if act is None or mg is None else act / mg,
                "at_or_above_threshold": None if act is None else bool(act >= thr),
            }
        )
    return AspartateActivityResult(lcms, pd.DataFrame(out), thr, kb.cite([threshold])[0].format())
