"""The knowledge base: query, cite, compare and export curated records."""

from __future__ import annotations

import csv
import difflib
import io
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from .._errors import DataError, NotFoundError
from .._repr import CompactRepr
from ._loader import load_all
from ._record import Record, Reference
from ._schema import FLAGS

__all__ = ["TOPIC_FILES", "KnowledgeBase", "load_knowledge_base"]

#: The topic files shipped with AsnFlux, in display order.
TOPIC_FILES = (
    "enzyme_kinetics.yaml",
    "concentrations.yaml",
    "pharmacokinetics.yaml",
    "thresholds.yaml",
    "cell_properties.yaml",
    "assay_qc.yaml",
    "cell_model.yaml",
    "therapy.yaml",
)

EXPORT_FORMATS = ("csv", "json", "bibtex")

# Conditions that make two values measure different things (CL vs Q, plasma vs CSF, IV vs
# IM): records differing in any of these are never set side by side as a conflict.
_DISTINGUISHING = (
    "compartment",
    "parameter",
    "applies_to",
    "type",
    "cell_type",
    "route",
    "history",
)


@dataclass(frozen=True, repr=False)
class KnowledgeBase(CompactRepr):
    """An immutable collection of records and the references they cite."""

    records: tuple[Record, ...]
    references: dict[str, Reference]
    _by_id: dict[str, Record] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ids = Counter(r.id for r in self.records)
        dup = [i for i, n in ids.items() if n > 1]
        if dup:
            raise DataError(f"duplicate record ids: {', '.join(sorted(dup))}")
        object.__setattr__(self, "_by_id", {r.id: r for r in self.records})

    # -- construction ------------------------------------------------------------------
    @classmethod
    def from_directory(
        cls, directory: str | Path, files: Sequence[str] | None = None
    ) -> KnowledgeBase:
        """Load ``references.yaml`` and topic files (default: every ``*.yaml`` but references)."""
        directory = Path(directory)
        if files is None:
            files = sorted(p.name for p in directory.glob("*.yaml") if p.name != "references.yaml")
        records, refs = load_all(directory, files)
        return cls(tuple(records), refs)

    def with_records(
        self, records: Iterable[Record], references: Iterable[Reference] = ()
    ) -> KnowledgeBase:
        """A new knowledge base with ``records`` (and the ``references`` they cite) added,
        e.g. a lab's own fitted Km (see :func:`asnflux.fitting.records_from_fit`)."""
        refs = dict(self.references)
        for ref in references:
            if ref.key in refs and refs[ref.key] != ref:
                raise DataError(f"reference key {ref.key!r} already names another source")
            refs[ref.key] = ref
        new = tuple(records)
        for r in new:
            if not r.is_assumption and r.source not in refs:
                raise DataError(f"record {r.id!r} cites unknown reference {r.source!r}")
        return KnowledgeBase(self.records + new, refs)

    # -- lookup ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.records)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._by_id

    def get(self, record_id: str) -> Record:
        """The record with this id.

        Raises
        ------
        NotFoundError
            With the closest ids, when there is no such record.
        """
        try:
            return self._by_id[record_id]
        except KeyError:
            close = difflib.get_close_matches(record_id, list(self._by_id), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise NotFoundError(f"no knowledge-base record {record_id!r}{hint}") from None

    def value(self, record_id: str, unit: str) -> float:
        """Magnitude of a record's central value in ``unit`` (what model code reads)."""
        return self.get(record_id).magnitude(unit)

    def query(
        self,
        *,
        entity: str | None = None,
        quantity: str | None = None,
        organism: str | None = None,
        source: str | None = None,
        topic: str | None = None,
        substrate: str | None = None,
        flag: str | None = None,
    ) -> list[Record]:
        """Records matching every given filter (case-insensitive substring match on text).

        ``quantity`` and ``flag`` match exactly; ``source`` matches the reference key.
        """

        def has(hay: str, needle: str | None) -> bool:
            return needle is None or needle.lower() in hay.lower()

        if flag is not None and flag not in FLAGS:
            raise NotFoundError(f"unknown flag {flag!r}; known: {', '.join(FLAGS)}")
        out = []
        for r in self.records:
            if quantity is not None and r.quantity.lower() != quantity.lower():
                continue
            if source is not None and r.source.lower() != source.lower():
                continue
            if flag is not None and flag not in r.flags:
                continue
            if (
                has(r.entity, entity)
                and has(r.organism, organism)
                and has(r.topic, topic)
                and has(r.substrate, substrate)
            ):
                out.append(r)
        return out

    def topics(self) -> dict[str, int]:
        return dict(Counter(r.topic for r in self.records))

    # -- comparison --------------------------------------------------------------------
    def conflicts(self) -> list[pd.DataFrame]:
        """Groups of records that report the same quantity for the same thing, side by side.

        Records are grouped by quantity, entity, substrate, unit and the conditions that
        change what is measured (compartment, parameter, route, …): only like with like, so
        a Vmax per mg is never set beside a Vmax per mL, nor a CSF value beside a plasma
        one. Each group with at least two numeric records is a DataFrame sorted by value,
        with ``attrs["fold_range"]`` (max/min within the group) showing how far the sources
        disagree.
        """
        groups: dict[tuple[str, ...], list[Record]] = defaultdict(list)
        for r in self.records:
            if r.value is None and r.low is None:
                continue
            cond = r.conditions_dict
            context = tuple(cond.get(k, "") for k in _DISTINGUISHING)
            groups[(r.quantity, r.entity, r.substrate, r.unit, *context)].append(r)
        frames = []
        for (quantity, entity, substrate, unit, *_), recs in groups.items():
            if len(recs) < 2:
                continue
            rows = [
                {
                    "quantity": quantity,
                    "entity": entity,
                    "substrate": substrate,
                    "id": r.id,
                    "organism": r.organism,
                    "value": r.as_quantity().magnitude,
                    "unit": unit,
                    "display": r.display_value(),
                    "source": r.source,
                    "flags": ",".join(r.flags),
                }
                for r in recs
            ]
            df = pd.DataFrame(rows).sort_values("value", kind="stable").reset_index(drop=True)
            positive = df["value"][df["value"] > 0]
            fold = float(positive.max() / positive.min()) if len(positive) else float("nan")
            df.attrs["fold_range"] = fold
            frames.append(df)
        return frames

    # -- citation ----------------------------------------------------------------------
    def cite(self, records: Iterable[Record | str]) -> list[Reference]:
        """The references behind ``records`` (records or ids), each once, in first-use order.

        Assumptions have no reference and are skipped; list them with
        ``query(source="assumption")``.
        """
        seen: dict[str, Reference] = {}
        for item in records:
            rec = self.get(item) if isinstance(item, str) else item
            if rec.is_assumption:
                continue
            if rec.source not in self.references:
                raise NotFoundError(f"record {rec.id!r} cites unknown reference {rec.source!r}")
            seen.setdefault(rec.source, self.references[rec.source])
        return list(seen.values())

    # -- export ------------------------------------------------------------------------
    def to_frame(self, records: Iterable[Record] | None = None) -> pd.DataFrame:
        recs = self.records if records is None else tuple(records)
        rows = []
        for r in recs:
            d = r.to_dict()
            unc = d.pop("uncertainty")
            d["uncertainty_kind"] = unc["kind"] if unc else ""
            d["uncertainty"] = unc["value"] if unc else None
            d["conditions"] = "; ".join(f"{k}={v}" for k, v in r.conditions)
            d["flags"] = ",".join(r.flags)
            ref = self.references.get(r.source)
            d["doi"] = ref.doi if ref else ""
            d["pmid"] = ref.pmid if ref else ""
            rows.append(d)
        return pd.DataFrame(rows)

    def export(self, fmt: str, records: Iterable[Record] | None = None) -> str:
        """Text of the records (or all) as ``csv``, ``json`` or ``bibtex`` (the references)."""
        recs = self.records if records is None else tuple(records)
        if fmt == "csv":
            buf = io.StringIO()
            self.to_frame(recs).to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL)
            return buf.getvalue()
        if fmt == "json":
            payload = {
                "records": [r.to_dict() for r in recs],
                "references": {
                    ref.key: {k: v for k, v in vars(ref).items() if v not in ("", None)}
                    for ref in self.cite(recs)
                },
            }
            return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
        if fmt == "bibtex":
            return "\n\n".join(ref.bibtex() for ref in self.cite(recs)) + "\n"
        raise NotFoundError(
            f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}"
        )

    def summary(self) -> dict[str, Any]:
        """Counts by topic, quantity and flag, and the number of assumptions."""
        flags: Counter[str] = Counter(f for r in self.records for f in r.flags)
        return {
            "records": len(self.records),
            "references": len(self.references),
            "by_topic": self.topics(),
            "by_quantity": dict(Counter(r.quantity for r in self.records)),
            "flags": dict(flags),
            "assumptions": sum(r.is_assumption for r in self.records),
        }


def _data_dir() -> Path:
    return Path(str(resources.files("asnflux.knowledge") / "data"))


@cache
def load_knowledge_base() -> KnowledgeBase:
    """The knowledge base shipped with AsnFlux (loaded once, then cached; it is immutable)."""
    return KnowledgeBase.from_directory(_data_dir(), TOPIC_FILES)
