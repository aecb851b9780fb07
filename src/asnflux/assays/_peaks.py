"""Reading peak-area reports (Skyline-style CSV) into one normalised table.

Accepted layouts:

* **wide** — one row per injection with the analyte and internal-standard areas in two
  columns (``Area``/``Analyte Area``/``Light Area`` and ``IS Area``/``Heavy Area``);
* **long** — Skyline's default molecule report: one row per injection and isotope label
  (``Isotope Label Type`` = light/heavy) with ``Total Area`` (or ``Area``).

Column names are matched case-insensitively, ignoring spaces and underscores; a unit may be
given in brackets or parentheses after the concentration header (``Analyte Concentration
(µM)``). Sample types follow Skyline: Standard, Quality Control (QC), Blank, Double Blank,
Solvent, Unknown.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from .._errors import DataError, UnitError
from .._tables import file_row, finite_numbers, text_column
from ..units import Q_
from ._common import parse_dilution

__all__ = ["SAMPLE_TYPES", "read_peak_table"]

SAMPLE_TYPES = {
    "standard": "standard",
    "qualitycontrol": "qc",
    "qc": "qc",
    "blank": "blank",
    "zerosample": "blank",
    "doubleblank": "double_blank",
    "solvent": "solvent",
    "unknown": "unknown",
    "sample": "unknown",
}

_ALIASES: dict[str, tuple[str, ...]] = {
    "replicate": ("replicatename", "replicate", "filename", "injection"),
    "sample_type": ("sampletype", "type"),
    "molecule": ("moleculename", "molecule", "peptide", "compound", "analyte"),
    "analyte_area": ("analytearea", "lightarea", "arealight", "totalarealight", "area"),
    "is_area": (
        "isarea",
        "internalstandardarea",
        "heavyarea",
        "areaheavy",
        "totalareaheavy",
    ),
    "label_type": ("isotopelabeltype", "labeltype", "isotopelabel"),
    "total_area": ("totalarea", "area"),
    "nominal": ("analyteconcentration", "nominalconcentration", "concentration", "nominal"),
    "added": ("addedconcentration", "added", "spike", "spikedconcentration"),
    "sample": ("samplename", "sample", "samplegroup", "group"),
    "dilution": ("dilutionfactor", "sampledilutionfactor", "dilution"),
    "cells": ("cellcount", "cells", "cellnumber"),
    "protein": ("protein", "proteinmass", "proteinamount"),
    "order": ("acquiredtime", "injectionorder", "runorder", "order"),
}
_UNIT_IN_HEADER = re.compile(r"^(.*?)\s*[\[(]([^\])]+)[\])]\s*$")


def _key(name: str) -> str:
    return re.sub(r"[\s_\-.]", "", name.lower())


def _find(columns: dict[str, tuple[str, str | None]], role: str) -> tuple[str, str | None] | None:
    for alias in _ALIASES[role]:
        if alias in columns:
            return columns[alias]
    return None


#: How Skyline writes a peak it did not find.
NO_PEAK = ("#N/A", "N/A")
#: How per-transition rows become one area per injection and label.
TRANSITIONS = ("sum", "quantifier")


def _numbers(
    df: pd.DataFrame, col: str, where: str, *, allow_missing: bool, no_peak: bool = False
) -> pd.Series:
    raw = df[col]
    vals = pd.Series(finite_numbers(raw), index=raw.index)
    text = raw.astype(object).where(raw.notna(), "").astype(str).str.strip()
    bad = vals.isna() & raw.notna() & (text != "")
    if no_peak:
        bad &= ~text.isin(NO_PEAK)
    if not allow_missing:
        bad |= vals.isna()
    if bad.any():
        i = int(np.nonzero(bad.to_numpy())[0][0])
        raise DataError(
            f"{where}: row {df['_row'].iloc[i]}, column {col!r}: {raw.iloc[i]!r} is not a number"
        )
    neg = vals < 0
    if neg.any():
        i = int(np.nonzero(neg.to_numpy())[0][0])
        raise DataError(
            f"{where}: row {df['_row'].iloc[i]}, column {col!r}: {vals.iloc[i]:g} is negative"
        )
    return vals


def _unit_factor(header_unit: str | None, default: str, target: str, where: str, col: str) -> float:
    unit = header_unit or default
    try:
        return float(Q_(1.0, unit).to(target).magnitude)
    except Exception as exc:  # pint raises several unrelated types for bad units
        raise UnitError(
            f"{where}: column {col!r} has unit {unit!r}, which cannot be read as {target} ({exc})"
        ) from None


def _collapse(
    part: pd.DataFrame, rep: str, area: str, transitions: str, where: str, name: str
) -> pd.DataFrame:
    """One row per replicate: transitions summed (Skyline's Total Area) or the quantifier.

    The quantifier is the transition marked ``Quantitative`` (Skyline's column) when the
    report has it, else the most intense transition over the run (mean area).
    """
    if transitions not in TRANSITIONS:
        raise DataError(f"transitions {transitions!r} is not one of {', '.join(TRANSITIONS)}")
    counts = part.groupby(rep, sort=False).size()
    if counts.max() == 1:
        return part.set_index(rep)
    product = next((c for c in part.columns if _key(c) in ("productmz", "fragmention")), None)
    if product is None:
        dup = counts.index[counts > 1][0]
        raise DataError(
            f"{where}: replicate {dup!r} has {counts.max()} {name} rows and no 'Product Mz' "
            "column to tell transitions apart"
        )
    areas = pd.Series(finite_numbers(part[area]), index=part.index)
    first = part.groupby(rep, sort=False).head(1).set_index(rep)
    if transitions == "sum":
        # A transition without a peak (#N/A) leaves the injection without a peak.
        summed = areas.groupby(part[rep], sort=False).agg(lambda v: v.sum(min_count=len(v)))
        first[area] = summed.reindex(first.index).to_numpy()
        return first
    quant = next((c for c in part.columns if _key(c) == "quantitative"), None)
    if quant is not None:
        keep = text_column(part, quant).str.lower().isin(["true", "1", "yes"])
    else:
        key = text_column(part, product)
        best = areas.groupby(key).mean().idxmax()
        keep = key == best
    chosen = part[keep.to_numpy()]
    if chosen.groupby(rep).size().max() != 1 or set(chosen[rep]) != set(first.index):
        raise DataError(f"{where}: cannot pick one quantifier transition per {name} injection")
    return chosen.set_index(rep)


def read_peak_table(
    df: pd.DataFrame,
    *,
    concentration_unit: str | None = None,
    analyte: str | None = None,
    is_label: str | None = None,
    transitions: str = "sum",
) -> tuple[pd.DataFrame, str]:
    """Normalise a peak report. Returns the table and the molecule analysed.

    Long reports may label the internal standard with any Skyline label type (``heavy``,
    ``heavyD5``, …; ``is_label`` chooses one when there are several); per-transition rows
    are summed or reduced to the quantifier (``transitions``). A ``#N/A`` area (no peak)
    is kept as missing for unknowns, which are then reported as not quantified.

    Output columns: ``row`` (spreadsheet row of the first source line), ``replicate``,
    ``sample``, ``sample_type`` (standard, qc, blank, double_blank, solvent, unknown),
    ``analyte_area``, ``is_area``, ``nominal_uM``, ``added_uM``, ``dilution``, ``cells``,
    ``protein_mg`` (NaN where not given), in injection order.
    """
    where = str(df.attrs.get("path", "peak table"))
    df = df.copy()
    df["_row"] = [file_row(df, i) for i in range(len(df))]
    columns: dict[str, tuple[str, str | None]] = {}
    for col in df.columns:
        if col == "_row":
            continue
        m = _UNIT_IN_HEADER.match(str(col))
        base, unit = (m.group(1), m.group(2).strip()) if m else (str(col), None)
        columns.setdefault(_key(base), (str(col), unit))
    rep = _find(columns, "replicate")
    stype = _find(columns, "sample_type")
    if rep is None or stype is None:
        raise DataError(
            f"{where}: a peak report needs 'Replicate Name' and 'Sample Type' columns; "
            f"found {', '.join(c for c in df.columns if c != '_row')}"
        )
    mol = _find(columns, "molecule")
    if mol is not None:
        names = text_column(df, mol[0])
        present = list(dict.fromkeys(names))
        if analyte is None:
            if len(present) > 1:
                raise DataError(
                    f"{where}: the report holds several molecules ({', '.join(present)}); "
                    "choose one with analyte="
                )
            analyte = present[0]
        matches = names.str.lower() == analyte.strip().lower()
        if not matches.any():
            raise DataError(
                f"{where}: no rows for molecule {analyte!r}; present: {', '.join(present)}"
            )
        df = df[matches.to_numpy()]
    molecule = analyte or "analyte"

    label = _find(columns, "label_type")
    if label is not None:
        area = _find(columns, "total_area")
        if area is None:
            raise DataError(f"{where}: long report has 'Isotope Label Type' but no 'Total Area'")
        kinds = text_column(df, label[0]).str.lower()
        others = sorted(set(kinds) - {"light"})
        if is_label is not None:
            if is_label.lower() not in others:
                raise DataError(
                    f"{where}: --is-label {is_label!r} is not a label type of the report "
                    f"(found {', '.join(sorted(set(kinds)))})"
                )
            heavy_kind = is_label.lower()
        elif len(others) == 1:
            heavy_kind = others[0]
        else:
            raise DataError(
                f"{where}: label types {', '.join(others) or '(none besides light)'}: choose "
                "the internal standard's with --is-label"
            )
        df = df.assign(_kind=kinds.to_numpy())
        light = _collapse(df[df["_kind"] == "light"], rep[0], area[0], transitions, where, "light")
        heavy = _collapse(
            df[df["_kind"] == heavy_kind], rep[0], area[0], transitions, where, heavy_kind
        )
        missing = [r for r in light.index if r not in heavy.index]
        wide = light.copy()
        wide["_is"] = heavy[area[0]].reindex(light.index)
        wide["_analyte"] = light[area[0]]
        wide = wide.reset_index()
        for r in missing:
            st = _sample_type(light.loc[r, stype[0]], where, int(light.loc[r, "_row"]))
            if st != "double_blank":
                raise DataError(f"{where}: replicate {r!r} has no heavy (internal standard) row")
        df = wide
        a_col, i_col = "_analyte", "_is"
    else:
        a = _find(columns, "analyte_area")
        b = _find(columns, "is_area")
        if a is None or b is None:
            raise DataError(
                f"{where}: need an analyte-area column (e.g. 'Analyte Area') and an internal-"
                "standard area column (e.g. 'IS Area'), or a long report with 'Isotope Label "
                "Type' and 'Total Area'"
            )
        a_col, i_col = a[0], b[0]

    out = pd.DataFrame({"row": df["_row"].to_numpy()})
    out["replicate"] = text_column(df, rep[0]).to_numpy()
    twice = out["replicate"][out["replicate"].duplicated()]
    if len(twice):
        raise DataError(f"{where}: replicate {twice.iloc[0]!r} appears twice")
    out["sample_type"] = [
        _sample_type(v, where, int(r)) for v, r in zip(df[stype[0]], df["_row"], strict=True)
    ]
    sample = _find(columns, "sample")
    out["sample"] = text_column(df, sample[0]).to_numpy() if sample else out["replicate"]
    analyte_area = _numbers(df, a_col, where, allow_missing=True, no_peak=True).to_numpy()
    kinds_out = out["sample_type"].to_numpy()
    # No peak in a blank means nothing detected (area 0); an unknown without a peak is
    # reported as not quantified; a standard or QC needs its peak.
    blankish = np.isin(kinds_out, ["blank", "double_blank", "solvent"])
    analyte_area = np.where(np.isnan(analyte_area) & blankish, 0.0, analyte_area)
    no_peak = np.isnan(analyte_area) & (kinds_out != "unknown")
    if no_peak.any():
        k = int(np.nonzero(no_peak)[0][0])
        raise DataError(
            f"{where}: row {out['row'].iloc[k]} ({kinds_out[k]}): no analyte peak area; "
            "standards and QCs need one (integrate the peak or remove the injection)"
        )
    out["analyte_area"] = analyte_area
    is_area = _numbers(df, i_col, where, allow_missing=True).to_numpy()
    needs_is = out["sample_type"].isin(["standard", "qc", "blank", "unknown"]).to_numpy()
    lacking = needs_is & ~(is_area > 0)
    if lacking.any():
        k = int(np.nonzero(lacking)[0][0])
        raise DataError(
            f"{where}: row {out['row'].iloc[k]} ({out['sample_type'].iloc[k]}): the internal-"
            "standard area must be a positive number"
        )
    out["is_area"] = is_area
    for role, target, default in (
        ("nominal", "nominal_uM", concentration_unit),
        ("added", "added_uM", concentration_unit),
    ):
        found = _find(columns, role)
        if found is None:
            out[target] = np.nan
            continue
        col, unit = found
        if (
            unit is not None
            and default is not None
            and _unit_factor(unit, "µM", "µM", where, col)
            != _unit_factor(default, "µM", "µM", where, col)
        ):
            raise UnitError(
                f"{where}: column {col!r} states {unit!r}, but the unit given is {default!r}; "
                "the header's unit is used when there is one, so leave the unit option out"
            )
        factor = _unit_factor(unit, default or "µM", "µM", where, col)
        out[target] = _numbers(df, col, where, allow_missing=True).to_numpy() * factor
    dil = _find(columns, "dilution")
    out["dilution"] = (
        np.nan
        if dil is None
        else [
            np.nan
            if v is None or (isinstance(v, float) and np.isnan(v))
            else parse_dilution(v, f"{where}: row {r}, column {dil[0]!r}")
            for v, r in zip(df[dil[0]], df["_row"], strict=True)
        ]
    )
    cells = _find(columns, "cells")
    out["cells"] = (
        np.nan if cells is None else _numbers(df, cells[0], where, allow_missing=True).to_numpy()
    )
    prot = _find(columns, "protein")
    if prot is None:
        out["protein_mg"] = np.nan
    else:
        factor = _unit_factor(prot[1], "mg", "mg", where, prot[0])
        out["protein_mg"] = _numbers(df, prot[0], where, allow_missing=True).to_numpy() * factor
    order = _find(columns, "order")
    if order is not None:
        key: Any = pd.to_datetime(df[order[0]], errors="coerce")
        if key.isna().any():
            key = pd.Series(finite_numbers(df[order[0]]), index=df.index)
        if key.isna().any():
            i = int(np.nonzero(key.isna().to_numpy())[0][0])
            raise DataError(
                f"{where}: row {df['_row'].iloc[i]}, column {order[0]!r}: cannot read "
                f"{df[order[0]].iloc[i]!r} as an injection time or order number"
            )
        out = out.iloc[np.argsort(key.to_numpy(), kind="stable")].reset_index(drop=True)
        if pd.api.types.is_datetime64_any_dtype(key):  # the run's acquisition period
            out.attrs["acquired"] = (key.min().isoformat(sep=" "), key.max().isoformat(sep=" "))
    # A QC without a nominal value is a pooled QC (precision only); a standard needs one.
    rows = out[(out["sample_type"] == "standard") & out["nominal_uM"].isna()]
    if len(rows):
        raise DataError(
            f"{where}: row {rows['row'].iloc[0]} (standard) has no nominal concentration"
        )
    out.attrs["path"] = where
    return out, molecule


def _sample_type(value: Any, where: str, row: int) -> str:
    key = _key(str(value))
    if key not in SAMPLE_TYPES:
        raise DataError(
            f"{where}: row {row}, column 'Sample Type': {value!r} is not one of Standard, "
            "Quality Control, Blank, Double Blank, Solvent, Unknown"
        )
    return SAMPLE_TYPES[key]
