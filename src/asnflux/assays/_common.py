"""Helpers the protocols share: where a row came from, and concentrations with units."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._errors import DataError, UnitError
from ..units import Q_

__all__ = ["concat_tables", "concentrations", "locate", "numeric_signal"]


def locate(df: pd.DataFrame, i: int) -> str:
    """Human address of positional row ``i``: file and well for plates, else file and row."""
    if "_where" in df.columns:
        return str(df["_where"].iloc[i])
    if "well" in df.columns and "_file" in df.columns:
        return f"{df['_file'].iloc[i]}, well {df['well'].iloc[i]}"
    where = df.attrs.get("path", "table")
    row = int(df["_row"].iloc[i]) if "_row" in df.columns else i + 2
    return f"{where}: row {row}"


def numeric_signal(df: pd.DataFrame, column: str) -> NDArray[np.float64]:
    """A reading column as floats; the first bad cell is named by file and row or well."""
    if column not in df.columns:
        raise DataError(f"{df.attrs.get('path', 'table')}: missing column {column!r}")
    vals = pd.to_numeric(df[column], errors="coerce")
    if vals.isna().any():
        i = int(np.nonzero(vals.isna().to_numpy())[0][0])
        raise DataError(
            f"{locate(df, i)}, column {column!r}: {df[column].iloc[i]!r} is not a number"
        )
    return vals.to_numpy(float)


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
        v = pd.to_numeric(pd.Series([raw]), errors="coerce").iloc[0]
        if pd.isna(v) or v < 0:
            raise DataError(f"{locate(df, i)}: {col} {raw!r} must be a concentration ≥ 0")
        if units is None:
            out[k] = float(v)
            continue
        unit = str(units.iloc[i]).strip()
        try:
            out[k] = float(Q_(float(v), unit).to(target).magnitude)
        except Exception:  # pint's undefined-unit and dimensionality errors alike
            raise UnitError(
                f"{locate(df, i)}: unit {unit!r} does not convert to {target} "
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
        t["_where"] = [f"{path}: row {k + 2}" for k in range(len(t))]
        parts.append(t)
    out = pd.concat(parts, ignore_index=True)
    out.attrs["path"] = " + ".join(str(t.attrs.get("path", "table")) for t in tables)
    return out
