"""``asnflux fit``: fit a named curve model to a CSV file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from .._errors import DataError
from .._export import check_output
from .._tables import numeric_column, read_table
from ..fitting import MODELS, WEIGHTS, fit_curve
from ._common import echo_json


def fit(
    data: Annotated[Path, typer.Argument(help="CSV file with one column per variable.")],
    model: Annotated[str, typer.Option(help=f"One of: {', '.join(MODELS)}.")],
    x: Annotated[str | None, typer.Option(help="x column (default: the first).")] = None,
    x2: Annotated[
        str | None, typer.Option(help="Second variable (inhibitor, co-substrate).")
    ] = None,
    y: Annotated[
        str | None,
        typer.Option(help="y column (default: the other column of a two-column file)."),
    ] = None,
    weight: Annotated[
        str | None,
        typer.Option(
            help=f"{', '.join(WEIGHTS)}, or the name of a column of SDs (default: a column "
            "named sd or sem if there is one, else none)."
        ),
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")] = False,
    plot: Annotated[
        Path | None, typer.Option(help="Write data, fit and residuals (.png/.svg).")
    ] = None,
) -> None:
    """Fit MODEL to DATA by weighted nonlinear least squares."""
    check_output(plot, "figure", "--plot")
    table = read_table(data)
    cols = list(table.columns)
    for opt, name in (("--x", x), ("--x2", x2), ("--y", y)):
        if name is not None and name not in cols:
            raise DataError(
                f"{data}: {opt} {name!r} is not a column; columns are {', '.join(cols)}"
            )
    xcol = x or cols[0]
    sd_cols = [c for c in cols if c.lower() in _SD_NAMES and c not in (xcol, x2, y)]
    if weight is None:
        weight = sd_cols[0] if len(sd_cols) == 1 else "none"
    ycol = y
    if ycol is None:
        rest = [c for c in cols if c not in (xcol, x2, weight)]
        if len(rest) != 1:
            raise DataError(
                f"{data}: cannot tell which column is y (columns {', '.join(cols)}); "
                "give --y NAME (and --x, --weight COLUMN for SDs)"
            )
        ycol = rest[0]
    xv, yv = numeric_column(table, xcol), numeric_column(table, ycol)
    x2v = numeric_column(table, x2) if x2 else None
    weights = numeric_column(table, weight) if weight in cols else weight
    names = {"x": xcol, "y": ycol, "x2": x2 or "x2", "sd": weight}
    result = fit_curve(model, xv, yv, x2=x2v, weights=weights, names=names)
    if plot is not None:
        from ..report._plots import plot_fit

        plot_fit(result, plot, xlabel=xcol, ylabel=ycol)
    if json_:
        echo_json(result.to_dict())
        return
    t = Table(title=f"{model} fitted to {data} (n = {result.n}, weights {weight})")
    for col in ("parameter", "value", "std. error", "95 % CI (Wald)", "95 % CI (profile)"):
        t.add_column(col)
    for name, est in result.parameters.items():
        lo, hi = est.ci95_profile
        prof = f"{_g(lo)} – {_g(hi)}"
        t.add_row(
            name,
            f"{est.value:.6g}",
            f"{est.stderr:.3g}",
            f"{est.ci95[0]:.4g} – {est.ci95[1]:.4g}",
            prof,
        )
    console = Console()
    console.print(t)
    console.print(
        f"RSS {result.rss:.6g} on {result.dof} dof, residual SD {result.residual_sd:.4g}, "
        f"R² {result.r2:.5f}, AIC {result.aic:.4g}"
    )


#: Column names read as standard deviations of y (used as weights 1/sd²) when present.
_SD_NAMES = ("sd", "sem", "se", "stdev", "std")


def _g(v: float | None) -> str:
    return "unbounded" if v is None else f"{v:.4g}"
