"""Small helpers shared by CLI commands: JSON output and file writing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from .._io import atomic_write_text


def echo_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=str))


def write_or_echo(text: str, output: Path | None) -> None:
    """Write ``text`` atomically to ``output``, or print it when no file is given."""
    if output is None:
        typer.echo(text, nl=False)
    else:
        atomic_write_text(output, text)
        typer.echo(f"wrote {output}", err=True)


def wide_console() -> Console:
    """A console at least 160 columns wide: tables of ids and advice fold badly at 80."""
    return Console(width=max(Console().width, 160))
