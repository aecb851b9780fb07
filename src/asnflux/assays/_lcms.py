"""LC-MS/MS isotope-dilution quantification with ICH M10 run acceptance (seed protocol 3).

The response is the analyte/internal-standard peak-area ratio. A weighted calibration
(default linear, 1/x²) is fitted to the standards; standards outside ±15 % (±20 % at the
LLOQ) are rejected one at a time and the curve refitted, as ICH M10 §3.2.4 prescribes (the
next to go is the standard farthest from the curve of the others); the run's standards
pass when ≥ 75 % of them, over ≥ 6 levels and ≥ 50 % of each replicated level, remain.
QCs (§3.3.1, §3.3.2: ≥ 3 levels in duplicate, ≥ max(6, 5 % of study samples), inside the
calibrated range) pass when ≥ 2/3 overall and ≥ 50 % per level are within ±15 % (±20 %
for a QC at the LLOQ). Blanks and the blank injected after the ULOQ (carry-over, §3.2.1,
§3.2.6) must show ≤ 20 % of the LLOQ analyte response and ≤ 5 % of the LLOQ
internal-standard response. Every rule is a knowledge-base record citing the guideline.

Asparagine is endogenous, so standards are prepared in a surrogate matrix (the default
``strategy="calibration"``; ICH M10 §7.1 asks the method validation to show parallelism),
or each sample is quantified by standard addition (``strategy="standard-addition"``: the
unknowns carry an ``Added Concentration`` column and the concentration is the magnitude of
the x-intercept of response vs added analyte).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from .._errors import DataError, FitError
from .._repr import CompactRepr
from ..fitting import fit_curve
from ..knowledge import load_knowledge_base
from ..units import magnitude
from ._calibration import Calibration, calibrate
from ._isotopes import IsotopeReport, isotope_report
from ._peaks import read_peak_table

Array = np.ndarray


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts (typed loosely: cells hold numbers and strings)."""
    return [dict(zip(df.columns, row, strict=True)) for row in df.itertuples(index=False)]


__all__ = ["LcmsResult", "lcms_quantify", "standard_addition"]


def _json_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with missing values as None (for JSON)."""
    return _records(df.astype(object).where(df.notna(), None))


STRATEGIES = ("calibration", "standard-addition")
_RULES = {
    "std_bias": "ich_m10.standards.max_bias",
    "std_bias_lloq": "ich_m10.standards.max_bias_lloq",
    "std_pass": "ich_m10.standards.min_pass_fraction",
    "std_levels": "ich_m10.standards.min_levels",
    "std_pass_level": "ich_m10.standards.min_pass_fraction_per_level",
    "qc_levels": "ich_m10.qc.min_levels",
    "qc_replicates": "ich_m10.qc.min_replicates_per_level",
    "qc_count": "ich_m10.qc.min_count",
    "qc_fraction_of_samples": "ich_m10.qc.min_fraction_of_study_samples",
    "qc_bias": "ich_m10.qc.max_bias",
    "qc_pass": "ich_m10.qc.min_pass_fraction",
    "qc_pass_level": "ich_m10.qc.min_pass_fraction_per_level",
    "blank_analyte": "ich_m10.blank.max_analyte_vs_lloq",
    "blank_is": "ich_m10.blank.max_is_vs_is",
    "is_low": "lcms.is_response.min_fraction",
    "is_high": "lcms.is_response.max_fraction",
}
# Fractions are stored to four decimals (2/3 as 0.6667); compare within that rounding.
_ROUNDING = 5e-5


def _rules() -> dict[str, float]:
    kb = load_knowledge_base()
    return {k: kb.value(rid, "dimensionless") for k, rid in _RULES.items()}


@dataclass(frozen=True)
class StandardAddition:
    """Concentration of a sample from its spiked aliquots (x-intercept of the line)."""

    sample: str
    concentration: float
    se: float
    n: int
    slope: float
    intercept: float
    r2: float


def standard_addition(added: Any, response: Any, sample: str = "sample") -> StandardAddition:
    """Endogenous concentration = intercept / slope of response vs added concentration.

    The standard error follows the delta method with the covariance of intercept and
    slope (not treating them as independent).
    """
    x = np.asarray(added, float)
    y = np.asarray(response, float)
    if len(x) < 3 or len(np.unique(x)) < 2:
        raise DataError(
            f"standard addition for {sample!r} needs at least 3 aliquots over at least 2 "
            f"added levels, got {len(x)} aliquot(s)"
        )
    fit = fit_curve("linear", x, y, profile=False)
    a, b = fit["intercept"].value, fit["slope"].value
    if b <= 0:
        raise FitError(f"standard addition for {sample!r}: the response does not rise with spike")
    grad = np.array([1 / b, -a / b**2])
    var = float(grad @ fit.covariance @ grad)
    return StandardAddition(sample, a / b, math.sqrt(max(var, 0.0)), len(x), b, a, fit.r2)


@dataclass(frozen=True, repr=False)
class LcmsResult(CompactRepr):
    """Everything a reviewer of an LC-MS/MS run needs: curve, verdicts, results."""

    molecule: str
    strategy: str
    calibration: Calibration | None
    standards: pd.DataFrame
    qcs: pd.DataFrame
    blanks: pd.DataFrame
    unknowns: pd.DataFrame
    verdicts: dict[str, Any]
    findings: list[str]
    isotopes: IsotopeReport | None = None
    concentration_unit: str = "µM"
    rules: dict[str, float] = field(default_factory=dict)
    injections: pd.DataFrame = field(default_factory=pd.DataFrame)
    levey_jennings: dict[str, Any] | None = None  # QC levels against earlier runs
    acquired: tuple[str, str] | None = None  # first and last acquisition, if reported

    @property
    def accepted(self) -> bool:
        return bool(self.verdicts.get("run_accepted"))

    def to_dict(self) -> dict[str, Any]:
        records = _json_records
        cal = None
        if self.calibration is not None:
            fit = self.calibration.fit
            cal = {
                "model": fit.model.name,
                "weights": self.calibration.weights,
                "parameters": {k: v.to_dict() for k, v in fit.parameters.items()},
                "r2": fit.r2,
                "range_uM": [self.calibration.lloq, self.calibration.uloq],
            }
        return {
            "protocol": "lcms-isotope-dilution",
            "molecule": self.molecule,
            "strategy": self.strategy,
            "concentration_unit": self.concentration_unit,
            "calibration": cal,
            "standards": records(self.standards),
            "qcs": records(self.qcs),
            "blanks": records(self.blanks),
            "unknowns": records(self.unknowns),
            "verdicts": self.verdicts,
            "findings": self.findings,
            "rules": self.rules,
            "isotopes": None if self.isotopes is None else self.isotopes.to_dict(),
            "injections": records(self.injections),
            "levey_jennings": self.levey_jennings,
            "acquired": None if self.acquired is None else list(self.acquired),
        }

    def with_history(self, history: list[tuple[str, dict[str, Any]]]) -> LcmsResult:
        """This result with its QC levels charted against earlier runs (Westgard rules);
        each rule that fires becomes a finding. Run acceptance under ICH M10 is unchanged:
        the rules are the lab's statistical QC, not the guideline's."""
        from ._levey import levey_jennings

        lj = levey_jennings(_json_records(self.qcs), history)
        extra = [f"Westgard {v['rule']}: {v['text']}" for v in lj["violations"]]
        if lj["note"]:
            extra.append(f"Levey–Jennings: {lj['note']}")
        return replace(self, levey_jennings=lj, findings=[*self.findings, *extra])

    def qc_levels(self) -> pd.DataFrame:
        """Per QC level (and dilution): n, mean found, %CV and mean %bias."""
        qc = self.qcs
        if qc.empty or "found_uM" not in qc:
            return pd.DataFrame()
        rows = []
        for (level, dil), grp in qc.groupby(["nominal_uM", "dilution"]):
            found = grp["found_uM"].dropna().astype(float)
            mean = float(found.mean()) if len(found) else math.nan
            cv = float(100 * found.std(ddof=1) / mean) if len(found) > 1 and mean else math.nan
            rows.append(
                {
                    "nominal_uM": level,
                    "dilution": dil,
                    "n": len(grp),
                    "mean_found_uM": mean,
                    "cv_pct": cv,
                    "mean_bias_pct": float(100 * (mean - level) / level),  # type: ignore[operator]
                    "passed": int(grp["pass"].sum()),
                }
            )
        return pd.DataFrame(rows)


def _fit_standards(
    std: pd.DataFrame, model: str, weights: str, r: dict[str, float]
) -> tuple[Calibration, pd.DataFrame]:
    x = std["nominal_uM"].to_numpy(float)
    y = std["ratio"].to_numpy(float)
    if np.any(x <= 0):
        raise DataError(
            "standards must have positive nominal concentrations (a zero standard is a "
            "'Blank' sample type)"
        )
    keep = np.ones(len(x), bool)

    def fit(mask: Any) -> tuple[Calibration, Array, Array]:
        lo, hi = float(x[mask].min()), float(x[mask].max())
        cal = calibrate(x[mask], y[mask], model=model, weights=weights, lloq=lo, uloq=hi)
        back = np.array([_read_back(cal, v) for v in y])
        tol = np.where(np.isclose(x, lo), r["std_bias_lloq"], r["std_bias"])
        return cal, (back - x) / x, tol

    while True:
        if len(np.unique(x[keep])) < 3:
            raise FitError(
                "fewer than 3 standard levels remain within the acceptance limits; the "
                "calibration cannot be accepted (check the standards' preparation)"
            )
        cal, bias, tol = fit(keep)
        excess = np.abs(bias) / tol
        failing = keep & ~(excess <= 1 + 1e-12)
        if not failing.any():
            break
        keep[_most_deviant(keep, x, fit, r)] = False
    back = x * (1 + bias)
    # A standard rejected below the final range was judged as the LLOQ (±20 %), not ±15 %.
    tol = np.where(~keep & (x < x[keep].min()), r["std_bias_lloq"], tol)
    out = std[["row", "replicate", "nominal_uM", "analyte_area", "is_area", "ratio"]].copy()
    out["back_calculated_uM"] = back
    out["bias_pct"] = 100 * bias
    out["limit_pct"] = 100 * tol
    out["accepted"] = keep
    return cal, out


def _most_deviant(keep: Any, x: Any, fit: Any, r: dict[str, float]) -> int:
    """The standard to reject next: the one farthest from the curve fitted without it.

    Judging each standard by its bias on the curve that includes it lets a mis-prepared
    standard with high weight (the LLOQ under 1/x²) drag the curve to itself, so that good
    standards next to it fail and are rejected while it survives. Its deleted bias — read
    back on the curve of the other standards — is not pulled that way, so the standard that
    is really out of line goes first; the curve is refitted after each rejection, one at a
    time, as ICH M10 §3.2.4 asks. ``fit(mask)`` returns (calibration, bias, limit).
    """
    best, worst = -1, -np.inf
    for j in np.nonzero(keep)[0]:
        rest = keep.copy()
        rest[j] = False
        if len(np.unique(x[rest])) < 3:
            continue
        try:
            _, bias, _ = fit(rest)
        except FitError:
            continue
        lowest = x[j] <= x[keep].min() * (1 + 1e-9)  # j is at the LLOQ of the current curve
        limit = r["std_bias_lloq"] if lowest else r["std_bias"]
        score = abs(bias[j]) / limit if np.isfinite(bias[j]) else np.inf
        if score > worst:
            best, worst = int(j), score
    if best < 0:  # no refit possible: fall back to the worst on the current curve
        _, bias, tol = fit(keep)
        best = int(np.argmax(np.where(keep, np.abs(bias) / tol, -np.inf)))
    return best


def _read_back(cal: Calibration, response: float) -> float:
    try:
        return cal.extrapolate(response)
    except FitError:
        return math.nan


def _standards_verdict(table: pd.DataFrame, r: dict[str, float]) -> tuple[dict[str, Any], list]:
    n = len(table)
    n_ok = int(table["accepted"].sum())
    kept = table.loc[table["accepted"], "nominal_uM"]
    levels = int(kept.nunique())
    frac_ok = n_ok / n >= r["std_pass"] - _ROUNDING
    lev_ok = levels >= r["std_levels"]
    findings = []
    if not frac_ok:
        findings.append(
            f"only {n_ok} of {n} standards ({100 * n_ok / n:.0f} %) meet the accuracy "
            f"criteria; ICH M10 §3.2.4 requires ≥ {100 * r['std_pass']:.0f} %"
        )
    if not lev_ok:
        findings.append(
            f"only {levels} standard levels meet the criteria; ICH M10 §3.2.4 requires ≥ "
            f"{r['std_levels']:.0f}"
        )
    # Replicates: ≥ 50 % of each level within the calibrated range must pass (§3.2.4); a
    # level wholly rejected at either end truncates the range instead.
    lo, hi = (float(kept.min()), float(kept.max())) if len(kept) else (math.nan, math.nan)
    per_level: dict[str, float] = {}
    level_ok = True
    for key, grp in table.groupby("nominal_uM"):
        level = float(key)  # type: ignore[arg-type]
        if len(grp) < 2 or not lo <= level <= hi:
            continue
        frac = float(grp["accepted"].mean())
        per_level[f"{level:g}"] = frac
        if frac < r["std_pass_level"] - _ROUNDING:
            level_ok = False
            findings.append(
                f"standard level {level:g} µM: {int(grp['accepted'].sum())} of {len(grp)} "
                f"replicates meet the criteria; ICH M10 §3.2.4 requires ≥ "
                f"{100 * r['std_pass_level']:.0f} % per level"
            )
    nominal_lo, nominal_hi = float(table["nominal_uM"].min()), float(table["nominal_uM"].max())
    truncated = len(kept) > 0 and (lo > nominal_lo or hi < nominal_hi)
    if truncated:
        findings.append(
            f"calibration range truncated to {lo:g}–{hi:g} µM (every standard at "
            f"{', '.join(f'{v:g}' for v in sorted(set(table['nominal_uM'])) if not lo <= v <= hi)}"
            " µM rejected): the next accepted level is the run's LLOQ/ULOQ"
        )
    for rec in _records(table[~table["accepted"]]):
        findings.append(
            f"standard {rec['replicate']} ({rec['nominal_uM']:g} µM) rejected: bias "
            f"{rec['bias_pct']:+.1f} % (limit ±{rec['limit_pct']:.0f} %)"
        )
    verdict = {
        "n": n,
        "accepted": n_ok,
        "levels_accepted": levels,
        "per_level": per_level,
        "range_uM": [lo, hi] if len(kept) else None,
        "range_truncated": bool(truncated),
        "pass": bool(frac_ok and lev_ok and level_ok),
    }
    return verdict, findings


def _qcs(
    qc: pd.DataFrame,
    cal: Calibration,
    r: dict[str, float],
    where: str = "peak table",
    n_unknowns: int = 0,
) -> tuple[pd.DataFrame, dict[str, Any], list[str]]:
    rows = []
    pooled = qc[qc["nominal_uM"].isna()]
    qc = qc[qc["nominal_uM"].notna()]
    for rec in _records(qc):
        if not (math.isfinite(rec["nominal_uM"]) and rec["nominal_uM"] > 0):
            raise DataError(
                f"{where}: row {rec['row']}: QC {rec['replicate']!r} has nominal concentration "
                f"{rec['nominal_uM']:g} µM; a QC needs a positive nominal value (a sample "
                "without analyte is a blank)"
            )
        pred = cal.inverse(float(rec["ratio"]))
        dil = float(rec["dilution"]) if np.isfinite(rec["dilution"]) else 1.0
        # A dilution QC (§3.2.7, §3.3.1): nominal above the range, diluted into it; judged
        # on the undiluted value it reports.
        found = None if pred.value is None else pred.value * dil
        bias = None if found is None else 100 * (found - rec["nominal_uM"]) / rec["nominal_uM"]
        at_lloq = dil == 1 and bool(np.isclose(rec["nominal_uM"], cal.lloq))
        limit = 100 * (r["std_bias_lloq"] if at_lloq else r["qc_bias"])
        rows.append(
            {
                "row": rec["row"],
                "replicate": rec["replicate"],
                "nominal_uM": rec["nominal_uM"],
                "dilution": dil,
                "ratio": rec["ratio"],
                "found_uM": found,
                "status": pred.status,
                "bias_pct": bias,
                "limit_pct": limit,
                "pass": bool(bias is not None and abs(bias) <= limit + 1e-9),
            }
        )
    findings: list[str] = []
    diluted = pd.DataFrame([row for row in rows if row["dilution"] > 1])
    dilution = _dilution_qcs(diluted, r, findings)
    table = pd.DataFrame([row for row in rows if row["dilution"] == 1])
    pools = _pooled_qcs(pooled, cal, findings)
    if table.empty:
        findings.append("no QC samples: the run cannot be accepted under ICH M10 §3.3.2")
        verdict0 = {"n": 0, "passed": 0, "pass": False, "pooled": pools, "dilution": dilution}
        return pd.concat([table, diluted], ignore_index=True), verdict0, findings
    design_ok = _qc_design(table, cal, r, n_unknowns, findings)
    n, ok = len(table), int(table["pass"].sum())
    overall = ok / n >= r["qc_pass"] - _ROUNDING
    per_level = {}
    for level, grp in table.groupby("nominal_uM"):
        frac = float(grp["pass"].mean())
        per_level[f"{level:g}"] = frac
        if frac < r["qc_pass_level"] - _ROUNDING:
            findings.append(
                f"QC level {level:g} µM: {100 * frac:.0f} % within limits (≥ "
                f"{100 * r['qc_pass_level']:.0f} % required)"
            )
    if not overall:
        findings.append(f"{ok} of {n} QCs within limits; ICH M10 §3.3.2 requires ≥ two-thirds")
    level_ok = all(v >= r["qc_pass_level"] - _ROUNDING for v in per_level.values())
    verdict = {
        "n": n,
        "passed": ok,
        "per_level": per_level,
        "design_ok": design_ok,
        "pass": bool(overall and level_ok and design_ok),
        "pooled": pools,
        "dilution": dilution,
    }
    return pd.concat([table, diluted], ignore_index=True), verdict, findings


def _dilution_qcs(
    diluted: pd.DataFrame, r: dict[str, float], findings: list[str]
) -> dict[str, dict[str, Any]]:
    """Dilution QCs per factor: ≥ 2/3 within ±15 % (the QC rule), judged apart from the run.

    They do not decide the run; a factor whose dilution QCs fail makes the unknowns diluted
    by it unreportable (AsnFlux's reading of M10 §3.2.7 and §3.3.1, recorded in the docs).
    """
    out: dict[str, dict[str, Any]] = {}
    if diluted.empty:
        return out
    for factor, grp in diluted.groupby("dilution"):
        n, ok = len(grp), int(grp["pass"].sum())
        passed = ok / n >= r["qc_pass"] - _ROUNDING
        out[f"{factor:g}"] = {"n": n, "passed": ok, "pass": bool(passed)}
        if not passed:
            findings.append(
                f"dilution QCs at {factor:g}×: {ok} of {n} within ±{100 * r['qc_bias']:.0f} %; "
                f"unknowns diluted {factor:g}× are not reportable"
            )
    return out


def _qc_design(
    table: pd.DataFrame, cal: Calibration, r: dict[str, float], n_unknowns: int, findings: list
) -> bool:
    """ICH M10 §3.3.1: QCs at ≥ 3 levels, each in ≥ duplicate, numbering ≥ max(6, 5 % of the
    study samples), all within the run's calibrated range (which a rejected LLOQ or ULOQ
    standard narrows)."""
    ok = True
    counts = table.groupby("nominal_uM").size()
    if len(counts) < r["qc_levels"]:
        ok = False
        findings.append(
            f"QCs at {len(counts)} level(s); ICH M10 §3.3.1 requires ≥ {r['qc_levels']:.0f} "
            "(low, medium, high)"
        )
    thin = [f"{lvl:g}" for lvl, k in counts.items() if k < r["qc_replicates"]]
    if thin:
        ok = False
        findings.append(
            f"QC level(s) {', '.join(thin)} µM have fewer than {r['qc_replicates']:.0f} "
            "replicates; ICH M10 §3.3.1 requires at least duplicates"
        )
    need = max(r["qc_count"], math.ceil(r["qc_fraction_of_samples"] * n_unknowns - 1e-9))
    if len(table) < need:
        ok = False
        findings.append(
            f"{len(table)} QCs for {n_unknowns} study samples; ICH M10 §3.3.1 requires ≥ "
            f"{need:.0f} (at least six, or 5 % of the study samples if more)"
        )
    outside = [f"{lvl:g}" for lvl in counts.index if not cal.lloq <= lvl <= cal.uloq]
    if outside:
        ok = False
        findings.append(
            f"QC level(s) {', '.join(outside)} µM lie outside the run's calibrated range "
            f"{cal.lloq:g}–{cal.uloq:g} µM; the range must cover every QC level"
        )
    return ok


def _pooled_qcs(
    pooled: pd.DataFrame, cal: Calibration, findings: list[str]
) -> dict[str, dict[str, Any]]:
    """QCs without a nominal value (pooled study samples): precision only, not accuracy.

    Their between-injection %CV is reported against ICH M10's 15 % precision limit for QCs
    (accuracy-and-precision section); they do not enter the run's QC acceptance, which needs
    nominal values.
    """
    out: dict[str, dict[str, Any]] = {}
    # A pool is named by its sample, or by its replicates' common stem (PoolQC_1, PoolQC_2).
    names = [
        sample if sample != rep else re.sub(r"[_\-\s]*\d+$", "", rep) or rep
        for sample, rep in zip(pooled["sample"], pooled["replicate"], strict=True)
    ]
    for pool, grp in pooled.groupby(pd.Series(names, index=pooled.index), sort=False):
        found = [cal.inverse(float(r)).value for r in grp["ratio"]]
        values = np.array([v for v in found if v is not None], float)
        entry: dict[str, Any] = {"n": len(grp), "in_range": len(values)}
        if len(values) >= 2 and values.mean() > 0:
            cv = float(100 * values.std(ddof=1) / values.mean())
            entry |= {"mean_uM": float(values.mean()), "cv_pct": cv, "precise": cv <= 15.0}
            if cv > 15.0:
                findings.append(
                    f"pooled QC {pool}: CV {cv:.1f} % over {len(values)} injections (> 15 %)"
                )
        else:
            findings.append(f"pooled QC {pool}: fewer than 2 injections in range; no precision")
        out[str(pool)] = entry
    if out:
        findings.append(
            f"{len(out)} pooled QC(s) without a nominal value: precision only, not accuracy"
        )
    return out


def _blanks(
    peaks: pd.DataFrame, std: pd.DataFrame, r: dict[str, float]
) -> tuple[pd.DataFrame, dict[str, Any], list[str]]:
    lloq_level = std.loc[std["accepted"], "nominal_uM"].min()
    uloq_level = std["nominal_uM"].max()
    at_lloq = std[np.isclose(std["nominal_uM"], lloq_level) & std["accepted"]]
    lloq_analyte = float(at_lloq["analyte_area"].mean())
    lloq_is = float(at_lloq["is_area"].mean())
    rows = []
    types = peaks["sample_type"].tolist()
    nominal = peaks["nominal_uM"].to_numpy()
    for i, rec in enumerate(_records(peaks)):
        if rec["sample_type"] not in ("blank", "double_blank", "solvent"):
            continue
        after_uloq = (
            i > 0 and types[i - 1] == "standard" and bool(np.isclose(nominal[i - 1], uloq_level))
        )
        analyte_pct = 100 * rec["analyte_area"] / lloq_analyte
        # A zero sample (blank) carries IS by design; only IS-free injections are judged on IS.
        is_pct = (
            None
            if rec["sample_type"] == "blank" or not np.isfinite(rec["is_area"])
            else 100 * rec["is_area"] / lloq_is
        )
        ok = bool(analyte_pct <= 100 * r["blank_analyte"] + 1e-9) and bool(
            is_pct is None or is_pct <= 100 * r["blank_is"] + 1e-9
        )
        rows.append(
            {
                "row": rec["row"],
                "replicate": rec["replicate"],
                "sample_type": rec["sample_type"],
                "check": "carry-over" if after_uloq else "selectivity",
                "analyte_pct_of_lloq": analyte_pct,
                "is_pct_of_lloq_is": is_pct,
                "pass": ok,
            }
        )
    table = pd.DataFrame(rows)
    findings = []
    for rec in rows:
        if not rec["pass"]:
            is_pct = rec["is_pct_of_lloq_is"]
            is_txt = "" if is_pct is None else f", IS {is_pct:.1f} % of LLOQ IS"
            findings.append(
                f"{rec['check']} check failed for {rec['replicate']} (row {rec['row']}): "
                f"analyte {rec['analyte_pct_of_lloq']:.1f} % of LLOQ response{is_txt} "
                f"(limits {100 * r['blank_analyte']:.0f} % / {100 * r['blank_is']:.0f} %)"
            )
    has_carry = bool(len(table)) and (table["check"] == "carry-over").any()
    if not has_carry:
        findings.append("no blank injected after the ULOQ standard: carry-over not assessed")
    # §3.3.1: a run holds a blank (matrix without analyte or IS) and a zero sample (matrix
    # with IS only) besides its standards and QCs.
    present = set(types)
    needed = {
        "double_blank": "blank (Double Blank: no analyte, no IS)",
        "blank": "zero sample (Blank: IS only)",
    }
    missing = [name for kind, name in needed.items() if kind not in present]
    for name in missing:
        findings.append(f"the run has no {name}; ICH M10 §3.3.1 includes one in every run")
    verdict = {
        "n": len(table),
        "blank_and_zero_present": not missing,
        "pass": (bool(table["pass"].all()) if len(table) else True) and not missing,
        "carry_over_assessed": bool(has_carry),
        "lloq_analyte_area": lloq_analyte,
        "lloq_is_area": lloq_is,
    }
    return table, verdict, findings


def _cell_volume_pl(cell_volume: Any) -> float | None:
    if cell_volume is None:
        return None
    if isinstance(cell_volume, str) and cell_volume.startswith(("cell.", "lab.")):
        return load_knowledge_base().value(cell_volume, "pL")
    v = magnitude(cell_volume, "pL", name="cell_volume")
    if v <= 0:
        raise DataError(f"cell_volume must be positive, got {v:g} pL")
    return v


def _normalise(rows: list[dict[str, Any]], extract_ml: float | None, cell_pl: float | None) -> None:
    for row in rows:
        c, se = row.get("concentration_uM"), row.get("se_uM")
        for key in ("nmol", "nmol_per_1e6_cells", "nmol_per_mg_protein", "intracellular_mM"):
            row[key] = None
            row[key + "_se"] = None
        if c is None or extract_ml is None:
            continue
        amount, amount_se = c * extract_ml, (se or 0.0) * extract_ml  # 1 µM × 1 mL = 1 nmol
        row["nmol"], row["nmol_se"] = amount, amount_se
        cells, protein = row.get("cells"), row.get("protein_mg")
        if cells is not None and np.isfinite(cells) and cells > 0:
            row["nmol_per_1e6_cells"] = amount / cells * 1e6
            row["nmol_per_1e6_cells_se"] = amount_se / cells * 1e6
            if cell_pl is not None:
                # nmol / (cells × pL) = 1e6 mM·(1e6 cells × 1 pL = 1 µL; 1 nmol/µL = 1 mM)
                row["intracellular_mM"] = amount * 1e6 / (cells * cell_pl)
                row["intracellular_mM_se"] = amount_se * 1e6 / (cells * cell_pl)
        if protein is not None and np.isfinite(protein) and protein > 0:
            row["nmol_per_mg_protein"] = amount / protein
            row["nmol_per_mg_protein_se"] = amount_se / protein


def lcms_quantify(
    table: pd.DataFrame | list[pd.DataFrame],
    *,
    analyte: str | None = None,
    model: str = "linear",
    weights: str = "1/x2",
    concentration_unit: str | None = None,
    strategy: str = "calibration",
    extract_volume: Any = None,
    cell_volume: Any = None,
    label: str | None = None,
    label_purity: float = 0.99,
    is_label: str | None = None,
    transitions: str = "sum",
) -> LcmsResult:
    """Quantify an analyte from a peak report (or several), with ICH M10 run acceptance.

    ``is_label`` names the internal standard's Skyline label type when a long report has
    several; ``transitions`` ("sum" or "quantifier") reduces per-transition rows.

    ``extract_volume`` (e.g. ``"0.2 mL"``) turns extract concentrations into amounts, which
    are normalised to the report's cell-count and protein columns; ``cell_volume`` (a
    quantity such as ``"0.6 pL"`` or a knowledge-base record id) converts per-cell amounts to
    intracellular concentrations. ``label`` (``"13C4,15N2"``, ``"15N2,d8"``) adds isotope
    facts and checks the predicted channel crosstalk against the blank limits.
    """
    if strategy not in STRATEGIES:
        raise DataError(f"strategy {strategy!r} is not one of {', '.join(STRATEGIES)}")
    tables = table if isinstance(table, list) else [table]
    if not tables:
        raise DataError("no peak reports given")
    parts = []
    molecule = "analyte"
    for t in tables:
        part, molecule = read_peak_table(
            t,
            concentration_unit=concentration_unit,
            analyte=analyte,
            is_label=is_label,
            transitions=transitions,
        )
        if len(tables) > 1:
            part["row"] = [f"{part.attrs['path']}:{r}" for r in part["row"]]
        parts.append(part)
    periods = [p.attrs["acquired"] for p in parts if "acquired" in p.attrs]
    acquired = (min(a for a, _ in periods), max(b for _, b in periods)) if periods else None
    peaks = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    where = " + ".join(p.attrs["path"] for p in parts)
    dup = peaks["replicate"][peaks["replicate"].duplicated()]
    if len(dup):
        raise DataError(f"{where}: replicate {dup.iloc[0]!r} appears in more than one report")
    peaks["ratio"] = peaks["analyte_area"] / peaks["is_area"]
    r = _rules()
    extract_ml = (
        None if extract_volume is None else magnitude(extract_volume, "mL", name="extract_volume")
    )
    if extract_ml is not None and extract_ml <= 0:
        raise DataError(f"extract_volume must be positive, got {extract_ml:g} mL")
    cell_pl = _cell_volume_pl(cell_volume)
    iso = None
    if label is not None:
        if analyte is None and molecule == "analyte":
            raise DataError(
                f"{where}: the report names no molecule; pass analyte= (e.g. 'Asn') to compute "
                "isotope facts for the label"
            )
        iso = isotope_report(analyte or molecule, label, label_purity)

    findings: list[str] = []
    verdicts: dict[str, Any] = {}
    unknown = peaks[peaks["sample_type"] == "unknown"]
    if unknown.empty:
        raise DataError(f"{where}: no rows of sample type 'Unknown' to quantify")
    cal: Calibration | None = None
    std_table = pd.DataFrame()
    qc_table = pd.DataFrame()
    blank_table = pd.DataFrame()
    rows: list[dict[str, Any]] = []
    if strategy == "calibration":
        zero = (peaks["sample_type"] == "standard") & (peaks["nominal_uM"] == 0)
        if zero.any():
            # A standard at 0 is ICH M10's "zero sample" (matrix with IS only): a blank.
            peaks = peaks.copy()
            peaks.loc[zero, "sample_type"] = "blank"
            findings.append(
                f"{int(zero.sum())} standard(s) at 0 µM treated as zero samples (blanks)"
            )
        std = peaks[peaks["sample_type"] == "standard"]
        if std.empty:
            raise DataError(f"{where}: no rows of sample type 'Standard'")
        cal, std_table = _fit_standards(std, model, weights, r)
        verdicts["standards"], f = _standards_verdict(std_table, r)
        findings += f
        qc_table, verdicts["qcs"], f = _qcs(
            peaks[peaks["sample_type"] == "qc"], cal, r, where, n_unknowns=len(unknown)
        )
        findings += f
        blank_table, verdicts["blanks"], f = _blanks(peaks, std_table, r)
        findings += f
        dilution_qcs: dict[str, dict[str, Any]] = verdicts["qcs"].get("dilution", {})
        missing_factors: set[float] = set()
        for rec in _records(unknown):
            if rec["ratio"] is None or not math.isfinite(rec["ratio"]):
                # Skyline's #N/A: no peak was found; the sample is flagged, the run goes on.
                pred: Any = SimpleNamespace(value=None, se=None, status="no peak")
                findings.append(f"{rec['replicate']}: no analyte peak (#N/A); not quantified")
            else:
                pred = cal.inverse(float(rec["ratio"]))
            dil = 1.0 if not np.isfinite(rec["dilution"]) else float(rec["dilution"])
            if dil < 1:
                raise DataError(f"{where}: row {rec['row']}: dilution {dil:g} must be ≥ 1")
            if dil > 1:
                factor = dilution_qcs.get(f"{dil:g}")
                if factor is None:
                    missing_factors.add(dil)
                elif not factor["pass"]:
                    pred = SimpleNamespace(
                        value=pred.value, se=pred.se, status=f"{pred.status}; dilution QC failed"
                    )
            rows.append(
                {
                    "row": rec["row"],
                    "replicate": rec["replicate"],
                    "sample": rec["sample"],
                    "ratio": rec["ratio"],
                    "status": pred.status,
                    "dilution": dil,
                    "concentration_uM": None if pred.value is None else pred.value * dil,
                    "se_uM": None if pred.se is None else pred.se * dil,
                    "cells": rec["cells"],
                    "protein_mg": rec["protein_mg"],
                }
            )
    else:
        if unknown["added_uM"].isna().any():
            bad = unknown[unknown["added_uM"].isna()]["row"].iloc[0]
            raise DataError(
                f"{where}: row {bad}: standard addition needs an 'Added Concentration' for "
                "every unknown (0 for the unspiked aliquot)"
            )
        for name, grp in unknown.groupby("sample", sort=False):
            sa = standard_addition(grp["added_uM"], grp["ratio"], str(name))
            dils = grp["dilution"].dropna().unique()
            d = float(dils[0]) if len(dils) else 1.0
            first = grp.iloc[0]
            rows.append(
                {
                    "row": int(first["row"]),
                    "replicate": ",".join(grp["replicate"]),
                    "sample": str(name),
                    "ratio": None,
                    "status": "ok",
                    "dilution": d,
                    "concentration_uM": sa.concentration * d,
                    "se_uM": sa.se * d,
                    "slope": sa.slope,
                    "r2": sa.r2,
                    "cells": first["cells"],
                    "protein_mg": first["protein_mg"],
                }
            )
        verdicts["standards"] = {"pass": True, "note": "standard addition: no external curve"}
    if strategy == "calibration" and missing_factors:
        findings.append(
            f"unknowns diluted {', '.join(f'{d:g}×' for d in sorted(missing_factors))} have no "
            "dilution QC at that factor; dilution integrity is not shown in this run"
        )
    _normalise(rows, extract_ml, cell_pl)
    if iso is not None and not std_table.empty:
        blank_v = verdicts["blanks"]
        is_mean = float(peaks.loc[peaks["sample_type"] == "unknown", "is_area"].mean())
        uloq_area = float(std_table["analyte_area"][std_table["accepted"]].max())
        is_in_analyte = iso.is_into_analyte * is_mean / blank_v["lloq_analyte_area"]
        analyte_in_is = iso.analyte_into_is * uloq_area / blank_v["lloq_is_area"]
        ok = is_in_analyte <= r["blank_analyte"] and analyte_in_is <= r["blank_is"]
        verdicts["isotope_crosstalk"] = {
            "IS_into_analyte_pct_of_lloq": 100 * is_in_analyte,
            "analyte_at_uloq_into_IS_pct": 100 * analyte_in_is,
            "pass": bool(ok),
        }
        if not ok:
            findings.append(
                "predicted isotope crosstalk exceeds the blank limits: choose a standard with "
                "a larger mass shift or higher enrichment"
            )
    if strategy == "calibration":
        checks = [v.get("pass") for v in verdicts.values() if isinstance(v, dict)]
        verdicts["run_accepted"] = bool(checks) and all(checks)
    else:
        verdicts["run_accepted"] = None
        findings.append("standard addition: ICH M10 run acceptance (standards, QCs) not assessed")
    injections = peaks[["row", "replicate", "sample_type", "analyte_area", "is_area"]].copy()
    injections.insert(0, "injection", np.arange(1, len(injections) + 1))
    if strategy == "calibration":
        _is_response(injections, r, findings)
    if verdicts["run_accepted"] is False:
        for row in rows:  # quantified, but not reportable from a rejected run
            row["status"] = f"{row['status']}; run rejected"
    unknowns = pd.DataFrame(rows)
    return LcmsResult(
        molecule=molecule,
        strategy=strategy,
        calibration=cal,
        standards=std_table,
        qcs=qc_table,
        blanks=blank_table,
        unknowns=unknowns,
        verdicts=verdicts,
        findings=findings,
        isotopes=iso,
        concentration_unit="µM",
        rules=r,
        injections=injections,
        acquired=acquired,
    )


def _is_response(injections: pd.DataFrame, r: dict[str, float], findings: list[str]) -> None:
    """IS response of each study sample against the mean of the run's standards and QCs
    (ICH M10 asks for IS monitoring; the window is a lab convention, see the KB record)."""
    ref_rows = injections["sample_type"].isin(["standard", "qc"])
    ref = float(injections.loc[ref_rows, "is_area"].mean()) if ref_rows.any() else math.nan
    injections["is_pct_of_calibrators"] = 100 * injections["is_area"] / ref
    if not math.isfinite(ref) or ref <= 0:
        return
    lo, hi = 100 * r["is_low"], 100 * r["is_high"]
    for rec in _records(injections[injections["sample_type"] == "unknown"]):
        pct = rec["is_pct_of_calibrators"]
        if math.isfinite(pct) and not lo <= pct <= hi:
            findings.append(
                f"{rec['replicate']} (injection {rec['injection']}): IS response {pct:.0f} % "
                f"of the calibrators' and QCs' mean (review window {lo:.0f}–{hi:.0f} %)"
            )
