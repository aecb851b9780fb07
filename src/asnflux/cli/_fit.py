"""``asnflux fit``: fit a named curve model to a CSV file."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from .._errors import DataError
from .._export import check_output
from .._tables import file_row, numeric_column, read_table, text_column
from ..fitting import MODELS, WEIGHTS, fit_curve
from ..fitting._diagnostics import aicc, compare_fits, replicates_test, rout_outliers, runs_test
from ..fitting._equation import equation_model
from ..fitting._global import fit_global
from ._common import bounded, echo_json, name_values


def fit(
    data: Annotated[Path, typer.Argument(help="CSV file with one column per variable.")],
    model: Annotated[
        str | None, typer.Option(help=f"One of: {', '.join(MODELS)} (or --equation).")
    ] = None,
    equation: Annotated[
        str | None,
        typer.Option(
            help='Your own model, e.g. "y = b1*(1-exp(-b2*x))" (x, x2; exp, ln, log = '
            "log10, sqrt, ^ or **); needs --start for each parameter."
        ),
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="--equation starts: NAME=VALUE,… (e.g. b1=500,b2=1e-4).")
    ] = None,
    bounds: Annotated[
        str | None, typer.Option(help="--equation bounds: NAME=LOW:HIGH,… (inf allowed).")
    ] = None,
    fix: Annotated[
        str | None, typer.Option(help="--equation parameters held fixed: NAME=VALUE,….")
    ] = None,
    interpolate: Annotated[
        str | None,
        typer.Option(help="Responses to read x from the curve: Y1,Y2,… (within the x range)."),
    ] = None,
    enzyme_concentration: Annotated[
        float | None,
        typer.Option(
            help="Total enzyme concentration, in the concentration unit of y's rate: reports "
            "kcat = Vmax/E (per time unit of y).",
            callback=bounded(0, low_inclusive=False),
        ),
    ] = None,
    rout: Annotated[
        float | None,
        typer.Option(
            help="ROUT outlier detection at this Q (%, e.g. 1): robust fit, outliers by FDR, "
            "refit without them (Motulsky & Brown 2006).",
            callback=bounded(0, 50, low_inclusive=False, high_inclusive=False, unit="%"),
        ),
    ] = None,
    compare: Annotated[
        str | None,
        typer.Option(
            help="A second (nested) model: extra-sum-of-squares F test and AICc comparison."
        ),
    ] = None,
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
    group: Annotated[
        str | None,
        typer.Option(help="Column naming each point's data set: a global fit (with --share)."),
    ] = None,
    share: Annotated[
        str | None,
        typer.Option(
            help="Parameters shared by all data sets of --group, e.g. Km (the others are "
            "fitted per set); compared with the fit sharing nothing."
        ),
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")] = False,
    plot: Annotated[
        Path | None, typer.Option(help="Write data, fit and residuals (.png/.svg).")
    ] = None,
) -> None:
    """Fit MODEL (or your --equation) to DATA by weighted nonlinear least squares."""
    check_output(plot, "figure", "--plot")
    if (model is None) == (equation is None):
        raise DataError("give --model NAME or --equation 'y = …' (one of them)")
    if equation is None and (start or bounds or fix):
        raise DataError("--start, --bounds and --fix go with --equation")
    curve: Any = model
    if equation is not None:
        curve = equation_model(
            equation,
            _pairs(start, "--start"),
            bounds={
                k: _range(v, k) for k, v in _pairs(bounds, "--bounds", text_values=True).items()
            },
            fixed=_pairs(fix, "--fix"),
        )
    if (group is None) != (share is None):
        raise DataError("--share goes with --group (a global fit needs both)")
    if group is not None:
        clash = [o for o, v in (("--x2", x2), ("--compare", compare), ("--rout", rout),
                                ("--interpolate", interpolate),
                                ("--enzyme-concentration", enzyme_concentration)) if v]  # fmt: skip
        if clash:
            raise DataError(f"--group fits data sets globally; it does not combine with {clash[0]}")
    table = read_table(data)
    cols = list(table.columns)
    for opt, name in (("--x", x), ("--x2", x2), ("--y", y), ("--group", group)):
        if name is not None and name not in cols:
            raise DataError(
                f"{data}: {opt} {name!r} is not a column; columns are {', '.join(cols)}"
            )
    xcol = x or cols[0]
    if y is not None and y in (xcol, x2):
        raise DataError(f"--y {y!r} is also the x column; choose another")
    sd_cols = [c for c in cols if c.lower() in _SD_NAMES and c not in (xcol, x2, y)]
    if weight is None:
        weight = sd_cols[0] if len(sd_cols) == 1 else "none"
    ycol = y
    if ycol is None:
        rest = [c for c in cols if c not in (xcol, x2, weight, group)]
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
    lines = [file_row(table, i) for i in range(len(table))]
    where: dict[str, Any] = {"names": names, "rows": lines, "source": str(data)}
    glob = None
    if group is not None:
        shared = [p.strip() for p in (share or "").split(",") if p.strip()]
        glob = fit_global(curve, xv, yv, text_column(table, group), shared, weights=weights,
                          **where)  # fmt: skip
        result = glob.shared
    else:
        result = fit_curve(curve, xv, yv, x2=x2v, weights=weights, **where)
    diagnostics: dict[str, Any] = {
        "aicc": aicc(result),
        "runs_test": runs_test(result),
        "replicates_test": replicates_test(result),
    }
    comparison = None if glob is None else glob.comparison
    if compare is not None:
        other = fit_curve(compare, xv, yv, x2=x2v, weights=weights, **where)
        simple, rich = sorted((result, other), key=lambda r: -r.dof)
        if simple.dof == rich.dof:
            raise DataError(f"--compare {compare}: both models have {simple.dof} dof; need nested")
        comparison = compare_fits(simple, rich)
    extras: dict[str, Any] = {}
    if rout is not None:
        if not isinstance(weights, str) or weight != "none":
            raise DataError("--rout fits unweighted (as Prism's ROUT does); drop --weight")
        found = rout_outliers(curve, xv, yv, x2=x2v, q_percent=rout)
        rows = [file_row(table, i) for i in found["outliers"]]
        extras["rout"] = {
            "q_percent": rout,
            "outlier_rows": rows,
            "rsdr": found["rsdr"],
            "refit": found["fit"].to_dict(),
        }
    if enzyme_concentration is not None:
        if "Vmax" not in result.parameters:
            raise DataError("--enzyme-concentration needs a model with a Vmax parameter")
        vmax = result.parameters["Vmax"]
        extras["kcat"] = {
            "value": vmax.value / enzyme_concentration,
            "stderr": vmax.stderr / enzyme_concentration,
            "enzyme_concentration": enzyme_concentration,
        }
    if interpolate is not None:
        from ..assays._calibration import Calibration

        scheme = weight if isinstance(weights, str) else "none"
        cal = Calibration(result, scheme, float(xv.min()), float(xv.max()))
        values = _pairs(
            ",".join(f"y{i}={v}" for i, v in enumerate(interpolate.split(","))), "--interpolate"
        )
        extras["interpolated"] = [cal.inverse(v).to_dict() for v in values.values()]
    if plot is not None:
        from ..report._plots import plot_fit

        plot_fit(result, plot, xlabel=xcol, ylabel=ycol)
    if json_:
        payload = result.to_dict() | {"diagnostics": diagnostics} | extras
        if glob is not None:
            payload["global"] = {
                "sets": list(glob.sets),
                "shared": list(glob.shared_parameters),
                "comparison": glob.comparison,
                "separate": glob.separate.to_dict()["parameters"],
            }
        elif comparison is not None:
            payload["comparison"] = comparison
        echo_json(payload)
        return
    t = Table(
        title=f"{result.model.equation if equation else model} fitted to {data} "
        f"(n = {result.n}, weights {weight})"
    )
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
        + (f", AICc {diagnostics['aicc']:.4g}" if diagnostics["aicc"] is not None else "")
    )
    runs = diagnostics["runs_test"]
    if runs is not None:
        verdict = "[red]systematic deviation[/red]" if runs["deviates"] else "no deviation"
        console.print(f"Runs test: {runs['runs']} runs, P = {runs['p']:.3g} ({verdict})")
    reps = diagnostics["replicates_test"]
    if reps is not None:
        verdict = "[red]lack of fit[/red]" if reps["lack_of_fit"] else "adequate"
        console.print(
            f"Replicates test: F({reps['dfn']}, {reps['dfd']}) = {reps['F']:.3g}, "
            f"P = {reps['p']:.3g} ({verdict})"
        )
    if "rout" in extras:
        rows = extras["rout"]["outlier_rows"]
        refit = extras["rout"]["refit"]["parameters"]
        shown = ", ".join(f"{k} {v['value']:.4g}" for k, v in refit.items())
        console.print(
            f"ROUT (Q = {rout:g} %): "
            + (
                f"outliers in rows {', '.join(map(str, rows))}; refit: {shown}"
                if rows
                else "no outliers"
            )
        )
    if "kcat" in extras:
        k = extras["kcat"]
        console.print(f"kcat = Vmax/E = {k['value']:.4g} ± {k['stderr']:.2g}")
    for row in extras.get("interpolated", []):
        shown = "—" if row["value"] is None else f"{row['value']:.4g} ± {row['se']:.2g}"
        console.print(f"{ycol} {row['response']:g} → {xcol} {shown} ({row['status']})")
    if glob is not None:
        console.print(
            f"Global fit of {len(glob.sets)} data sets ({', '.join(glob.sets)}), shared "
            f"{', '.join(glob.shared_parameters)}; compared with the fit sharing nothing:"
        )
    if comparison is not None:
        ft, ac = comparison["f_test"], comparison["aicc"]
        if ft is not None:
            console.print(
                f"Extra-sum-of-squares F test: F = {ft['F']:.4g}, P = {ft['p']:.3g}; "
                f"prefer {ft['preferred']}"
            )
        if ac is not None:
            console.print(
                f"AICc: difference {ac['difference']:.3g}; prefer {ac['preferred']} "
                f"(probability {ac['probability_preferred_is_correct']:.3f})"
            )


def _pairs(text: str | None, option: str, *, text_values: bool = False) -> dict[str, Any]:
    """``"a=1,b=2"`` → ``{"a": 1.0, "b": 2.0}`` (see :func:`name_values`)."""
    items = [item for item in (text or "").split(",") if item.strip()]
    return name_values(items, option, text_values=text_values)


def _range(text: str, name: str) -> tuple[float, float]:
    low, sep, high = text.partition(":")
    try:
        lo, hi = float(low), float(high)
    except ValueError:
        lo = hi = math.nan
    if not sep or math.isnan(lo) or math.isnan(hi):
        raise DataError(f"--bounds {name}={text!r}: expected LOW:HIGH, e.g. 0:inf")
    return lo, hi


#: Column names read as standard deviations of y (used as weights 1/sd²) when present.
_SD_NAMES = ("sd", "sem", "se", "stdev", "std")


def _g(v: float | None) -> str:
    return "unbounded" if v is None else f"{v:.4g}"
