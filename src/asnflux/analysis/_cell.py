"""The cell model as a function of its assumed constants, for global sensitivity analysis.

An output is one number of one configuration at one time (``CELL_OUTPUTS``). The factors
are the model's constants whose value is an assumption (the same set the local-sensitivity
table lists), each over the range of the knowledge-base assumption
``sensitivity.assumed_fold``: log-uniform within that factor of its value; a fraction
within that factor of its odds (p/(1-p)), uniform in log-odds, so it stays in (0, 1); a
Hill exponent from 1 to that factor times its value.
The model is built and exported once per output; every parameter set is a run of the same
compiled model with overrides, in worker processes that each compile it once.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._errors import AsnfluxError, DataError, NotFoundError
from ..knowledge import load_knowledge_base
from ..models._cell_docs import OUTPUTS, _assumed
from ._sensitivity import Factor, SensitivityResult, morris, sobol

__all__ = ["CELL_OUTPUTS", "cell_factors", "cell_sensitivity"]

#: Output name → (configuration, hours, model column); what each means is in its doc.
CELL_OUTPUTS = OUTPUTS
_CHUNK = 64


def _model(output: str) -> tuple[Any, str, float, str]:
    from ..models.cell import build_cell_model
    from ..network import to_sbml

    if output not in CELL_OUTPUTS:
        raise NotFoundError(f"no cell output {output!r}; outputs: {', '.join(CELL_OUTPUTS)}")
    cfg, hours, column = CELL_OUTPUTS[output]
    model = build_cell_model(cfg)
    return model, to_sbml(model), hours, column


def cell_factors(output: str, names: list[str] | None = None) -> list[Factor]:
    """The assumed constants behind ``output`` as factors with their ranges (``names``:
    a subset, in that order)."""
    kb = load_knowledge_base()
    fold = kb.value("sensitivity.assumed_fold", "dimensionless")
    model, _, _, _ = _model(output)
    out = {}
    for p in _assumed(model, kb):
        kind = kb.get(p.record).quantity if p.record else ""
        v = float(p.value)
        source = f"{p.record or p.id}; range: sensitivity.assumed_fold"
        if kind == "fraction" and 0 < v < 1:
            odds = v / (1 - v)
            lo, hi = odds / fold, odds * fold
            out[p.id] = Factor(p.id, lo / (1 + lo), hi / (1 + hi), "logit", v, source)
        elif kind == "exponent":
            out[p.id] = Factor(p.id, 1.0, max(fold * v, 1.5), "linear", v, source)
        else:
            out[p.id] = Factor(p.id, v / fold, v * fold, "log", v, source)
    if names is None:
        return list(out.values())
    unknown = [n for n in names if n not in out]
    if unknown:
        raise NotFoundError(
            f"{', '.join(unknown)}: not an assumed constant of {output}; choose from "
            f"{', '.join(out)}"
        )
    return [out[n] for n in names]


_WORKER: dict[str, Any] = {}


def _init(output: str, names: list[str]) -> None:
    from ..network import RoadRunnerEngine

    _, sbml, hours, column = _model(output)
    _WORKER.update(sbml=sbml, hours=hours, column=column, names=names, engine=RoadRunnerEngine())


def _evaluate_rows(rows: NDArray[np.float64]) -> NDArray[np.float64]:
    w = _WORKER
    times = np.linspace(0.0, w["hours"], 5)
    out = np.full(len(rows), np.nan)
    for i, row in enumerate(rows):
        overrides = dict(zip(w["names"], map(float, row), strict=True))
        # a failed member stays NaN; the analysis then stops and names it
        with contextlib.suppress(AsnfluxError):
            run = w["engine"].simulate(w["sbml"], times, [w["column"]], overrides)
            out[i] = run.final(w["column"])
    return out


def _evaluator(
    output: str, factors: list[Factor], workers: int, progress: Callable[[int, int], None] | None
) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    names = [f.name for f in factors]

    def evaluate(values: NDArray[np.float64]) -> NDArray[np.float64]:
        chunks = [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]
        results: list[NDArray[np.float64]] = []
        done = 0
        if workers == 1:
            _init(output, names)
            for c in chunks:
                results.append(_evaluate_rows(c))
                done += len(c)
                if progress:
                    progress(done, len(values))
            return np.concatenate(results)
        # spawn: a fresh interpreter per worker, so no libroadrunner state is forked
        with ProcessPoolExecutor(
            workers, mp_context=get_context("spawn"), initializer=_init, initargs=(output, names)
        ) as pool:
            for r in pool.map(_evaluate_rows, chunks):
                results.append(r)
                done += len(r)
                if progress:
                    progress(done, len(values))
        return np.concatenate(results)

    return evaluate


def cell_sensitivity(
    output: str,
    method: str = "morris",
    n: int = 10,
    seed: int = 1,
    *,
    factors: list[str] | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SensitivityResult:
    """Sobol' indices (``n`` base samples, a power of 2) or Morris screening (``n``
    trajectories) of a cell-model output over its assumed constants (or ``factors``)."""
    chosen = cell_factors(output, factors)
    workers = workers or os.cpu_count() or 1
    if not 1 <= workers <= 256:
        raise DataError(f"workers = {workers}: 1 to 256")
    evaluate = _evaluator(output, chosen, workers, progress)
    if method == "sobol":
        return sobol(evaluate, chosen, n, seed, output=output)
    if method == "morris":
        return morris(evaluate, chosen, n, seed, output=output)
    raise DataError(f"method {method!r} is not one of sobol, morris")
