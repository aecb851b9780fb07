"""96- and 384-well plate exports joined to a layout file.

A **plate export** is what a reader writes: either a grid (a header row ``1 … 12`` or
``1 … 24`` and one row per plate row ``A …``; metadata lines above and below are skipped)
or a long table with a ``well`` column and one reading column. A **layout** is a CSV with
one row per used well: ``well`` (A1 or A01), ``type``, and as the protocol needs
``sample``, ``concentration`` + ``unit``, ``dilution``, ``time_min``; with several plate
files a ``plate`` column names the file (its stem) or its 1-based position.

Every problem is reported with its file and well: wells outside the plate format, wells
listed twice, layout wells without a reading, readings that are not numbers (``OVRFLW``,
``****``), and (via the protocols) unit mismatches and missing standards.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import DataError
from .._tables import file_row, finite_numbers, read_table, text_column
from ._softmax import decode, is_softmax, softmax_grids

__all__ = ["Plate", "apply_layout", "load_measurements", "read_layout", "read_plate"]

_FORMATS = {96: (8, 12), 384: (16, 24)}
_WELL = re.compile(r"^\s*([A-Pa-p])\s*0*(\d{1,2})\s*$")


def _parse_well(text: str, n_rows: int, n_cols: int, where: str) -> str:
    m = _WELL.match(str(text))
    if m is None:
        raise DataError(f"{where}: {text!r} is not a well name like A1 or B07")
    r, c = m.group(1).upper(), int(m.group(2))
    if ord(r) - ord("A") >= n_rows or not 1 <= c <= n_cols:
        fmt = n_rows * n_cols
        raise DataError(f"{where}: well {r}{c} does not exist on a {fmt}-well plate")
    return f"{r}{c}"


@dataclass(frozen=True)
class Plate:
    """Raw readings by well (strings kept so that bad cells can be reported as read)."""

    path: str
    name: str
    size: int
    readings: dict[str, str]
    label: str = ""  # which grid of a multi-grid export (e.g. "plate Plate01 raw")


def _grids(cells: list[list[str]], path: str) -> list[tuple[int, Plate]]:
    """Every plate grid in the cells (plate layout or BMG MARS table view), by line."""
    return sorted(_layout_grids(cells, path) + _table_view(cells, path), key=lambda g: g[0])


_TABLE_META = ("content", "group", "sample", "well row", "well col")


def _table_view(cells: list[list[str]], path: str) -> list[tuple[int, Plate]]:
    """BMG MARS "table view": a ``Well`` row naming wells (A01 …) across, then ``Content``
    and ``Group`` rows, then one row per reading (``Raw Data (535 A)``, a blank-corrected
    or ratio row, or one per kinetic cycle, its time in the second column). Each reading
    row is a grid, labelled by its first cells."""
    found: list[tuple[int, Plate]] = []
    for i, row in enumerate(cells):
        if not row or row[0].strip().lower() != "well":
            continue
        wells = {k: m for k, c in enumerate(row) if k and (m := _WELL.match(c))}
        if len(wells) < 2:
            continue
        names = {k: f"{m.group(1).upper()}{int(m.group(2))}" for k, m in wells.items()}
        size = 384 if any(n[0] > "H" or int(n[1:]) > 12 for n in names.values()) else 96
        extra = [k for k in range(1, min(wells)) if k < len(row)]  # e.g. the time column
        below = cells[i + 1] if i + 1 < len(cells) else []  # its unit, under the Well row
        unit = next((below[k] for k in extra if k < len(below) and below[k].strip()), "")
        for j in range(i + 1, len(cells)):
            line = cells[j]
            if not line or not any(c.strip() for c in line):
                break
            head = line[0].strip()
            if head.lower() == "well":
                break
            if head.lower() in _TABLE_META or not head:
                continue
            readings = {n: (line[k].strip() if k < len(line) else "") for k, n in names.items()}
            when = " ".join(line[k].strip() for k in extra if k < len(line) and line[k].strip())
            label = head + (f" ({unit} {when})".replace("( ", "(") if when else "")
            found.append((j + 1, Plate(path, Path(path).stem, size, readings, label)))
    return found


def _layout_grids(cells: list[list[str]], path: str) -> list[tuple[int, Plate]]:
    """Every grid in plate layout (header ``1 … 12``, rows ``A …``), by header line."""
    found: list[tuple[int, Plate]] = []
    i = 0
    while i < len(cells):
        row = cells[i]
        i += 1
        for size, (n_rows, n_cols) in sorted(_FORMATS.items(), reverse=True):
            header = [str(c) for c in range(1, n_cols + 1)]
            if list(row[1 : n_cols + 1]) != header:
                continue
            readings: dict[str, str] = {}
            for k in range(n_rows):
                if i + k >= len(cells):
                    raise DataError(f"{path}: the {size}-well grid ends after {k} rows")
                line = cells[i + k]
                letter = chr(ord("A") + k)
                if not line or line[0].upper() != letter:
                    raise DataError(
                        f"{path}: grid row {k + 1} is labelled {line[0] if line else ''!r}; "
                        f"expected {letter}"
                    )
                for c in range(n_cols):
                    readings[f"{letter}{c + 1}"] = line[c + 1] if c + 1 < len(line) else ""
            found.append((i, Plate(path, Path(path).stem, size, readings)))
            i += n_rows  # the grid's rows are data, not headers
            break
    return found


_DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d+(?:[eE][-+]?\d+)?$")


def _decimal_comma(plate: Plate) -> Plate:
    """Readings of a semicolon export in the decimal-comma convention, as decimal points.

    Applied only when some reading has a decimal comma and none has a decimal point (a
    German-locale export), so a file is read by one convention, never a mix.
    """
    values = [v for v in plate.readings.values() if v]
    if any(_DECIMAL_COMMA.match(v) for v in values) and not any("." in v for v in values):
        readings = {
            w: v.replace(",", ".") if _DECIMAL_COMMA.match(v) else v
            for w, v in plate.readings.items()
        }
        return Plate(plate.path, plate.name, plate.size, readings)
    return plate


def _cells_from_xlsx(p: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError or its own errors
        raise DataError(f"{p}: cannot read as .xlsx ({type(exc).__name__})") from None
    sheet = book.worksheets[0]
    rows = []
    for row in sheet.iter_rows(values_only=True):
        rows.append(
            [
                "" if v is None else (f"{v:.15g}" if isinstance(v, float) else str(v)).strip()
                for v in row
            ]
        )
        if len(rows) > 100_000:
            raise DataError(f"{p}: more than 100,000 rows; a plate export is far smaller")
    book.close()
    return rows


def _size(readings: dict[str, str], p: Path) -> int:
    """96 or 384, from the wells a grid names."""
    wells = [_WELL.match(w) for w in readings]
    if not all(wells):
        raise DataError(f"{p}: a well name that is not A1 … P24")
    big = any(m.group(1).upper() > "H" or int(m.group(2)) > 12 for m in wells if m)
    if any(int(m.group(2)) > 24 for m in wells if m):
        raise DataError(f"{p}: wells beyond column 24; AsnFlux reads 96- and 384-well plates")
    return 384 if big else 96


def _listing(items: list[str], most: int = 6, sep: str = "; ") -> str:
    shown = sep.join(items[:most])
    return shown if len(items) <= most else f"{shown}{sep}… {len(items) - most} more"


def _choose(found: list[tuple[int, Plate]], p: Path, grid: int | None) -> Plate | None:
    if not found:
        return None
    if grid is None:
        if len(found) > 1:
            named = [pl.label for _, pl in found]
            where = (
                "headers on lines " + _listing([str(line) for line, _ in found], sep=", ")
                if not any(named)
                else _listing(
                    [
                        f"{k + 1}: {n} (line {line})"
                        for k, ((line, _), n) in enumerate(zip(found, named, strict=True))
                    ]
                )
            )
            raise DataError(
                f"{p}: holds {len(found)} plate grids ({where}); choose one with --grid N"
            )
        return found[0][1]
    if not 1 <= grid <= len(found):
        raise DataError(f"{p}: --grid {grid}, but the file holds {len(found)} grid(s)")
    return found[grid - 1][1]


def read_plate(path: str | Path, grid: int | None = None) -> Plate:
    """Read a plate export in grid or long (``well`` + reading) form.

    CSV (comma, semicolon or tab; semicolon exports may use the decimal comma) or ``.xlsx``
    (first sheet). A file with several grids (e.g. several reads) needs ``grid`` (1-based).
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such file")
    if p.suffix.lower() == ".xlsx":
        plate = _choose(_grids(_cells_from_xlsx(p), str(p)), p, grid)
        if plate is None:
            raise DataError(f"{p}: no plate grid (header 1..12 or 1..24, rows A..) on sheet 1")
        return plate
    if p.stat().st_size > 50_000_000:
        raise DataError(f"{p}: larger than 50 MB; a plate export is far smaller")
    text = decode(p.read_bytes(), p)
    if is_softmax(text):
        found = [
            (line, Plate(str(p), p.stem, _size(readings, p), readings, label))
            for line, label, readings in softmax_grids(text, p)
        ]
        plate = _choose(found, p, grid)
        assert plate is not None
        return plate
    for delimiter in (",", ";", "\t"):
        try:
            rows = list(csv.reader(text.splitlines(), delimiter=delimiter))
        except csv.Error as exc:
            raise DataError(f"{p}: cannot read as CSV ({exc})") from None
        cells = [[c.strip() for c in r] for r in rows]
        plate = _choose(_grids(cells, str(p)), p, grid)
        if plate is not None:
            return _decimal_comma(plate) if delimiter == ";" else plate
    df = read_table(p)
    cols = {c.lower(): c for c in df.columns}
    if "well" not in cols:
        raise DataError(
            f"{p}: neither a plate grid (header 1..12 or 1..24, rows A..) nor a table with a "
            "'well' column"
        )
    values = [c for c in df.columns if c != cols["well"]]
    if len(values) != 1:
        raise DataError(
            f"{p}: a long plate export needs 'well' and exactly one reading column; found "
            f"{', '.join(values)}"
        )
    wells = text_column(df, cols["well"])
    letters = [m.group(1).upper() for w in wells if (m := _WELL.match(w))]
    numbers = [int(m.group(2)) for w in wells if (m := _WELL.match(w))]
    size = 384 if (letters and max(letters) > "H") or (numbers and max(numbers) > 12) else 96
    n_rows, n_cols = _FORMATS[size]
    readings: dict[str, str] = {}
    for i, (w, v) in enumerate(zip(wells, df[values[0]], strict=True)):
        well = _parse_well(w, n_rows, n_cols, f"{p}: row {file_row(df, i)}")
        if well in readings:
            raise DataError(f"{p}: well {well} appears twice (row {file_row(df, i)})")
        readings[well] = "" if pd.isna(v) else str(v).strip()
    return Plate(str(p), p.stem, size, readings)


def read_layout(path: str | Path) -> pd.DataFrame:
    """Read a layout CSV; wells are normalised to ``A1`` form and checked for duplicates."""
    df = read_table(path)
    where = str(path)
    df.columns = [c.lower() for c in df.columns]
    for col in ("well", "type"):
        if col not in df.columns:
            raise DataError(f"{where}: layout needs a {col!r} column")
    size = (
        384
        if any(
            (m := _WELL.match(str(w))) and (m.group(1).upper() > "H" or int(m.group(2)) > 12)
            for w in df["well"]
        )
        else 96
    )
    n_rows, n_cols = _FORMATS[size]
    df["well"] = [
        _parse_well(w, n_rows, n_cols, f"{where}: row {file_row(df, i)}")
        for i, w in enumerate(df["well"])
    ]
    df["type"] = text_column(df, "type")
    key = text_column(df, "plate") + "/" + df["well"] if "plate" in df.columns else df["well"]
    dup = key.duplicated(keep="first")
    if dup.any():
        i = int(np.nonzero(dup.to_numpy())[0][0])
        first = int(np.nonzero((key == key.iloc[i]).to_numpy())[0][0])
        raise DataError(
            f"{where}: well {df['well'].iloc[i]} is listed twice (rows {file_row(df, first)} "
            f"and {file_row(df, i)})"
        )
    df["_row"] = [file_row(df, i) for i in range(len(df))]
    df.attrs["path"] = where
    return df


def apply_layout(
    plates: list[Plate], layout: pd.DataFrame, value_column: str, types: tuple[str, ...]
) -> pd.DataFrame:
    """One row per layout well with its reading in ``value_column``.

    Wells of type ``empty`` or ``exclude`` are dropped. The result carries ``well`` and
    ``_file`` columns so that later errors name the plate file and well.
    """
    where = layout.attrs.get("path", "layout")
    allowed = (*types, "empty", "exclude")
    bad = ~layout["type"].isin(allowed)
    if bad.any():
        i = int(np.nonzero(bad.to_numpy())[0][0])
        raise DataError(
            f"{where}: row {i + 2}, well {layout['well'].iloc[i]}: type "
            f"{layout['type'].iloc[i]!r} is not one of {', '.join(allowed)}"
        )
    if not plates:
        raise DataError("no plate files given")
    if len(plates) > 1 and "plate" not in layout.columns:
        raise DataError(
            f"{where}: {len(plates)} plate files were given; the layout needs a 'plate' column "
            "naming each well's file (its stem or 1-based position)"
        )
    by_name = {p.name: p for p in plates}
    by_name.update({str(k + 1): p for k, p in enumerate(plates)})
    rows = []
    for i, rec in enumerate(layout.to_dict(orient="records")):
        if rec["type"] in ("empty", "exclude"):
            continue
        plate = plates[0]
        if "plate" in layout.columns:
            ref = str(rec["plate"]).strip()
            if ref not in by_name:
                raise DataError(
                    f"{where}: row {i + 2}: plate {ref!r} is not one of the files given "
                    f"({', '.join(p.name for p in plates)})"
                )
            plate = by_name[ref]
        n_rows, n_cols = _FORMATS[plate.size]
        well = _parse_well(rec["well"], n_rows, n_cols, f"{where}: row {i + 2} ({plate.path})")
        if well not in plate.readings:
            raise DataError(f"{plate.path}, well {well}: no reading for a well in the layout")
        value = plate.readings[well]
        if np.isnan(finite_numbers(pd.Series([value]))[0]):
            raise DataError(
                f"{plate.path}, well {well}: reading {value!r} is not a number (mark the well "
                "'exclude' in the layout to leave it out)"
            )
        out = {k: v for k, v in rec.items() if k not in ("plate",)}
        out["well"] = well
        out["_file"] = plate.path
        out[value_column] = float(value)
        rows.append(out)
    df = pd.DataFrame(rows)
    df.attrs["path"] = where
    return df


def load_measurements(
    inputs: list[Path],
    layout: Path | None,
    value: str,
    types: tuple[str, ...],
    grid: int | None = None,
) -> pd.DataFrame:
    """A protocol's input as one long table: long tables as they are, or plate exports
    mapped through ``layout`` (``value`` names the read-out column, e.g. ``absorbance``)."""
    from ._common import concat_tables

    if layout is not None:
        plates = [read_plate(p, grid) for p in inputs]
        return apply_layout(plates, read_layout(layout), value, types)
    if grid is not None:
        raise DataError("--grid goes with plate exports and --layout")
    return concat_tables([read_table(p) for p in inputs])
