"""``asnflux assay``: the seed's assay protocols from instrument exports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .._tables import read_table
from ..assays import asparaginase_activity
from ._common import echo_json, wide_console

assay_app = typer.Typer(help="Analyse assay exports with QC.", no_args_is_help=True)


@assay_app.command("asparaginase")
def asparaginase(
    data: Annotated[Path, typer.Argument(help="CSV: sample, type, nh4_mM, absorbance, dilution.")],
    reaction_volume: Annotated[str, typer.Option(help='Reaction volume, e.g. "1.0 mL".')],
    sample_volume: Annotated[str, typer.Option(help='Enzyme sample volume, e.g. "0.1 mL".')],
    time: Annotated[str, typer.Option(help='Incubation time, e.g. "10 min".')],
    model: Annotated[str, typer.Option(help="Standard-curve model.")] = "linear",
    weight: Annotated[str, typer.Option(help="Standard-curve weighting.")] = "none",
    json_: Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")] = False,
) -> None:
    """L-asparaginase activity (IU/mL) by Nessler ammonia detection."""
    result = asparaginase_activity(
        read_table(data),
        reaction_volume=reaction_volume,
        sample_volume=sample_volume,
        time=time,
        calibration_model=model,
        weights=weight,
    )
    if json_:
        echo_json(result.to_dict())
        return
    fit = result.calibration.fit
    console = wide_console()
    console.print(
        f"Standard curve ({fit.model.name}, R² {fit.r2:.5f}), range "
        f"{result.calibration.lloq:g}-{result.calibration.uloq:g} mM NH4+"
    )
    t = Table(title=f"Asparaginase activity (threshold {result.threshold_iu_per_ml:g} IU/mL)")
    for col in ("sample", "dilution", "activity (IU/mL)", "status", "≥ threshold", "advice"):
        t.add_column(col)
    for row in result.samples.to_dict(orient="records"):
        act = row["activity_IU_per_mL"]
        shown = "—" if act is None else f"{act:.3g} ± {row['activity_se']:.2g}"
        advice = ""
        if row["recommended_dilution"] is not None:
            advice = f"re-assay at dilution {row['recommended_dilution']:g}"
        above = row["at_or_above_threshold"]
        t.add_row(
            str(row["sample"]),
            f"{row['dilution']:g}",
            shown,
            row["status"],
            "" if above is None else ("yes" if above else "[red]no[/red]"),
            advice,
        )
    console.print(t)
    console.print(f"Threshold source: {result.threshold_source}")
