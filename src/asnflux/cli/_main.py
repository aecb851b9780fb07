"""Entry point: runs the typer app and turns AsnfluxError into a one-line red message."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from .._errors import AsnfluxError
from ._assay import assay_app
from ._cell import cell_app
from ._demo import demo
from ._fit import fit
from ._params import params_app
from ._therapy import therapy_app

app = typer.Typer(
    name="asnflux",
    help="AsnFlux: L-asparagine metabolism from the enzyme to the patient.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(params_app, name="params")
app.add_typer(assay_app, name="assay")
app.add_typer(cell_app, name="cell")
app.add_typer(therapy_app, name="therapy")
app.command("demo")(demo)
app.command("fit")(fit)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; exit 1 with ``error: …`` on an AsnfluxError, 2 on a usage error.

    Typer runs in standalone mode (usage errors are reported by it, exit code 2); an
    AsnfluxError propagates out of it and is shown here as one red line.
    """
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        app(args=argv, prog_name="asnflux")
    except AsnfluxError as exc:
        err.print(f"[bold red]error:[/bold red] {escape(str(exc))}")
        sys.exit(1)
