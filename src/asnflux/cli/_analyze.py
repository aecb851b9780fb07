"""``asnflux analyze``: global sensitivity of a cell-model or patient-model output."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .._errors import DataError
from .._export import check_output
from ._common import bounded, echo_json, progress_bar, wide_console

analyze_app = typer.Typer(
    help="Analyses on top of the models: global sensitivity.", no_args_is_help=True
)


@analyze_app.command("sensitivity")
def sensitivity(
    model: Annotated[str, typer.Option("--model", help="cell or patient.")],
    output: Annotated[
        str | None, typer.Option("--output", help="The output to analyse; omit to list them.")
    ] = None,
    method: Annotated[str, typer.Option(help="sobol or morris.")] = "sobol",
    n: Annotated[
        int,
        typer.Option(
            "--n",
            help="Sobol': base samples (a power of 2; n (k + 2) runs); Morris: trajectories "
            "(n (k + 1) runs).",
            callback=bounded(2, 1_000_000),
        ),
    ] = 64,
    factor: Annotated[
        list[str] | None, typer.Option("--factor", help="Analyse only these inputs; repeatable.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the design.", callback=bounded(0))] = 1,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Threads of the cell model's compiled ensemble (default: all cores).",
            callback=bounded(1, 256),
        ),
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Figure of the indices (.png/.svg).")] = None,
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Sobol' indices or Morris screening of one output over the model's uncertain inputs
    (its assumed constants, each within the KB's sensitivity.assumed_fold; for the patient
    also the PK random effects), SALib's designs and estimators."""
    from ..analysis import (
        CELL_OUTPUTS,
        PATIENT_OUTPUTS,
        cell_sensitivity,
        patient_sensitivity,
    )

    outputs: dict[str, list[str]] = {"cell": list(CELL_OUTPUTS), "patient": list(PATIENT_OUTPUTS)}
    if model not in outputs:
        raise DataError(f"--model {model!r}: choose cell or patient")
    if method not in ("sobol", "morris"):
        raise DataError(f"--method {method!r}: choose sobol or morris")
    if output is None:
        typer.echo(f"outputs of the {model} model: {', '.join(outputs[model])}")
        return
    if model == "patient" and workers is not None:
        raise DataError("--workers is for the cell model; the patient model runs vectorised")
    plot = check_output(plot, "figure", "--plot")
    with progress_bar(f"{method} {output}") as advance:
        if model == "cell":
            result = cell_sensitivity(
                output, method, n, seed, factors=factor, workers=workers, progress=advance
            )
        else:
            result = patient_sensitivity(output, method, n, seed, factors=factor, progress=advance)
    if plot is not None:
        from ..report._sensitivity_plots import plot_sensitivity

        plot_sensitivity(result, plot)
        typer.echo(f"wrote {plot}", err=True)
    if json_:
        echo_json(result.to_dict())
        return
    key = "ST" if method == "sobol" else "mu_star"
    table = Table(
        title=f"{output}: {method}, {result.evaluations:,} runs (seed {seed}); sorted by {key}"
    )
    cols = ["S1", "S1_conf", "ST", "ST_conf"] if method == "sobol" else [
        "mu_star", "mu_star_conf", "mu", "sigma"]  # fmt: skip
    table.add_column("factor")
    for c in cols:
        table.add_column(c, justify="right")
    table.add_column("range")
    ranges = {f.name: f"{f.low:.3g}-{f.high:.3g} ({f.scale})" for f in result.factors}
    for row in result.table.sort_values(key, ascending=False).itertuples():
        table.add_row(
            str(row.factor), *(f"{getattr(row, c):.3g}" for c in cols), ranges[str(row.factor)]
        )
    wide_console().print(table)
