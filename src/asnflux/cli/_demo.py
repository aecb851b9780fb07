"""``asnflux demo``: the main job on embedded defaults, writing a report to a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .._demo import run_demo


def demo(
    out: Annotated[Path, typer.Option(help="Folder for the report and data files.")] = Path("out"),
) -> None:
    """Summarise the knowledge base (and, as they land, the models) into OUT."""
    result = run_demo(out)
    console = Console(width=120, highlight=False)
    console.print(result.summary_text)
    console.print(f"[green]wrote[/green] {', '.join(str(p) for p in result.files)}")
