"""The cell model as a function of its assumed constants, for global sensitivity analysis.

An output is one number of one configuration at one time (``CELL_OUTPUTS``). The factors
are the model's constants whose value is an assumption (the same set the local-sensitivity
table lists), each over the range of the knowledge-base assumption
``sensitivity.assumed_fold``: log-uniform within that factor of its value; a fraction
within that factor of its odds (p/(1-p)), uniform in log-odds, so it stays in (0, 1); a
Hill exponent from 1 to that factor times its value.
The model is built once per output; the whole design runs as one ensemble of the compiled
backend (``asnflux.engine``: every parameter set a member, all cores), which agrees with
libroadrunner on the same rows to 1e-6 (a test).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._errors import DataError, NotFoundError
from ..knowledge import load_knowledge_base
from ..models._cell_docs import OUTPUTS, _assumed
from ._sensitivity import Factor, SensitivityResult, analyse, assumed_factor, select

__all__ = ["CELL_OUTPUTS", "cell_factors", "cell_sensitivity"]

#: Output name → (configuration, hours, model column); what each means is in its doc.
CELL_OUTPUTS = OUTPUTS


def _model(output: str) -> Any:
    from ..models.cell import build_cell_model

    if output not in CELL_OUTPUTS:
        raise NotFoundError(f"no cell output {output!r}; outputs: {', '.join(CELL_OUTPUTS)}")
    return build_cell_model(CELL_OUTPUTS[output][0])


def cell_factors(output: str, names: list[str] | None = None) -> list[Factor]:
    """The assumed constants behind ``output`` as factors with their ranges (``names``:
    a subset, in that order)."""
    kb = load_knowledge_base()
    fold = kb.value("sensitivity.assumed_fold", "dimensionless")
    model = _model(output)
    out = {}
    for p in _assumed(model, kb):
        kind = kb.get(p.record).quantity if p.record else ""
        out[p.id] = assumed_factor(p.id, float(p.value), kind, fold, p.record or p.id)
    return select(out, names, f"an assumed constant of {output}")


def _evaluator(
    output: str, factors: list[Factor], workers: int, progress: Callable[[int, int], None] | None
) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    """The design's rows as members of one compiled ensemble (``models.cell``'s
    :func:`~asnflux.models.cell.simulate_cell_ensemble`): the output's value at its time per
    row, NaN where a member failed (the analysis then stops and says how many)."""
    from ..models.cell import simulate_cell_ensemble

    cfg, hours, column = CELL_OUTPUTS[output]
    names = [f.name for f in factors]

    def evaluate(values: NDArray[np.float64]) -> NDArray[np.float64]:
        import numba

        threads = numba.get_num_threads()
        numba.set_num_threads(min(workers, int(numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]
        try:
            ds = simulate_cell_ensemble(
                cfg, {n: values[:, j] for j, n in enumerate(names)}, hours, 1, progress=progress
            )
        finally:
            numba.set_num_threads(threads)
        out = np.asarray(ds[column].values[:, -1], float)
        return np.where(ds["status"].values == 0, out, np.nan)

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
    return analyse(method, evaluate, chosen, n, seed, output)


def sobol_ranking(
    n: int = 512,
    seed: int = 1,
    *,
    workers: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Sobol' indices of every cell output (``CELL_OUTPUTS``) over all its assumed
    constants, as one JSON-able record: settings and each output's result."""
    results = {}
    for output in CELL_OUTPUTS:
        step = None if progress is None else (lambda d, t, o=output: progress(o, d, t))
        results[output] = cell_sensitivity(
            output, "sobol", n, seed, workers=workers, progress=step
        ).to_dict()
    return {"method": "sobol", "n": n, "seed": seed, "outputs": results}


def sobol_markdown(data: dict[str, Any], top: int = 15) -> str:
    """The ranking section of docs/cell-model-sensitivity.md from :func:`sobol_ranking`'s
    record: per output the ``top`` factors by total index, then the union of the factors
    that matter (ST above 0.05 for any output), which is what a lab should measure first."""
    from ..models._cell_docs import OUTPUTS as described

    lines = [
        "## Global ranking: Sobol' indices",
        "",
        "Every assumed constant varies at once, each over the knowledge-base range",
        "`sensitivity.assumed_fold` (log-uniform within 2-fold; fractions within 2-fold of",
        "their odds; Hill exponents from 1 to twice their value), in a Saltelli design of",
        f"{data['n']} base samples (seed {data['seed']}), analysed with SALib (Saltelli 2010",
        "estimators, 95 % bootstrap intervals). S1 is the share of an output's variance a",
        "constant explains alone, ST the share including its interactions; ST near 0 means",
        "the constant can stay an assumption. Regenerate with `asnflux cell docs docs/",
        f"--sobol {data['n']}` (minutes); the tests check that the factors and ranges here",
        "are the model's current ones.",
        "",
    ]
    matters: dict[str, float] = {}
    for output, result in data["outputs"].items():
        rows = sorted(result["indices"], key=lambda r: -r["ST"])
        _cfg, hours, column = described[output]
        lines += [
            f"### `{output}` ({result['evaluations']:,} runs)",
            "",
            f"`{column}` at {hours:g} h.",
            "",
            "| rank | constant | ST [95 % CI] | S1 [95 % CI] |",
            "|---|---|---|---|",
        ]
        for rank, r in enumerate(rows[:top], start=1):
            lines.append(
                f"| {rank} | `{r['factor']}` | {r['ST']:.3f} ± {r['ST_conf']:.3f} | "
                f"{r['S1']:.3f} ± {r['S1_conf']:.3f} |"
            )
        lines.append("")
        for r in rows:
            if r["ST"] > 0.05:
                matters[r["factor"]] = max(matters.get(r["factor"], 0.0), r["ST"])
    ranked = sorted(matters, key=lambda f: -matters[f])
    lines += [
        "### Measure these first",
        "",
        "Constants with ST > 0.05 for any output, largest first: "
        + ", ".join(f"`{f}`" for f in ranked)
        + ".",
        "",
    ]
    return "\n".join(lines)
