"""Therapeutic drug monitoring: a patient's levels → posterior, forecast, flags, dose advice.

The formulation's population model is used as one unit (``therapy._tdm_model``): its
between-patient effects on clearance and volume (with their correlation), its
between-occasion variability of clearance (one occasion per dose) and its own residual
error; levels below the assay's LLOQ are censored (M3). The posterior of the patient's
effects is found by MAP, approximated at the mode (Laplace) and sampled by importance
sampling; forecasts, credible intervals and the probability of reaching the target are
weighted over those samples, and the next occasion's clearance is drawn from its
between-occasion distribution (it is not yet observed).

Dose advice follows explicit rules (:class:`DosingRules`): a target trough range, a
posterior probability to reach its lower end, a rounding step, the smallest and largest
dose allowed (never below ``1/max_factor`` nor above ``max_factor`` times the current
dose). Advice is only for the first dose after the last level, and none is given when a
level contradicts the population model (too high: a unit or timing error; too low with a
low forecast: suspected silent inactivation). Every advice says it is for research use.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._errors import AsnfluxError, DataError, FitError
from .._repr import CompactRepr
from .._tables import file_row, finite_numbers, text_column
from ..knowledge import load_knowledge_base
from ..models._formulations import Formulation, formulation, weight_from_bsa
from ._cohort import _check_age_sex, episodes_h
from ._regimen import Dose, Regimen
from ._result import check_course_covariates
from ._tdm_model import (
    Covariates,
    Predictor,
    ResidualError,
    posterior,
    weighted_quantile,
    weighted_quantiles,
)

__all__ = ["RESEARCH_NOTICE", "DosingRules", "TDMResult", "tdm", "tdm_dataset"]

#: Printed with every dose advice (CLI, JSON, reports).
RESEARCH_NOTICE = "For research use; not a medical device."

_TAIL = 0.01  # prior-predictive tail probability that flags a level as implausible
_N_PRIOR = 2000  # prior-predictive draws for the plausibility of each level
_FORECAST_STEP_H = 6.0
# A serum activity above this is taken for a unit slip (IU/L entered as IU/mL): peak
# levels after the largest doses in use stay below ~15 IU/mL (native E. coli 25,000 IU/m²
# IV; Asselin 1993), so 50 is a safe ceiling, not a clinical threshold.
#: Highest activity accepted as a level or threshold (IU/mL).
MAX_LEVEL = 50.0
_MAX_LEVEL = MAX_LEVEL
_MAX_LEVELS = 500
_SWITCH_TO_ERWINIA = ("peg", "native-ecoli", "ecoli-recombinant", "calaspargase")


@dataclass(frozen=True)
class DosingRules:
    """How a dose is advised. ``None`` fields take the knowledge base's defaults."""

    target_low: float = 0.1  # IU/mL: the trough to reach
    target_high: float | None = None  # IU/mL: upper end of the target range (optional)
    probability: float | None = None  # posterior P(trough ≥ target_low); KB default 0.9
    min_dose: float | None = None  # smallest dose (dose unit); default current/max_factor
    step: float | None = None  # rounding step (dose unit); KB default per unit
    max_factor: float | None = None  # advised dose within current/F .. current·F

    def resolved(self, f: Formulation) -> DosingRules:
        kb = load_knowledge_base()
        step_key = "tdm.dose_step.mg" if f.dose_unit.startswith("mg") else "tdm.dose_step.iu"
        out = DosingRules(
            self.target_low,
            self.target_high,
            self.probability
            if self.probability is not None
            else kb.value("tdm.posterior_probability", "dimensionless"),
            self.min_dose,
            self.step if self.step is not None else kb.value(step_key, f.dose_unit),
            self.max_factor
            if self.max_factor is not None
            else kb.value("tdm.max_dose_factor", "dimensionless"),
        )
        out.check(f.dose_unit)
        return out

    def check(self, unit: str) -> None:
        def positive(name: str, value: float | None, what: str) -> None:
            if value is not None and not (math.isfinite(value) and value > 0):
                raise DataError(f"{name} must be a positive {what}, got {value:g}")

        positive("target trough", self.target_low, "activity (IU/mL)")
        positive("target high", self.target_high, "activity (IU/mL)")
        positive("minimum dose", self.min_dose, f"dose ({unit})")
        positive("dose step", self.step, f"dose ({unit})")
        if self.target_high is not None and self.target_high <= self.target_low:
            raise DataError(
                f"target high {self.target_high:g} IU/mL must be above the target trough "
                f"{self.target_low:g} IU/mL"
            )
        for name, value in (("target trough", self.target_low), ("target high", self.target_high)):
            if value is not None and value > _MAX_LEVEL:
                raise DataError(f"{name} {value:g} IU/mL is above any activity reached in patients")
        if self.probability is not None and not (0.5 <= self.probability < 1):
            raise DataError(f"probability must be in [0.5, 1), got {self.probability:g}")
        if self.max_factor is not None and not (
            math.isfinite(self.max_factor) and self.max_factor > 1
        ):
            raise DataError(f"max dose factor must be > 1, got {self.max_factor:g}")


@dataclass(repr=False)
class TDMResult(CompactRepr):
    formulation: str
    pk_model: str
    map_z_cl: float  # MAP of CL's own log deviation in SD units of ω_CL
    map_z_v: float
    ci90_z_cl: tuple[float, float]  # of the same
    ci90_z_v: tuple[float, float]
    clearance_L_per_h: float  # MAP, on a typical occasion
    volume_L: float
    occasion_cl_factors: list[float]  # MAP clearance factor of each dose's occasion
    residual_error: ResidualError
    effective_sample_size: float
    n_samples: int
    forecast: pd.DataFrame  # day, p5, p50, p95 (IU/mL) with the regimen's next dose
    inactivation_suspected: bool
    implausible_levels: list[int]
    next_dose_day: float
    next_dose: float  # the regimen's amount
    trough_day: float
    predicted_trough_p5: float
    predicted_trough_p50: float
    predicted_trough_p95: float
    probability_trough_at_target: float
    recommended_dose: float | None
    advised_trough_p50: float | None
    probability_in_range_advised: float | None
    dose_unit: str
    recommendation: str
    target_trough: float
    rules: DosingRules = field(default_factory=DosingRules)

    def to_dict(self) -> dict[str, Any]:
        return {
            "formulation": self.formulation,
            "pk_model": self.pk_model,
            "map": {
                "z_cl": self.map_z_cl,
                "z_v": self.map_z_v,
                "clearance_L_per_h": self.clearance_L_per_h,
                "volume_L": self.volume_L,
                "occasion_cl_factors": self.occasion_cl_factors,
            },
            "ci90": {"z_cl": list(self.ci90_z_cl), "z_v": list(self.ci90_z_v)},
            "residual_error": {
                "proportional": self.residual_error.proportional,
                "additive_IU_per_mL": self.residual_error.additive,
                "source": self.residual_error.source,
            },
            "posterior": {
                "method": "MAP, Laplace, importance sampling (Student-t proposal)",
                "samples": self.n_samples,
                "effective_sample_size": self.effective_sample_size,
            },
            "inactivation_suspected": self.inactivation_suspected,
            "implausible_levels": self.implausible_levels,
            "next_dose_day": self.next_dose_day,
            "next_dose": self.next_dose,
            "trough_day": self.trough_day,
            "predicted_trough_p5_IU_per_mL": self.predicted_trough_p5,
            "predicted_trough_p50_IU_per_mL": self.predicted_trough_p50,
            "predicted_trough_p95_IU_per_mL": self.predicted_trough_p95,
            "probability_trough_at_or_above_target": self.probability_trough_at_target,
            "target_trough_IU_per_mL": self.target_trough,
            "target_high_IU_per_mL": self.rules.target_high,
            "dosing_rules": asdict(self.rules),
            "recommended_dose": self.recommended_dose,
            "advised_trough_p50_IU_per_mL": self.advised_trough_p50,
            "probability_in_range_advised": self.probability_in_range_advised,
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
        if below.iloc[i] and not y[i] > 0:
            raise DataError(
                f"{where}: row {file_row(table, i)}: level {table[vcol].iloc[i]!r}: a level "
                "below the LLOQ is written '<LLOQ' with the LLOQ > 0 (e.g. '<0.02')"
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


def _next_dose(
    regimen: Regimen, t_day: np.ndarray, where: str, rows: Any
) -> tuple[list[Dose], Dose, float]:
    """The doses given up to the last level, the first dose after it and its trough time."""
    if any(d.if_allergy is not None for d in regimen.doses):
        raise DataError(
            "TDM needs the doses actually given: replace the regimen's conditional "
            "(if_allergy_to) doses by those the patient received"
        )
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
                f"{where}: row {rows(len(t_day) - 1)}: the last level (day {t_day[-1]:g}) "
                f"comes after the next dose inferred from the regimen (day {nxt.time_h / 24:g}, "
                f"every {gap / 24:g} d); give every dose up to the last level and the next one"
            )
    else:
        raise DataError(
            "the regimen must include the next dose (or two given doses, to infer the interval)"
        )
    names = sorted({d.formulation for d in (*given, nxt)})
    if len(names) > 1:
        raise DataError(
            f"TDM fits one formulation, but the doses up to the next one mix {', '.join(names)}; "
            "levels after a switch measure both enzymes: monitor from the first dose of the "
            "new formulation"
        )
    following = [d for d in regimen.doses if d.time_h > nxt.time_h]
    interval = (following[0].time_h - nxt.time_h) if following else (nxt.time_h - given[-1].time_h)
    return given, nxt, nxt.time_h + interval


def tdm(
    levels: pd.DataFrame,
    regimen: Regimen,
    *,
    bsa: float,
    weight: float | None = None,
    age: float | None = None,
    sex: str | None = None,
    phase: str | None = None,
    infection: bool = False,
    infection_days: Any = (),
    target_trough: float | None = None,
    rules: DosingRules | None = None,
    forecast_days: float | None = None,
    seed: int = 0,
) -> TDMResult:
    """Fit a patient's levels, forecast, flag and advise the first dose after the last level.

    ``phase`` and ``infection`` (the course's treatment phase and an infection throughout
    it), or infection episodes ``infection_days`` ((start, end) day pairs from the start of
    the regimen), are covariates of Kloos 2021's PEG model.
    ``rules`` sets the target range, probability, rounding step and dose limits;
    ``target_trough`` is its ``target_low`` (default 0.1 IU/mL), given in either place.
    For research use; not a medical device.
    """
    rules = rules or DosingRules()
    if target_trough is not None:
        if rules.target_low != DosingRules.target_low and rules.target_low != target_trough:
            raise DataError(
                f"target trough {target_trough:g} IU/mL and the rules' target_low "
                f"{rules.target_low:g} IU/mL differ; give one"
            )
        rules = DosingRules(**{**asdict(rules), "target_low": target_trough})
    if not bsa > 0:
        raise DataError(f"BSA must be positive, got {bsa:g} m**2")
    if weight is not None and not (math.isfinite(weight) and weight > 0):
        raise DataError(f"body weight must be a positive number of kg, got {weight:g}")
    _check_age_sex(age, sex)
    if load_knowledge_base().value("tdm.occasion", "dimensionless") != 1:
        raise DataError("KB tdm.occasion: only one dose per occasion is implemented")
    t_day, y, censored = _levels(levels)
    where = str(levels.attrs.get("path", "levels"))
    first_h = regimen.doses[0].time_h
    early = np.nonzero(t_day * 24 < first_h - 1e-9)[0]
    if len(early):
        i = int(early[0])
        raise DataError(
            f"{where}: row {file_row(levels, i)}: level at day {t_day[i]:g} precedes the first "
            f"dose (day {first_h / 24:g}); remove it or add the earlier dose to the regimen"
        )
    given, nxt, trough_h = _next_dose(regimen, t_day, where, lambda i: file_row(levels, i))
    f = formulation(nxt.formulation)
    episodes = episodes_h(infection_days, bool(infection))
    check_course_covariates(regimen, phase, infection, bool(episodes))
    who = Covariates(
        float(bsa),
        float(weight_from_bsa(np.array([bsa]))[0]) if weight is None else float(weight),
        age,
        None if sex is None else sex == "f",
        phase,
        bool(infection),
        episodes,
    )
    return _fit_and_advise(
        f, who, given, nxt, trough_h, t_day, y, censored, rules.resolved(f), forecast_days, seed
    )


def _fit_and_advise(
    f: Formulation,
    who: Covariates,
    given: list[Dose],
    nxt: Dose,
    trough_h: float,
    t_day: np.ndarray,
    y: np.ndarray,
    censored: np.ndarray,
    rules: DosingRules,
    forecast_days: float | None,
    seed: int,
) -> TDMResult:
    rng = np.random.default_rng(seed)
    ruv = ResidualError.of(f)
    occasions = len(given) if f.iov_cl > 0 else 0
    level_h = t_day * 24.0
    fit_model = Predictor(f, who, given, level_h)
    implausible, too_high = _plausibility(fit_model, y, censored, ruv, len(given), rng)
    try:
        post = posterior(fit_model, y, censored, ruv, occasions, rng)
    except FitError as exc:
        odd = sorted(set(implausible) | set(too_high))
        if not odd:
            raise
        shown = ", ".join(f"day {t_day[j]:g}" for j in odd)
        raise FitError(
            f"{exc}; the level(s) of {shown} lie far outside what this regimen gives in the "
            "population: check their units, sampling times and the doses given"
        ) from None
    # A level far below the population that the fitted patient does not explain either is
    # a silent inactivation: refit with the inactivated clearance from the dose before it,
    # so that the forecast is the one the flag states.
    mode = post.mode[None, :]
    kappa_map = np.zeros((1, len(given)))
    kappa_map[:, :occasions] = mode[:, 2:]
    fitted = fit_model(mode[:, 0], mode[:, 1], kappa_map)[0]
    cens = np.isfinite(censored)
    level = np.where(cens, np.nan_to_num(censored), y)
    p_fit = stats.norm.cdf((level - fitted) / ruv.sd(fitted))
    # A level far above the population (a unit or timing slip) can pull the fit so far that
    # normal levels look unexplained: no inactivation call while one is there.
    unexplained = [] if too_high else [j for j in implausible if p_fit[j] < _TAIL]
    silent_from = math.inf
    if unexplained:
        at = level_h[unexplained[0]]
        silent_from = max((d.time_h for d in given if d.time_h < at), default=given[0].time_h)
        fit_model = Predictor(f, who, given, level_h, silent_from)
        post = posterior(fit_model, y, censored, ruv, occasions, rng)
    suspected = bool(unexplained)
    s = len(post.weights)
    w = post.weights
    # Forecast: the regimen's next dose, and the same course without it (linear PK: the
    # trough of any next dose D is without + D/D0 · (with − without)).
    horizon_h = max((forecast_days or 0.0) * 24.0, trough_h)
    grid = np.arange(0.0, horizon_h + 1e-9, _FORECAST_STEP_H)
    times = np.append(grid, trough_h)
    doses = [*given, nxt]
    model = Predictor(f, who, doses, times, silent_from)
    kappa = np.zeros((s, len(doses)))
    if f.iov_cl > 0:
        kappa[:, :occasions] = post.samples[:, 2:]
        kappa[:, occasions:] = rng.standard_normal((s, len(doses) - occasions))
    z_cl, z_v = post.samples[:, 0], post.samples[:, 1]
    scale = np.ones((2 * s, len(doses)))
    scale[s:, -1] = 0.0
    both = model(np.tile(z_cl, 2), np.tile(z_v, 2), np.tile(kappa, (2, 1)), scale)
    with_next, without = both[:s], both[s:, -1]
    trough = with_next[:, -1]
    contrib = trough - without
    forecast = pd.DataFrame(
        {
            "day": grid / 24.0,
            **{f"p{p}": weighted_quantiles(with_next[:, :-1], w, p / 100) for p in (5, 50, 95)},
        }
    )
    p_target = float(np.sum(w * (trough >= rules.target_low)))
    median_trough = weighted_quantile(trough, w, 0.5)
    z_cl_map, z_v_map = float(post.mode[0]), float(post.mode[1])
    # The reported CL effect is CL's own log deviation in SD units of ω_CL (with CL and V
    # sharing one effect, as in Kloos 2021, it is z_V's; z_CL itself would be inert).
    omega = f.iiv_cl if f.iiv_cl > 0 else 1.0
    cl_effect = np.asarray(f.eta_cl(post.samples[:, 0], post.samples[:, 1])) / omega
    cl_effect_map = float(f.eta_cl(z_cl_map, z_v_map)) / omega
    rec_dose, msg, advised_p50, p_range = _advise(f, nxt, trough_h, without, contrib, w, rules)
    if too_high:
        shown = ", ".join(f"day {t_day[j]:g}: {y[j]:g} IU/mL" for j in too_high)
        rec_dose, advised_p50, p_range = None, None, None
        msg = (
            f"level(s) far above what this regimen gives in the population ({shown}); check "
            "the unit (IU/mL, not IU/L), the sampling time and the dose given before advising"
        )
    elif suspected:
        rec_dose, advised_p50, p_range = None, None, None
        shown = ", ".join(f"day {t_day[j]:g}" for j in unexplained)
        msg = (
            f"level(s) far below what this patient's fit and the population give ({shown}): "
            f"suspected silent inactivation from the dose of day {silent_from / 24:g}, "
            f"trough forecast {median_trough:.3g} IU/mL with inactivated clearance; confirm "
            "with a repeat level and switch formulation"
            + (" (to Erwinia asparaginase)" if f.base in _SWITCH_TO_ERWINIA else "")
        )
    cl_map, v_map = fit_model.typical_cl_v(z_cl_map, z_v_map)
    return TDMResult(
        formulation=f.name,
        pk_model=f.pk_model,
        map_z_cl=cl_effect_map,
        map_z_v=z_v_map,
        ci90_z_cl=(
            weighted_quantile(cl_effect, w, 0.05),
            weighted_quantile(cl_effect, w, 0.95),
        ),
        ci90_z_v=(weighted_quantile(z_v, w, 0.05), weighted_quantile(z_v, w, 0.95)),
        clearance_L_per_h=cl_map,
        volume_L=v_map,
        occasion_cl_factors=[float(math.exp(f.iov_cl * k)) for k in post.mode[2:]],
        residual_error=ruv,
        effective_sample_size=post.ess,
        n_samples=s,
        forecast=forecast,
        inactivation_suspected=suspected,
        implausible_levels=sorted(set(implausible) | set(too_high)),
        next_dose_day=nxt.time_h / 24,
        next_dose=nxt.amount,
        trough_day=trough_h / 24,
        predicted_trough_p5=weighted_quantile(trough, w, 0.05),
        predicted_trough_p50=median_trough,
        predicted_trough_p95=weighted_quantile(trough, w, 0.95),
        probability_trough_at_target=p_target,
        recommended_dose=rec_dose,
        advised_trough_p50=advised_p50,
        probability_in_range_advised=p_range,
        dose_unit=f.dose_unit,
        recommendation=msg,
        target_trough=rules.target_low,
        rules=rules,
    )


def _plausibility(
    model: Predictor,
    y: np.ndarray,
    censored: np.ndarray,
    ruv: ResidualError,
    n_doses: int,
    rng: np.random.Generator,
) -> tuple[list[int], list[int]]:
    """Levels improbably low / high under the prior predictive (population, these doses)."""
    prior = rng.standard_normal((_N_PRIOR, 2 + n_doses))
    pred = model(prior[:, 0], prior[:, 1], prior[:, 2:])
    sd = ruv.sd(pred)
    cens = np.isfinite(censored)
    low: list[int] = []
    high: list[int] = []
    for j in range(len(y)):
        level = censored[j] if cens[j] else y[j]
        if float(np.mean(stats.norm.cdf((level - pred[:, j]) / sd[:, j]))) < _TAIL:
            low.append(j)
        elif not cens[j] and float(np.mean(stats.norm.sf((y[j] - pred[:, j]) / sd[:, j]))) < _TAIL:
            high.append(j)
    return low, high


def _advise(
    f: Formulation,
    nxt: Dose,
    trough_h: float,
    without: np.ndarray,
    contrib: np.ndarray,
    w: np.ndarray,
    rules: DosingRules,
) -> tuple[float | None, str, float | None, float | None]:
    """The smallest dose on the rules' grid reaching the target with the rules' probability."""
    assert rules.step is not None
    assert rules.max_factor is not None
    assert rules.probability is not None
    d0, step, factor = nxt.amount, rules.step, rules.max_factor
    lo = max(rules.min_dose or 0.0, d0 / factor)
    hi = d0 * factor
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    if last < first:
        raise DataError(
            f"dose step {step:g} {f.dose_unit} leaves no dose between {lo:.4g} and {hi:.4g} "
            f"{f.dose_unit} (the rules' limits around the current {d0:g})"
        )
    grid = step * np.arange(first, last + 1)
    troughs = without[:, None] + (grid / d0)[None, :] * contrib[:, None]
    reach = (w[:, None] * (troughs >= rules.target_low)).sum(axis=0)
    ok = np.nonzero(reach >= rules.probability)[0]
    unit, day, tday = f.dose_unit, nxt.time_h / 24, trough_h / 24
    target = rules.target_low
    if len(ok) == 0:
        return (
            None,
            f"reaching a trough of {target:g} IU/mL with probability {rules.probability:g} "
            f"would need more than {factor:g}x the dose (at {hi:.4g} {unit} the probability is "
            f"{reach[-1]:.2f}); consider a shorter interval or another formulation",
            None,
            None,
        )
    k = int(ok[0])
    dose = float(grid[k])
    median = weighted_quantile(troughs[:, k], w, 0.5)
    p_range = None
    text = (
        f"give {dose:.4g} {unit} at day {day:g} for a {rules.probability:.0%} posterior "
        f"probability of a trough ≥ {target:g} IU/mL at day {tday:g} (forecast median "
        f"{median:.3g} IU/mL)"
    )
    if k == 0:
        text += f"; the lowest dose the rules allow ({lo:.4g} {unit})"
    if rules.target_high is not None:
        inside = (troughs[:, k] >= target) & (troughs[:, k] <= rules.target_high)
        p_range = float(np.sum(w * inside))
        text += f"; P(trough in {target:g}-{rules.target_high:g} IU/mL) {p_range:.2f}"
        if k == 0 and median > rules.target_high:
            text += ", and the trough is still forecast above the range: re-check the level"
    return dose, text, median, p_range


def tdm_dataset(
    table: pd.DataFrame,
    formulation_name: str,
    *,
    route: str | None = None,
    dv_unit: str = "IU/mL",
    bsa: float | None = None,
    **options: Any,
) -> dict[str, TDMResult | str]:
    """TDM of every patient in a NONMEM-style dataset (``read_nonmem``): per ID a
    :class:`TDMResult`, or the one-line reason that patient could not be fitted. Per-patient
    BSA/WT/AGE/SEX columns override ``bsa`` and the options."""
    from ._nonmem import read_nonmem

    errors: dict[str, str] = {}
    patients = read_nonmem(table, formulation_name, route, dv_unit, errors)
    out: dict[str, TDMResult | str] = {}
    for pid in [*patients, *errors]:  # those read, then those that could not be
        if pid in errors:
            out[pid] = errors[pid]
            continue
        regimen, levels = patients[pid]
        cov = dict(levels.attrs.get("covariates", {}))
        who_bsa = cov.pop("bsa", bsa)
        if who_bsa is None:
            out[pid] = f"ID {pid}: no BSA (give a BSA column or --bsa)"
            continue
        try:
            out[pid] = tdm(levels, regimen, bsa=who_bsa, **{**options, **cov})
        except AsnfluxError as exc:
            out[pid] = f"ID {pid}: {exc}"
    return out
