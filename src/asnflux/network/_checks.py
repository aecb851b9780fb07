"""Checks a model must pass before it is exported or simulated."""

from __future__ import annotations

import math
import re
from typing import Any

from .._errors import DataError
from ..units import Q_
from ._math import symbols, unit_of
from ._model import Model

__all__ = ["check_model", "elements"]

_SID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ELEMENT = re.compile(r"([A-Z][a-z]?)(\d*)")
_BALANCED = ("C", "N")


def elements(formula: str) -> dict[str, int]:
    """Element counts of a Hill-style formula (``C4H8N2O3``)."""
    if not formula or _ELEMENT.sub("", formula):
        raise DataError(f"cannot read elemental formula {formula!r}")
    out: dict[str, int] = {}
    for el, n in _ELEMENT.findall(formula):
        out[el] = out.get(el, 0) + (int(n) if n else 1)
    return out


def _values(model: Model) -> dict[str, Any]:
    """Representative quantities for unit evaluation (zero replaced by one)."""
    vals: dict[str, Any] = {}
    for c in model.compartments:
        vals[c.id] = Q_(c.size or 1.0, "L")
    for s in model.species:
        vals[s.id] = Q_(s.initial or 1.0, "mM")
    for p in model.parameters:
        vals[p.id] = Q_(p.value if p.value else 1.0, p.unit)
    return vals


def check_model(model: Model) -> None:
    """Raise :class:`DataError` on the first problem, naming the element and what is wrong.

    Checked: ids are valid and unique; references resolve; every symbol in a rate law,
    rule or event is defined; initial amounts are not negative and values are finite;
    rate laws are mM/h, rules match their variable's unit; every reaction not declared a
    boundary reaction conserves carbon and nitrogen.
    """
    seen: dict[str, str] = {}
    for kind, items in (
        ("compartment", model.compartments),
        ("species", model.species),
        ("parameter", model.parameters),
        ("reaction", model.reactions),
        ("event", model.events),
    ):
        for item in items:
            if not _SID.match(item.id):
                raise DataError(f"{kind} id {item.id!r} is not a valid SBML identifier")
            if item.id in seen:
                raise DataError(f"id {item.id!r} is used by a {seen[item.id]} and a {kind}")
            seen[item.id] = kind
    comps = {c.id for c in model.compartments}
    values_ok = {c.id for c in model.compartments} | {s.id for s in model.species}
    values_ok |= {p.id for p in model.parameters}
    species = model.species_by_id()
    for s in model.species:
        if s.compartment not in comps:
            raise DataError(f"species {s.id}: unknown compartment {s.compartment!r}")
        if not math.isfinite(s.initial) or s.initial < 0:
            raise DataError(f"species {s.id}: initial concentration {s.initial!r} must be ≥ 0")
        if s.formula is not None:
            elements(s.formula)
    for p in model.parameters:
        if not math.isfinite(p.value):
            raise DataError(f"parameter {p.id}: value {p.value!r} is not finite")
        if not (p.record or p.assumption or p.derived):
            raise DataError(
                f"parameter {p.id}: no source; bind it to a knowledge-base record, label it "
                "an assumption with its reason, or describe the rule it is derived by"
            )
        try:
            Q_(1.0, p.unit)
        except Exception:  # pint: undefined unit or syntax error
            raise DataError(f"parameter {p.id}: cannot read unit {p.unit!r}") from None
    vals = _values(model)

    def defined(formula: str, where: str) -> None:
        missing = sorted(symbols(formula, where) - values_ok)
        if missing:
            raise DataError(f"{where}: undefined symbol(s) {', '.join(missing)} in {formula!r}")

    for c in model.compartments:
        if c.size_rule:
            defined(c.size_rule, f"compartment {c.id} size rule")
            _same_unit(
                unit_of(c.size_rule, vals, f"compartment {c.id}"), "L", f"compartment {c.id}"
            )
    for p in model.parameters:
        if p.assignment:
            where = f"parameter {p.id} assignment"
            defined(p.assignment, where)
            _same_unit(unit_of(p.assignment, vals, where), p.unit, where)
        if p.rate_rule:
            where = f"parameter {p.id} rate rule"
            defined(p.rate_rule, where)
            _same_unit(unit_of(p.rate_rule, vals, where), f"({p.unit}) / h", where)
        if p.initial:
            where = f"parameter {p.id} initial assignment"
            if p.assignment:
                raise DataError(f"{where}: a rule-computed parameter has no initial value")
            defined(p.initial, where)
            _same_unit(unit_of(p.initial, vals, where), p.unit, where)
    for r in model.reactions:
        where = f"reaction {r.id}"
        if r.compartment not in comps:
            raise DataError(f"{where}: unknown compartment {r.compartment!r}")
        for sid in (*r.reactants, *r.products):
            if sid not in species:
                raise DataError(f"{where}: unknown species {sid!r}")
        defined(r.rate, where)
        _same_unit(unit_of(r.rate, vals, where), "mM / h", where)
        if not r.boundary:
            _balanced(r, species, where)
    for e in model.events:
        if e.at <= 0:
            raise DataError(f"event {e.id}: time {e.at:g} h must be after the start (> 0)")
        for var, formula in e.assignments.items():
            if var not in values_ok:
                raise DataError(f"event {e.id}: assigns unknown variable {var!r}")
            target = next((p for p in model.parameters if p.id == var), None)
            if target is not None and target.constant:
                raise DataError(
                    f"event {e.id}: assigns parameter {var}, which is declared constant "
                    "(mark it variable)"
                )
            defined(formula, f"event {e.id}")


def _same_unit(result: tuple[Any, float], unit: str, where: str) -> None:
    q, bare = result
    if not q.is_compatible_with(Q_(1.0, unit)):
        raise DataError(f"{where}: evaluates to {q.units:~P}, expected {unit}")
    converted = float(q.to(unit).magnitude)
    if not math.isclose(converted, bare, rel_tol=1e-9, abs_tol=1e-300):
        raise DataError(
            f"{where}: the numbers are not in consistent units: as written it computes {bare:.6g}"
            f" but {converted:.6g} {unit} after unit conversion; store every value in the "
            "model's units (mM, h, L) or add an explicit conversion parameter"
        )


def _balanced(r: Any, species: dict[str, Any], where: str) -> None:
    totals = dict.fromkeys(_BALANCED, 0.0)
    for sid, coef, sign in [(s, c, -1) for s, c in r.reactants.items()] + [
        (s, c, 1) for s, c in r.products.items()
    ]:
        formula = species[sid].formula
        if formula is None:
            raise DataError(
                f"{where}: species {sid} has no elemental formula, so the reaction's C and N "
                "balance cannot be checked; give one or declare the reaction a boundary reaction"
            )
        counts = elements(formula)
        for el in _BALANCED:
            totals[el] += sign * coef * counts.get(el, 0)
    bad = {el: v for el, v in totals.items() if abs(v) > 1e-12}
    if bad:
        shown = ", ".join(f"{el} {v:+g}" for el, v in bad.items())
        raise DataError(f"{where}: not balanced ({shown} per turnover); fix the stoichiometry")
