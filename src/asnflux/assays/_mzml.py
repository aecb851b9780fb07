"""Peak areas from mzML chromatograms (SRM/MRM traces), read with pyteomics.

Integration rule, stated once and applied to every trace: within the retention-time window
``[rt − half_window, rt + half_window]`` the baseline is the straight line joining the
trace's (linearly interpolated) intensities at the two window edges; the area is the
trapezoidal integral, over time in minutes, of the intensity above that baseline (parts
below it count as zero). The same window is used for analyte and internal standard, which
co-elute. The result is a Skyline-style wide peak table for :func:`lcms_quantify`.
"""

from __future__ import annotations

import binascii
import gc
import struct
import warnings
import zlib
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._errors import DataError
from .._tables import text_column

__all__ = ["integrate_peak", "peak_table_from_mzml", "read_chromatograms"]

Trace = tuple[NDArray[np.float64], NDArray[np.float64]]


@cache
def _psi_ms_vocabulary() -> Any:
    """The PSI-MS controlled vocabulary bundled with psims, loaded once per process.

    psims leaves the vendored OBO file to the garbage collector; collecting it here, with
    that ResourceWarning silenced, keeps it from surfacing later in unrelated code.
    """
    from pyteomics.auxiliary.psims_util import load_psims

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        cv = load_psims()
        gc.collect()
    return cv


# Time units of a chromatogram's time array (Unit Ontology accessions), in minutes.
_MINUTES_PER = {"UO:0000031": 1.0, "UO:0000010": 1.0 / 60.0, "UO:0000032": 60.0}
_UNIT_NAMES = {"UO:0000031": "minute", "UO:0000010": "second", "UO:0000032": "hour"}
_TIME_ARRAY = "MS:1000595"


def _time_units(path: Path) -> dict[str, str | None]:
    """Each chromatogram's time-array unit accession, read from the XML itself (pyteomics
    returns the time array as a bare ndarray, so a file in seconds would read as minutes)."""
    from lxml import etree

    units: dict[str, str | None] = {}
    for _, elem in etree.iterparse(str(path), events=("end",), tag="{*}chromatogram"):
        unit = None
        for param in elem.iterfind(".//{*}binaryDataArray/{*}cvParam"):
            if param.get("accession") == _TIME_ARRAY:
                unit = param.get("unitAccession")
        units[str(elem.get("id", f"#{len(units) + 1}"))] = unit
        elem.clear()
    return units


def _minutes_per_unit(path: Path, cid: str, units: dict[str, str | None]) -> float:
    unit = units.get(cid)
    if unit is None:
        raise DataError(
            f"{path}: chromatogram {cid!r}: the time array states no unit; expected minute "
            "(UO:0000031) or second (UO:0000010)"
        )
    if unit not in _MINUTES_PER:
        raise DataError(
            f"{path}: chromatogram {cid!r}: time unit {unit!r} is not minute, second or hour"
        )
    return _MINUTES_PER[unit]


def read_chromatograms(path: str | Path) -> dict[str, Trace]:
    """All chromatograms of an mzML file by id, as (time in min, intensity) arrays."""
    from pyteomics import mzml  # imported lazily: only mzML users pay for lxml/psims
    from pyteomics.auxiliary import PyteomicsError

    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such file")
    out: dict[str, Trace] = {}
    try:
        units = _time_units(p)
        with mzml.MzML(str(p), use_index=False, cv=_psi_ms_vocabulary()) as reader:
            for chrom in reader.iterfind("chromatogram"):
                if "time array" not in chrom or "intensity array" not in chrom:
                    continue
                cid = str(chrom.get("id", f"#{len(out) + 1}"))
                with warnings.catch_warnings():  # a bad cast is judged by _checked_trace
                    warnings.simplefilter("ignore", RuntimeWarning)
                    t = np.asarray(chrom["time array"], float)
                    y = np.asarray(chrom["intensity array"], float)
                out[cid] = _checked_trace(p, cid, t * _minutes_per_unit(p, cid, units), y)
    except DataError:
        raise
    except (
        PyteomicsError,
        OSError,
        ValueError,
        TypeError,
        KeyError,
        zlib.error,
        binascii.Error,
        struct.error,
    ) as exc:
        raise DataError(f"{p}: cannot read as mzML ({_short(exc)})") from None
    except Exception as exc:  # lxml raises its own XMLSyntaxError hierarchy
        if type(exc).__module__.startswith("lxml"):
            raise DataError(f"{p}: not a well-formed mzML file ({exc})") from None
        raise
    if not out:
        raise DataError(f"{p}: no chromatograms with time and intensity arrays")
    return out


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def _checked_trace(p: Path, cid: str, t: NDArray[np.float64], y: NDArray[np.float64]) -> Trace:
    """A chromatogram's arrays, refused if empty, of unequal length, non-finite or unordered."""
    where = f"{p}: chromatogram {cid!r}"
    if t.ndim != 1 or y.ndim != 1 or len(t) == 0:
        raise DataError(f"{where}: empty time or intensity array")
    if len(t) != len(y):
        raise DataError(f"{where}: {len(t)} times but {len(y)} intensities")
    if not (np.isfinite(t).all() and np.isfinite(y).all()):
        raise DataError(f"{where}: times or intensities are not finite numbers")
    if np.any(np.diff(t) <= 0):
        raise DataError(f"{where}: times are not strictly increasing")
    return t, y


def integrate_peak(time: Any, intensity: Any, rt: float, half_window: float) -> float:
    """Area above a straight baseline across the window (see the module rule)."""
    t = np.asarray(time, float)
    y = np.asarray(intensity, float)
    if half_window <= 0:
        raise DataError(f"integration half-window must be positive, got {half_window:g} min")
    lo, hi = rt - half_window, rt + half_window
    if lo < t.min() or hi > t.max():
        raise DataError(
            f"integration window {lo:g}-{hi:g} min lies outside the trace "
            f"({t.min():g}-{t.max():g} min)"
        )
    inside = (t > lo) & (t < hi)
    if inside.sum() < 3:
        raise DataError(
            f"fewer than 3 points inside the window {lo:g}-{hi:g} min; widen it or check the "
            "retention time"
        )
    y_lo, y_hi = np.interp([lo, hi], t, y)
    tt = np.concatenate([[lo], t[inside], [hi]])
    yy = np.concatenate([[y_lo], y[inside], [y_hi]])
    base = y_lo + (y_hi - y_lo) * (tt - lo) / (hi - lo)
    return float(np.trapezoid(np.clip(yy - base, 0.0, None), tt))


def _trace(traces: dict[str, Trace], pattern: str, where: str) -> Trace:
    hits = [k for k in traces if pattern in k]
    if len(hits) != 1:
        what = "no chromatogram" if not hits else f"{len(hits)} chromatograms"
        raise DataError(f"{where}: {what} with id containing {pattern!r}; ids: {', '.join(traces)}")
    return traces[hits[0]]


def peak_table_from_mzml(
    files: list[str | Path],
    sheet: pd.DataFrame,
    *,
    analyte_trace: str,
    is_trace: str,
    rt: float,
    half_window: float,
) -> pd.DataFrame:
    """A wide peak table from one mzML file per injection and a sample sheet.

    ``sheet`` has a ``File`` column (file name or stem) and ``Sample Type``; its other
    columns (``Analyte Concentration``, ``Cell Count``, ...) are carried over. Its rows give
    the injection order.
    """
    where = str(sheet.attrs.get("path", "sample sheet"))
    cols = {c.lower().replace(" ", ""): c for c in sheet.columns}
    if "file" not in cols:
        raise DataError(f"{where}: the sample sheet needs a 'File' column naming each mzML file")
    names = text_column(sheet, cols["file"])
    rows = []
    for f in files:
        p = Path(f)
        match = (names == p.name) | (names == p.stem)
        if not match.any():
            raise DataError(f"{where}: no row for mzML file {p.name}")
        if match.sum() > 1:
            raise DataError(f"{where}: mzML file {p.name} is listed more than once")
        position = int(np.nonzero(match.to_numpy())[0][0])
        rec = sheet[match.to_numpy()].iloc[0].to_dict()
        traces = read_chromatograms(p)
        ta, ya = _trace(traces, analyte_trace, str(p))
        ti, yi = _trace(traces, is_trace, str(p))
        rec.pop(cols["file"])
        rec = {"Replicate Name": p.stem, **rec}
        try:
            rec["Area"] = integrate_peak(ta, ya, rt, half_window)
            rec["IS Area"] = integrate_peak(ti, yi, rt, half_window)
        except DataError as exc:
            raise DataError(f"{p}: {exc}") from None
        rows.append((position, rec))
    if not rows:
        raise DataError("no mzML files given")
    given = {Path(f).name for f in files} | {Path(f).stem for f in files}
    absent = [n for n in names if n not in given]
    if absent:
        raise DataError(
            f"{where}: the sheet lists {absent[0]!r}, which is not among the mzML files given "
            "(give every file the sheet lists, or remove its row)"
        )
    # The sheet lists the injections in run order (carry-over is judged on that order),
    # whatever order the files were given in (a shell glob sorts them by name).
    out = pd.DataFrame([rec for _, rec in sorted(rows, key=lambda item: item[0])])
    out.attrs["path"] = f"{where} + {len(rows)} mzML file(s)"
    return out
