"""Compact ``repr`` and Jupyter ``_repr_html_`` for the result objects people look at.

A dataclass repr of a result prints every array and table in full (100+ kB for an LC-MS
run); :class:`CompactRepr` shows each field as a short summary instead: numbers as they
are, arrays and tables by shape, long text cut, nested results by class name. In Jupyter
the HTML form lists the fields and shows tables' first rows.
"""

from __future__ import annotations

import dataclasses
from html import escape
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CompactRepr", "summarise"]

_MAX_TEXT = 60
_MAX_REPR = 600


def summarise(value: Any) -> str:
    """One short text for a field value."""
    if isinstance(value, pd.DataFrame):
        return f"<table {value.shape[0]}×{value.shape[1]}>"
    if isinstance(value, pd.Series):
        return f"<series {len(value)}>"
    if isinstance(value, np.ndarray):
        return f"<array {'×'.join(map(str, value.shape)) or 'scalar'}>"
    if isinstance(value, float | np.floating):
        return f"{float(value):.6g}"
    if isinstance(value, bool | int | np.integer) or value is None:
        return repr(value.item() if isinstance(value, np.generic) else value)
    if isinstance(value, str):
        return repr(value if len(value) <= _MAX_TEXT else value[: _MAX_TEXT - 1] + "…")
    if isinstance(value, dict):
        return f"<dict of {len(value)}>"
    if isinstance(value, list | tuple):
        if len(value) <= 4 and all(isinstance(v, int | float | str) for v in value):
            return "(" + ", ".join(summarise(v) for v in value) + ")"
        return f"<{type(value).__name__} of {len(value)}>"
    return f"<{type(value).__name__}>"


class CompactRepr:
    """Mixin for dataclasses (declared with ``repr=False``): short repr and HTML."""

    def _fields(self) -> list[tuple[str, Any]]:
        return [
            (f.name, getattr(self, f.name))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if not f.name.startswith("_")
        ]

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={summarise(v)}" for k, v in self._fields())
        text = f"{type(self).__name__}({parts})"
        return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 2] + "…)"

    def _repr_html_(self) -> str:
        rows = []
        tables = []
        for k, v in self._fields():
            rows.append(f"<tr><th>{escape(k)}</th><td>{escape(summarise(v))}</td></tr>")
            if isinstance(v, pd.DataFrame) and len(v):
                tables.append(f"<p><b>{escape(k)}</b> (first rows)</p>{v.head(10).to_html()}")
        return (
            f"<p><b>{escape(type(self).__name__)}</b></p><table>{''.join(rows)}</table>"
            + "".join(tables)
        )
