"""Standard curves: fit, inverse prediction with uncertainty, range checks, LOD and LOQ.

A sample outside the calibrated range is reported as ``<LLOQ`` or ``>ULOQ`` and never
silently extrapolated. Inverse-prediction uncertainty follows the delta method: the
variance of a new mean response of ``m`` replicates plus the variance of the fitted curve
at x0, divided by the squared slope there (cf. ICH M10 / Eurachem calibration guidance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize

from .._errors import DataError, FitError
from .._repr import CompactRepr
from ..fitting import FitResult, fit_curve
from ..fitting._nls import weight_values

__all__ = ["CALIBRATION_MODELS", "Calibration", "InversePrediction", "calibrate"]

CALIBRATION_MODELS = ("linear", "linear-through-zero", "quadratic", "logistic4", "logistic5")
Status = Literal["ok", "<LLOQ", ">ULOQ"]


@dataclass(frozen=True)
class InversePrediction:
    """A concentration read off the curve; ``value`` is NaN-free: None when out of range."""

    response: float
    value: float | None
    se: float | None
    status: Status

    def to_dict(self) -> dict[str, Any]:
        return {
            "response": self.response,
            "value": self.value,
            "se": self.se,
            "status": self.status,
        }


@dataclass(frozen=True, repr=False)
class Calibration(CompactRepr):
    """A fitted standard curve and its calibrated range [lloq, uloq] (in x units)."""

    fit: FitResult
    weights: str
    lloq: float
    uloq: float

    @cached_property
    def increasing(self) -> bool:
        lo, hi = self.fit.predict([self.lloq, self.uloq])
        return bool(hi > lo)

    def slope(self, x0: float) -> float:
        h = 1e-6 * max(abs(x0), self.uloq * 1e-3)
        a, b = self.fit.predict([x0 - h, x0 + h])
        return float((b - a) / (2 * h))

    def _solve(self, response: float, lo: float, hi: float) -> float:
        def g(x: float) -> float:
            return float(self.fit.predict([x])[0] - response)

        try:
            return float(optimize.brentq(g, lo, hi, xtol=1e-14 * max(1.0, hi), rtol=1e-13))
        except RuntimeError:  # no convergence (extreme scales): not an answer
            raise FitError(
                f"response {response:g} could not be read off the standard curve (the root "
                "search did not converge); rescale the concentrations"
            ) from None

    def inverse(self, response: float, n_replicates: int = 1) -> InversePrediction:
        """Concentration for a (mean) response of ``n_replicates`` measurements."""
        if not math.isfinite(response):
            raise DataError(f"response {response!r} is not a finite number")
        if n_replicates < 1:
            raise DataError(f"n_replicates must be ≥ 1, got {n_replicates}")
        f_lo, f_hi = (float(v) for v in self.fit.predict([self.lloq, self.uloq]))
        below = response < f_lo if self.increasing else response > f_lo
        above = response > f_hi if self.increasing else response < f_hi
        if below:
            return InversePrediction(response, None, None, "<LLOQ")
        if above:
            return InversePrediction(response, None, None, ">ULOQ")
        x0 = self._solve(response, self.lloq, self.uloq)
        return InversePrediction(response, x0, self._inverse_se(x0, response, n_replicates), "ok")

    def inverse_in_span(self, response: float, n_replicates: int = 1) -> InversePrediction:
        """Like :meth:`inverse`, but a response between the zero standard and the LLOQ is
        read off the curve too (status stays ``<LLOQ``, so callers can tell).

        Only for curves fitted with a measured zero standard, where such a reading is an
        interpolation between standards, not an extrapolation; used for progress-curve
        points near time zero, whose exclusion would bias the initial rate.
        """
        pred = self.inverse(response, n_replicates)
        if pred.status != "<LLOQ" or not np.any(self.fit.x == 0):
            return pred
        f0 = float(self.fit.predict([0.0])[0])
        if (response < f0) if self.increasing else (response > f0):
            return pred
        x0 = self._solve(response, 0.0, self.lloq)
        return InversePrediction(
            response, x0, self._inverse_se(x0, response, n_replicates), "<LLOQ"
        )

    def _inverse_se(self, x0: float, y0: float, m: int) -> float:
        fit = self.fit
        # Under weights w the response variance at a point is residual_sd² / w there.
        w0 = float(weight_values(self.weights, np.array([x0]), np.array([y0]))[0])
        var_y = fit.residual_sd**2 / w0 / m
        var_curve = float(fit.prediction_se([x0])[0] ** 2)
        return math.sqrt(var_y + var_curve) / abs(self.slope(x0))

    def extrapolate(self, response: float) -> float:
        """Concentration for ``response`` without range check (for LOD estimation only)."""
        span = self.uloq - self.lloq
        logistic = self.fit.model.name.startswith("logistic")
        for widen in (1.0, 10.0, 100.0, 1000.0):
            lo = 1e-12 if logistic else min(0.0, self.lloq - widen * span)
            try:
                return self._solve(response, lo, self.uloq + widen * span)
            except ValueError:
                continue
        raise FitError(f"response {response:g} is not reached by the standard curve near its range")

    def back_calculated(self) -> pd.DataFrame:
        """Every standard read back off the curve, with its % bias from nominal."""
        rows = []
        for nominal, resp in zip(self.fit.x, self.fit.y, strict=True):
            try:
                x0: float | None = self.extrapolate(float(resp))
            except FitError:
                x0 = None
            bias = None if x0 is None or nominal == 0 else 100.0 * (x0 - nominal) / nominal
            rows.append(
                {"nominal": nominal, "response": resp, "back_calculated": x0, "bias_pct": bias}
            )
        return pd.DataFrame(rows)

    def lod(self, blank_responses: Any, k: float = 3.0) -> float:
        """Limit of detection: the concentration at blank mean + k·SD of the blanks.

        k = 3 is the IUPAC convention (Long GL, Winefordner JD, Anal Chem 1983;55:712A,
        doi:10.1021/ac00258a724); pass another k if your SOP says so.
        """
        blanks = np.asarray(blank_responses, float)
        if blanks.size < 2 or not np.all(np.isfinite(blanks)):
            raise DataError("LOD needs at least two finite blank responses")
        sign = 1.0 if self.increasing else -1.0
        level = float(blanks.mean() + sign * k * blanks.std(ddof=1))
        return max(self.extrapolate(level), 0.0)

    def loq(self, max_bias_pct: float = 20.0, max_cv_pct: float = 20.0) -> float | None:
        """Lowest level of the unbroken run of levels, ending at the top standard, whose
        back-calculated mean bias and CV are within the limits; None if the top fails."""
        bc = self.back_calculated()
        nominal_all = bc["nominal"].to_numpy(float)
        back_all = bc["back_calculated"].to_numpy(float)
        ok_levels: list[float] = []
        for nominal in sorted(set(nominal_all.tolist()), reverse=True):
            vals = back_all[nominal_all == nominal]
            if nominal <= 0 or not np.all(np.isfinite(vals)):
                break
            bias = abs(100.0 * (vals.mean() - nominal) / nominal)
            cv = 100.0 * vals.std(ddof=1) / vals.mean() if len(vals) > 1 else 0.0
            if bias > max_bias_pct or cv > max_cv_pct:
                break
            ok_levels.append(nominal)
        return min(ok_levels) if ok_levels else None


def calibrate(
    concentration: Any,
    response: Any,
    *,
    model: str = "linear",
    weights: str = "none",
    lloq: float | None = None,
    uloq: float | None = None,
) -> Calibration:
    """Fit a standard curve of ``response`` against nominal ``concentration``.

    The calibrated range defaults to the lowest and highest non-zero standard.

    Raises
    ------
    DataError
        Fewer than 3 distinct non-zero levels, an unknown model, or a range outside the
        standards.
    FitError
        The fitted curve is not monotone over the calibrated range.
    """
    if model not in CALIBRATION_MODELS:
        raise DataError(
            f"calibration model {model!r} is not one of {', '.join(CALIBRATION_MODELS)}"
        )
    if not isinstance(weights, str):
        raise DataError("calibration weights must be one of none, 1/x, 1/x2, 1/y, 1/y2")
    x = np.asarray(concentration, float)
    levels = np.unique(x[x > 0]) if np.all(np.isfinite(x)) else np.array([])
    if len(levels) < 3:
        raise DataError(
            f"a standard curve needs at least 3 distinct non-zero levels, got {len(levels)}"
        )
    names = {"x": "standard concentration", "y": "standard response"}
    fit = fit_curve(model, x, response, weights=weights, profile=False, names=names)
    lo = float(levels.min()) if lloq is None else float(lloq)
    hi = float(levels.max()) if uloq is None else float(uloq)
    if not (levels.min() <= lo < hi <= levels.max()):
        raise DataError(
            f"calibrated range [{lo:g}, {hi:g}] must lie within the standards "
            f"[{levels.min():g}, {levels.max():g}] with LLOQ < ULOQ"
        )
    grid = np.linspace(lo, hi, 401)
    d = np.diff(fit.predict(grid))
    if not (np.all(d > 0) or np.all(d < 0)):
        raise FitError(
            f"the {model} standard curve is not monotone between {lo:g} and {hi:g}; "
            "concentrations cannot be read off it (try another model or narrow the range)"
        )
    return Calibration(fit=fit, weights=weights, lloq=lo, uloq=hi)
