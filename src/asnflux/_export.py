"""Tables written as the ecosystem reads them: CSV, Parquet, NetCDF, Excel or JSON.

The format follows the output file's suffix; an unknown suffix is refused before any work
is done (:func:`check_output`). Units travel with the data wherever the format can hold
them: Parquet schema metadata, NetCDF variable ``units`` attributes, an Excel ``metadata``
sheet, a JSON ``units`` object. JSON is strict (missing values are ``null``, never NaN).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._errors import DataError
from ._io import atomic_write_bytes, check_writable

__all__ = [
    "FIGURE_SUFFIXES",
    "TABLE_SUFFIXES",
    "check_output",
    "jsonable",
    "strict_json",
    "table_bytes",
    "write_table",
]

TABLE_SUFFIXES = (".csv", ".parquet", ".nc", ".xlsx", ".json")
FIGURE_SUFFIXES = (".png", ".svg")
_KINDS = {"table": TABLE_SUFFIXES, "figure": FIGURE_SUFFIXES, "html": (".html", ".htm")}


def check_output(path: Path | None, kind: str, option: str) -> Path | None:
    """Refuse an output path early: unknown suffix for ``kind``, or not writable.

    ``option`` (e.g. ``"--output"``) is named in the message.
    """
    if path is None:
        return None
    allowed = _KINDS[kind]
    if path.suffix.lower() not in allowed:
        raise DataError(
            f"{option} {path}: unknown file type {path.suffix or '(none)'!r}; "
            f"expected {', '.join(allowed)}"
        )
    try:
        return check_writable(path)
    except DataError as exc:
        raise DataError(f"{option}: {exc}") from None


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars/arrays as Python values and non-finite floats as None."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    return value


def strict_json(payload: Any, indent: int | None = 2) -> str:
    """Strict JSON text (RFC 8259: no NaN or Infinity) of ``payload``."""
    return json.dumps(
        jsonable(payload), indent=indent, ensure_ascii=False, allow_nan=False, default=str
    )


def table_bytes(
    df: pd.DataFrame,
    suffix: str,
    *,
    units: Mapping[str, str] | None = None,
    attrs: Mapping[str, Any] | None = None,
    index: str | None = None,
    float_format: str = "%.10g",
) -> bytes:
    """``df`` encoded in the format named by ``suffix`` (one of :data:`TABLE_SUFFIXES`)."""
    units = dict(units or {})
    meta = dict(attrs or {})
    suffix = suffix.lower()
    if suffix == ".csv":
        return df.to_csv(index=False, float_format=float_format).encode("utf-8")
    if suffix == ".json":
        records = json.loads(df.to_json(orient="records", double_precision=15))
        return strict_json({"attrs": meta, "units": units, "data": records}).encode("utf-8")
    if suffix == ".parquet":
        out = df.copy()
        out.attrs = {"units": units}
        out.attrs.update(meta)
        buf = io.BytesIO()
        out.to_parquet(buf, index=False)
        return buf.getvalue()
    if suffix == ".xlsx":
        buf = io.BytesIO()
        info = pd.DataFrame(
            [{"key": f"units:{k}", "value": v} for k, v in units.items()]
            + [
                {"key": k, "value": json.dumps(jsonable(v), ensure_ascii=False)}
                for k, v in meta.items()
            ]
        )
        with pd.ExcelWriter(buf, engine="openpyxl") as xl:
            df.to_excel(xl, sheet_name="data", index=False)
            info.to_excel(xl, sheet_name="metadata", index=False)
        return buf.getvalue()
    if suffix == ".nc":
        import xarray as xr

        frame = (
            df.set_index(index)
            if index is not None and index in df.columns
            else df.rename_axis("row")
        )
        ds = xr.Dataset.from_dataframe(frame)
        for name, unit in units.items():
            if name in ds.variables:
                ds[name].attrs["units"] = unit
        for key, value in meta.items():
            ds.attrs[key] = (
                value
                if isinstance(value, str | int | float)
                else json.dumps(jsonable(value), ensure_ascii=False)
            )
        for name in [str(v) for v in ds.variables]:
            if ds[name].dtype == object:
                ds[name] = ds[name].astype(str)
        data = ds.to_netcdf(engine="scipy")
        return bytes(data)
    raise DataError(f"unknown table format {suffix!r}; expected {', '.join(TABLE_SUFFIXES)}")


def write_table(
    df: pd.DataFrame,
    path: str | Path,
    *,
    units: Mapping[str, str] | None = None,
    attrs: Mapping[str, Any] | None = None,
    index: str | None = None,
    float_format: str = "%.10g",
) -> Path:
    """Write ``df`` atomically to ``path`` in the format its suffix names."""
    p = Path(path)
    if p.suffix.lower() not in TABLE_SUFFIXES:
        raise DataError(
            f"{p}: unknown table format {p.suffix or '(none)'!r}; expected "
            f"{', '.join(TABLE_SUFFIXES)}"
        )
    data = table_bytes(
        df, p.suffix, units=units, attrs=attrs, index=index, float_format=float_format
    )
    return atomic_write_bytes(p, data)
