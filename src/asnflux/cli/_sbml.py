"""``asnflux sbml``: check and simulate SBML models written by other tools."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .._errors import DataError
from .._export import check_output, write_table
from ..network._foreign import MAX_POINTS, check_sbml, simulate_sbml
from ._common import bounded, echo_json, wide_console

sbml_app = typer.Typer(help="SBML models from other tools: check, simulate.", no_args_is_help=True)

_MAX_BYTES = 200_000_000

ModelFile = Annotated[Path, typer.Argument(help="An SBML file (Level 2 or 3).")]


def _read(path: Path) -> str:
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if not path.is_file():
        raise DataError(f"{path}: not a regular file; expected an SBML file")
    if path.stat().st_size > _MAX_BYTES:
        raise DataError(f"{path}: larger than 200 MB; not an SBML model AsnFlux will read")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None


@sbml_app.command("check")
def check(
    model: ModelFile,
    json_: Annotated[bool, typer.Option("--json", help="Machine-readable report.")] = False,
) -> None:
    """libsbml's validation report (unit checks included) and whether libroadrunner runs it;
    exit 1 when the model has errors or does not run."""
    report = check_sbml(_read(model), str(model))
    if json_:
        echo_json(report)
    else:
        console = wide_console()
        console.print(
            f"{model}: SBML L{report['level']}V{report['version']} model "
            f"{report['model']!r}: {report['species']} species, {report['reactions']} "
            f"reactions, {report['rules']} rules, {report['events']} events, "
            f"{report['function_definitions']} function definitions"
        )
        for kind in ("errors", "warnings"):
            console.print(f"{len(report[kind])} {kind}")
            for item in report[kind][:20]:
                console.print(f"  line {item['line']}: {item['message']}")
        console.print(
            "libroadrunner: runs it"
            if report["runnable"]
            else f"libroadrunner: does not run it ({report['runner_message']})"
        )
    if report["errors"] or not report["runnable"]:
        why = (
            f"{len(report['errors'])} SBML error(s), the first on line "
            f"{report['errors'][0]['line']}"
            if report["errors"]
            else "libroadrunner does not run it"
        )
        raise DataError(f"{model}: the model does not pass: {why}")


@sbml_app.command("simulate")
def simulate(
    model: ModelFile,
    end: Annotated[
        float,
        typer.Option(
            help="End time, in the model's time units.", callback=bounded(0, low_inclusive=False)
        ),
    ],
    points: Annotated[
        int, typer.Option(help="Output points from 0 to --end.", min=2, max=MAX_POINTS)
    ] = 101,
    output: Annotated[
        Path | None,
        typer.Option(help="Time course: .csv (units in the headers), .parquet, .nc, .xlsx, .json."),
    ] = None,
) -> None:
    """Simulate with libroadrunner (rtol 1e-6): time, then every species' concentration
    (its amount where the model declares only substance units)."""
    check_output(output, "table", "--output")
    table = simulate_sbml(_read(model), end, points, where=str(model))
    units = table.attrs["units"]
    if output is None:
        typer.echo(table.to_csv(index=False, float_format="%.10g"), nl=False)
        return
    if output.suffix.lower() == ".csv":
        shown = {c: f"{c} [{u}]" if u and c != "time" else c for c, u in units.items()}
        write_table(table.rename(columns=shown), output)
    else:
        write_table(table, output, units={c: u or "" for c, u in units.items()}, index="time")
    typer.echo(f"wrote {output}", err=True)
