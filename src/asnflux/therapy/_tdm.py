"""Therapeutic drug monitoring: individual PK from a patient's activity levels.

The posterior of the patient's random effects on clearance and central volume (standard
normal priors, the formulation's between-patient variability) is evaluated on a grid, with
a proportional + additive residual error and levels below the assay LLOQ treated as
censored (Beal's M3). The maximum a posteriori estimate, marginal 90 % credible intervals
and the forecast band come from that posterior. Levels far below what the population
predicts for the dose flag a suspected silent inactivation.
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
from .._tables import file_row, finite_numbers, text_column
from ..knowledge import load_knowledge_base
from ._engine import Population, simulate
from ._formulations import formulation, weight_from_bsa
from ._regimen import Dose, Regimen

__all__ = ["RESEARCH_NOTICE", "TDMResult", "tdm"]

#: Printed with every dose advice (CLI, JSON, reports).
RESEARCH_NOTICE = "For research use; not a medical device."

_GRID = np.linspace(-4.0, 4.0, 41)
_TAIL = 0.01  # prior-predictive tail probability that flags a level as implausible
# A serum activity above this is taken for a unit slip (IU/L entered as IU/mL): peak
# levels after the largest doses in use stay below ~15 IU/mL (native E. coli 25,000 IU/m²
# IV; Asselin 1993), so 50 is a safe ceiling, not a clinical threshold.
#: Highest activity accepted as a level or threshold (IU/mL).
MAX_LEVEL = 50.0
_MAX_LEVEL = MAX_LEVEL
_MAX_LEVELS = 500


@dataclass(repr=False)
class TDMResult(CompactRepr):
    formulation: str
    map_z_cl: float
    map_z_v: float
    ci90_z_cl: tuple[float, float]
    ci90_z_v: tuple[float, float]
    clearance_L_per_h: float
    volume_L: float
    forecast: pd.DataFrame  # day, p5, p50, p95 (IU/mL)
    inactivation_suspected: bool
    implausible_levels: list[int]
    next_dose_day: float
    predicted_trough_p50: float
    probability_trough_at_target: float
    recommended_dose: float | None
    dose_unit: str
    recommendation: str
    target_trough: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "formulation": self.formulation,
            "map": {
                "z_cl": self.map_z_cl,
                "z_v": self.map_z_v,
                "clearance_L_per_h": self.clearance_L_per_h,
                "volume_L": self.volume_L,
            },
            "ci90": {"z_cl": list(self.ci90_z_cl), "z_v": list(self.ci90_z_v)},
            "inactivation_suspected": self.inactivation_suspected,
            "implausible_levels": self.implausible_levels,
            "next_dose_day": self.next_dose_day,
            "predicted_trough_p50_IU_per_mL": self.predicted_trough_p50,
            "probability_trough_at_or_above_target": self.probability_trough_at_target,
            "target_trough_IU_per_mL": self.target_trough,
            "recommended_dose": self.recommended_dose,
            "dose_unit": self.dose_unit,
            "recommendation": self.recommendation,
            "notice": RESEARCH_NOTICE,
            "forecast": self.forecast.to_dict(orient="list"),
        }


def _levels(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    where = str(table.attrs.get("path", "levels"))
    cols = {c.lower(): c for c in table.columns}
    tcol = cols.get("day") or cols.get("time_day") or cols.get("time_h")
    vcol = cols.get("saa_iu_per_ml") or cols.get("activity_iu_per_ml") or cols.get("saa")
    if tcol is None or vcol is None:
        raise DataError(f"{where}: need a 'day' (or 'time_h') column and an 'saa_IU_per_mL' column")
    unknown = [c for c in table.columns if c not in (tcol, vcol, cols.get("lloq"))]
    if unknown:
        raise DataError(
            f"{where}: unknown column(s) {', '.join(map(repr, unknown))}; a levels file has "
            f"{tcol!r}, {vcol!r} and optionally 'lloq'"
        )
    if len(table) > _MAX_LEVELS:
        raise DataError(
            f"{where}: {len(table):,} levels; at most {_MAX_LEVELS} for one patient (a course "
            "of therapy has tens)"
        )
    t = finite_numbers(table[tcol])
    if tcol == cols.get("time_h"):
        t = t / 24.0
    raw = text_column(table, vcol)
    below = raw.str.startswith("<")
    y = finite_numbers(raw.str.lstrip("<"))
    lloq = finite_numbers(table[cols["lloq"]]) if "lloq" in cols else np.full(len(t), np.nan)
    if "lloq" in cols:
        given = table[cols["lloq"]].notna().to_numpy()
        bad = given & ~(lloq > 0)
        if bad.any():
            i = int(np.nonzero(bad)[0][0])
            raise DataError(
                f"{where}: row {file_row(table, i)}, column {cols['lloq']!r}: "
                f"{table[cols['lloq']].iloc[i]!r} is not an LLOQ > 0 (IU/mL); leave it empty "
                "if there is none"
            )
    lloq = np.where(below, y, lloq)  # "<0.02" states the LLOQ itself
    for i in range(len(t)):
        if not np.isfinite(t[i]) or t[i] < 0:
            raise DataError(
                f"{where}: row {file_row(table, i)}: time {table[tcol].iloc[i]!r} must be ≥ 0"
            )
        if not np.isfinite(y[i]) or y[i] < 0:
            raise DataError(
                f"{where}: row {file_row(table, i)}: level {table[vcol].iloc[i]!r} is not an "
                "activity ≥ 0 (write '<0.02' for a level below the LLOQ)"
            )
        if y[i] > _MAX_LEVEL:
            raise DataError(
                f"{where}: row {file_row(table, i)}: level {y[i]:g} IU/mL is above any "
                f"asparaginase activity reached in patients ({_MAX_LEVEL:g} IU/mL); is it in "
                "IU/L? Divide by 1000"
            )
    if np.any(np.diff(t) < 0):
        raise DataError(f"{where}: levels must be in time order")
    return t, y, np.where(below | (np.isfinite(lloq) & (y < lloq)), np.nan_to_num(lloq), np.nan)


def tdm(
    levels: pd.DataFrame,
    regimen: Regimen,
    *,
    bsa: float,
    weight: float | None = None,
    target_trough: float = 0.1,
    forecast_days: float | None = None,
) -> TDMResult:
    """Fit a patient's levels, forecast, flag inactivation and recommend the next dose."""
    kb = load_knowledge_base()
    t_day, y, censored = _levels(levels)
    if not (math.isfinite(target_trough) and target_trough > 0):
        raise DataError(f"target trough must be positive, got {target_trough:g} IU/mL")
    if not bsa > 0:
        raise DataError(f"BSA must be positive, got {bsa:g} m**2")
    first_h = regimen.doses[0].time_h
    early = np.nonzero(t_day * 24 < first_h - 1e-9)[0]
    if len(early):
        i = int(early[0])
        raise DataError(
            f"{levels.attrs.get('path', 'levels')}: row {file_row(levels, i)}: level at day "
            f"{t_day[i]:g} precedes the first dose (day {first_h / 24:g}); remove it or add "
            "the earlier dose to the regimen"
        )
    name = regimen.doses[-1].formulation
    f = formulation(name)
    last_level_h = float(t_day[-1] * 24)
    given = [d for d in regimen.doses if d.time_h <= last_level_h]
    if not given:
        raise DataError("no dose of the regimen precedes the last level")
    later = [d for d in regimen.doses if d.time_h > last_level_h]
    if later:
        nxt = later[0]
    elif len(given) > 1:
        gap = given[-1].time_h - given[-2].time_h
        nxt = Dose(given[-1].time_h + gap, given[-1].formulation, given[-1].amount, given[-1].route)
        if nxt.time_h <= last_level_h:
            raise DataError(
                f"{levels.attrs.get('path', 'levels')}: row {file_row(levels, len(t_day) - 1)}: "
                f"the last level (day {t_day[-1]:g}) comes after the next dose inferred from "
                f"the regimen (day {nxt.time_h / 24:g}, every {gap / 24:g} d); give every dose "
                "up to the last level and the next one"
            )
    else:
        raise DataError(
            "the regimen must include the next dose (or two given doses, to infer the interval)"
        )
    following = [d for d in regimen.doses if d.time_h > nxt.time_h]
    interval = (following[0].time_h - nxt.time_h) if following else (nxt.time_h - given[-1].time_h)
    trough_h = nxt.time_h + interval
    horizon_days = max(forecast_days or 0.0, trough_h / 24.0)
    mesh_c, mesh_v = np.meshgrid(_GRID, _GRID, indexing="ij")
    zc, zv = mesh_c.ravel(), mesh_v.ravel()
    n = len(zc)
    b = np.full(n, float(bsa))
    w = weight_from_bsa(b) if weight is None else np.full(n, float(weight))
    pop = Population(b, w, zc, zv)
    base_reg = Regimen((*given, nxt))
    sample_h = np.concatenate([t_day * 24.0, [trough_h]])
    sim = simulate(
        pop,
        base_reg,
        horizon_days,
        sample_times_h=sample_h,
        pk_only=True,
        record_every_h=24.0,
        keep_traces=True,
    )
    samples = _samples(sim)
    pred = samples[:, : len(y)]
    trough_with = samples[:, -1]
    sim0 = simulate(
        pop,
        Regimen(tuple(given)),
        horizon_days,
        sample_times_h=[trough_h],
        pk_only=True,
        keep_traces=False,
    )
    trough_without = _samples(sim0)[:, 0]
    contrib = trough_with - trough_without
    prop = kb.value("tdm.residual.proportional", "dimensionless")
    add = kb.value("tdm.residual.additive", "IU/mL")
    sd = np.sqrt((prop * pred) ** 2 + add**2)
    cens = np.isfinite(censored)
    loglik = np.where(
        cens[None, :],
        stats.norm.logcdf((np.nan_to_num(censored)[None, :] - pred) / sd),
        stats.norm.logpdf(y[None, :], pred, sd),
    ).sum(axis=1)
    logprior = stats.norm.logpdf(zc) + stats.norm.logpdf(zv)
    logpost = loglik + logprior
    post = np.exp(logpost - logpost.max())
    post /= post.sum()
    i_map = int(np.argmax(logpost))

    def ci(z: np.ndarray) -> tuple[float, float]:
        marg = pd.Series(post).groupby(z).sum()
        cdf = marg.cumsum().to_numpy()
        grid = marg.index.to_numpy()
        return float(np.interp(0.05, cdf, grid)), float(np.interp(0.95, cdf, grid))

    # Prior predictive check of each level (population, this dose).
    prior = np.exp(logprior - logprior.max())
    prior /= prior.sum()
    implausible: list[int] = []
    too_high: list[int] = []
    for j in range(len(y)):
        level = censored[j] if cens[j] else y[j]
        p_low = float(np.sum(prior * stats.norm.cdf((level - pred[:, j]) / sd[:, j])))
        if p_low < _TAIL:
            implausible.append(j)
        elif not cens[j]:
            p_high = float(np.sum(prior * stats.norm.sf((level - pred[:, j]) / sd[:, j])))
            if p_high < _TAIL:
                too_high.append(j)
    z_cl_map = float(zc[i_map])
    suspected = bool(implausible) or z_cl_map >= 3.0
    # Forecast band from the posterior.
    days_grid = sim.times_h
    traces = sim.traces["saa_IU_per_mL"]
    order = np.argsort(post)[::-1]
    keep = order[: int(np.searchsorted(np.cumsum(post[order]), 0.999)) + 1]
    qs = {}
    for p in (5, 50, 95):
        qs[f"p{p}"] = [
            float(_weighted_quantile(traces[keep, k], post[keep], p / 100))
            for k in range(traces.shape[1])
        ]
    forecast = pd.DataFrame({"day": days_grid, **qs})
    p_at_target = float(np.sum(post * (trough_with >= target_trough)))
    with np.errstate(divide="ignore", invalid="ignore"):
        needed = np.where(contrib > 0, (target_trough - trough_without) / contrib, np.inf)
    factor = float(_weighted_quantile(needed, post, 0.9))
    max_factor = kb.value("tdm.max_dose_factor", "dimensionless")
    dose_now = nxt.amount
    if too_high:
        rec_dose = None
        shown = ", ".join(f"day {t_day[j]:g}: {y[j]:g} IU/mL" for j in too_high)
        msg = (
            f"level(s) far above what this regimen gives in the population ({shown}); check "
            "the unit (IU/mL, not IU/L), the sampling time and the dose given before advising"
        )
    elif suspected:
        rec_dose = None
        msg = (
            "levels are inconsistent with the population for this dose: suspected silent "
            "inactivation; confirm with a repeat level and switch formulation"
            + (
                " (to Erwinia asparaginase)"
                if name in ("peg", "native-ecoli", "ecoli-recombinant", "calaspargase")
                else ""
            )
        )
    elif not math.isfinite(factor) or factor > max_factor:
        rec_dose = None
        msg = (
            f"reaching a trough of {target_trough:g} IU/mL would need more than "
            f"{max_factor:g}x the dose; consider a shorter interval or another formulation"
        )
    elif factor < 1 / max_factor:
        rec_dose = None
        msg = (
            f"the trough is forecast far above {target_trough:g} IU/mL even at "
            f"1/{max_factor:g} of the dose; keep the dose and re-check the level rather than "
            "cutting it further"
        )
    else:
        rec_dose = float(dose_now * max(factor, 0.0))
        msg = (
            f"give {rec_dose:.4g} {f.dose_unit} at day {nxt.time_h / 24:g} for a 90 % "
            f"posterior probability of a trough ≥ {target_trough:g} IU/mL at day "
            f"{trough_h / 24:g}"
        )
    cl_t, v1_t, _, _ = f.scaled(np.array([bsa]), w[:1])
    return TDMResult(
        formulation=name,
        map_z_cl=z_cl_map,
        map_z_v=float(zv[i_map]),
        ci90_z_cl=ci(zc),
        ci90_z_v=ci(zv),
        clearance_L_per_h=float(cl_t[0] * math.exp(f.eta_cl(z_cl_map, zv[i_map]))),
        volume_L=float(v1_t[0] * math.exp(f.iiv_v * zv[i_map])),
        forecast=forecast,
        inactivation_suspected=suspected,
        implausible_levels=sorted(set(implausible) | set(too_high)),
        next_dose_day=nxt.time_h / 24,
        predicted_trough_p50=float(_weighted_quantile(trough_with, post, 0.5)),
        probability_trough_at_target=p_at_target,
        recommended_dose=rec_dose,
        dose_unit=f.dose_unit,
        recommendation=msg,
        target_trough=target_trough,
    )


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cdf = np.cumsum(w) / np.sum(w)
    return float(v[min(int(np.searchsorted(cdf, q)), len(v) - 1)])


def _samples(sim: Any) -> np.ndarray:
    if sim.samples is None:  # simulate() always fills them when sample times are given
        raise RuntimeError("simulation returned no samples")
    return np.asarray(sim.samples)
