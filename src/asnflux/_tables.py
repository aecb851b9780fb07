"""Reading the tables labs export (CSV), with errors that name file, row and column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ._errors import DataError

__all__ = ["numeric_column", "read_table"]


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV file (comma, semicolon or tab separated; sniffed) into a DataFrame.

    Raises
    ------
    DataError
        If the file is missing, unreadable, empty or has no data rows.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such file")
    try:
        df = pd.read_csv(p, sep=None, engine="python", skip_blank_lines=True, comment="#")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{p}: cannot read as CSV ({exc})") from None
    if df.empty:
        raise DataError(f"{p}: no data rows below the header")
    df.columns = [str(c).strip() for c in df.columns]
    df.attrs["path"] = str(p)
    return df


def numeric_column(df: pd.DataFrame, column: str) -> NDArray[np.float64]:
    """The named column as floats; a cell that is not a number is reported by row.

    Rows are numbered as a spreadsheet shows them: the header is row 1.
    """
    where = df.attrs.get("path", "table")
    if column not in df.columns:
        raise DataError(f"{where}: no column {column!r}; columns are {', '.join(df.columns)}")
    values = pd.to_numeric(df[column], errors="coerce")
    bad = np.nonzero(values.isna().to_numpy())[0]
    if len(bad):
        shown = ", ".join(f"row {i + 2} ({df[column].iloc[i]!r})" for i in bad[:5])
        raise DataError(f"{where}: column {column!r} is not a number in {shown}")
    return values.to_numpy(dtype=float)
