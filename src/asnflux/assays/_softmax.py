"""SoftMax Pro plate-section text exports (Molecular Devices), endpoint reads.

SoftMax Pro writes "Export → Plates as Text" as tab-separated text, usually UTF-16 with a
byte-order mark (older versions and the "ASCII" option write 8-bit text): a ``##BLOCKS= N``
line, then one block per Plate or Group section, each ending with ``~End``. A Plate block
starts with a ``Plate:`` line (name, export version, ``PlateFormat`` or ``TimeFormat``,
read type, read mode, …) and holds one table per data kind (raw, then reduced when both are
exported). In **PlateFormat** a table's header lists column numbers once per wavelength
(groups separated by an empty cell) and the rows follow plate row by plate row, the first
carrying the temperature; in **TimeFormat** the header lists wells (``A1 … H12``) and each
data line is one wavelength. Group blocks (computed results) are skipped.

Every table and wavelength becomes one grid; a file with several asks for ``--grid N``, as
for any plate export. Kinetic, spectrum and well-scan reads are refused: AsnFlux's plate
assays are endpoint reads.
"""

from __future__ import annotations

import re
from pathlib import Path

from .._errors import DataError

__all__ = ["is_softmax", "softmax_grids"]

_WELL = re.compile(r"^([A-P])(\d{1,2})$")


def decode(raw: bytes, p: Path) -> str:
    """Text of a plate export: UTF-16 with its BOM (SoftMax Pro's default), else UTF-8;
    8-bit Windows-1252 text is accepted only for a SoftMax Pro export (its "ASCII" option),
    never guessed for other files."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DataError(f"{p}: cannot read as UTF-16 text ({exc.reason})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        text = ""
    if is_softmax(text):
        return text
    raise DataError(f"{p}: cannot read as text ({utf8_error})") from None


def is_softmax(text: str) -> bool:
    return text.lstrip("\ufeff").startswith("##BLOCKS=")


def _is_header(cells: list[str]) -> bool:
    first = cells[2] if len(cells) > 2 else ""
    return (
        len(cells) > 2
        and (cells[1].startswith("Temperature") or cells[1] == "")
        and (first == "1" or bool(_WELL.match(first)) or _is_number_list(cells[2:]))
    )


def _is_number_list(cells: list[str]) -> bool:
    values = [c for c in cells if c]
    return bool(values) and all(c.isdigit() for c in values)


def _groups(header: list[str]) -> list[list[tuple[int, str]]]:
    """(position, label) runs of the header, split at empty cells (one run per wavelength)."""
    runs: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for k, label in enumerate(header):
        if k < 2:
            continue
        if label == "":
            if current:
                runs.append(current)
            current = []
        else:
            current.append((k, label))
    if current:
        runs.append(current)
    return runs


def softmax_grids(text: str, p: Path) -> list[tuple[int, str, dict[str, str]]]:
    """Every (header line, label, readings by well) of a SoftMax Pro text export."""
    lines = text.lstrip("\ufeff").splitlines()
    out: list[tuple[int, str, dict[str, str]]] = []
    i = 1
    while i < len(lines):
        cells = lines[i].split("\t")
        if cells[0] != "Plate:":
            i += 1
            continue
        if len(cells) < 6:
            raise DataError(f"{p}: line {i + 1}: a 'Plate:' line with {len(cells)} fields")
        name, layout, read_type = cells[1].strip(), cells[3].strip(), cells[4].strip()
        if layout not in ("PlateFormat", "TimeFormat"):
            raise DataError(
                f"{p}: line {i + 1}: plate {name!r} is exported as {layout!r}; expected "
                "PlateFormat or TimeFormat"
            )
        if read_type != "Endpoint":
            raise DataError(
                f"{p}: line {i + 1}: plate {name!r} is a {read_type!r} read; AsnFlux reads "
                "endpoint plates (export the endpoint or reduced values)"
            )
        end = next((k for k in range(i + 1, len(lines)) if lines[k].startswith("~End")), None)
        if end is None:
            raise DataError(f"{p}: plate {name!r} (line {i + 1}) has no closing '~End'")
        tables = [k for k in range(i + 1, end) if _is_header(lines[k].split("\t"))]
        if not tables:
            raise DataError(f"{p}: plate {name!r} (line {i + 1}) holds no data table")
        for t, start in enumerate(tables):
            stop = tables[t + 1] if t + 1 < len(tables) else end
            kind = "raw" if t == 0 and len(tables) > 1 else ("reduced" if t else "data")
            data = [lines[k].split("\t") for k in range(start + 1, stop) if lines[k].strip()]
            if not data:  # a table SoftMax left empty (e.g. raw not kept): no grid
                continue
            header = lines[start].split("\t")
            read = _plate_format if layout == "PlateFormat" else _time_format
            for w, readings in enumerate(read(header, data, p, start + 1)):
                label = f"plate {name} {kind}" + (f", wavelength {w + 1}" if w else "")
                out.append((start + 1, label, readings))
        i = end + 1
    if not out:
        raise DataError(f"{p}: a SoftMax Pro export with no Plate section")
    return out


def _plate_format(
    header: list[str], data: list[list[str]], p: Path, line: int
) -> list[dict[str, str]]:
    grids = []
    for run in _groups(header):
        readings: dict[str, str] = {}
        for r, row in enumerate(data):
            letter = chr(ord("A") + r)
            if r >= 16:
                raise DataError(f"{p}: the table on line {line} has more than 16 rows")
            for k, label in run:
                if not label.isdigit():
                    raise DataError(f"{p}: line {line}: column header {label!r} is not a number")
                readings[f"{letter}{int(label)}"] = row[k].strip() if k < len(row) else ""
        grids.append(readings)
    return grids


def _time_format(
    header: list[str], data: list[list[str]], p: Path, line: int
) -> list[dict[str, str]]:
    run = [item for group in _groups(header) for item in group]
    for _, label in run:
        if not _WELL.match(label):
            raise DataError(f"{p}: line {line}: {label!r} is not a well name")
    return [{label: row[k].strip() if k < len(row) else "" for k, label in run} for row in data]
