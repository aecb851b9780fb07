"""``asnflux params``: browse, show, compare and export the knowledge base."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .._errors import DataError
from .._io import check_writable
from ..knowledge import load_knowledge_base
from ._common import echo_json, wide_console, write_or_echo

params_app = typer.Typer(help="Browse the cited knowledge base.", no_args_is_help=True)

_Entity = Annotated[str | None, typer.Option(help="Substring of the entity, e.g. ASNS.")]
_Quantity = Annotated[str | None, typer.Option(help="Quantity kind, e.g. Km, half_life.")]
_Organism = Annotated[str | None, typer.Option(help="Substring of the organism.")]
_Source = Annotated[str | None, typer.Option(help="Reference key, or 'assumption'.")]
_Topic = Annotated[str | None, typer.Option(help="Topic, e.g. pharmacokinetics.")]
_Flag = Annotated[str | None, typer.Option(help="Only records with this flag.")]
_Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


_LIST_COLUMNS = ("id", "quantity", "entity", "substrate / organism", "value", "source", "flags")
_FULL_WIDTH = 120


@params_app.command("list")
def list_(
    entity: _Entity = None,
    quantity: _Quantity = None,
    organism: _Organism = None,
    source: _Source = None,
    topic: _Topic = None,
    flag: _Flag = None,
    json_: _Json = False,
) -> None:
    """List records, optionally filtered."""
    kb = load_knowledge_base()
    records = kb.query(
        entity=entity, quantity=quantity, organism=organism, source=source, topic=topic, flag=flag
    )
    if json_:
        echo_json([r.to_dict() for r in records])
        return
    console = wide_console()
    # Below 120 columns seven columns fold into unreadable slivers: keep what identifies a
    # record and its value, and say where the rest is.
    narrow = console.width < _FULL_WIDTH
    columns = ("id", "value", "source") if narrow else _LIST_COLUMNS
    table = Table(
        title=f"{len(records)} records",
        show_lines=False,
        caption="narrow terminal: 'asnflux params show ID' or --json for every field"
        if narrow
        else None,
    )
    for col in columns:
        table.add_column(col, overflow="fold", no_wrap=col == "id" and not narrow)
    for r in records:
        cells = {
            "id": r.id,
            "quantity": r.quantity,
            "entity": r.entity,
            "substrate / organism": " / ".join(x for x in (r.substrate, r.organism) if x),
            "value": r.display_value(),
            "source": r.source,
            "flags": ", ".join(r.flags),
        }
        table.add_row(*(cells[c] for c in columns))
    console.print(table)


@params_app.command("show")
def show(
    record_id: Annotated[str, typer.Argument(help="Record id.")], json_: _Json = False
) -> None:
    """Show one record in full, with its citation."""
    kb = load_knowledge_base()
    r = kb.get(record_id)
    refs = kb.cite([r])
    if json_:
        payload = r.to_dict()
        payload["citation"] = refs[0].format() if refs else None
        echo_json(payload)
        return
    table = Table(show_header=False, title=r.id)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    rows = [
        ("quantity", r.quantity),
        ("entity", r.entity),
        ("substrate", r.substrate),
        ("organism", r.organism),
        ("value", r.display_value()),
        ("printed", r.printed + (f"  (column unit: {r.printed_unit})" if r.printed_unit else "")),
        ("conditions", "; ".join(f"{k}: {v}" for k, v in r.conditions)),
        ("source", r.source + (f" ({r.locator})" if r.locator else "")),
        ("citation", refs[0].format() if refs else ""),
        ("reason", r.reason),
        ("flags", ", ".join(r.flags)),
        ("notes", r.notes),
    ]
    for name, value in rows:
        if value:
            table.add_row(name, value)
    wide_console().print(table)


@params_app.command("conflicts")
def conflicts(json_: _Json = False) -> None:
    """Show quantities reported with different values, like with like, side by side."""
    kb = load_knowledge_base()
    groups = kb.conflicts()
    if json_:
        echo_json(
            [
                {"fold_range": df.attrs["fold_range"], "records": df.to_dict(orient="records")}
                for df in groups
            ]
        )
        return
    console = wide_console()
    for df in groups:
        head = df.iloc[0]
        table = Table(
            title=f"{head['quantity']} — {head['entity']} {head['substrate']} "
            f"(spread {df.attrs['fold_range']:.3g}-fold)"
        )
        for col in ("id", "organism", "display", "source", "flags"):
            table.add_column(col, overflow="fold")
        for rec in df.to_dict(orient="records"):
            table.add_row(*(str(rec[c]) for c in ("id", "organism", "display", "source", "flags")))
        console.print(table)


@params_app.command("export")
def export(
    format_: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="csv, json or bibtex (the cited references); default from the --output "
            "suffix (.csv, .json, .bib), else csv.",
        ),
    ] = None,
    output: Annotated[Path | None, typer.Option(help="File to write (default: stdout).")] = None,
    entity: _Entity = None,
    quantity: _Quantity = None,
    organism: _Organism = None,
    source: _Source = None,
    topic: _Topic = None,
) -> None:
    """Export records (all, or those matching the filters)."""
    by_suffix = {".csv": "csv", ".json": "json", ".bib": "bibtex"}
    if output is not None:
        implied = by_suffix.get(output.suffix.lower())
        if implied is None:
            raise DataError(
                f"--output {output}: unknown file type {output.suffix or '(none)'!r}; "
                "expected .csv, .json or .bib"
            )
        if format_ is not None and format_ != implied:
            raise DataError(f"--format {format_} does not match --output {output} ({implied})")
        format_ = implied
        check_writable(output)
    kb = load_knowledge_base()
    records = kb.query(
        entity=entity, quantity=quantity, organism=organism, source=source, topic=topic
    )
    write_or_echo(kb.export(format_ or "csv", records), output)
