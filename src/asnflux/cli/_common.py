"""Small helpers shared by CLI commands: JSON output, file writing, option checks."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from .._errors import AsnfluxError, DataError
from .._export import strict_json
from .._io import atomic_write_text
from ..units import as_quantity


def echo_json(payload: Any) -> None:
    """Print ``payload`` as strict JSON (missing or non-finite values are ``null``)."""
    typer.echo(strict_json(payload))


def write_or_echo(text: str, output: Path | None) -> None:
    """Write ``text`` atomically to ``output``, or print it when no file is given."""
    if output is None:
        typer.echo(text, nl=False)
    else:
        atomic_write_text(output, text)
        typer.echo(f"wrote {output}", err=True)


def wide_console() -> Console:
    """A console as wide as the terminal; tables fold long cells to fit it.

    Output to a pipe or file has no width to fit, so lines are not folded there (up to 200
    columns, or $COLUMNS), keeping each table row on one line for grep and scripts.
    """
    console = Console(highlight=False)
    if console.is_terminal:
        return console
    return Console(highlight=False, width=max(console.width, 200))


def bounded(
    low: float | None = None,
    high: float | None = None,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    unit: str = "",
) -> Callable[[Any], Any]:
    """A typer option callback: the value must be finite and within [low, high].

    Refused values are usage errors naming the option (exit 2), e.g. ``--threshold nan``.
    """

    def check(value: Any) -> Any:
        if value is None:
            return value
        v = float(value)
        lo_ok = low is None or (v >= low if low_inclusive else v > low)
        hi_ok = high is None or (v <= high if high_inclusive else v < high)
        if math.isfinite(v) and lo_ok and hi_ok:
            return value
        parts = []
        if low is not None:
            parts.append(f"{'≥' if low_inclusive else '>'} {low:g}")
        if high is not None:
            parts.append(f"{'≤' if high_inclusive else '<'} {high:g}")
        span = " and ".join(parts)
        suffix = f" {unit}" if unit else ""
        raise typer.BadParameter(
            f"{value!r} is not allowed; expected a finite number{' ' + span if span else ''}"
            f"{suffix}"
        )

    return check


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr for a long run; yields ``advance(done, total)``.

    Shown only on a terminal and not with ``-q`` (logging above WARNING), so pipes, files
    and tests get clean output.
    """
    console = Console(stderr=True)
    quiet = logging.getLogger("asnflux").getEffectiveLevel() > logging.WARNING
    if quiet or not console.is_terminal:
        yield lambda done, total: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=1.0)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done / max(total, 1))

        yield advance


def quantity(dimension: str, *, positive: bool = True) -> Callable[[Any], Any]:
    """A typer option callback: the text must be one quantity of ``dimension``.

    The text is returned unchanged (the library reads it); a range, a bare number, a
    wrong unit or (with ``positive``, as for every volume, time and concentration option)
    a value ≤ 0 is a usage error naming the option.
    """

    def check(value: Any) -> Any:
        if value is None:
            return value
        try:
            q = as_quantity(value, dimension, name="value")
        except AsnfluxError as exc:
            raise typer.BadParameter(str(exc).removeprefix("value: ")) from None
        if positive and not q.magnitude > 0:
            raise typer.BadParameter(f"{value!r} must be greater than 0")
        return value

    return check


def name_values(
    items: list[str] | None, option: str, *, text_values: bool = False
) -> dict[str, Any]:
    """``["a=1", "b=2"]`` → ``{"a": 1.0, "b": 2.0}``: finite numbers (or text), each name once.

    Raises
    ------
    DataError
        On an item without ``=``, a value that is not a finite number, or a name given twice.
    """
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise DataError(f"{option} {item.strip()[:60]!r}: expected NAME=VALUE")
        if key in out:
            raise DataError(f"{option}: {key!r} is given twice")
        if text_values:
            out[key] = value.strip()
            continue
        text = value.strip()
        number = float(text) if len(text) <= 40 and _PLAIN_NUMBER.match(text) else math.nan
        if not math.isfinite(number):
            raise DataError(f"{option} {key}: {text[:40]!r} is not a finite number")
        out[key] = number
    return out


# A number as written in a file cell: no underscores, no words (Python's float() takes both).
_PLAIN_NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
