"""Weighted nonlinear least squares with honest uncertainty.

Method: trust-region reflective (``scipy.optimize.least_squares``, ``method="trf"``) with
the model's analytic Jacobian, tolerances at 1e-15, and several starting points derived
from the data; the best converged solution wins. Standard errors come from the SVD of the
weighted Jacobian at the optimum, scaled by RSS/dof (never from inverting JᵀJ, which
squares the condition number). Wald intervals use Student's t; profile-likelihood
intervals refit the other parameters along each one until RSS reaches
RSS_min·(1 + F(0.95; 1, dof)/dof) (Bates & Watts 1988, §6.1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats

from .._errors import AsnfluxError, DataError, FitError
from .._repr import CompactRepr
from ._models import CurveModel, get_model

__all__ = ["WEIGHTS", "FitResult", "ParameterEstimate", "fit_curve", "weight_values"]

Array = NDArray[np.float64]
WEIGHTS = ("none", "1/x", "1/x2", "1/y", "1/y2", "1/yfit", "1/yfit2")
# "1/yfit2" is GraphPad Prism's relative weighting: 1/Ŷ² with Ŷ the fitted curve, not the
# noisy observation (weighting by observed y biases Vmax low: about −4 % at 15 % CV).
_CURVE_WEIGHTS = {"1/yfit": 1, "1/yfit2": 2}
_TOL = 1e-15
# A Jacobian whose singular values span more than this is rank-deficient: the data
# cannot tell some parameter combination apart.
_MAX_CONDITION = 1e12


@dataclass(frozen=True)
class ParameterEstimate:
    """One fitted parameter: value, standard error and two 95 % intervals."""

    name: str
    value: float
    stderr: float
    ci95: tuple[float, float]
    ci95_profile: tuple[float | None, float | None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "stderr": self.stderr,
            "ci95": list(self.ci95),
            "ci95_profile": list(self.ci95_profile),
        }


@dataclass(frozen=True, repr=False)
class FitResult(CompactRepr):
    """Everything a lab needs to judge a fit. ``residuals`` are raw (y − ŷ)."""

    model: CurveModel
    parameters: dict[str, ParameterEstimate]
    covariance: Array
    correlation: Array
    rss: float
    dof: int
    residual_sd: float
    r2: float
    aic: float
    n: int
    converged: bool
    residuals: Array
    weights: Array
    x: Array
    x2: Array | None
    y: Array
    message: str = field(default="")

    @property
    def values(self) -> Array:
        return np.array([p.value for p in self.parameters.values()])

    def __getitem__(self, name: str) -> ParameterEstimate:
        return self.parameters[name]

    def __repr__(self) -> str:
        est = ", ".join(f"{k}={e.value:.4g}±{e.stderr:.2g}" for k, e in self.parameters.items())
        return (
            f"FitResult({self.model.name}: {est}; n={self.n}, R²={self.r2:.4f}, "
            f"converged={self.converged})"
        )

    def predict(self, x: Any, x2: Any = None) -> Array:
        return self.model(
            np.asarray(x, float), self.values, None if x2 is None else np.asarray(x2, float)
        )

    def prediction_se(self, x: Any, x2: Any = None) -> Array:
        """Standard error of the fitted curve at ``x`` (delta method)."""
        xa = np.atleast_1d(np.asarray(x, float))
        x2a = None if x2 is None else np.atleast_1d(np.asarray(x2, float))
        j = self.model.jac(xa, np.zeros_like(xa) if x2a is None else x2a, self.values)
        return np.sqrt(np.einsum("ij,jk,ik->i", j, self.covariance, j))

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.name,
            "equation": self.model.equation,
            "parameters": {k: v.to_dict() for k, v in self.parameters.items()},
            "rss": self.rss,
            "dof": self.dof,
            "residual_sd": self.residual_sd,
            "r2": self.r2,
            "aic": self.aic,
            "n": self.n,
            "converged": self.converged,
        }


# Magnitudes a fit accepts: far beyond any unit choice of real data (pg/mL to mol/L is 12
# decades), and far inside float range, so squares and weights 1/x² cannot overflow.
_SCALE_EXP = 100
_MAX_SCALE = 10.0**_SCALE_EXP


def _rows(mask: Any, lines: Sequence[int] | None = None) -> str:
    """Row numbers where ``mask`` is true (the first ten), for error messages.

    ``lines`` gives each point's row in its file (as an editor numbers lines); without it
    the points are numbered from 1.
    """
    idx = np.nonzero(mask)[0][:10]
    if lines is not None and len(lines) == len(np.asarray(mask)):
        return ", ".join(str(int(lines[i])) for i in idx)
    return ", ".join(str(i + 1) for i in idx)


def _as_column(values: Any, name: str, lines: Sequence[int] | None = None) -> Array:
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise DataError(f"column {name!r}: expected numbers") from None
    if not np.all(np.isfinite(arr)):
        raise DataError(
            f"column {name!r}: rows {_rows(~np.isfinite(arr), lines)} are missing or not finite; "
            "remove them or fill them in (AsnFlux never drops data silently)"
        )
    return arr


def weight_values(
    scheme: str | Sequence[float] | Array,
    x: Array,
    y: Array,
    label: dict[str, Any] | None = None,
) -> Array:
    """Weights for a named scheme (or 1/sd² for a column of SDs), checked.

    ``label`` names the columns in messages (keys ``x``, ``y``, ``sd``; ``rows``, the
    points' file rows).
    """
    label = {"x": "x", "y": "y", "sd": "sd"} | dict(label or {})
    lines = label.get("rows")
    if not isinstance(scheme, str):
        sd = _as_column(scheme, label["sd"], lines)
        if len(sd) != len(y):
            raise DataError(f"weights: {len(sd)} standard deviations for {len(y)} points")
        if np.any(sd <= 0):
            raise DataError(
                f"column {label['sd']!r}: rows {_rows(sd <= 0, lines)} are ≤ 0; a standard "
                "deviation must be positive"
            )
        return 1.0 / sd**2
    if scheme not in WEIGHTS:
        raise DataError(f"unknown weighting {scheme!r}; choose one of {', '.join(WEIGHTS)}")
    scheme = {"1/yfit": "1/y", "1/yfit2": "1/y2"}.get(scheme, scheme)  # y given = Ŷ here
    if scheme == "none":
        return np.ones_like(y)
    col = label["x"] if "x" in scheme else label["y"]
    base = x if "x" in scheme else y
    power = 2 if scheme.endswith("2") else 1
    if np.any(base == 0):
        raise DataError(
            f"weighting {scheme}: column {col!r} is 0 in rows {_rows(base == 0, lines)}; "
            "use another weighting or remove them"
        )
    return 1.0 / np.abs(base) ** power


def fit_curve(
    model: str | CurveModel,
    x: Any,
    y: Any,
    *,
    x2: Any = None,
    weights: str | Sequence[float] | Array = "none",
    p0: Sequence[float] | None = None,
    profile: bool = True,
    names: dict[str, str] | None = None,
    rows: Sequence[int] | None = None,
    source: str | None = None,
) -> FitResult:
    """Fit ``model`` to (x[, x2], y) by weighted nonlinear least squares.

    Parameters
    ----------
    model
        A name from :data:`asnflux.fitting.MODELS` or a :class:`CurveModel`.
    x, y
        Independent and dependent values, in whatever consistent units the caller uses;
        fitted parameters carry those units (Km in the units of x, Vmax in those of y).
    x2
        Second independent variable (inhibitor or co-substrate) for models that need it.
    weights
        ``"none"``, ``"1/x"``, ``"1/x2"``, ``"1/y"``, ``"1/y2"``, or one standard deviation
        per point (weights 1/sd²).
    p0
        Optional extra starting point; data-derived starts are always tried too.
    profile
        Compute profile-likelihood intervals (costs one refit per step).
    names
        What to call ``x``, ``x2``, ``y`` and ``sd`` in messages (e.g. the file's column
        names); default the argument names.
    rows, source
        Each point's row in its file and the file's name, so that messages point there
        (default: points numbered from 1, no file named).

    Raises
    ------
    DataError
        Non-finite values (rows named), negative x for a concentration model, bad weights.
    FitError
        Too few points, all x equal, no convergence, or a model the data cannot identify.
    """
    label: dict[str, Any] = {"x": "x", "x2": "x2", "y": "y", "sd": "sd"} | dict(names or {})
    label["rows"] = rows
    try:
        # Overflow or 0/0 inside a trial step is judged by the result (finite or FitError),
        # not surfaced as a warning.
        with np.errstate(all="ignore"):
            result = _fit_curve(model, x, y, x2, weights, p0, profile, label)
    except AsnfluxError as exc:
        if source is None:
            raise
        raise type(exc)(f"{source}: {exc}") from None
    except (ValueError, ArithmeticError, RuntimeError, np.linalg.LinAlgError) as exc:
        raise FitError(
            f"the fit failed numerically ({exc}); rescale the data (e.g. other units) or "
            "check for extreme values"
        ) from None
    bad = [k for k, e in result.parameters.items() if not math.isfinite(e.value)]
    if bad or not math.isfinite(result.rss):
        raise FitError(
            f"the fit gave non-finite {', '.join(bad) or 'residuals'}; rescale the data or "
            "check for extreme values"
        )
    return result


def _fit_curve(
    model: str | CurveModel,
    x: Any,
    y: Any,
    x2: Any,
    weights: str | Sequence[float] | Array,
    p0: Sequence[float] | None,
    profile: bool,
    label: dict[str, Any],
) -> FitResult:
    if isinstance(weights, str) and weights in _CURVE_WEIGHTS:
        return _curve_weighted(model, x, y, x2, weights, p0, profile, label)
    m = get_model(model) if isinstance(model, str) else model
    lines = label.get("rows")
    xa = _as_column(x, label["x"], lines)
    ya = _as_column(y, label["y"], lines)
    if len(xa) != len(ya):
        raise DataError(f"{label['x']} has {len(xa)} values but {label['y']} has {len(ya)}")
    x2a: Array | None = None
    if m.needs_x2:
        if x2 is None:
            raise DataError(f"model {m.name!r} needs a second variable x2 ({m.equation})")
        x2a = _as_column(x2, label["x2"], lines)
        if len(x2a) != len(xa):
            raise DataError(f"{label['x2']} has {len(x2a)} values but {label['x']} has {len(xa)}")
        if np.any(x2a < 0):
            raise DataError(
                f"column {label['x2']!r}: negative concentrations in rows {_rows(x2a < 0, lines)}"
            )
    if m.nonnegative_x and np.any(xa < 0):
        raise DataError(
            f"column {label['x']!r}: negative concentrations in rows {_rows(xa < 0, lines)}"
        )
    k = len(m.params)
    n = len(xa)
    if n <= k:
        raise FitError(
            f"{m.name} has {k} parameters but only {n} points; at least {k + 1} are needed "
            "to estimate them and their uncertainty"
        )
    if np.ptp(xa) == 0 and (x2a is None or np.ptp(x2a) == 0):
        raise FitError(f"all {label['x']} values are equal ({xa[0]:g}); a curve cannot be fitted")
    for name, values in ((label["x"], xa), (label["y"], ya)):
        mags = np.abs(values[values != 0])
        if len(mags) and (mags.max() > _MAX_SCALE or mags.min() < 1 / _MAX_SCALE):
            raise FitError(
                f"column {name!r} holds values beyond 1e±{_SCALE_EXP} ({mags.min():.3g} to "
                f"{mags.max():.3g}); express them in other units (e.g. µM instead of M)"
            )
    w = weight_values(weights, xa, ya, label)
    if not (np.all(np.isfinite(w)) and np.all(w > 0)):
        raise FitError(
            f"weights {weights if isinstance(weights, str) else 'sd'} overflow for "
            "these values; rescale the data or use another weighting"
        )
    sw = np.sqrt(w)
    x2f = np.zeros_like(xa) if x2a is None else x2a

    def resid(p: Array) -> Array:
        return sw * (ya - m.f(xa, x2f, p))

    def jac(p: Array) -> Array:
        return -sw[:, None] * m.jac(xa, x2f, p)

    if m.linear:
        design = sw[:, None] * m.jac(xa, x2f, np.zeros(k))
        cols = np.sqrt(np.sum(design**2, axis=0))
        cols[cols == 0] = 1.0
        solved = np.linalg.lstsq(design / cols, sw * ya, rcond=None)[0]
        p_best = np.asarray(solved / cols, dtype=float)
        converged, message = True, "linear least squares (exact)"
    else:
        # The solver sees residuals scaled to order 1, so its tolerances (and the gradient
        # test) mean the same in any units of y; parameters are scaled by x_scale="jac".
        y_scale = float(np.max(np.abs(sw * ya))) or 1.0

        def resid_s(p: Array) -> Array:
            return resid(p) / y_scale

        def jac_s(p: Array) -> Array:
            return jac(p) / y_scale

        p_best, converged, message = _multistart(m, resid_s, jac_s, xa, x2f, ya, p0)
    return _summarise(m, p_best, resid, jac, xa, x2a, ya, w, converged, message, profile)


def _curve_weighted(
    model: str | CurveModel,
    x: Any,
    y: Any,
    x2: Any,
    scheme: str,
    p0: Sequence[float] | None,
    profile: bool,
    label: dict[str, Any],
) -> FitResult:
    """Weights 1/Ŷ (or 1/Ŷ²) from the fitted curve, iterated to a fixed point."""
    power = _CURVE_WEIGHTS[scheme]
    m = get_model(model) if isinstance(model, str) else model
    fit = _fit_curve(m, x, y, x2, "none", p0, False, label)

    def from_previous(values: Array) -> CurveModel:
        # Refits start from the previous estimate only: the weights change little.
        return replace(m, starts=lambda *_: [np.array(values, float)])

    for _ in range(50):
        yhat = fit.predict(fit.x, fit.x2)
        if np.any(yhat == 0) or not np.all(np.isfinite(yhat)):
            raise FitError(f"weighting {scheme}: the fitted curve is 0 at some x")
        sd = np.abs(yhat) ** (power / 2)
        new = _fit_curve(from_previous(fit.values), x, y, x2, sd, None, False, label)
        change = np.max(np.abs(new.values - fit.values) / np.maximum(np.abs(fit.values), 1e-300))
        fit = new
        if change < 1e-10:
            break
    else:
        raise FitError(f"weighting {scheme}: the weights did not settle in 50 refits")
    final = _fit_curve(m, x, y, x2, sd, list(fit.values), profile, label)
    return replace(final, message=f"{final.message}; weights {scheme} (fitted curve)")


def _multistart(
    m: CurveModel, resid: Any, jac: Any, x: Array, x2: Array, y: Array, p0: Sequence[float] | None
) -> tuple[Array, bool, str]:
    lower, upper = np.array(m.lower), np.array(m.upper)
    starts = m.starts(x, x2, y)
    if p0 is not None:
        if len(p0) != len(m.params):
            raise DataError(f"p0 has {len(p0)} values; {m.name} has parameters {m.params}")
        starts.insert(0, np.asarray(p0, float))
    failures: list[str] = []

    def solve(s: Array, tol: float, nfev: int) -> Any:
        with np.errstate(all="ignore"):
            try:
                sol = optimize.least_squares(
                    resid,
                    s,
                    jac=jac,
                    bounds=(lower, upper),
                    method="trf",
                    x_scale="jac",
                    ftol=tol,
                    xtol=tol,
                    gtol=tol,
                    max_nfev=nfev,
                )
            except (ValueError, np.linalg.LinAlgError) as exc:
                failures.append(str(exc))
                return None
        if not np.all(np.isfinite(sol.fun)):
            failures.append(sol.message)
            return None
        return sol

    # Explore every start cheaply, then polish the three best to full precision: a start on
    # a flat valley no longer costs thousands of evaluations (logistic5 on hyperbolic data
    # took 40 s), and the answer is the same polished optimum.
    explored = []
    for s in starts:
        s = np.clip(s, np.where(lower > -np.inf, lower + 1e-12, lower), upper)
        if not np.all(np.isfinite(s)):
            continue
        sol = solve(s, 1e-9, 100 * len(s))
        if sol is not None:
            explored.append(sol)
    explored.sort(key=lambda sol: sol.cost)
    best: Any = None
    for candidate in explored[:3]:
        sol = solve(candidate.x, _TOL, 2000 * len(candidate.x))
        if sol is None or sol.status <= 0:
            if sol is not None:
                failures.append(sol.message)
            continue
        if best is None or sol.cost < best.cost * (1 - 1e-13):
            best = sol
    if best is None:
        why = failures[0] if failures else "no usable starting point"
        raise FitError(
            f"{m.name}: the fit did not converge from any of {len(starts)} starting points "
            f"({why}); check that the data follow {m.equation}"
        )
    return best.x, True, str(best.message)


def _summarise(
    m: CurveModel,
    p: Array,
    resid: Any,
    jac: Any,
    x: Array,
    x2: Array | None,
    y: Array,
    w: Array,
    converged: bool,
    message: str,
    profile: bool,
) -> FitResult:
    n, k = len(y), len(p)
    dof = n - k
    r = resid(p)
    rss = float(r @ r)
    s2 = rss / dof
    j = jac(p)
    # Column scaling makes the identifiability test and the covariance independent of the
    # units of the data and parameters: a parameter in pg/mL and one in mg/mL give the same
    # scaled Jacobian. (Raw condition numbers refused NIST Pontius at 1.4e13; scaled: 18.)
    scale = np.sqrt(np.sum(j**2, axis=0))
    if np.any(scale == 0) or not np.all(np.isfinite(scale)):
        zero = [m.params[i] for i in np.nonzero(~(scale > 0))[0]]
        raise FitError(
            f"{m.name}: the data do not depend on {', '.join(zero)} at the fitted values; "
            "parameter not determined - extend the range of x or use a simpler model"
        )
    _, sv, vt = np.linalg.svd(j / scale, full_matrices=False)
    if sv[-1] <= sv[0] / _MAX_CONDITION or sv[-1] == 0:
        weak = m.params[int(np.argmax(np.abs(vt[-1])))]
        raise FitError(
            f"{m.name}: the data cannot identify the model (column-scaled Jacobian condition "
            f"number {sv[0] / max(sv[-1], 1e-300):.3g}); parameter {weak!r} is not determined "
            "- extend the range of x or use a simpler model"
        )
    unscaled = ((vt.T / sv**2) @ vt) / np.outer(scale, scale)
    cov = unscaled * s2
    se = np.sqrt(np.diag(cov))
    # Correlations do not depend on the residual variance (which is 0 for exact data).
    d = np.sqrt(np.diag(unscaled))
    corr = unscaled / np.outer(d, d)
    t = float(stats.t.ppf(0.975, dof))
    raw = y - m.f(x, np.zeros_like(x) if x2 is None else x2, p)
    ybar = float(np.sum(w * y) / np.sum(w))
    tss = float(np.sum(w * (y - ybar) ** 2))
    r2 = 1.0 - rss / tss if tss > 0 else float("nan")
    aic = n * math.log(rss / n) + 2 * k if rss > 0 else -math.inf
    prof: list[tuple[float | None, float | None]] = [(None, None)] * k
    if profile:
        prof = _profiles(m, p, se, rss, dof, resid, jac)
    params = {
        name: ParameterEstimate(
            name,
            float(p[i]),
            float(se[i]),
            (float(p[i] - t * se[i]), float(p[i] + t * se[i])),
            prof[i],
        )
        for i, name in enumerate(m.params)
    }
    _check_identifiable(m, params, x)
    return FitResult(
        model=m,
        parameters=params,
        covariance=cov,
        correlation=corr,
        rss=rss,
        dof=dof,
        residual_sd=math.sqrt(s2),
        r2=r2,
        aic=aic,
        n=n,
        converged=converged,
        residuals=raw,
        weights=w,
        x=x,
        x2=x2,
        y=y,
        message=message,
    )


def _check_identifiable(m: CurveModel, params: dict[str, ParameterEstimate], x: Array) -> None:
    """Model-specific checks that the data reach the regime that defines a parameter."""
    if m.name == "substrate-inhibition":
        ki = params["Ki"].value
        peak = math.sqrt(params["Km"].value * ki)
        if peak >= float(np.max(x)):
            raise FitError(
                f"substrate-inhibition: the data never pass the rate maximum (fitted at "
                f"x = {peak:.3g}, highest x = {np.max(x):.3g}), so Ki ({ki:.3g}) is not "
                "identified; measure at substrate concentrations above the optimum or fit "
                "michaelis-menten"
            )


def _profiles(
    m: CurveModel, p: Array, se: Array, rss: float, dof: int, resid: Any, jac: Any
) -> list[tuple[float | None, float | None]]:
    threshold = rss * (1 + float(stats.f.ppf(0.95, 1, dof)) / dof)
    lower, upper = np.array(m.lower), np.array(m.upper)
    out: list[tuple[float | None, float | None]] = []
    for i in range(len(p)):
        others = [j for j in range(len(p)) if j != i]

        def excess(v: float, i: int = i, others: list[int] = others) -> float:
            if not others:
                q = p.copy()
                q[i] = v
                r = resid(q)
                return float(r @ r) - threshold

            def r_sub(s: Array) -> Array:
                q = p.copy()
                q[i] = v
                q[others] = s
                return resid(q)

            def j_sub(s: Array) -> Array:
                q = p.copy()
                q[i] = v
                q[others] = s
                return jac(q)[:, others]

            with np.errstate(all="ignore"):
                sol = optimize.least_squares(
                    r_sub,
                    p[others],
                    jac=j_sub,
                    bounds=(lower[others], upper[others]),
                    method="trf",
                    x_scale="jac",
                    ftol=1e-12,
                    xtol=1e-12,
                    gtol=1e-12,
                )
            return float(sol.fun @ sol.fun) - threshold

        ends: list[float | None] = []
        for sign in (-1.0, 1.0):
            ends.append(_bracket_root(excess, p[i], sign, se[i], lower[i], upper[i]))
        out.append((ends[0], ends[1]))
    return out


# Profile-interval ends are reported to 4 significant digits; locating them to 1e-8
# relative costs a third of the evaluations that 1e-12 did, with the same printed answer.
_ROOT_XTOL = 1e-10
_ROOT_RTOL = 1e-8


def _bracket_root(g: Any, p: float, sign: float, se: float, lo: float, hi: float) -> float | None:
    step = se if se > 0 and np.isfinite(se) else max(abs(p) * 1e-3, 1e-12)
    inner = p
    for _ in range(40):
        outer = p + sign * step
        if outer <= lo or outer >= hi:
            edge = lo if sign < 0 else hi
            if not np.isfinite(edge):
                return None
            outer = edge + (1e-12 if sign < 0 else -1e-12) * max(1.0, abs(edge))
            a, b = sorted((inner, outer))
            try:
                return float(optimize.brentq(g, a, b, xtol=_ROOT_XTOL * max(1.0, abs(p))))
            except ValueError:
                return None  # the interval reaches the parameter's bound
        if g(outer) > 0:
            a, b = (outer, inner) if sign < 0 else (inner, outer)
            return float(
                optimize.brentq(g, a, b, xtol=_ROOT_XTOL * max(1.0, abs(p)), rtol=_ROOT_RTOL)
            )
        inner = outer
        step *= 1.6
    return None
