"""Configuration of the cell model: cell types, medium, drugs, perturbations, media."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._errors import DataError
from ..knowledge import KnowledgeBase, load_knowledge_base
from ..units import to_amount_concentration
from ._cell_data import MEDIA, MEDIA_DERIVED, MEDIUM, MEDIUM_SALT, METABOLITES

__all__ = ["KNOCKOUTS", "Addition", "CellConfig", "media_names", "medium_composition"]

KNOCKOUTS = ("raga-b", "arf1")
_ASNS_UNIPROT = "P08243"  # human asparagine synthetase


@dataclass(frozen=True)
class Addition:
    """An intervention at ``at`` hours: add to a medium species, set a parameter, or wash."""

    at: float
    target: str  # medium species id (e.g. "Asn_med"), or a parameter id
    value: float
    mode: str = "add"  # "add" or "set"


@dataclass(frozen=True)
class CellConfig:
    """Everything that selects a model: cell types, medium, drugs, perturbations."""

    cell_types: tuple[str, ...] = ("all-blast",)
    medium: str = "rpmi-1640"
    asparaginase: Any = None  # e.g. "1 IU/mL"
    enzyme: str = "ecoli"
    knockdown: dict[str, float] = field(default_factory=dict)  # {"asns": 0.9}
    knockout: tuple[str, ...] = ()
    er_stress: float = 0.0
    rapamycin: float = 0.0
    overrides: dict[str, float] = field(default_factory=dict)  # parameter or species id
    additions: tuple[Addition, ...] = ()


def media_names() -> list[str]:
    return sorted([*MEDIA, *MEDIA_DERIVED, "custom"])


def medium_composition(name: str, kb: KnowledgeBase | None = None) -> dict[str, float]:
    """Amino-acid concentrations (mM) of a medium preset, computed from mg/L and formulas."""
    kb = kb or load_knowledge_base()
    removed: tuple[str, ...] = ()
    base = name
    if name in MEDIA_DERIVED:
        base, removed = MEDIA_DERIVED[name]
    if name == "custom":
        return dict.fromkeys(MEDIUM, 0.0)
    if base not in MEDIA:
        raise DataError(f"unknown medium {name!r}; choose one of {', '.join(media_names())}")
    out = dict.fromkeys(MEDIUM, 0.0)
    for aa, rid in MEDIA[base].items():
        if aa in removed:
            continue
        species = MEDIUM_SALT.get((base, aa), METABOLITES[aa].name)
        q = kb.get(rid).as_quantity()
        out[aa] = float(to_amount_concentration(q, species, "mM").magnitude)
    return out
