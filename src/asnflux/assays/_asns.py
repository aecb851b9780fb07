"""Asparagine synthetase (ASNS) activity of a cell lysate (the seed's first protocol).

ASNS makes one AMP per asparagine (Asp + Gln + ATP → Asn + Glu + AMP + PPi), so product
is measured either as AMP by AMP-Glo luminescence read off an AMP standard curve
(``readout="amp-glo"``), or as ¹⁴C-asparagine counts from [¹⁴C]-aspartate
(``readout="c14"``: DPM, or CPM divided by the counting efficiency, divided by the
substrate's specific radioactivity). Several time points give the rate: the progress curve
is tested for curvature and, if it bends, the last points are dropped until the remaining
initial segment is linear (the initial rate). Protein comes from a Bradford standard curve
(or a ``protein_mg_per_mL`` column), and the result is the specific activity in
nmol/min/mg with its standard error.

Input: one row per well or tube.

==================  =====================================================================
column              meaning
==================  =====================================================================
sample              lysate name (reactions, blanks and protein wells of a lysate share it)
type                ``amp_standard``, ``protein_standard``, ``protein`` (lysate in the
                    Bradford assay), ``reaction``, ``no_enzyme`` (substrates, no lysate),
                    ``no_substrate`` (lysate, no aspartate)
time_min            incubation time of reaction and blank rows
signal              RLU, A595 or counts
concentration/unit  standards: AMP (e.g. µM) and protein (e.g. µg/mL)
dilution            dilution of the lysate in the Bradford wells (default 1)
==================  =====================================================================

Blanks: for AMP-Glo each blank's excess over the zero standard is subtracted (no-enzyme:
non-enzymatic AMP in ATP; no-substrate: lysate ATPase/AMP background), at the matching time
where the blank was taken at that time, else its mean. For ¹⁴C only the no-enzyme blank
(counter background plus unreacted label carried through the separation) is subtracted; a
no-substrate blank holds no label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._errors import DataError
from .._repr import CompactRepr
from .._tables import finite_numbers, text_column
from ..fitting import fit_curve
from ..knowledge import load_knowledge_base
from ..units import magnitude
from ._calibration import Calibration, calibrate
from ._common import concentrations, dilution_factors, locate, numeric_signal


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts (typed loosely: cells hold numbers and strings)."""
    return [dict(zip(df.columns, row, strict=True)) for row in df.itertuples(index=False)]


__all__ = ["TYPES", "AsnsResult", "asns_activity"]

TYPES = ("amp_standard", "protein_standard", "protein", "reaction", "no_enzyme", "no_substrate")
READOUTS = ("amp-glo", "c14")
# Significance level of the curvature test on progress curves (two-sided t test).
_CURVATURE_ALPHA = 0.05
_STOICHIOMETRY = "asns.amp_per_asn"


@dataclass(frozen=True, repr=False)
class AsnsResult(CompactRepr):
    readout: str
    amp_calibration: Calibration | None
    protein_calibration: Calibration | None
    progress: pd.DataFrame
    samples: pd.DataFrame
    findings: list[str]

    def to_dict(self) -> dict[str, Any]:
        def cal(c: Calibration | None, unit: str) -> dict[str, Any] | None:
            if c is None:
                return None
            return {
                "model": c.fit.model.name,
                "weights": c.weights,
                "parameters": {k: v.to_dict() for k, v in c.fit.parameters.items()},
                "r2": c.fit.r2,
                "range": [c.lloq, c.uloq],
                "unit": unit,
                "back_calculated": c.back_calculated().to_dict(orient="records"),
            }

        return {
            "protocol": f"asns-{self.readout}",
            "amp_calibration": cal(self.amp_calibration, "µM"),
            "protein_calibration": cal(self.protein_calibration, "mg/mL"),
            "progress": self.progress.replace({np.nan: None}).to_dict(orient="records"),
            "samples": self.samples.replace({np.nan: None}).to_dict(orient="records"),
            "findings": self.findings,
        }


def _initial_rate(t: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Slope of product vs time over the longest linear initial segment."""
    order = np.argsort(t)
    t, y = t[order], y[order]
    n_all = len(t)
    linear: bool | None = None
    while True:
        n_levels = len(np.unique(t))
        if n_levels >= 4 and len(t) >= 5:
            q = fit_curve("quadratic", t, y, profile=False)
            c2 = q["c2"]
            tcrit = stats.t.ppf(1 - _CURVATURE_ALPHA / 2, q.dof)
            if c2.stderr is not None and abs(c2.value) > tcrit * c2.stderr:
                linear = False
                t, y = t[t < t.max()], y[t < t.max()]
                continue
            linear = True if linear is None else linear
        break
    if len(np.unique(t)) < 2:
        raise DataError("fewer than 2 distinct time points remain for the rate")
    fit = fit_curve("linear", t, y, profile=False)
    slope = fit["slope"]
    return {
        "rate": slope.value,
        "rate_se": slope.stderr if slope.stderr is not None else math.nan,
        "points_used": len(t),
        "points_total": n_all,
        "last_time_used_min": float(t.max()),
        "linear": linear,
        "r2": fit.r2,
    }


def asns_activity(
    table: pd.DataFrame,
    *,
    reaction_volume: Any,
    lysate_volume: Any,
    readout: str = "amp-glo",
    specific_radioactivity: Any = None,
    counting_efficiency: float | None = None,
    counted_fraction: float = 1.0,
    amp_model: str = "linear",
    amp_weights: str = "1/y2",
    protein_model: str = "linear",
    protein_weights: str = "none",
) -> AsnsResult:
    """ASNS specific activity (nmol/min/mg) per lysate.

    ``reaction_volume`` and ``lysate_volume`` (volume of lysate per reaction) are
    quantities. For ``readout="c14"``, ``specific_radioactivity`` of the labelled aspartate
    (``"50 mCi/mmol"`` or ``"2000 dpm/nmol"``) is required; ``counting_efficiency`` (0–1)
    converts CPM to DPM (omit it when the counts are already DPM); ``counted_fraction`` is
    the part of the reaction that was counted.
    """
    where = str(table.attrs.get("path", "table"))
    if readout not in READOUTS:
        raise DataError(f"readout {readout!r} is not one of {', '.join(READOUTS)}")
    for col in ("sample", "type", "signal"):
        if col not in table.columns:
            raise DataError(f"{where}: missing column {col!r}")
    df = table.reset_index(drop=True).copy()
    df["type"] = text_column(df, "type")
    bad = ~df["type"].isin(TYPES)
    if bad.any():
        i = int(np.nonzero(bad.to_numpy())[0][0])
        raise DataError(
            f"{locate(df, i)}: type {df['type'].iloc[i]!r} is not one of {', '.join(TYPES)}"
        )
    df["signal"] = numeric_signal(df, "signal")
    df["sample"] = text_column(df, "sample", required=False)
    unnamed = df["type"].isin(["reaction", "protein"]).to_numpy() & (df["sample"] == "").to_numpy()
    if unnamed.any():
        i = int(np.nonzero(unnamed)[0][0])
        raise DataError(f"{locate(df, i)}: a {df['type'].iloc[i]} row needs a sample (lysate) name")
    v_rxn = magnitude(reaction_volume, "mL", name="reaction_volume")
    v_lys = magnitude(lysate_volume, "mL", name="lysate_volume")
    for name, val in (("reaction_volume", v_rxn), ("lysate_volume", v_lys)):
        if val <= 0:
            raise DataError(f"{name} must be positive, got {val:g} mL")
    if v_lys > v_rxn:
        raise DataError(f"lysate_volume {v_lys:g} mL exceeds reaction_volume {v_rxn:g} mL")
    findings: list[str] = []
    kb = load_knowledge_base()
    per_asn = kb.value(_STOICHIOMETRY, "dimensionless")

    timed = df["type"].isin(["reaction", "no_enzyme", "no_substrate"]).to_numpy()
    if "time_min" not in df.columns:
        raise DataError(f"{where}: missing column 'time_min' for reaction and blank rows")
    t_all = finite_numbers(df["time_min"])
    bad_t = timed & ~(t_all >= 0)
    if bad_t.any():
        i = int(np.nonzero(bad_t)[0][0])
        raise DataError(f"{locate(df, i)}: time_min {df['time_min'].iloc[i]!r} must be ≥ 0")
    df["time_min"] = t_all

    # Product (nmol) per reaction row, after blanks.
    amp_cal: Calibration | None = None
    if readout == "amp-glo":
        std = (df["type"] == "amp_standard").to_numpy()
        if not std.any():
            raise DataError(f"{where}: AMP-Glo readout needs rows of type 'amp_standard'")
        amp = concentrations(df, std, "µM")
        amp_cal = calibrate(amp, df.loc[std, "signal"], model=amp_model, weights=amp_weights)
        baseline = float(amp_cal.fit.predict([0.0])[0])
        blank_kinds: tuple[str, ...] = ("no_enzyme", "no_substrate")
        nmol_per_unit = v_rxn / per_asn  # µM × mL = nmol of AMP, one Asn per AMP
    else:
        if specific_radioactivity is None:
            raise DataError("readout 'c14' needs specific_radioactivity (e.g. '50 mCi/mmol')")
        sa = magnitude(specific_radioactivity, "dpm/nmol", name="specific_radioactivity")
        if sa <= 0:
            raise DataError(f"specific_radioactivity must be positive, got {sa:g} dpm/nmol")
        eff = 1.0 if counting_efficiency is None else float(counting_efficiency)
        if not 0 < eff <= 1:
            raise DataError(f"counting_efficiency must be in (0, 1], got {eff:g}")
        if not 0 < counted_fraction <= 1:
            raise DataError(f"counted_fraction must be in (0, 1], got {counted_fraction:g}")
        baseline = 0.0
        blank_kinds = ("no_enzyme",)
        nmol_per_unit = 1.0 / (eff * counted_fraction * sa)
        if (df["type"] == "no_substrate").any():
            findings.append(
                "no_substrate rows are not used with the 14C readout (they carry no label)"
            )

    def blank_excess(kind: str, sample: str, t: float) -> float:
        rows = df[df["type"] == kind]
        if (rows["sample"] == sample).any():
            rows = rows[rows["sample"] == sample]
        if rows.empty:
            return 0.0
        at_t = rows[np.isclose(rows["time_min"], t)]
        use = at_t if len(at_t) else rows
        return float(use["signal"].mean()) - baseline

    progress_rows = []
    reactions = df[df["type"] == "reaction"]
    if reactions.empty:
        raise DataError(f"{where}: no rows of type 'reaction'")
    for i in map(int, np.nonzero((df["type"] == "reaction").to_numpy())[0]):
        s, tt = df["sample"].iloc[i], float(df["time_min"].iloc[i])
        net = float(df["signal"].iloc[i]) - sum(blank_excess(k, s, tt) for k in blank_kinds)
        row: dict[str, Any] = {
            "sample": s,
            "where": locate(df, int(i)),
            "time_min": tt,
            "net_signal": net,
        }
        if amp_cal is not None:
            pred = amp_cal.inverse_in_span(net)
            row["status"] = pred.status
            row["product_nmol"] = None if pred.value is None else pred.value * nmol_per_unit
        else:
            row["status"] = "ok"
            row["product_nmol"] = net * nmol_per_unit
        progress_rows.append(row)
    progress = pd.DataFrame(progress_rows)

    prot_cal: Calibration | None = None
    pstd = (df["type"] == "protein_standard").to_numpy()
    if pstd.any():
        conc = concentrations(df, pstd, "mg/mL")
        prot_cal = calibrate(
            conc, df.loc[pstd, "signal"], model=protein_model, weights=protein_weights
        )
    samples = []
    for sample, grp in progress.groupby("sample", sort=False):
        s = str(sample)
        out: dict[str, Any] = {"sample": s}
        usable = grp[grp["product_nmol"].notna()]
        for rec in _records(grp[grp["product_nmol"].isna()]):
            findings.append(
                f"{s}: {rec['where']} (time {rec['time_min']:g} min) is {rec['status']} on the AMP "
                "curve and is not used for the rate"
            )
        if len(usable["time_min"].unique()) < 2:
            findings.append(f"{s}: fewer than 2 in-range time points; no rate")
            out.update(status="insufficient time points")
            samples.append(out)
            continue
        rate = _initial_rate(
            usable["time_min"].to_numpy(float), usable["product_nmol"].to_numpy(float)
        )
        if rate["linear"] is False:
            findings.append(
                f"{s}: progress curve is not linear (curvature significant at "
                f"α = {_CURVATURE_ALPHA}); initial rate from the first {rate['points_used']} "
                f"time points (≤ {rate['last_time_used_min']:g} min)"
            )
        elif rate["linear"] is None:
            findings.append(
                f"{s}: linearity not testable with {rate['points_total']} time points (≥ 4 "
                "distinct times and ≥ 5 points needed)"
            )
        out.update(
            status="ok",
            rate_nmol_per_min=rate["rate"],
            rate_se=rate["rate_se"],
            time_points_used=rate["points_used"],
            linear=rate["linear"],
        )
        protein, protein_se = _protein(df, s, prot_cal, findings)
        out["protein_mg_per_mL"] = protein
        out["protein_se"] = protein_se
        if protein is None:
            out["specific_activity_nmol_per_min_per_mg"] = None
            out["specific_activity_se"] = None
        else:
            mg = protein * v_lys
            act = rate["rate"] / mg
            rel = math.hypot(
                rate["rate_se"] / rate["rate"] if rate["rate"] else math.inf,
                (protein_se or 0.0) / protein,
            )
            out["specific_activity_nmol_per_min_per_mg"] = act
            out["specific_activity_se"] = abs(act) * rel
        samples.append(out)
    return AsnsResult(readout, amp_cal, prot_cal, progress, pd.DataFrame(samples), findings)


def _protein(
    df: pd.DataFrame, sample: str, cal: Calibration | None, findings: list[str]
) -> tuple[float | None, float | None]:
    """Lysate protein (mg/mL) from Bradford wells or a ``protein_mg_per_mL`` column."""
    if "protein_mg_per_mL" in df.columns:
        cells = df.loc[(df["sample"] == sample) & (df["type"] == "reaction"), "protein_mg_per_mL"]
        cells = cells[cells.notna()]
        given = finite_numbers(cells)
        if len(given):
            if len(np.unique(given)) > 1 or not given[0] > 0:
                raise DataError(f"{sample}: protein_mg_per_mL must be one finite positive value")
            return float(given[0]), 0.0
    wells = df[(df["type"] == "protein") & (df["sample"] == sample)]
    if wells.empty or cal is None:
        findings.append(f"{sample}: no protein measurement; specific activity not computed")
        return None, None
    dil = dilution_factors(wells, f"{sample}: Bradford wells")
    pred = cal.inverse(float(wells["signal"].mean()), n_replicates=len(wells))
    if pred.value is None:
        findings.append(
            f"{sample}: Bradford reading is {pred.status}; re-assay at another dilution"
        )
        return None, None
    return pred.value * dil, (pred.se or 0.0) * dil
