"""Entry point: runs the typer app; every failure ends as one line on stderr.

Exit codes: 0 success, 1 an :class:`AsnfluxError` (bad input, failed fit or solve), 2 a
usage error (unknown option, a value the option cannot take), 3 an internal error (a bug:
the message says so and asks for a report; the fuzz suite treats it as a failure).
Python warnings are routed to the ``logging`` module, so they never come before an error
line; ``-v`` shows them.
"""

from __future__ import annotations

import logging
import re
import sys
import warnings
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer import exceptions as typer_exc
from typer._click import exceptions as click_exc

from .. import __version__
from .._errors import AsnfluxError
from ._analyze import analyze_app
from ._assay import assay_app
from ._cell import cell_app
from ._demo import demo
from ._fit import fit
from ._params import params_app
from ._sbml import sbml_app
from ._therapy import therapy_app
from ._web import db_app, serve, users_app

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
app.add_typer(sbml_app, name="sbml")
app.add_typer(analyze_app, name="analyze")
app.command("demo")(demo)
app.command("fit")(fit)
app.command("serve")(serve)
app.add_typer(users_app, name="users")
app.add_typer(db_app, name="db")

log = logging.getLogger("asnflux")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"asnflux {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More log output (-vv: debug).")
    ] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Errors only.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """AsnFlux: L-asparagine metabolism from the enzyme to the patient."""
    if quiet and verbose:
        raise click_exc.UsageError("give -q/--quiet or -v/--verbose, not both")
    level = (
        logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    )
    _configure_logging(level)


def _configure_logging(level: int) -> None:
    """The standard ``logging`` module on stderr; Python warnings become log records."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    for name in ("asnflux", "py.warnings"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
        # Library warnings (pandas, numpy) are detail for -v, not noise before a result.
        logger.setLevel(level if name == "asnflux" else max(level, logging.INFO) + 10)
    logging.captureWarnings(True)


_NUMPY_REPR = re.compile(r"np\.(?:float|int|uint|bool|str)_?\d*\((.*?)\)")


def one_line(message: str) -> str:
    """A message as one line, numpy scalar reprs (``np.float64(2.0)``) shown as numbers."""
    text = _NUMPY_REPR.sub(r"\1", str(message))
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _command_path(argv: list[str]) -> str:
    """'asnflux therapy simulate' for argv naming that (sub)command, however it failed."""
    command: Any = typer.main.get_command(app)
    words = ["asnflux"]
    for word in argv:
        sub = getattr(command, "commands", {}).get(word)
        if sub is None:
            break
        words.append(word)
        command = sub
    return " ".join(words)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and exit with its status (see the module docstring)."""
    err = Console(stderr=True, highlight=False, soft_wrap=True)

    def fail(kind: str, message: str, code: int) -> None:
        err.print(f"[bold red]{kind}:[/bold red] {escape(one_line(message))}")
        sys.exit(code)

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        _configure_logging(logging.WARNING)
        try:
            code = app(args=argv, prog_name="asnflux", standalone_mode=False)
        except AsnfluxError as exc:
            fail("error", str(exc), 1)
        except click_exc.NoArgsIsHelpError:
            sys.exit(0)  # the help text is printed when the error is made
        except click_exc.UsageError as exc:
            path = exc.ctx.command_path if exc.ctx is not None else "asnflux"
            if path == "asnflux":  # click names the top level for some parse errors
                path = _command_path(sys.argv[1:] if argv is None else argv)
            fail("usage error", f"{exc.format_message().rstrip('.')}; see '{path} --help'", 2)
        except click_exc.ClickException as exc:
            fail("error", exc.format_message(), exc.exit_code or 1)
        except typer_exc.Abort:
            fail("error", "aborted", 130)
        except KeyboardInterrupt:
            fail("error", "interrupted", 130)
        except MemoryError:
            fail("error", "out of memory; use a smaller size (e.g. fewer patients)", 1)
        except RecursionError:
            fail("internal error", "recursion limit reached; please report this input", 3)
        except Exception as exc:
            log.debug("internal error", exc_info=True)
            fail(
                "internal error",
                f"{type(exc).__name__}: {exc} (a bug in AsnFlux; please report the command, "
                "run with -vv for details)",
                3,
            )
    sys.exit(code if isinstance(code, int) else 0)
