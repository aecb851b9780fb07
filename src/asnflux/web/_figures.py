"""Figures for pages: the report module's plots, as inline SVG text.

pyplot keeps global state, and the server answers requests on several threads, so one
lock serialises figure drawing (a figure takes tens of milliseconds).
"""

from __future__ import annotations

import re
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

_LOCK = threading.Lock()
_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)


def drawing() -> threading.Lock:
    """The lock to hold while any pyplot figure is drawn (``with drawing(): ...``)."""
    return _LOCK


def svg(plot: Callable[..., Any], *args: Any) -> str:
    """Call ``plot(*args, path)`` (a report function that writes a figure file) and return
    the SVG element it drew, for inline use in a page."""
    with _LOCK, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "figure.svg"
        plot(*args, path)
        return _PROLOGUE.sub("", path.read_text(encoding="utf-8"), count=1)
