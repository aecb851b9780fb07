"""Reading the tables labs export (CSV), with errors that name file, row and column.

One reader for every CSV input, so every loader refuses the same things the same way:

* UTF-8 text, with or without the byte-order mark Excel's "CSV UTF-8" writes; other
  encodings are refused (save as UTF-8) rather than guessed.
* Blank lines and whole-line ``#`` comments above the header are skipped; a ``#`` inside a
  cell is data (Skyline writes ``#N/A``).
* The delimiter (comma, semicolon or tab) is the one the header line uses.
* Header names must be present and distinct; an empty trailing column (a trailing
  delimiter) is dropped.
* A column whose cells are all numbers becomes numeric; ``inf``, ``nan`` or a number too
  large for a float in such a column is refused with its row, never passed on.
* Limits: :data:`MAX_ROWS` rows and :data:`MAX_CELL` characters per cell.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ._errors import DataError

__all__ = [
    "MAX_CELL",
    "MAX_ROWS",
    "clip",
    "file_row",
    "finite_numbers",
    "numeric_column",
    "read_table",
    "text_column",
]

#: Most data rows a table may have (a 384-well plate series or a Skyline report of a large
#: batch is far below this; beyond it the input is almost certainly not the intended file).
MAX_ROWS = 1_000_000
#: Longest cell, in characters.
MAX_CELL = 10_000
#: Most columns (a wide Skyline report has a few dozen; a plate grid is read elsewhere).
MAX_COLUMNS = 1_000

_NUMBER = re.compile(r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$")
_INTEGER = re.compile(r"^\s*[-+]?\d+\s*$")
_NONFINITE = re.compile(r"^\s*[-+]?(?:inf|infinity|nan)\s*$", re.IGNORECASE)


def clip(text: object, limit: int = 40) -> str:
    """A cell for a message: quoted, and cut to ``limit`` characters (with its length)."""
    t = str(text).strip()
    return repr(t) if len(t) <= limit else f"{t[:limit]!r}… ({len(t):,} characters)"


def _header_line(lines: list[str]) -> int:
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return i
    return -1


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV file (comma, semicolon or tab separated) into a DataFrame.

    Rows are numbered in messages as a text editor or spreadsheet shows them (the first
    line of the file is row 1); ``df.attrs["path"]`` is the file and ``df.attrs["rows"]``
    the file row of each data row (see :func:`file_row`).

    Raises
    ------
    DataError
        If the file is missing, unreadable, not UTF-8, empty, has no data rows, duplicate or
        missing header names, a row with too many cells, a non-finite number, or exceeds the
        limits.
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file")
    if not p.is_file():
        raise DataError(f"{p}: not a regular file (a folder or device); expected a CSV file")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise DataError(f"{p}: cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{p}: not UTF-8 text (byte {exc.start}); save it as 'CSV UTF-8'") from None
    if "\x00" in text:
        raise DataError(f"{p}: holds NUL bytes; expected a CSV text file")
    lines = text.splitlines()
    start = _header_line(lines)
    if start < 0:
        raise DataError(f"{p}: the file is empty (no header line)")
    header = lines[start]
    sep = max((",", ";", "\t"), key=header.count)
    if header.count(sep) >= MAX_COLUMNS:
        raise DataError(f"{p}: more than {MAX_COLUMNS:,} columns; not a table AsnFlux reads")
    names = [str(c).strip() for c in next(csv.reader([header], delimiter=sep))]
    # Whole-line comments become blank lines, so row numbers stay those of the file.
    body = ["" if line.lstrip().startswith("#") else line for line in lines[start + 1 :]]
    df = _read("\n".join(body), sep, len(names), p, start + 2)
    rows = np.nonzero(df.notna().any(axis=1).to_numpy())[0]
    df = df.iloc[rows].reset_index(drop=True)
    if len(df) > MAX_ROWS:
        raise DataError(f"{p}: more than {MAX_ROWS:,} data rows; split the file")
    while len(names) > 1 and names[-1] == "" and df.iloc[:, -1].isna().all():
        names.pop()  # a trailing delimiter, as spreadsheets write
        df = df.iloc[:, : len(names)]
    for k, name in enumerate(names):
        if name == "":
            raise DataError(f"{p}: row {start + 1}: column {k + 1} has no name")
        if len(name) > 200:
            raise DataError(
                f"{p}: row {start + 1}: column {k + 1}'s name is {len(name):,} characters "
                "long (at most 200)"
            )
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataError(
            f"{p}: row {start + 1}: column name(s) {', '.join(map(repr, dupes))} appear twice"
        )
    df.columns = names
    if df.empty:
        raise DataError(f"{p}: no data rows below the header")
    file_rows = rows + start + 2
    for name in names:
        df[name] = _typed(df[name], name, p, file_rows)
    df.attrs["path"] = str(p)
    df.attrs["rows"] = [int(r) for r in file_rows]
    return df


def _read(body: str, sep: str, n_cols: int, p: Path, row0: int) -> pd.DataFrame:
    if not body.strip():
        raise DataError(f"{p}: no data rows below the header")
    try:
        return pd.read_csv(
            io.StringIO(body),
            sep=sep,
            header=None,
            names=list(range(n_cols)),
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=False,
            nrows=MAX_ROWS + 1,
            engine="c",
        )
    except pd.errors.EmptyDataError:
        raise DataError(f"{p}: no data rows below the header") from None
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if m:
            raise DataError(
                f"{p}: row {int(m.group(2)) + row0 - 1}: {m.group(3)} cells for "
                f"{n_cols} header names"
            ) from None
        raise DataError(f"{p}: cannot read as CSV ({_one_line(exc)})") from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _typed(col: pd.Series, name: str, p: Path, file_rows: NDArray[np.int64]) -> pd.Series:
    """The column as numbers when every cell is one, else as text (cells kept as read)."""
    present = col.notna()
    cells = col[present]
    too_long = cells.str.len() > MAX_CELL
    if too_long.any():
        i = int(np.nonzero(too_long.to_numpy())[0][0])
        row = int(file_rows[int(cells.index[i])])
        raise DataError(
            f"{p}: row {row}, column {name!r}: cell of {len(cells.iloc[i]):,} characters "
            f"(limit {MAX_CELL:,})"
        )
    if cells.empty:
        return col
    is_num = cells.str.match(_NUMBER)
    nonfinite = cells.str.match(_NONFINITE)
    if bool((is_num | nonfinite).all()) and bool(is_num.any()) and bool(nonfinite.any()):
        i = int(np.nonzero(nonfinite.to_numpy())[0][0])
        row = int(file_rows[int(cells.index[i])])
        raise DataError(
            f"{p}: row {row}, column {name!r}: {clip(cells.iloc[i])} is not a finite number"
        )
    if not bool(is_num.all()):
        return col.str.strip().where(present, None)
    values = pd.to_numeric(cells.str.strip(), errors="coerce").astype(float)
    bad = ~np.isfinite(values.to_numpy())
    if bad.any():
        i = int(np.nonzero(bad)[0][0])
        row = int(file_rows[int(cells.index[i])])
        raise DataError(
            f"{p}: row {row}, column {name!r}: {clip(cells.iloc[i])} is too large for a "
            "finite number"
        )
    if bool(present.all()) and bool(cells.str.match(_INTEGER).all()):
        ints = pd.to_numeric(cells.str.strip(), errors="coerce")
        if ints.abs().max() < 2**53:
            return ints.astype(np.int64)
    out = pd.Series(np.nan, index=col.index, dtype=float)
    out[present] = values
    return out


def finite_numbers(series: pd.Series) -> NDArray[np.float64]:
    """Cells as floats; anything that is not a finite number (text, ``inf``, empty) is NaN.

    The one coercion every loader uses, so that a non-finite value is always treated as
    "not a number" and reported, never computed with.
    """
    values = np.array(
        pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan),
        dtype=float,
        copy=True,
    )
    values[~np.isfinite(values)] = np.nan
    return values


def numeric_column(df: pd.DataFrame, column: str) -> NDArray[np.float64]:
    """The named column as finite floats; a cell that is not one is reported by row.

    Rows are numbered as a spreadsheet shows them (the header of a plain file is row 1).
    """
    where = df.attrs.get("path", "table")
    if column not in df.columns:
        raise DataError(f"{where}: no column {column!r}; columns are {', '.join(df.columns)}")
    values = finite_numbers(df[column])
    bad = np.nonzero(np.isnan(values))[0]
    if len(bad):
        shown = ", ".join(f"row {file_row(df, i)} ({_cell(df[column].iloc[i])})" for i in bad[:5])
        raise DataError(f"{where}: column {column!r} is not a finite number in {shown}")
    return values


def file_row(df: pd.DataFrame, i: int) -> int:
    """The file row (as an editor numbers lines) of positional data row ``i``."""
    rows = df.attrs.get("rows")
    if rows is not None and 0 <= i < len(rows) and len(rows) == len(df):
        return int(rows[i])
    return i + 2


def _cell(value: object) -> str:
    """A cell as the user wrote it (no numpy reprs; empty shown as 'empty')."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "empty"
    if isinstance(value, np.generic):
        value = value.item()
    return clip(value) if isinstance(value, str) else f"{value:g}"


def text_column(df: pd.DataFrame, column: str, *, required: bool = True) -> pd.Series:
    """The named column as stripped text; numbers written as they read (``1``, ``0.5``).

    An empty cell is ``""``, or, when ``required``, an error naming the file row.
    """
    where = df.attrs.get("path", "table")
    out = []
    for i, value in enumerate(df[column]):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            if required:
                raise DataError(
                    f"{where}: row {file_row(df, i)}, column {column!r}: empty; a value is needed"
                )
            out.append("")
        elif isinstance(value, float | np.floating):
            out.append(f"{float(value):.15g}")
        else:
            out.append(str(value).strip())
    return pd.Series(out, index=df.index, dtype=object)
