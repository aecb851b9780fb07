"""``asnflux demo``: the main job on embedded defaults, writing a report to a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .._demo import STEPS, run_demo
from ._common import progress_bar


def demo(
    out: Annotated[Path, typer.Option(help="Folder for the report and data files.")] = Path("out"),
) -> None:
    """Summarise the knowledge base (and, as they land, the models) into OUT."""
    with progress_bar("demo") as advance:
        done = iter(range(len(STEPS)))
        result = run_demo(out, progress=lambda step: advance(next(done), len(STEPS)))
    console = Console(width=120, highlight=False)
    console.print(result.summary_text)
    console.print(f"[green]wrote[/green] {', '.join(str(p) for p in result.files)}")
