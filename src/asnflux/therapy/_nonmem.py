"""NONMEM-style datasets for TDM: doses and asparaginase activity levels, one or many patients.

Columns (case-insensitive): ``ID``; ``TIME`` (hours since the patient's first record);
``AMT`` (the dose per m² in the formulation's dose unit, on dose records); ``DV`` (serum
asparaginase activity, on observation records); ``EVID`` (0 observation, 1 dose); optional
``MDV`` (1: no observation on this record), ``CMT`` (ignored, as compartments are the
model's), ``BLQ`` (1: below the LLOQ, ``DV`` then holds the LLOQ) and ``LLOQ``.
Formulation and route are not NONMEM columns; the caller states them. Activity is in
IU/mL or IU/L (``dv_unit``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .._errors import DataError
from .._tables import file_row, finite_numbers, text_column
from ._formulations import formulation
from ._regimen import Dose, Regimen

__all__ = ["read_nonmem"]

_REQUIRED = ("id", "time", "dv", "evid")
_KNOWN = (*_REQUIRED, "amt", "mdv", "cmt", "blq", "lloq")
_DV_UNITS = {"IU/mL": 1.0, "IU/L": 1e-3}


def read_nonmem(
    table: pd.DataFrame, formulation_name: str, route: str | None = None, dv_unit: str = "IU/mL"
) -> dict[str, tuple[Regimen, pd.DataFrame]]:
    """Per patient id: the regimen of its dose records and its levels (``day``,
    ``saa_IU_per_mL`` as text, ``"<LLOQ"`` below the limit), ready for :func:`tdm`."""
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
    time = finite_numbers(table[cols["time"]])
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
        if not p["doses"]:
            raise DataError(f"{where}: ID {pid} has no dose record (EVID 1)")
        if not p["levels"]:
            raise DataError(f"{where}: ID {pid} has no level (EVID 0, MDV 0)")
        try:
            regimen = Regimen(tuple(p["doses"]))
        except DataError as exc:
            raise DataError(f"{where}: ID {pid}: {exc}") from None
        levels = pd.DataFrame(
            {"day": [d for d, _, _ in p["levels"]], "saa_IU_per_mL": [t for _, t, _ in p["levels"]]}
        )
        levels.attrs["path"] = f"{where} (ID {pid})"
        levels.attrs["rows"] = [r for _, _, r in p["levels"]]
        out[pid] = (regimen, levels)
    return out
