"""Helpers the protocols share: where a row came from, and concentrations with units."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._errors import DataError, UnitError
from .._tables import clip, file_row, finite_numbers
from ..units import Q_

__all__ = [
    "concat_tables",
    "concentrations",
    "dilution_factors",
    "locate",
    "numeric_signal",
    "parse_dilution",
]

#: Largest dilution factor read (serial dilutions of serum or lysate stay far below).
MAX_DILUTION = 1e6

# How labs write a dilution factor: 5, 5x, 5×, x5, 1:5, 1/5 (all a factor of 5: one part
# sample in five parts total, the convention of Nessler and Bradford protocols).
_DILUTION = re.compile(
    r"^\s*(?:(?P<plain>\d+\.?\d*|\.\d+)\s*[x×]?|[x×]\s*(?P<times>\d+\.?\d*)"
    r"|1\s*[:/]\s*(?P<ratio>\d+\.?\d*))\s*$",
    re.IGNORECASE,
)


def parse_dilution(value: object, where: str) -> float:
    """A dilution factor (≥ 1) from a cell: ``5``, ``5x``, ``x5``, ``1:5`` or ``1/5``.

    Raises
    ------
    DataError
        On anything else (a note, ``inf``, a factor below 1), naming ``where``.
    """
    if isinstance(value, int | float | np.integer | np.floating):
        factor = float(value)
    else:
        m = _DILUTION.match(str(value))
        if m is None:
            raise DataError(
                f"{where}: dilution {clip(value)} is not a factor; write e.g. 5, 5x or 1:5"
            )
        factor = float(next(g for g in m.groupdict().values() if g is not None))
    if not (math.isfinite(factor) and 1 <= factor <= MAX_DILUTION):
        raise DataError(f"{where}: dilution {factor:g} must be a factor from 1 to {MAX_DILUTION:g}")
    return factor


def dilution_factors(df: pd.DataFrame, label: str) -> float:
    """The one dilution factor of a group of rows (1 where the column is absent or empty).

    Raises
    ------
    DataError
        If a cell cannot be read (see :func:`parse_dilution`) or the rows disagree.
    """
    if "dilution" not in df.columns:
        return 1.0
    factors = {
        parse_dilution(v, f"{locate(df, i)}, column 'dilution'")
        for i, v in enumerate(df["dilution"])
        if not (v is None or (isinstance(v, float) and math.isnan(v)))
    }
    if len(factors) > 1:
        shown = ", ".join(f"{f:g}" for f in sorted(factors))
        raise DataError(f"{label} has several dilution factors ({shown}); expected one")
    return factors.pop() if factors else 1.0


def locate(df: pd.DataFrame, i: int) -> str:
    """Human address of positional row ``i``: file and well for plates, else file and row."""
    if "_where" in df.columns:
        return str(df["_where"].iloc[i])
    if "well" in df.columns and "_file" in df.columns:
        return f"{df['_file'].iloc[i]}, well {df['well'].iloc[i]}"
    where = df.attrs.get("path", "table")
    if "_row" in df.columns:
        row = int(df["_row"].iloc[i])
    else:
        rows = df.attrs.get("rows")
        label = df.index[i]
        # A group of a read table keeps the table's positional index and its attrs.
        if rows is not None and isinstance(label, int | np.integer) and 0 <= label < len(rows):
            row = int(rows[int(label)])
        else:
            row = file_row(df, i)
    return f"{where}: row {row}"


def numeric_signal(df: pd.DataFrame, column: str) -> NDArray[np.float64]:
    """A reading column as floats; the first bad cell is named by file and row or well."""
    if column not in df.columns:
        raise DataError(f"{df.attrs.get('path', 'table')}: missing column {column!r}")
    vals = finite_numbers(df[column])
    if np.isnan(vals).any():
        i = int(np.nonzero(np.isnan(vals))[0][0])
        raise DataError(
            f"{locate(df, i)}, column {column!r}: {_shown(df[column].iloc[i])} is not a finite "
            "number"
        )
    return vals


def _shown(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "an empty cell"
    return clip(value) if isinstance(value, str) else f"{float(value):g}"  # type: ignore[arg-type]


def concentrations(
    df: pd.DataFrame, mask: NDArray[np.bool_], target: str, legacy: str | None = None
) -> NDArray[np.float64]:
    """Concentrations of the rows in ``mask`` converted to ``target``.

    Read from column ``concentration`` with a per-row ``unit`` column, or from a column whose
    name states the unit (``legacy``, e.g. ``nh4_mM``). A unit of the wrong dimension, a
    missing or negative value is an error naming the row (or plate well).
    """
    idx = np.nonzero(mask)[0]
    if legacy is not None and legacy in df.columns:
        col, units = legacy, None
    elif "concentration" in df.columns:
        col = "concentration"
        units = df["unit"] if "unit" in df.columns else None
        if units is None:
            raise DataError(
                f"{df.attrs.get('path', 'table')}: column 'concentration' needs a 'unit' column "
                f"(expected units convertible to {target})"
            )
    else:
        name = legacy or "concentration + unit"
        raise DataError(f"{df.attrs.get('path', 'table')}: no column {name!r} for the standards")
    out = np.empty(len(idx))
    for k, i in enumerate(map(int, idx)):
        raw = df[col].iloc[i]
        v = finite_numbers(pd.Series([raw]))[0]
        if np.isnan(v) or v < 0:
            raise DataError(
                f"{locate(df, i)}: {col} {_shown(raw)} must be a finite concentration ≥ 0"
            )
        if units is None:
            out[k] = float(v)
            continue
        unit = str(units.iloc[i]).strip()
        try:
            out[k] = float(Q_(float(v), unit).to(target).magnitude)
        except Exception:  # pint's undefined-unit and dimensionality errors alike
            raise UnitError(
                f"{locate(df, i)}: unit {clip(unit)} does not convert to {target} "
                f"(standards of this type are {target}-like concentrations)"
            ) from None
    return out


def concat_tables(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Several long tables as one, each row remembering its file and row for messages."""
    if not tables:
        raise DataError("no input tables")
    if len(tables) == 1:
        return tables[0]
    parts = []
    for t in tables:
        t = t.copy()
        path = t.attrs.get("path", "table")
        t["_where"] = [f"{path}: row {file_row(t, k)}" for k in range(len(t))]
        parts.append(t)
    out = pd.concat(parts, ignore_index=True)
    out.attrs["path"] = " + ".join(str(t.attrs.get("path", "table")) for t in tables)
    return out
