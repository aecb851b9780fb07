"""``asnflux cell``: simulate, export and diagram the cell model; run its scenarios."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from .._errors import DataError
from .._export import check_output, write_table
from .._io import atomic_write_text, check_writable
from ..models.cell import CellConfig, output_columns, simulate_cell
from ._common import bounded, echo_json, name_values, progress_bar, wide_console

cell_app = typer.Typer(help="The cell model: simulate, export, scenarios.", no_args_is_help=True)

CellTypes = Annotated[
    list[str] | None,
    typer.Option(
        "--cell-type",
        help="all-blast, all-blast-resistant, msc, hela, 143b, "
        "solid-asns-high; repeat for co-culture.",
    ),
]
Medium = Annotated[
    str,
    typer.Option(
        help="rpmi-1640, dmem, rpmi-asn-free, rpmi-gln-free, rpmi-leu-free, aa-free, custom."
    ),
]
Asnase = Annotated[str | None, typer.Option(help='Asparaginase in the medium, e.g. "1 IU/mL".')]
Enzyme = Annotated[
    str, typer.Option(help="ecoli, erwinia, pseudomonas, bacillus, rhizobium, wolinella.")
]
Knockdown = Annotated[list[str] | None, typer.Option(help="GENE=FRACTION, e.g. asns=0.9.")]
Knockout = Annotated[list[str] | None, typer.Option(help="raga-b or arf1; repeatable.")]
ErStress = Annotated[
    float,
    typer.Option(help="ER-stress input, 0 (none) to 1 (tunicamycin).", callback=bounded(0, 1)),
]
Rapamycin = Annotated[float, typer.Option(help="Rapamycin input, 0 to 1.", callback=bounded(0, 1))]
Hours = Annotated[
    float,
    typer.Option(
        help="Simulated time (h).", callback=bounded(0, 8760, low_inclusive=False, unit="h")
    ),
]
Sets = Annotated[
    list[str] | None,
    typer.Option("--set", help="PARAM=VALUE (model units); species initial concentrations in mM."),
]


def _config(
    cell_type: list[str] | None,
    medium: str,
    asparaginase: str | None,
    enzyme: str,
    knockdown: list[str] | None,
    knockout: list[str] | None,
    er_stress: float,
    rapamycin: float,
    set_: list[str] | None,
) -> CellConfig:
    return CellConfig(
        cell_types=tuple(cell_type or ["all-blast"]),
        medium=medium,
        asparaginase=asparaginase,
        enzyme=enzyme,
        knockdown=name_values(knockdown, "--knockdown"),
        knockout=tuple(knockout or ()),
        er_stress=er_stress,
        rapamycin=rapamycin,
        overrides=name_values(set_, "--set"),
    )


@cell_app.command("simulate")
def simulate(
    cell_type: CellTypes = None,
    medium: Medium = "rpmi-1640",
    asparaginase: Asnase = None,
    enzyme: Enzyme = "ecoli",
    knockdown: Knockdown = None,
    knockout: Knockout = None,
    er_stress: ErStress = 0.0,
    rapamycin: Rapamycin = 0.0,
    set_: Sets = None,
    hours: Hours = 72.0,
    output: Annotated[
        Path | None, typer.Option(help="Trajectory: .csv, .parquet, .nc, .xlsx or .json.")
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Figure (.png or .svg).")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Machine-readable summary.")] = False,
) -> None:
    """Simulate a culture; CSV columns are SBML ids with units, then derived outputs."""
    check_output(output, "table", "--output")
    check_output(plot, "figure", "--plot")
    cfg = _config(
        cell_type, medium, asparaginase, enzyme, knockdown, knockout, er_stress, rapamycin, set_
    )
    run = simulate_cell(cfg, hours)
    _, header = output_columns(run.model, cfg)
    if output is not None:
        table = run.table.rename(columns=header)
        if output.suffix.lower() == ".csv":
            write_table(table, output)  # headers carry the units, as the docs describe
        else:
            write_table(
                run.table,
                output,
                units=run.table.attrs["units"],
                attrs={"model": run.model.name},
                index="time_h",
            )
        typer.echo(f"wrote {output}", err=True)
    if plot is not None:
        from ..report._cell_plots import plot_cell_run

        plot_cell_run(run, plot)
        typer.echo(f"wrote {plot}", err=True)
    summary = _summary(run, hours)
    if json_:
        echo_json(summary)
        return
    console = wide_console()
    console.print(f"{run.model.name}; {hours:g} h")
    t = Table(title="Cells")
    for col in (
        "cell type",
        "viable (fold)",
        "viability",
        "Asn in cell (mM)",
        "ASNS (×basal)",
        "mTORC1",
    ):
        t.add_column(col)
    for c in summary["cell_types"]:
        t.add_row(
            c["cell_type"],
            f"{c['viable_fold']:.3g}",
            f"{c['viability']:.3f}",
            f"{c['asn_cyt_mM']:.3g}",
            f"{c['asns_relative']:.3g}",
            f"{c['mTORC1']:.3f}",
        )
    console.print(t)
    m = summary["medium_final_mM"]
    console.print(
        f"Medium at {hours:g} h: Asn {m['Asn']:.3g} mM, Gln {m['Gln']:.3g} mM, "
        f"NH4+ {m['NH4']:.3g} mM"
    )


def _summary(run: Any, hours: float) -> dict[str, Any]:
    cells = []
    for t, k in zip(run.config.cell_types, run.cell_keys, strict=True):
        fold = run.final(f"cells_{k}") / run.at(f"cells_{k}", 0)
        cells.append(
            {
                "cell_type": t,
                "viable_fold": fold,
                "viability": run.final(f"viability_{k}"),
                "asn_cyt_mM": run.final(f"Asn_cyt_{k}"),
                "asns_relative": run.final(f"ASNS_{k}"),
                "atf4_relative": run.final(f"ATF4_{k}"),
                "mTORC1": run.final(f"mTORC1_{k}"),
                "growth_rate_per_h": run.final(f"mu_{k}"),
                "doubling_time_h": (hours * math.log(2) / math.log(fold)) if fold > 1 else None,
            }
        )
    medium = {
        s.id[: -len("_med")]: run.final(s.id) for s in run.model.species if s.id.endswith("_med")
    }
    return {
        "model": run.model.name,
        "hours": hours,
        "config": {
            "cell_types": list(run.config.cell_types),
            "medium": run.config.medium,
            "asparaginase": run.config.asparaginase,
            "enzyme": run.config.enzyme,
            "knockdown": run.config.knockdown,
            "knockout": list(run.config.knockout),
            "er_stress": run.config.er_stress,
            "rapamycin": run.config.rapamycin,
            "set": run.config.overrides,
        },
        "cell_types": cells,
        "medium_final_mM": medium,
    }


@cell_app.command("ensemble")
def ensemble(
    vary: Annotated[
        list[str],
        typer.Option(
            "--vary",
            help="NAME=LOW:HIGH, log-uniform per member (model units; species initial "
            "concentrations in mM); repeatable.",
        ),
    ],
    output: Annotated[Path, typer.Option(help="Ensemble as NetCDF (.nc) or Zarr (.zarr).")],
    n: Annotated[int, typer.Option("--n", help="Members.", min=1, max=1_000_000)] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the parameter draws.")] = 1,
    cell_type: CellTypes = None,
    medium: Medium = "rpmi-1640",
    asparaginase: Asnase = None,
    enzyme: Enzyme = "ecoli",
    knockdown: Knockdown = None,
    knockout: Knockout = None,
    er_stress: ErStress = 0.0,
    rapamycin: Rapamycin = 0.0,
    hours: Hours = 72.0,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask: 'local' (a LocalCluster) or tcp://HOST:PORT."),
    ] = None,
    backend: Annotated[
        str,
        typer.Option(
            help="compiled (numba, all cores) or jax (one JAX program per chunk: a GPU "
            "when JAX has one, else the CPU)."
        ),
    ] = "compiled",
    json_: Annotated[bool, typer.Option("--json", help="Machine-readable summary.")] = False,
) -> None:
    """Many parameter sets of one culture on the compiled backend (all cores, Dask or JAX)."""
    import numpy as np

    from .._io import check_dataset_path
    from ..models.cell import simulate_cell_ensemble

    check_dataset_path(output, "--output")
    ranges: dict[str, tuple[float, float]] = {}
    for item in vary:
        name, sep, span = item.partition("=")
        low, colon, high = span.partition(":")
        try:
            lo, hi = float(low), float(high)
        except ValueError:
            lo = hi = float("nan")
        if not (sep and colon and name.strip()) or not (0 < lo < hi < float("inf")):
            raise DataError(
                f"--vary {item!r}: expected NAME=LOW:HIGH with 0 < LOW < HIGH, e.g. "
                "Km_ASNS_Asp=0.2:1"
            )
        ranges[name.strip()] = (lo, hi)
    cfg = _config(
        cell_type, medium, asparaginase, enzyme, knockdown, knockout, er_stress, rapamycin, None
    )
    rng = np.random.default_rng(seed)
    values = {k: np.exp(rng.uniform(np.log(lo), np.log(hi), n)) for k, (lo, hi) in ranges.items()}
    with progress_bar(f"ensemble of {n:,}") as advance:
        ds = simulate_cell_ensemble(
            cfg,
            values,
            hours,
            scheduler=scheduler,
            progress=advance,
            option="--vary",
            backend=backend,
        )
    ds.attrs |= {"seed": seed, "vary": "; ".join(vary)}
    from .._io import write_dataset

    write_dataset(ds, output, "--output")
    typer.echo(f"wrote {output}", err=True)
    failed = int((ds["status"].values != 0).sum())
    summary = {"members": n, "failed": failed, "hours": hours, "output": str(output)}
    if json_:
        echo_json(summary)
        return
    typer.echo(f"{n:,} members, {failed} failed; {hours:g} h; wrote {output}")


@cell_app.command("export")
def export(
    path: Annotated[Path, typer.Argument(help="Output file (.xml for SBML, .txt/.ant).")],
    format_: Annotated[
        str | None,
        typer.Option("--format", help="sbml or antimony (default: from the file's suffix)."),
    ] = None,
    cell_type: CellTypes = None,
    medium: Medium = "rpmi-1640",
    asparaginase: Asnase = None,
    enzyme: Enzyme = "ecoli",
    knockdown: Knockdown = None,
    knockout: Knockout = None,
    er_stress: ErStress = 0.0,
    rapamycin: Rapamycin = 0.0,
    set_: Sets = None,
) -> None:
    """Write the configured model as SBML L3V2 (validated) or Antimony text."""
    from ..models.cell import build_cell_model
    from ..network import to_antimony, to_sbml

    cfg = _config(
        cell_type, medium, asparaginase, enzyme, knockdown, knockout, er_stress, rapamycin, set_
    )
    model = build_cell_model(cfg)
    by_suffix = {".xml": "sbml", ".sbml": "sbml", ".txt": "antimony", ".ant": "antimony"}
    implied = by_suffix.get(path.suffix.lower())
    if implied is None:
        raise DataError(
            f"{path}: unknown file type {path.suffix or '(none)'!r}; expected .xml or .sbml "
            "(SBML), .ant or .txt (Antimony)"
        )
    if format_ is not None and format_ != implied:
        raise DataError(f"--format {format_} does not match {path} ({implied})")
    format_ = implied
    check_writable(path)
    text = to_sbml(model) if format_ == "sbml" else to_antimony(model)
    atomic_write_text(path, text)
    typer.echo(
        f"wrote {path} ({format_}, {len(model.species)} species, "
        f"{len(model.reactions)} reactions, {len(model.parameters)} parameters)"
    )


@cell_app.command("diagram")
def diagram(
    path: Annotated[
        Path, typer.Argument(help="Output: .svg, .png or .pdf (Graphviz), or .gv (DOT text).")
    ],
    cell_type: CellTypes = None,
) -> None:
    """Draw the network (species, reactions, regulation) from the model, laid out by Graphviz."""
    from ..models.cell import build_cell_model
    from ..report._diagram import draw_network

    model = build_cell_model(CellConfig(cell_types=tuple(cell_type or ["all-blast"])))
    draw_network(model, path)
    typer.echo(f"wrote {path}")


@cell_app.command("scenarios")
def scenarios(json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the scenario library (each reproduces a behaviour of DESIGN §3)."""
    from ..models.scenarios import SCENARIOS

    if json_:
        echo_json(
            [
                {
                    "name": s.name,
                    "title": s.title,
                    "behaviour": s.behaviour,
                    "expectation": s.expectation,
                }
                for s in SCENARIOS.values()
            ]
        )
        return
    t = Table(title="Cell-model scenarios")
    for col in ("name", "title", "expectation"):
        t.add_column(col)
    for s in SCENARIOS.values():
        t.add_row(s.name, s.title, s.expectation)
    wide_console().print(t)


@cell_app.command("scenario")
def scenario(
    name: Annotated[str, typer.Argument(help="Scenario name (see `asnflux cell scenarios`).")],
    plot: Annotated[Path | None, typer.Option(help="Figure of its runs (.png/.svg).")] = None,
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run one scenario; exit 1 if its expectation does not hold."""
    from ..models.scenarios import run_scenario

    result = run_scenario(name)
    if plot is not None:
        from ..report._cell_plots import plot_scenario

        plot_scenario(result, plot)
        typer.echo(f"wrote {plot}", err=True)
    if json_:
        echo_json(result.to_dict())
    else:
        console = wide_console()
        console.print(f"[bold]{result.scenario.title}[/bold]\n{result.scenario.expectation}")
        for key, value in result.metrics.items():
            console.print(f"  {key} = {value:.4g}")
        for statement, ok in result.checks:
            mark = "[green]holds[/green]" if ok else "[red]FAILS[/red]"
            console.print(f"  {mark}: {statement}")
        for ref in result.scenario.references():
            console.print(f"  source: {ref}")
    if not result.passed:
        raise typer.Exit(1)


@cell_app.command("petab")
def petab(
    directory: Annotated[Path, typer.Argument(help="Folder for the PEtab problem's files.")],
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Write a PEtab v1 calibration problem (143B in DMEM, measured intracellular amino
    acids; the assumed constants to estimate) and show each measurement beside the model."""
    from ..models.cell import petab_predictions, write_cell_petab

    problem = write_cell_petab(directory)
    table = petab_predictions(problem)
    if json_:
        echo_json({"problem": str(problem), "measurements": table.to_dict(orient="records")})
        return
    typer.echo(f"wrote {problem} (PEtab v1) and its tables in {directory}")
    out = Table(title="measured vs model at the nominal parameters (z: log residual / SD)")
    for col in ("observable", "condition", "time [h]", "measured [mM]", "model [mM]", "z"):
        out.add_column(col)
    for row in table.itertuples():
        out.add_row(
            str(row.observableId),
            str(row.simulationConditionId),
            f"{row.time:g}",
            f"{row.measurement:.3g}",
            f"{row.simulation:.3g}",
            f"{row.z:+.2f}",
        )
    wide_console().print(out)


@cell_app.command("docs", hidden=True)
def docs(
    directory: Annotated[Path, typer.Argument(help="Folder for cell-model*.md (docs/).")],
    sobol: Annotated[
        int | None,
        typer.Option(help="Recompute the Sobol' ranking with N base samples (minutes)."),
    ] = None,
) -> None:
    """Regenerate docs/cell-model.md and docs/cell-model-sensitivity.md from the model; the
    Sobol' ranking comes from docs/data/cell-sobol.json (recomputed with --sobol N)."""
    import json

    from ..analysis._cell import sobol_markdown, sobol_ranking
    from ..models._cell_docs import cell_model_markdown, sensitivity_markdown

    if not directory.is_dir():
        raise DataError(f"{directory}: not a folder")
    store = directory / "data" / "cell-sobol.json"
    if sobol is not None:
        with progress_bar("Sobol' ranking") as advance:
            data = sobol_ranking(sobol, progress=lambda o, d, t: advance(d, t))
        store.parent.mkdir(exist_ok=True)
        atomic_write_text(store, json.dumps(data, indent=1, sort_keys=True) + "\n")
    page = sensitivity_markdown()
    if store.is_file():
        page += "\n" + sobol_markdown(json.loads(store.read_text(encoding="utf-8")))
    atomic_write_text(directory / "cell-model.md", cell_model_markdown())
    atomic_write_text(directory / "cell-model-sensitivity.md", page)
    typer.echo(f"wrote {directory / 'cell-model.md'} and cell-model-sensitivity.md")
