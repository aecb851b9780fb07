"""Global fits: one model over several data sets, with chosen parameters shared.

GraphPad Prism's "shared value for all data sets" (Prism 10 curve fitting guide, "Global
nonlinear regression"): each data set keeps its own copy of every parameter except the
shared ones, which take one value fitted to all the sets at once. The fit is an ordinary
weighted least-squares fit of a composite model whose parameters are the shared ones plus
one copy per set of the others, so every interval, diagnostic and refusal of
:func:`~asnflux.fitting.fit_curve` applies unchanged. Comparing the shared fit with the
fit in which nothing is shared (extra-sum-of-squares F test) answers Prism's question "do
the best-fit values of the shared parameters differ between the data sets?".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import DataError
from ._diagnostics import compare_fits
from ._models import Array, CurveModel, get_model
from ._nls import FitResult, fit_curve

__all__ = ["GlobalFit", "fit_global", "global_model"]


def global_model(base: CurveModel, sets: Sequence[str], shared: Sequence[str]) -> CurveModel:
    """The composite of ``base`` over ``sets``; x2 carries each point's set index.

    Parameters are named ``p`` when shared and ``p[set]`` otherwise.
    """
    if base.needs_x2:
        raise DataError(
            f"model {base.name!r} already uses a second variable; a global fit groups data "
            "sets by x2, so fit each set separately"
        )
    unknown = [p for p in shared if p not in base.params]
    if unknown:
        raise DataError(
            f"shared parameter(s) {', '.join(unknown)} are not parameters of {base.name} "
            f"({', '.join(base.params)})"
        )
    if len(sets) < 2:
        raise DataError("a global fit needs at least two data sets")
    k, n_sets = len(base.params), len(sets)
    # column of the composite vector for (set, base parameter)
    index = np.zeros((n_sets, k), int)
    names: list[str] = []
    lower: list[float] = []
    upper: list[float] = []
    for j, p in enumerate(base.params):
        if p in shared:
            index[:, j] = len(names)
            names.append(p)
            lower.append(base.lower[j])
            upper.append(base.upper[j])
    for s, label in enumerate(sets):
        for j, p in enumerate(base.params):
            if p not in shared:
                index[s, j] = len(names)
                names.append(f"{p}[{label}]")
                lower.append(base.lower[j])
                upper.append(base.upper[j])

    memo: dict[bytes, list[tuple[int, Array]]] = {}

    def members(g: Array) -> list[tuple[int, Array]]:
        """Each set's point mask; the solver passes the same x2 on every call, so the masks
        are built once per fit, not on every evaluation."""
        key = np.asarray(g, float).tobytes()
        if key not in memo:
            memo.clear()
            labels = np.round(g).astype(int)
            memo[key] = [(s, labels == s) for s in range(n_sets)]
        return memo[key]

    def f(x: Array, g: Array, theta: Array) -> Array:
        out = np.empty_like(x)
        zero = np.zeros_like(x)
        for s, mask in members(g):
            if mask.any():
                out[mask] = base.f(x[mask], zero[mask], theta[index[s]])
        return out

    def jac(x: Array, g: Array, theta: Array) -> Array:
        out = np.zeros((len(x), len(names)))
        zero = np.zeros_like(x)
        for s, mask in members(g):
            if mask.any():
                block = base.jac(x[mask], zero[mask], theta[index[s]])
                for j in range(k):  # shared columns collect every set's derivative
                    out[mask, index[s, j]] += block[:, j]
        return out

    def starts(x: Array, g: Array, y: Array) -> list[Array]:
        per_set = []
        for _, mask in members(g):
            per_set.append(base.starts(x[mask], np.zeros(mask.sum()), y[mask]))
        n_starts = min(len(s) for s in per_set)
        out = []
        for r in range(n_starts):
            theta = np.zeros(len(names))
            for s in range(n_sets):
                theta[index[s]] = per_set[s][r]
            for j, p in enumerate(base.params):
                if p in shared:  # the sets' median start
                    theta[index[0, j]] = float(np.median([per_set[s][r][j] for s in range(n_sets)]))
            out.append(theta)
        return out

    label = ", ".join(shared) if shared else "nothing"
    return CurveModel(
        name=f"{base.name} (global, shared: {label})",
        params=tuple(names),
        equation=base.equation,
        f=f,
        jac=jac,
        starts=starts,
        lower=tuple(lower),
        upper=tuple(upper),
        needs_x2=True,
        nonnegative_x=base.nonnegative_x,
        description=f"{base.name} fitted to {n_sets} data sets at once, sharing {label}",
    )


@dataclass(frozen=True, repr=False)
class GlobalFit:
    """A global fit, the fit with nothing shared, and their comparison."""

    shared: FitResult
    separate: FitResult
    comparison: dict[str, Any]
    sets: tuple[str, ...]
    shared_parameters: tuple[str, ...]

    def __repr__(self) -> str:
        p = self.comparison.get("f_test") or {}
        return (
            f"GlobalFit({len(self.sets)} sets, shared {', '.join(self.shared_parameters)}; "
            f"F test P = {p.get('p', float('nan')):.3g})"
        )


def fit_global(
    model: str | CurveModel,
    x: Any,
    y: Any,
    groups: Any,
    shared: Sequence[str],
    *,
    weights: str | Sequence[float] | Array = "none",
    names: dict[str, str] | None = None,
    rows: Sequence[int] | None = None,
    source: str | None = None,
) -> GlobalFit:
    """Fit ``model`` to the data sets named by ``groups``, sharing ``shared`` parameters.

    Also fits the sets with nothing shared and compares the two (extra-sum-of-squares F
    test and AICc): a small P says the shared parameters differ between sets.

    Raises
    ------
    DataError
        Unknown shared parameters, fewer than two sets, or nothing shared.
    FitError
        Either fit fails (see :func:`fit_curve`).
    """
    base = get_model(model) if isinstance(model, str) else model
    if not shared:
        raise DataError(f"share at least one parameter of {base.name} ({', '.join(base.params)})")
    labels = np.asarray([str(g) for g in groups])
    sets = tuple(dict.fromkeys(labels))
    g = np.array([sets.index(v) for v in labels], float)
    where: dict[str, Any] = {"names": names, "rows": rows, "source": source}
    together = fit_curve(global_model(base, sets, shared), x, y, x2=g, weights=weights, **where)
    apart = fit_curve(global_model(base, sets, ()), x, y, x2=g, weights=weights, **where)
    return GlobalFit(together, apart, compare_fits(together, apart), sets, tuple(shared))
