"""Judging a fit as GraphPad Prism does: AICc, model comparison, runs and replicates tests.

Definitions follow the GraphPad Curve Fitting Guide (Motulsky H, GraphPad Software):

* **AICc** = N·ln(SS/N) + 2K + 2K(K+1)/(N − K − 1), where K counts the fitted parameters
  plus one (the residual variance), as Prism counts them.
* **Model comparison**: the extra-sum-of-squares F test for nested models,
  F = ((SS₁ − SS₂)/(df₁ − df₂)) / (SS₂/df₂), and the AICc difference with the probability
  that each model is correct, exp(−Δ/2)/(1 + exp(−Δ/2)) (Akaike weights of two models).
* **Runs test** (Wald–Wolfowitz, as Prism's "runs test" for deviation from the model): the
  number of runs of residual signs against its distribution for the counts of positive and
  negative residuals; few runs mean systematic deviation. Exact for small N (Prism uses the
  exact distribution too), normal approximation above 30 points.
* **Replicates test** (lack of fit): with replicate y at the same x, the lack-of-fit sum of
  squares against the pure-error (within-replicate) sum of squares, an F test.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from .._errors import DataError
from ._nls import FitResult

__all__ = ["aicc", "compare_fits", "replicates_test", "rout_outliers", "runs_test"]


def aicc(fit: FitResult) -> float | None:
    """Prism's corrected AIC (None when N ≤ K + 1 or the fit is exact)."""
    n, k = fit.n, len(fit.parameters) + 1
    if n - k - 1 <= 0 or fit.rss <= 0:
        return None
    return n * math.log(fit.rss / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1)


def compare_fits(simpler: FitResult, complex_: FitResult) -> dict[str, Any]:
    """Extra-sum-of-squares F test (nested models) and AICc comparison of two fits.

    Raises
    ------
    DataError
        If the fits are of different data, or the second has no more parameters.
    """
    if simpler.n != complex_.n or not np.array_equal(simpler.y, complex_.y):
        raise DataError("model comparison needs two fits of the same data")
    df1, df2 = simpler.dof, complex_.dof
    if df2 >= df1:
        raise DataError(
            f"the second model ({complex_.model.name}) must have more parameters than the "
            f"first ({simpler.model.name})"
        )
    out: dict[str, Any] = {
        "simpler": simpler.model.name,
        "more_complex": complex_.model.name,
        "f_test": None,
        "aicc": None,
    }
    if complex_.rss > 0:
        f = ((simpler.rss - complex_.rss) / (df1 - df2)) / (complex_.rss / df2)
        p = float(stats.f.sf(f, df1 - df2, df2)) if f > 0 else 1.0
        out["f_test"] = {
            "F": f,
            "dfn": df1 - df2,
            "dfd": df2,
            "p": p,
            "preferred": complex_.model.name if p < 0.05 else simpler.model.name,
            "note": "valid for nested models only",
        }
    a1, a2 = aicc(simpler), aicc(complex_)
    if a1 is not None and a2 is not None:
        delta = a2 - a1
        w = math.exp(-0.5 * abs(delta))
        p_better = 1 / (1 + w)
        out["aicc"] = {
            "simpler": a1,
            "more_complex": a2,
            "difference": delta,
            "preferred": complex_.model.name if delta < 0 else simpler.model.name,
            "probability_preferred_is_correct": p_better,
        }
    return out


def runs_test(fit: FitResult) -> dict[str, Any] | None:
    """Runs of residual signs (ordered by x): P of so few runs if the model were right."""
    order = np.lexsort(((fit.x2 if fit.x2 is not None else np.zeros_like(fit.x)), fit.x))
    r = fit.residuals[order]
    signs = np.sign(r[r != 0])
    n1, n2 = int(np.sum(signs > 0)), int(np.sum(signs < 0))
    if n1 == 0 or n2 == 0:
        return None
    runs = 1 + int(np.sum(signs[1:] != signs[:-1]))
    p = _p_few_runs(runs, n1, n2)
    return {"runs": runs, "positive": n1, "negative": n2, "p": p, "deviates": p < 0.05}


def _p_few_runs(runs: int, n1: int, n2: int) -> float:
    """P(R ≤ runs) under random order (exact for n1 + n2 ≤ 30, else normal)."""
    n = n1 + n2
    if n > 30:
        mu = 2 * n1 * n2 / n + 1
        var = 2 * n1 * n2 * (2 * n1 * n2 - n) / (n**2 * (n - 1))
        return float(stats.norm.cdf((runs + 0.5 - mu) / math.sqrt(var)))
    total = math.comb(n, n1)
    acc = 0
    for r in range(2, runs + 1):
        if r % 2 == 0:
            k = r // 2
            ways = 2 * math.comb(n1 - 1, k - 1) * math.comb(n2 - 1, k - 1)
        else:
            k = (r - 1) // 2
            ways = math.comb(n1 - 1, k) * math.comb(n2 - 1, k - 1) + math.comb(
                n1 - 1, k - 1
            ) * math.comb(n2 - 1, k)
        acc += ways
    return acc / total


def replicates_test(fit: FitResult) -> dict[str, Any] | None:
    """Lack-of-fit F test from replicate y values at the same x (None without replicates)."""
    keys = fit.x if fit.x2 is None else fit.x + 1j * fit.x2
    groups: dict[complex, list[float]] = {}
    w = fit.weights
    for key, resid, weight in zip(keys, fit.residuals, w, strict=True):
        groups.setdefault(complex(key), []).append(float(resid * math.sqrt(weight)))
    n_groups = len(groups)
    k = len(fit.parameters)
    df_pure = fit.n - n_groups
    df_lack = n_groups - k
    if df_pure <= 0 or df_lack <= 0:
        return None
    ss_pure = sum(float(np.sum((np.array(v) - np.mean(v)) ** 2)) for v in groups.values())
    ss_lack = fit.rss - ss_pure
    if ss_pure <= 0:
        return None
    f = (ss_lack / df_lack) / (ss_pure / df_pure)
    p = float(stats.f.sf(f, df_lack, df_pure))
    return {"F": f, "dfn": df_lack, "dfd": df_pure, "p": p, "lack_of_fit": p < 0.05}


def rout_outliers(
    model: Any, x: Any, y: Any, *, x2: Any = None, q_percent: float = 1.0
) -> dict[str, Any]:
    """ROUT outlier detection (Motulsky & Brown, BMC Bioinformatics 2006;7:123).

    1. Robust fit: least squares with a Lorentzian (Cauchy) loss whose scale is the
       robust SD of the residuals, RSDR = 68.27th percentile of |residual| · N/(N − K),
       iterated until RSDR settles.
    2. Outliers by the false discovery rate Q (Benjamini–Hochberg): each residual's P from
       Student's t of |e|/RSDR with N − K dof, two-sided; with the P values ranked from the
       smallest (largest residual), the largest rank i with P(i) ≤ Q·i/N marks that point and
       every larger residual as outliers.
    3. The model is refitted by ordinary least squares without them.

    Returns ``{"outliers": [indices], "q_percent", "rsdr", "fit": FitResult}``.
    """
    from scipy import optimize

    from ._models import get_model
    from ._nls import fit_curve

    if not 0 < q_percent < 50:
        raise DataError(f"ROUT Q must be between 0 and 50 %, got {q_percent:g}")
    m = get_model(model) if isinstance(model, str) else model
    xa, ya = np.asarray(x, float), np.asarray(y, float)
    x2a = np.zeros_like(xa) if x2 is None else np.asarray(x2, float)
    start = fit_curve(m, xa, ya, x2=x2 if m.needs_x2 else None, profile=False)
    p = start.values
    n, k = len(ya), len(p)
    rsdr = 0.0
    for _ in range(20):
        e = ya - m.f(xa, x2a, p)
        new_rsdr = float(np.percentile(np.abs(e), 68.27) * n / (n - k))
        if new_rsdr <= 0:
            break
        if rsdr and abs(new_rsdr - rsdr) <= 1e-6 * rsdr:
            break
        rsdr = new_rsdr
        sol = optimize.least_squares(
            lambda th: ya - m.f(xa, x2a, th),
            p,
            jac=lambda th: -m.jac(xa, x2a, th),
            bounds=(np.array(m.lower), np.array(m.upper)),
            loss="cauchy",
            f_scale=rsdr,
            x_scale="jac",
        )
        p = sol.x
    e = ya - m.f(xa, x2a, p)
    outliers: list[int] = []
    if rsdr > 0:
        order = np.argsort(-np.abs(e))  # largest residual (smallest P) first
        q = q_percent / 100
        pvals = 2 * stats.t.sf(np.abs(e[order]) / rsdr, n - k)
        flagged = [i for i in range(n) if pvals[i] <= q * (i + 1) / n]
        if flagged:
            outliers = sorted(int(j) for j in order[: max(flagged) + 1])
    keep = np.setdiff1d(np.arange(n), outliers)
    if len(keep) <= k:
        raise DataError("ROUT flagged so many points that too few remain to fit")
    final = fit_curve(m, xa[keep], ya[keep], x2=None if x2 is None else x2a[keep], profile=False)
    return {"outliers": outliers, "q_percent": q_percent, "rsdr": rsdr, "fit": final}
