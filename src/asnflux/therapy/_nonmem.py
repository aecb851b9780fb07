"""NONMEM-style datasets for TDM: doses and asparaginase activity levels, one or many patients.

Columns (case-insensitive): ``ID``; ``TIME`` (hours since the patient's first record) or
``DATE`` (``YYYY-MM-DD``) with ``TIME`` as a clock time (``HH:MM``), turned into hours since
the patient's first record;
``AMT`` (the dose per m² in the formulation's dose unit, on dose records); ``DV`` (serum
asparaginase activity, on observation records); ``EVID`` (0 observation, 1 dose); optional
``MDV`` (1: no observation on this record), ``CMT`` (ignored, as compartments are the
model's), ``BLQ`` (1: below the LLOQ, ``DV`` then holds the LLOQ) and ``LLOQ``.
Formulation and route are not NONMEM columns; the caller states them. Activity is in
IU/mL or IU/L (``dv_unit``). Optional covariates, one value per patient: ``BSA`` (m²),
``WT`` (kg), ``AGE`` (years), ``SEX`` (``F`` or ``M``); they reach :func:`tdm_dataset`
through the levels table's ``attrs["covariates"]``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import numpy as np
import pandas as pd

from .._errors import DataError
from .._tables import file_row, finite_numbers, text_column
from ..models._formulations import formulation
from ._regimen import Dose, Regimen

__all__ = ["read_nonmem"]

_REQUIRED = ("id", "time", "dv", "evid")
_COVARIATES = {"bsa": "bsa", "wt": "weight", "age": "age", "sex": "sex"}
_KNOWN = (*_REQUIRED, "amt", "mdv", "cmt", "blq", "lloq", "date", *_COVARIATES)
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")
_DV_UNITS = {"IU/mL": 1.0, "IU/L": 1e-3}


def read_nonmem(
    table: pd.DataFrame,
    formulation_name: str,
    route: str | None = None,
    dv_unit: str = "IU/mL",
    errors: dict[str, str] | None = None,
) -> dict[str, tuple[Regimen, pd.DataFrame]]:
    """Per patient id: the regimen of its dose records and its levels (``day``,
    ``saa_IU_per_mL`` as text, ``"<LLOQ"`` below the limit), ready for :func:`tdm`. A
    patient without doses or levels is an error, or, with ``errors``, recorded there by ID
    (file-level problems are always errors)."""
    where = str(table.attrs.get("path", "dataset"))
    if dv_unit not in _DV_UNITS:
        raise DataError(f"DV unit {dv_unit!r} is not one of {', '.join(_DV_UNITS)}")
    f = formulation(formulation_name)
    route = route or f.routes[0]
    cols = {str(c).lower(): c for c in table.columns}
    missing = [c.upper() for c in _REQUIRED if c not in cols]
    if missing:
        raise DataError(f"{where}: missing column(s) {', '.join(missing)} of a NONMEM dataset")
    unknown = [str(c) for c in table.columns if str(c).lower() not in _KNOWN]
    if unknown:
        raise DataError(
            f"{where}: unknown column(s) {', '.join(unknown)}; expected "
            f"{', '.join(c.upper() for c in _KNOWN)}"
        )
    if table.empty:
        raise DataError(f"{where}: no records")
    ids = text_column(table, cols["id"])
    time = (
        _times(table, cols, ids, where) if "date" in cols else finite_numbers(table[cols["time"]])
    )
    covariates = _covariates(table, cols, ids, where)
    evid = finite_numbers(table[cols["evid"]])
    dv = finite_numbers(table[cols["dv"]])
    amt = finite_numbers(table[cols["amt"]]) if "amt" in cols else np.full(len(table), np.nan)
    mdv = finite_numbers(table[cols["mdv"]]) if "mdv" in cols else np.zeros(len(table))
    blq = finite_numbers(table[cols["blq"]]) if "blq" in cols else np.zeros(len(table))
    lloq = finite_numbers(table[cols["lloq"]]) if "lloq" in cols else np.full(len(table), np.nan)
    scale = _DV_UNITS[dv_unit]
    patients: dict[str, dict[str, list[Any]]] = {}
    for i in range(len(table)):
        at = f"{where}: row {file_row(table, i)}"
        if not ids.iloc[i]:
            raise DataError(f"{at}, column ID: empty; every record names its patient")
        if "date" in cols and time[i] < 0:
            raise DataError(
                f"{at}: DATE/TIME goes backwards for ID {ids.iloc[i]}; sort by ID, DATE, TIME"
            )
        if not (math.isfinite(time[i]) and time[i] >= 0):
            raise DataError(f"{at}, column TIME: {table[cols['time']].iloc[i]!r} is not hours ≥ 0")
        p = patients.setdefault(ids.iloc[i], {"doses": [], "levels": [], "last": [-1.0]})
        if time[i] < p["last"][0]:
            raise DataError(f"{at}: TIME goes backwards for ID {ids.iloc[i]}; sort by ID, TIME")
        p["last"][0] = time[i]
        if evid[i] == 1:
            if not (math.isfinite(amt[i]) and amt[i] > 0):
                raise DataError(
                    f"{at}, column AMT: a dose record (EVID 1) needs a dose > 0 in {f.dose_unit}"
                )
            p["doses"].append(Dose(float(time[i]), f.name, float(amt[i]), route))
        elif evid[i] == 0:
            if mdv[i] == 1:
                continue
            if mdv[i] != 0:
                raise DataError(f"{at}, column MDV: expected 0 or 1")
            if not (math.isfinite(dv[i]) and dv[i] >= 0):
                raise DataError(
                    f"{at}, column DV: {table[cols['dv']].iloc[i]!r} is not an activity ≥ 0 "
                    f"({dv_unit})"
                )
            value = dv[i] * scale
            below = blq[i] == 1 or (math.isfinite(lloq[i]) and dv[i] < lloq[i])
            limit = lloq[i] * scale if math.isfinite(lloq[i]) else value
            text = f"<{limit:.6g}" if below else f"{value:.6g}"
            p["levels"].append((time[i] / 24.0, text, file_row(table, i)))
        else:
            raise DataError(
                f"{at}, column EVID: {table[cols['evid']].iloc[i]!r}; expected 0 "
                "(observation) or 1 (dose)"
            )
    out: dict[str, tuple[Regimen, pd.DataFrame]] = {}
    for pid, p in patients.items():
        problem = None
        if not p["doses"]:
            problem = f"{where}: ID {pid} has no dose record (EVID 1)"
        elif not p["levels"]:
            problem = f"{where}: ID {pid} has no level (EVID 0, MDV 0)"
        else:
            try:
                regimen = Regimen(tuple(p["doses"]))
            except DataError as exc:
                problem = f"{where}: ID {pid}: {exc}"
        if problem is not None:
            if errors is None:
                raise DataError(problem)
            errors[pid] = problem  # the caller reports it with this patient's status
            continue
        levels = pd.DataFrame(
            {"day": [d for d, _, _ in p["levels"]], "saa_IU_per_mL": [t for _, t, _ in p["levels"]]}
        )
        levels.attrs["path"] = f"{where} (ID {pid})"
        levels.attrs["covariates"] = covariates.get(pid, {})
        levels.attrs["rows"] = [r for _, _, r in p["levels"]]
        out[pid] = (regimen, levels)
    return out


def _times(table: pd.DataFrame, cols: dict[str, Any], ids: pd.Series, where: str) -> np.ndarray:
    """Hours since each patient's first record, from DATE (YYYY-MM-DD) and TIME (HH:MM)."""
    dates = text_column(table, cols["date"])
    clocks = text_column(table, cols["time"])
    absolute = np.empty(len(table))
    for i in range(len(table)):
        at = f"{where}: row {file_row(table, i)}"
        try:
            day = dt.date.fromisoformat(dates.iloc[i].strip().replace("/", "-"))
        except ValueError:
            raise DataError(
                f"{at}, column DATE: {dates.iloc[i]!r} is not a date YYYY-MM-DD"
            ) from None
        m = _CLOCK.match(clocks.iloc[i])
        if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            raise DataError(
                f"{at}, column TIME: {clocks.iloc[i]!r} is not a clock time HH:MM (with DATE, "
                "TIME is the time of day)"
            )
        hours = int(m.group(1)) + int(m.group(2)) / 60 + int(m.group(3) or 0) / 3600
        absolute[i] = (day - dt.date(2000, 1, 1)).days * 24.0 + hours
    first: dict[str, float] = {}
    for i, pid in enumerate(ids):
        first.setdefault(pid, absolute[i])
    return np.array([absolute[i] - first[pid] for i, pid in enumerate(ids)])


def _covariates(
    table: pd.DataFrame, cols: dict[str, Any], ids: pd.Series, where: str
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for column, key in _COVARIATES.items():
        if column not in cols:
            continue
        raw = table[cols[column]]
        for i, pid in enumerate(ids):
            cell = raw.iloc[i]
            if cell is None or (isinstance(cell, float) and math.isnan(cell)) or str(cell) == "":
                continue
            at = f"{where}: row {file_row(table, i)}, column {column.upper()}"
            if key == "sex":
                text = str(cell).strip().lower()
                value: Any = {"f": "f", "female": "f", "m": "m", "male": "m"}.get(text)
                if value is None:
                    raise DataError(f"{at}: {cell!r}; write F or M (numeric codes differ by site)")
            else:
                value = float(finite_numbers(pd.Series([cell]))[0])
                if not (math.isfinite(value) and value > 0) and not (key == "age" and value == 0):
                    raise DataError(f"{at}: {cell!r} is not a positive number")
            seen = out.setdefault(pid, {})
            if key in seen and seen[key] != value:
                raise DataError(
                    f"{at}: {column.upper()} changes within ID {pid} ({seen[key]!r} then "
                    f"{value!r}); TDM takes one value per patient"
                )
            seen[key] = value
    return out
