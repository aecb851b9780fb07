"""``asnflux assay``: the seed's assay protocols from instrument exports."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from .._errors import DataError, FitError
from .._export import check_output
from .._io import atomic_write_text
from .._tables import read_table
from ..assays import (
    asns_activity,
    asparaginase_activity,
    asparaginase_activity_from_aspartate,
    isotope_report,
    lcms_quantify,
)
from ..assays._asns import TYPES as ASNS_TYPES
from ..assays._asparaginase import _TYPES as NESSLER_TYPES
from ..assays._plates import load_measurements
from ._common import bounded, echo_json, quantity, wide_console

assay_app = typer.Typer(help="Analyse assay exports with QC.", no_args_is_help=True)

Inputs = Annotated[
    list[Path], typer.Argument(help="Input file(s): long tables, or plate exports with --layout.")
]
Layout = Annotated[
    Path | None, typer.Option(help="Plate layout CSV mapping wells (A1…) to type, sample, …")
]
Report = Annotated[Path | None, typer.Option(help="Write a self-contained HTML report here.")]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")]
Purity = Annotated[
    float,
    typer.Option(
        help="Isotopic enrichment per labelled atom (0-1].",
        callback=bounded(0, 1, low_inclusive=False),
    ),
]


def _concentration_unit(value: str | None) -> str | None:
    if value is not None:
        quantity("mM")(f"1 {value}")
    return value


Grid = Annotated[
    int | None,
    typer.Option(help="Plate exports with several grids (reads): which one, 1-based.", min=1),
]


def _names_inputs(command: Callable[..., None]) -> Callable[..., None]:
    """A data, fit or solve failure in ``command`` names the input file(s) it came from.

    Messages that already name a file, or that are about an option, are left as they are.
    """

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except (DataError, FitError) as exc:
            paths = [str(p) for p in kwargs.get("inputs") or []]
            text = str(exc)
            named = text.split(": ", 1)[0]  # a message that starts with another file's name
            if not paths or "--" in text or any(p in text for p in paths) or Path(named).is_file():
                raise
            kind = FitError if isinstance(exc, FitError) else DataError
            raise kind(f"{', '.join(paths)}: {text}") from None

    return run


def _report(
    result: Any,
    report: Path | None,
    title: str,
    inputs: list[Path],
    metadata: dict[str, str] | None = None,
) -> None:
    if report is None:
        return
    check_output(report, "html", "--report")
    from ..report._html import assay_report_html  # matplotlib only when a report is asked for

    page = assay_report_html(
        result, title=title, inputs=[str(p) for p in inputs], metadata=metadata
    )
    atomic_write_text(report, page)
    typer.echo(f"wrote {report}", err=True)


def _fmt(v: Any, spec: str = ".3g") -> str:
    return "—" if v is None or (isinstance(v, float) and pd.isna(v)) else format(v, spec)


@assay_app.command("asparaginase")
@_names_inputs
def asparaginase(
    inputs: Inputs,
    reaction_volume: Annotated[
        str, typer.Option(help='Reaction volume, e.g. "1.0 mL".', callback=quantity("mL"))
    ],
    sample_volume: Annotated[
        str, typer.Option(help='Enzyme sample volume, e.g. "0.1 mL".', callback=quantity("mL"))
    ],
    time: Annotated[
        str, typer.Option(help='Incubation time, e.g. "10 min".', callback=quantity("min"))
    ],
    layout: Layout = None,
    grid: Grid = None,
    readout: Annotated[
        str, typer.Option(help="nessler (NH3, absorbance) or aspartate-lcms (peak report).")
    ] = "nessler",
    model: Annotated[str, typer.Option(help="Standard-curve model (Nessler).")] = "linear",
    weight: Annotated[str, typer.Option(help="Standard-curve weighting (Nessler).")] = "none",
    protein: Annotated[
        str | None,
        typer.Option(
            help='Protein of the undiluted sample, e.g. "2 mg/mL".', callback=quantity("mg/mL")
        ),
    ] = None,
    blank_sample: Annotated[
        str | None, typer.Option(help="aspartate-lcms: the substrate-only reaction's sample.")
    ] = None,
    json_: Json = False,
    report: Report = None,
) -> None:
    """L-asparaginase activity (IU/mL, IU/mg) by Nessler NH3 or LC-MS/MS aspartate."""
    check_output(report, "html", "--report")
    if readout == "aspartate-lcms":
        lcms = lcms_quantify([read_table(p) for p in inputs], analyte=None)
        result: Any = asparaginase_activity_from_aspartate(
            lcms,
            reaction_volume=reaction_volume,
            sample_volume=sample_volume,
            time=time,
            blank_sample=blank_sample,
            protein=protein,
        )
    elif readout == "nessler":
        result = asparaginase_activity(
            load_measurements(inputs, layout, "absorbance", NESSLER_TYPES, grid),
            reaction_volume=reaction_volume,
            sample_volume=sample_volume,
            time=time,
            calibration_model=model,
            weights=weight,
            protein=protein,
        )
    else:
        raise DataError(f"readout {readout!r} is not one of nessler, aspartate-lcms")
    _report(result, report, "L-asparaginase activity", inputs)
    if json_:
        echo_json(result.to_dict())
        return
    console = wide_console()
    if readout == "nessler":
        cal = result.calibration
        console.print(
            f"Standard curve ({cal.fit.model.name}, R² {cal.fit.r2:.5f}), range "
            f"{cal.lloq:g}-{cal.uloq:g} mM NH4+"
        )
    else:
        console.print(f"LC-MS/MS run accepted: {result.lcms.verdicts['run_accepted']}")
    t = Table(title=f"Asparaginase activity (threshold {result.threshold_iu_per_ml:g} IU/mL)")
    for col in ("sample", "activity (IU/mL)", "IU/mg", "status", "≥ threshold", "advice"):
        t.add_column(col)
    for row in result.samples.to_dict(orient="records"):
        act = row["activity_IU_per_mL"]
        shown = "—" if act is None or pd.isna(act) else f"{act:.3g} ± {row['activity_se']:.2g}"
        advice = ""
        if row.get("recommended_dilution") is not None and pd.notna(row["recommended_dilution"]):
            advice = f"re-assay at dilution {row['recommended_dilution']:g}"
        above = row["at_or_above_threshold"]
        t.add_row(
            str(row["sample"]),
            shown,
            _fmt(row.get("specific_activity_IU_per_mg")),
            row["status"],
            "" if above is None else ("yes" if above else "[red]no[/red]"),
            advice,
        )
    console.print(t)
    console.print(f"Threshold source: {result.threshold_source}")


@assay_app.command("asns")
@_names_inputs
def asns(
    inputs: Inputs,
    reaction_volume: Annotated[
        str, typer.Option(help='Reaction volume, e.g. "50 uL".', callback=quantity("mL"))
    ],
    lysate_volume: Annotated[
        str, typer.Option(help='Lysate per reaction, e.g. "10 uL".', callback=quantity("mL"))
    ],
    layout: Layout = None,
    grid: Grid = None,
    readout: Annotated[str, typer.Option(help="amp-glo or c14.")] = "amp-glo",
    specific_radioactivity: Annotated[
        str | None, typer.Option(help='c14: substrate, e.g. "50 mCi/mmol" or "2000 dpm/nmol".')
    ] = None,
    counting_efficiency: Annotated[
        float | None,
        typer.Option(
            help="c14: counting efficiency when counts are CPM (0-1].",
            callback=bounded(0, 1, low_inclusive=False),
        ),
    ] = None,
    counted_fraction: Annotated[
        float,
        typer.Option(
            help="c14: fraction of the reaction counted (0-1].",
            callback=bounded(0, 1, low_inclusive=False),
        ),
    ] = 1.0,
    amp_model: Annotated[str, typer.Option(help="AMP standard-curve model.")] = "linear",
    amp_weight: Annotated[str, typer.Option(help="AMP standard-curve weighting.")] = "1/y2",
    protein_model: Annotated[str, typer.Option(help="Bradford curve model.")] = "linear",
    json_: Json = False,
    report: Report = None,
) -> None:
    """ASNS specific activity (nmol/min/mg) by AMP-Glo or 14C counts, with Bradford protein."""
    check_output(report, "html", "--report")
    result = asns_activity(
        load_measurements(inputs, layout, "signal", ASNS_TYPES, grid),
        reaction_volume=reaction_volume,
        lysate_volume=lysate_volume,
        readout=readout,
        specific_radioactivity=specific_radioactivity,
        counting_efficiency=counting_efficiency,
        counted_fraction=counted_fraction,
        amp_model=amp_model,
        amp_weights=amp_weight,
        protein_model=protein_model,
    )
    _report(result, report, "ASNS activity", inputs)
    if json_:
        echo_json(result.to_dict())
        return
    console = wide_console()
    t = Table(title=f"ASNS specific activity ({readout})")
    for col in ("lysate", "rate (nmol/min)", "points", "linear", "protein (mg/mL)", "nmol/min/mg"):
        t.add_column(col)
    for row in result.samples.to_dict(orient="records"):
        act = row.get("specific_activity_nmol_per_min_per_mg")
        t.add_row(
            row["sample"],
            _fmt(row.get("rate_nmol_per_min")),
            _fmt(row.get("time_points_used"), "g"),
            {True: "yes", False: "[red]no[/red]", None: "untested"}[row.get("linear")],
            _fmt(row.get("protein_mg_per_mL")),
            "—" if act is None else f"{act:.3g} ± {row['specific_activity_se']:.2g}",
        )
    console.print(t)
    for f in result.findings:
        console.print(f"• {f}")


@assay_app.command("lcms")
@_names_inputs
def lcms(
    inputs: Inputs,
    analyte: Annotated[
        str | None,
        typer.Option(
            "--molecule", "--analyte", help="Molecule to quantify when the report holds several."
        ),
    ] = None,
    is_label: Annotated[
        str | None,
        typer.Option(
            help="Skyline label type of the internal standard (heavy, heavyD5, …) when a long "
            "report has several."
        ),
    ] = None,
    transitions: Annotated[
        str,
        typer.Option(
            help="Per-transition rows: sum (Skyline's Total Area) or quantifier (the "
            "'Quantitative' transition, else the most intense)."
        ),
    ] = "sum",
    model: Annotated[str, typer.Option(help="Calibration model.")] = "linear",
    weight: Annotated[str, typer.Option(help="Calibration weighting.")] = "1/x2",
    unit: Annotated[
        str | None,
        typer.Option(
            help="Unit of nominal concentrations when the header states none (default µM).",
            callback=_concentration_unit,
        ),
    ] = None,
    strategy: Annotated[str, typer.Option(help="calibration or standard-addition.")] = (
        "calibration"
    ),
    extract_volume: Annotated[
        str | None,
        typer.Option(
            help='Extract volume, e.g. "0.2 mL" (enables normalisation).', callback=quantity("mL")
        ),
    ] = None,
    cell_volume: Annotated[
        str | None,
        typer.Option(help='Cell volume, e.g. "0.6 pL", or a record id (cell.all_blast.volume).'),
    ] = None,
    label: Annotated[
        str | None,
        typer.Option(help='Internal standard\'s labelled atoms, e.g. "13C4,15N2" or "15N2,d8".'),
    ] = None,
    purity: Purity = 0.99,
    sheet: Annotated[
        Path | None, typer.Option(help="mzML input: sample sheet (File, Sample Type, …).")
    ] = None,
    analyte_trace: Annotated[
        str | None, typer.Option(help="mzML input: text in the analyte chromatogram's id.")
    ] = None,
    is_trace: Annotated[
        str | None, typer.Option(help="mzML input: text in the IS chromatogram's id.")
    ] = None,
    rt: Annotated[
        float | None,
        typer.Option(help="mzML input: retention time (min).", callback=bounded(0, unit="min")),
    ] = None,
    half_window: Annotated[
        float,
        typer.Option(
            help="mzML input: integration half-window (min).",
            callback=bounded(0, 60, low_inclusive=False, unit="min"),
        ),
    ] = 0.25,
    json_: Json = False,
    report: Report = None,
    history: Annotated[
        list[Path] | None,
        typer.Option(
            help="An earlier run's --json output (repeatable): QC levels on a Levey–Jennings "
            "chart with Westgard rules."
        ),
    ] = None,
    analyst: Annotated[str | None, typer.Option(help="Analyst, shown in the report.")] = None,
    instrument: Annotated[str | None, typer.Option(help="Instrument, shown in the report.")] = None,
) -> None:
    """LC-MS/MS isotope-dilution quantification with ICH M10 run acceptance.

    Inputs are Skyline-style peak reports (CSV), or one mzML file per injection together
    with --sheet, --analyte-trace, --is-trace and --rt.
    """
    check_output(report, "html", "--report")
    mzml = [p for p in inputs if p.suffix.lower() == ".mzml"]
    if mzml and len(mzml) != len(inputs):
        raise DataError("give either peak reports (CSV) or mzML files, not both")
    if mzml:
        if sheet is None or analyte_trace is None or is_trace is None or rt is None:
            raise DataError("mzML input needs --sheet, --analyte-trace, --is-trace and --rt")
        from ..assays._mzml import peak_table_from_mzml

        tables = [
            peak_table_from_mzml(
                list(mzml),
                read_table(sheet),
                analyte_trace=analyte_trace,
                is_trace=is_trace,
                rt=rt,
                half_window=half_window,
            )
        ]
    else:
        tables = [read_table(p) for p in inputs]
    result = lcms_quantify(
        tables,
        analyte=analyte,
        model=model,
        weights=weight,
        concentration_unit=unit,
        strategy=strategy,
        extract_volume=extract_volume,
        cell_volume=cell_volume,
        label=label,
        label_purity=purity,
        is_label=is_label,
        transitions=transitions,
    )
    if history:
        from ..assays._levey import read_history

        result = result.with_history(read_history(list(history), result.molecule))
    meta = {"analyst": analyst or "", "instrument": instrument or ""}
    _report(result, report, f"LC-MS/MS quantification of {result.molecule}", inputs, meta)
    if json_:
        echo_json(result.to_dict())
        return
    console = wide_console()
    v = result.verdicts
    verdict = {True: "[green]ACCEPTED[/green]", False: "[red]REJECTED[/red]"}.get(
        v["run_accepted"], "not assessed"
    )
    console.print(f"Run {verdict} (ICH M10)")
    t = Table(title=f"{result.molecule}")
    cols = ["replicate", "status", "conc. (µM)"]
    extra = [
        c
        for c in ("nmol_per_1e6_cells", "nmol_per_mg_protein", "intracellular_mM")
        if c in result.unknowns.columns and result.unknowns[c].notna().any()
    ]
    for col in cols + extra:
        t.add_column(col)
    for row in result.unknowns.to_dict(orient="records"):
        c = row["concentration_uM"]
        shown = "—" if c is None or pd.isna(c) else f"{c:.4g} ± {row['se_uM']:.2g}"
        t.add_row(row["replicate"], row["status"], shown, *(_fmt(row[e]) for e in extra))
    console.print(t)
    for f in result.findings:
        console.print(f"• {f}")


@assay_app.command("isotopes")
def isotopes(
    analyte: Annotated[str, typer.Option(help="Asn, Asp, Gln or Glu.")] = "Asn",
    label: Annotated[str, typer.Option(help='Label, e.g. "13C4,15N2" or "15N2,d8".')] = (
        "13C4,15N2"
    ),
    purity: Purity = 0.99,
    json_: Json = False,
) -> None:
    """Computed isotope facts: [M+H]+ masses, exchangeable H, natural M+n, crosstalk."""
    r = isotope_report(analyte, label, purity).to_dict()
    if json_:
        echo_json(r)
        return
    s = r["standard"]
    typer.echo(f"{r['analyte']} {r['formula']} ({r['chebi']}): [M+H]+ {r['mz_M+H']:.5f}")
    typer.echo(f"  exchangeable H: {r['exchangeable_H']}, carbon-bound H: {r['nonexchangeable_H']}")
    typer.echo(
        f"  standard {s['label']}: as sold {s['formula_as_sold']} [M+H]+ "
        f"{s['mz_M+H_as_sold']:.5f}; observed in protic solvent {s['formula_observed']} "
        f"[M+H]+ {s['mz_M+H_observed']:.5f} (M+{s['mass_shift_observed']})"
    )
    nat = ", ".join(f"M+{k} {100 * v:.4g} %" for k, v in enumerate(r["natural_abundance"][:4]))
    typer.echo(f"  natural abundance: {nat}")
    c = r["crosstalk"]
    typer.echo(
        f"  crosstalk: analyte into IS channel {c['analyte_into_IS_channel']:.3g}, "
        f"IS into analyte channel {c['IS_into_analyte_channel']:.3g}"
    )
