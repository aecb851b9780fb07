"""Parse knowledge-base YAML files into validated :class:`Record` objects.

A file looks like::

    topic: enzyme_kinetics
    description: Kinetic constants of asparagine-metabolising enzymes.
    records:
      - id: seed.t1.asns.km_asp
        quantity: Km
        entity: ASNS
        substrate: L-aspartate
        organism: Homo sapiens
        printed: "0.53 ± 0.01"     # the cell as the source printed it
        printed_unit: mM            # the column header, used when the cell has no unit
        source: benchchem2025       # a key of references.yaml, or 'assumption'
        locator: Table 1, row 1

``value: "0.53 mM"`` may be given instead of (or besides) ``printed``. Flags that can be
computed (approximate, range, qualitative, ± of unstated kind, a unit differing from the
header) are added by the loader; curated flags are written in the file.

Every problem raises :class:`~asnflux.RecordError` naming the file, the record id and the
field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from .._errors import DataError, RecordError, UnitError
from ..units import Q_, Uncertainty, parse_quantity, ureg
from ._record import Record, Reference
from ._schema import FLAGS, KINDS, QuantityKind

__all__ = ["load_records", "load_references"]

_RECORD_FIELDS = {
    "id",
    "quantity",
    "entity",
    "substrate",
    "organism",
    "value",
    "unit",
    "printed",
    "printed_unit",
    "uncertainty",
    "range",
    "approximate",
    "conditions",
    "source",
    "locator",
    "reason",
    "flags",
    "notes",
}
_REFERENCE_FIELDS = {
    "title",
    "authors",
    "journal",
    "year",
    "volume",
    "pages",
    "doi",
    "pmid",
    "url",
    "kind",
    "note",
}


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RecordError(str(path), None, None, f"cannot read file ({exc.strerror})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise RecordError(str(path), None, None, f"not valid YAML{where}") from None


def load_references(path: Path) -> dict[str, Reference]:
    """Load ``references.yaml``: a mapping of citation key → fields."""
    data = _read_yaml(path)
    if not isinstance(data, Mapping):
        raise RecordError(str(path), None, None, "expected a mapping of citation keys")
    refs: dict[str, Reference] = {}
    for key, fields in data.items():
        if not isinstance(fields, Mapping):
            raise RecordError(str(path), str(key), None, "expected a mapping of fields")
        unknown = set(fields) - _REFERENCE_FIELDS
        if unknown:
            raise RecordError(
                str(path),
                str(key),
                sorted(unknown)[0],
                f"unknown field; allowed: {', '.join(sorted(_REFERENCE_FIELDS))}",
            )
        kwargs: dict[str, Any] = {
            k: (v if k == "year" else str(v)) for k, v in fields.items() if v is not None
        }
        try:
            refs[str(key)] = Reference(key=str(key), **kwargs)
        except (DataError, TypeError) as exc:
            raise RecordError(str(path), str(key), None, str(exc)) from None
    return refs


def load_records(
    path: Path, references: Mapping[str, Reference], seen: dict[str, str] | None = None
) -> list[Record]:
    """Load one topic file. ``seen`` maps ids already loaded to their file (duplicate check)."""
    file = str(path)
    data = _read_yaml(path)
    if not isinstance(data, Mapping) or "records" not in data:
        raise RecordError(file, None, None, "expected a mapping with 'topic' and 'records'")
    topic = data.get("topic")
    if not isinstance(topic, str) or not topic:
        raise RecordError(file, None, "topic", "missing or empty; name the file's topic")
    raw_records = data["records"]
    if not isinstance(raw_records, list):
        raise RecordError(file, None, "records", "expected a list of records")
    seen = {} if seen is None else seen
    out = []
    for index, raw in enumerate(raw_records):
        if not isinstance(raw, Mapping):
            raise RecordError(file, f"#{index + 1}", None, "expected a mapping of fields")
        rid = raw.get("id")
        if not isinstance(rid, str) or not rid.strip():
            raise RecordError(file, f"#{index + 1}", "id", "missing; every record needs an id")
        if rid in seen:
            raise RecordError(file, rid, "id", f"duplicate id (already defined in {seen[rid]})")
        record = _build_record(file, topic, rid, raw, references)
        seen[rid] = file
        out.append(record)
    return out


def _build_record(
    file: str, topic: str, rid: str, raw: Mapping[str, Any], refs: Mapping[str, Reference]
) -> Record:
    def fail(field: str | None, problem: str) -> RecordError:
        return RecordError(file, rid, field, problem)

    unknown = set(raw) - _RECORD_FIELDS
    if unknown:
        raise fail(
            sorted(unknown)[0], f"unknown field; allowed: {', '.join(sorted(_RECORD_FIELDS))}"
        )
    for required in ("quantity", "entity"):
        if not raw.get(required):
            raise fail(required, "missing; required for every record")
    source = raw.get("source")
    if not source:
        raise fail("source", "missing; cite a reference key or write 'assumption' with a reason")
    source = str(source)
    if source != "assumption" and source not in refs:
        raise fail("source", f"unknown reference key {source!r}; add it to references.yaml")
    if source == "assumption" and not raw.get("reason"):
        raise fail("reason", "an assumption must say why its value is plausible")

    kind = KINDS.get(str(raw["quantity"]))
    if kind is None:
        raise fail("quantity", f"unknown kind {raw['quantity']!r}; known: {', '.join(KINDS)}")

    flags = list(raw.get("flags") or [])
    for flag in flags:
        if flag not in FLAGS:
            raise fail("flags", f"unknown flag {flag!r}; known: {', '.join(FLAGS)}")

    printed = "" if raw.get("printed") is None else str(raw["printed"])
    printed_unit = "" if raw.get("printed_unit") is None else str(raw["printed_unit"])
    values = _values(kind, raw, printed, printed_unit, fail)
    value, low, high, unc, approx, unit = values

    if approx and "approximate" not in flags:
        flags.append("approximate")
    if low is not None and "range" not in flags:
        flags.append("range")
    if not kind.numeric and "qualitative" not in flags:
        flags.append("qualitative")
    if unc is not None and unc.kind == "pm" and "uncertainty_kind_unstated" not in flags:
        flags.append("uncertainty_kind_unstated")
    if printed and printed_unit and kind.numeric:
        cell_unit = _cell_unit(printed)
        differs = bool(cell_unit) and not _same_unit(cell_unit, printed_unit)
        if differs and "unit_differs_from_header" not in flags:
            flags.append("unit_differs_from_header")

    conditions = raw.get("conditions") or {}
    if not isinstance(conditions, Mapping):
        raise fail("conditions", "expected a mapping such as {pH: '8.6', temperature: '37 °C'}")
    try:
        return Record(
            id=rid,
            topic=topic,
            quantity=kind.name,
            entity=str(raw["entity"]),
            source=source,
            value=value,
            unit=unit,
            uncertainty=unc,
            low=low,
            high=high,
            approximate=approx,
            printed=printed,
            printed_unit=printed_unit,
            substrate=str(raw.get("substrate") or ""),
            organism=str(raw.get("organism") or ""),
            conditions=tuple((str(k), str(v)) for k, v in conditions.items()),
            locator=str(raw.get("locator") or ""),
            reason=str(raw.get("reason") or ""),
            flags=tuple(flags),
            notes=str(raw.get("notes") or "").strip(),
            origin=file,
        )
    except DataError as exc:
        raise fail(None, str(exc)) from None


_Values = tuple[float | None, float | None, float | None, Uncertainty | None, bool, str]


def _values(
    kind: QuantityKind, raw: Mapping[str, Any], printed: str, printed_unit: str, fail: Any
) -> _Values:
    """Work out (value, low, high, uncertainty, approximate, canonical unit)."""
    if not kind.numeric:
        if raw.get("value") is not None:
            raise fail("value", f"a {kind.name} record holds text in 'printed', not a value")
        return None, None, None, None, False, ""

    # Precedence: an explicit value, then an explicit range, then the printed cell.
    if raw.get("value") is not None:
        field, text = "value", raw["value"]
    elif raw.get("range") is not None:
        field, text = "range", raw["range"]
    else:
        field, text = "printed", (printed or None)
    if text is None:
        raise fail("value", f"missing; a {kind.name} needs a value (or a printed value)")
    if isinstance(text, list):
        if len(text) != 2:
            raise fail(field, "a range is [low, high]")
        text = f"{text[0]}-{text[1]}"
    default_unit = raw.get("unit") or (printed_unit if field == "printed" else None)
    if default_unit is None and kind.canonical_units == ("dimensionless",):
        default_unit = "dimensionless"  # a fraction or exponent needs no unit
    if isinstance(text, bool) or (isinstance(text, int | float) and default_unit is None):
        raise fail(field, f"{text!r} has no unit; write e.g. '{text} {kind.canonical_units[0]}'")
    try:
        parsed = parse_quantity(str(text), default_unit=default_unit, context=f"{field}")
    except UnitError as exc:
        raise fail(field, str(exc)) from None

    source_unit = parsed.unit
    canonical = _canonical_unit(kind, source_unit)
    if canonical is None:
        allowed = ", ".join(kind.canonical_units)
        raise fail(
            field,
            f"unit {source_unit:~P} has dimension {source_unit.dimensionality}, which does not "
            f"fit quantity kind {kind.name} (expected units like: {allowed})",
        )
    factor = float(Q_(1.0, source_unit).to(canonical).magnitude)

    def conv(q: Any) -> float | None:
        return None if q is None else float(q.magnitude) * factor

    value, low, high = conv(parsed.quantity), conv(parsed.low), conv(parsed.high)
    unc = parsed.uncertainty
    if unc is not None:
        unc = Uncertainty(unc.kind, unc.value * factor)
    explicit = raw.get("uncertainty")
    if explicit is not None:
        if unc is not None:
            raise fail("uncertainty", "given twice: in the printed value and as a field")
        unc = _uncertainty(explicit, source_unit, default_unit, factor, fail)
    approx = bool(parsed.approximate or raw.get("approximate", False))

    for name, v in (("value", value), ("low", low), ("high", high)):
        if v is None:
            continue
        if not math.isfinite(v):
            raise fail(field, f"{name} {v!r} is not finite")
        if v < 0 and not kind.may_be_negative:
            raise fail(field, f"{name} {v:g} is negative; a {kind.name} cannot be")
        if kind.at_most_one and v > 1:
            raise fail(field, f"{name} {v:g} is above 1; a {kind.name} is a fraction")
    unit = "dimensionless" if canonical == "dimensionless" else canonical
    return value, low, high, unc, approx, unit


def _uncertainty(
    spec: Any, source_unit: Any, default_unit: str | None, factor: float, fail: Any
) -> Uncertainty:
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise fail("uncertainty", "expected one of {sd: x}, {se: x}, {pm: x}, {ci95: x}, {cv: x}")
    ((kind, amount),) = spec.items()
    if kind not in ("sd", "se", "pm", "ci95", "cv"):
        raise fail("uncertainty", f"kind {kind!r} is not one of sd, se, pm, ci95, cv")
    try:
        if kind == "cv":
            q = parse_quantity(str(amount), default_unit="dimensionless", context="uncertainty")
            cv = float(q.quantity.to("dimensionless").magnitude)
            return Uncertainty("cv", cv)
        q = parse_quantity(str(amount), default_unit=f"{source_unit}", context="uncertainty")
        if q.quantity is None:  # a range such as "0.63-0.95"
            raise fail(
                "uncertainty", f"{amount!r} is a range; give one amount (a CI goes in conditions)"
            )
        if q.quantity.dimensionality != source_unit.dimensionality:
            raise fail("uncertainty", f"{amount!r} has another dimension than the value")
        mag = float(q.quantity.to(source_unit).magnitude) * factor
        return Uncertainty(kind, mag)
    except UnitError as exc:
        raise fail("uncertainty", str(exc)) from None


def _canonical_unit(kind: QuantityKind, unit: Any) -> str | None:
    for candidate in kind.canonical_units:
        if ureg.parse_units(candidate).dimensionality == unit.dimensionality:
            return candidate
    return None


def _cell_unit(printed: str) -> str:
    """The unit printed inside a table cell, if any ("0.031 M" → "M")."""
    try:
        parsed = parse_quantity(printed, default_unit="dimensionless")
    except UnitError:
        return ""
    unit = parsed.unit
    return "" if unit == ureg.dimensionless else f"{unit}"


def _same_unit(a: str, b: str) -> bool:
    try:
        return bool(Q_(1.0, a) == Q_(1.0, b))
    except Exception:
        return False


def load_all(directory: Path, names: Iterable[str]) -> tuple[list[Record], dict[str, Reference]]:
    """Load ``references.yaml`` and the named topic files from ``directory``."""
    refs = load_references(directory / "references.yaml")
    seen: dict[str, str] = {}
    records: list[Record] = []
    for name in names:
        records.extend(load_records(directory / name, refs, seen))
    return records, refs
