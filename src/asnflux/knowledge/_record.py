"""Frozen value objects of the knowledge base: :class:`Record` and :class:`Reference`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .._errors import DataError, UnitError
from ..units import Q_, Uncertainty, as_quantity
from ._schema import FLAGS, KINDS

__all__ = ["Record", "Reference"]


@dataclass(frozen=True)
class Reference:
    """A citable source: a paper, a drug label, the seed document, or an assumption."""

    key: str
    title: str
    authors: str = ""
    journal: str = ""
    year: int | None = None
    volume: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    url: str = ""
    kind: str = "article"
    note: str = ""

    def __post_init__(self) -> None:
        if not self.key or not self.title:
            raise DataError(f"reference {self.key!r}: a key and a title are required")
        if self.kind not in ("assumption", "lab") and not (self.doi or self.pmid or self.url):
            raise DataError(
                f"reference {self.key!r}: give a DOI, a PMID or a URL so a reader can find it"
            )

    def format(self) -> str:
        """One-line citation, e.g. ``Asselin BL et al. (1993) Title. J Clin Oncol 11:1780.``"""
        parts = []
        if self.authors:
            parts.append(self.authors)
        if self.year:
            parts.append(f"({self.year})")
        head = " ".join(parts)
        text = f"{head}. {self.title}." if head else f"{self.title}."
        if self.journal:
            text += f" {self.journal}"
            if self.volume:
                text += f" {self.volume}"
            if self.pages:
                text += f":{self.pages}"
            text += "."
        if self.doi:
            text += f" doi:{self.doi}"
        if self.pmid:
            text += f" PMID:{self.pmid}"
        if self.url and not (self.doi or self.pmid):
            text += f" {self.url}"
        return text.strip()

    def bibtex(self) -> str:
        entry = "misc" if self.kind in ("label", "web", "assumption", "seed", "lab") else "article"
        fields = {
            "title": self.title,
            "author": " and ".join(a.strip() for a in self.authors.split(",") if a.strip()),
            "journal": self.journal,
            "year": str(self.year) if self.year else "",
            "volume": self.volume,
            "pages": self.pages.replace("-", "--"),
            "doi": self.doi,
            "pmid": self.pmid,
            "url": self.url,
            "note": self.note,
        }
        body = ",\n".join(f"  {k} = {{{_bibtex_escape(v)}}}" for k, v in fields.items() if v)
        return f"@{entry}{{{self.key},\n{body}\n}}"


def _bibtex_escape(text: str) -> str:
    return text.replace("{", "\\{").replace("}", "\\}").replace("&", "\\&").replace("%", "\\%")


@dataclass(frozen=True)
class Record:
    """One curated number (or qualitative statement) with everything needed to trust it.

    ``value``, ``low`` and ``high`` are magnitudes in ``unit``, which is the canonical unit
    of the record's quantity kind for its dimension; ``printed`` and ``printed_unit`` keep
    what the source printed, verbatim. ``source`` is a reference key, or ``"assumption"``
    (then ``reason`` says why the value is plausible).
    """

    id: str
    topic: str
    quantity: str
    entity: str
    source: str
    value: float | None = None
    unit: str = ""
    uncertainty: Uncertainty | None = None
    low: float | None = None
    high: float | None = None
    approximate: bool = False
    printed: str = ""
    printed_unit: str = ""
    substrate: str = ""
    organism: str = ""
    conditions: tuple[tuple[str, str], ...] = ()
    locator: str = ""
    reason: str = ""
    flags: tuple[str, ...] = ()
    notes: str = ""
    origin: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        kind = KINDS.get(self.quantity)
        if kind is None:
            raise DataError(f"record {self.id!r}: unknown quantity kind {self.quantity!r}")
        for flag in self.flags:
            if flag not in FLAGS:
                raise DataError(f"record {self.id!r}: unknown flag {flag!r}")
        if self.source == "assumption" and not self.reason:
            raise DataError(f"record {self.id!r}: an assumption needs a reason")
        if kind.numeric and self.value is None and self.low is None:
            raise DataError(f"record {self.id!r}: a {self.quantity} needs a value or a range")
        for name in ("value", "low", "high"):
            v = getattr(self, name)
            if v is not None and not math.isfinite(v):
                raise DataError(f"record {self.id!r}: {name} {v!r} is not finite")

    # -- views -------------------------------------------------------------------------
    @property
    def is_assumption(self) -> bool:
        return self.source == "assumption"

    @property
    def conditions_dict(self) -> dict[str, str]:
        return dict(self.conditions)

    def as_quantity(self) -> Any:
        """The central value as a pint quantity (for a pure range, the midpoint)."""
        if self.value is not None:
            return Q_(self.value, self.unit)
        if self.low is not None and self.high is not None:
            return Q_((self.low + self.high) / 2.0, self.unit)
        raise DataError(f"record {self.id!r} is qualitative and has no value")

    def convert_to(self, unit: str) -> Any:
        """The central value converted to ``unit``.

        Raises
        ------
        UnitError
            If ``unit`` has another dimension than the record's value.
        """
        q = self.as_quantity()
        target = as_quantity(f"1 {unit}", name="unit")
        if q.dimensionality != target.dimensionality:
            raise UnitError(
                f"record {self.id!r} is in {self.unit} ({q.dimensionality}); cannot convert to "
                f"{unit} ({target.dimensionality})"
            )
        return q.to(unit)

    def magnitude(self, unit: str) -> float:
        """The central value as a float in ``unit``; what model code uses."""
        return float(self.convert_to(unit).magnitude)

    def display_value(self) -> str:
        if self.value is None and self.low is None:
            return self.printed or "—"
        approx = "~" if self.approximate else ""
        if self.value is not None:
            text = f"{approx}{self.value:.4g}"
            if self.uncertainty is not None:
                if self.uncertainty.kind == "cv":
                    text += f" (CV {100 * self.uncertainty.value:.3g} %)"
                else:
                    text += f" ± {self.uncertainty.value:.3g}"
        else:
            text = f"{approx}{self.low:.4g}–{self.high:.4g}"
        unit = "" if self.unit == "dimensionless" else f" {self.unit}"
        return text + unit

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "topic": self.topic,
            "quantity": self.quantity,
            "entity": self.entity,
            "substrate": self.substrate,
            "organism": self.organism,
            "value": self.value,
            "unit": self.unit,
            "uncertainty": (
                None
                if self.uncertainty is None
                else {"kind": self.uncertainty.kind, "value": self.uncertainty.value}
            ),
            "low": self.low,
            "high": self.high,
            "approximate": self.approximate,
            "printed": self.printed,
            "printed_unit": self.printed_unit,
            "conditions": self.conditions_dict,
            "source": self.source,
            "locator": self.locator,
            "reason": self.reason,
            "flags": list(self.flags),
            "notes": self.notes,
        }
