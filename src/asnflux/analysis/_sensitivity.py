"""Global sensitivity analysis: Sobol' indices and Morris screening for any model output.

The designs and estimators are SALib's (Herman & Usher 2017): Saltelli's extension of
Sobol' sequences with the estimators of Saltelli et al. (2010) for first-order (S1) and
total (ST) indices, with bootstrap confidence intervals; and Morris' elementary effects
(Morris 1991) summarised by mu* (Campolongo et al. 2007) and sigma. A factor is sampled on
its own scale (log-uniform for a rate or binding constant, uniform otherwise); the model is
evaluated once per row of the design, and a failed evaluation is never dropped or filled
in: the analysis stops and names it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._errors import DataError, NotFoundError, SolverError
from .._repr import CompactRepr

__all__ = ["Factor", "SensitivityResult", "analyse", "assumed_factor", "morris", "select", "sobol"]

Evaluate = Callable[[NDArray[np.float64]], NDArray[np.float64]]
#: Largest design (rows) one call evaluates: beyond it, ask for fewer samples or factors.
MAX_EVALUATIONS = 2_000_000


@dataclass(frozen=True)
class Factor:
    """An uncertain input: its name, range, sampling scale and where the range comes from."""

    name: str
    low: float
    high: float
    scale: str = "log"  # "log" (log-uniform), "logit" (uniform in log-odds) or "linear"
    nominal: float | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if self.scale not in ("log", "logit", "linear"):
            raise DataError(f"factor {self.name!r}: scale must be 'log', 'logit' or 'linear'")
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise DataError(
                f"factor {self.name!r}: range {self.low:g}-{self.high:g} must be finite and "
                "increasing"
            )
        if self.scale == "log" and not self.low > 0:
            raise DataError(f"factor {self.name!r}: a log-scale range must be positive")
        if self.scale == "logit" and not (self.low > 0 and self.high < 1):
            raise DataError(f"factor {self.name!r}: a logit-scale range lies inside (0, 1)")

    def _bounds(self) -> list[float]:
        if self.scale == "log":
            return [math.log(self.low), math.log(self.high)]
        if self.scale == "logit":
            return [math.log(x / (1 - x)) for x in (self.low, self.high)]
        return [self.low, self.high]

    def _values(self, column: NDArray[np.float64]) -> NDArray[np.float64]:
        if self.scale == "log":
            return np.exp(column)
        if self.scale == "logit":
            return 1 / (1 + np.exp(-column))
        return column


def assumed_factor(name: str, value: float, quantity: str, fold: float, record: str) -> Factor:
    """The factor of an assumed constant within ``fold`` of ``value`` (the knowledge-base
    assumption ``sensitivity.assumed_fold``): log-uniform; a fraction (``quantity``
    "fraction") within that factor of its odds, uniform in log-odds; a Hill exponent
    (``quantity`` "exponent") from 1 to ``fold`` times its value."""
    source = f"{record}; range: sensitivity.assumed_fold"
    if quantity == "fraction" and 0 < value < 1:
        odds = value / (1 - value)
        lo, hi = odds / fold, odds * fold
        return Factor(name, lo / (1 + lo), hi / (1 + hi), "logit", value, source)
    if quantity == "exponent":
        return Factor(name, 1.0, max(fold * value, 1.5), "linear", value, source)
    return Factor(name, value / fold, value * fold, "log", value, source)


@dataclass(repr=False)
class SensitivityResult(CompactRepr):
    """Indices per factor (``table``), the design and outputs behind them."""

    method: str
    output: str
    table: pd.DataFrame  # one row per factor; Sobol: S1, S1_conf, ST, ST_conf; Morris: mu_star…
    factors: tuple[Factor, ...]
    evaluations: int
    seed: int
    settings: dict[str, Any]

    def ranking(self) -> list[str]:
        """Factors from most to least influential (ST for Sobol', mu* for Morris)."""
        key = "ST" if self.method == "sobol" else "mu_star"
        return list(self.table.sort_values(key, ascending=False)["factor"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "output": self.output,
            "evaluations": self.evaluations,
            "seed": self.seed,
            "settings": self.settings,
            "factors": [
                {"name": f.name, "low": f.low, "high": f.high, "scale": f.scale,
                 "nominal": f.nominal, "source": f.source}
                for f in self.factors
            ],
            "indices": self.table.to_dict(orient="records"),
            "references": ["saltelli2010", "morris1991", "campolongo2007", "herman2017"],
        }  # fmt: skip


def _problem(factors: list[Factor]) -> dict[str, Any]:
    if not factors:
        raise DataError("no factors to analyse")
    names = [f.name for f in factors]
    if len(set(names)) != len(names):
        raise DataError("each factor may be given once")
    return {"num_vars": len(factors), "names": names, "bounds": [f._bounds() for f in factors]}


def _run(
    evaluate: Evaluate, design: NDArray[np.float64], factors: list[Factor]
) -> NDArray[np.float64]:
    if len(design) > MAX_EVALUATIONS:
        raise DataError(
            f"the design has {len(design):,} rows; at most {MAX_EVALUATIONS:,} (fewer samples "
            "or factors)"
        )
    values = np.column_stack([f._values(design[:, i]) for i, f in enumerate(factors)])
    y = np.asarray(evaluate(values), float)
    if y.shape != (len(values),):
        raise DataError(f"the model returned {y.shape} outputs for {len(values)} parameter sets")
    bad = np.nonzero(~np.isfinite(y))[0]
    if len(bad):
        first = ", ".join(f"{f.name}={values[bad[0], i]:.4g}" for i, f in enumerate(factors))
        raise SolverError(
            f"{len(bad)} of {len(y)} parameter sets gave no finite output (first: {first}); "
            "narrow the ranges or fix the model: indices from the rest would be biased"
        )
    return y


def sobol(
    evaluate: Evaluate, factors: list[Factor], n: int, seed: int, *, output: str = "output"
) -> SensitivityResult:
    """First-order and total Sobol' indices from ``n`` base samples (``n (k + 2)`` runs).

    ``evaluate`` maps an array of parameter sets (rows, in factor order, on their natural
    scale) to one output per row. ``n`` must be a power of 2 (Sobol' sequences balance only
    then).
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    if n < 8 or n & (n - 1):
        raise DataError(f"n = {n}: Sobol' base samples must be a power of 2, at least 8")
    problem = _problem(factors)
    design = sobol_sample.sample(problem, n, calc_second_order=False, scramble=True, seed=seed)
    y = _run(evaluate, design, factors)
    # a spread below 1e-4 of the output is integration noise, not variance: the duration
    # endpoints integrate indicators, which the adaptive solvers resolve to about 1e-5
    if not np.ptp(y) > 1e-4 * np.max(np.abs(y)):
        raise DataError(
            f"{output} does not vary over the design beyond the solver's tolerance: "
            "no variance to apportion"
        )
    si = sobol_analyze.analyze(
        problem, y, calc_second_order=False, num_resamples=1000, conf_level=0.95, seed=seed
    )
    table = pd.DataFrame(
        {
            "factor": problem["names"],
            "S1": si["S1"],
            "S1_conf": si["S1_conf"],
            "ST": si["ST"],
            "ST_conf": si["ST_conf"],
        }
    )
    settings = {"n": n, "design": "Saltelli (Sobol' sequence, scrambled)", "conf_level": 0.95}
    return SensitivityResult("sobol", output, table, tuple(factors), len(y), seed, settings)


def morris(
    evaluate: Evaluate,
    factors: list[Factor],
    trajectories: int,
    seed: int,
    *,
    levels: int = 4,
    output: str = "output",
) -> SensitivityResult:
    """Morris screening: mu* (mean |elementary effect|) and sigma per factor, from
    ``trajectories`` one-at-a-time paths (``trajectories (k + 1)`` runs). Effects are on the
    factors' sampling scale normalised to [0, 1] (a log-scale factor: per e-fold share of
    its range), so mu* ranks factors by influence over their whole ranges."""
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    if trajectories < 2:
        raise DataError(f"{trajectories} trajectories: Morris screening needs at least 2")
    if levels < 2 or levels % 2:
        raise DataError(f"levels = {levels}: an even number of grid levels, at least 2")
    problem = _problem(factors)
    design = morris_sample.sample(problem, trajectories, num_levels=levels, seed=seed)
    y = _run(evaluate, design, factors)
    unit = dict(problem, bounds=[[0.0, 1.0]] * len(factors))
    scaled = (design - np.array([b[0] for b in problem["bounds"]])) / np.array(
        [b[1] - b[0] for b in problem["bounds"]]
    )
    mi = morris_analyze.analyze(
        unit, scaled, y, num_resamples=1000, conf_level=0.95, num_levels=levels, seed=seed
    )
    table = pd.DataFrame(
        {
            "factor": problem["names"],
            "mu_star": mi["mu_star"],
            "mu_star_conf": mi["mu_star_conf"],
            "mu": mi["mu"],
            "sigma": mi["sigma"],
        }
    )
    settings = {"trajectories": trajectories, "levels": levels, "conf_level": 0.95}
    return SensitivityResult("morris", output, table, tuple(factors), len(y), seed, settings)


def analyse(
    method: str, evaluate: Evaluate, factors: list[Factor], n: int, seed: int, output: str
) -> SensitivityResult:
    """:func:`sobol` (``n`` base samples) or :func:`morris` (``n`` trajectories) by name."""
    if method == "sobol":
        return sobol(evaluate, factors, n, seed, output=output)
    if method == "morris":
        return morris(evaluate, factors, n, seed, output=output)
    raise DataError(f"method {method!r} is not one of sobol, morris")


def select(available: dict[str, Factor], names: list[str] | None, what: str) -> list[Factor]:
    """All ``available`` factors, or those ``names`` in that order (an unknown name is an
    error listing the choices, ``what`` saying whose inputs they are)."""
    if names is None:
        return list(available.values())
    unknown = [n for n in names if n not in available]
    if unknown:
        raise NotFoundError(f"{', '.join(unknown)}: not {what}; choose from {', '.join(available)}")
    return [available[n] for n in names]
