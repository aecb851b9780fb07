"""Antimony text of a model, for people who read models that way (tellurium's notation).

Units and provenance are carried by the SBML export; the Antimony text keeps the
structure, values, rules, rate laws and events, and each parameter's source as a comment.
"""

from __future__ import annotations

from ._checks import check_model
from ._model import Model

__all__ = ["to_antimony"]


def _num(v: float) -> str:
    return repr(float(v))


def to_antimony(model: Model) -> str:
    check_model(model)
    out = [f"// {model.name}", f"model {model.id}()", ""]
    out.append("  // Compartments (L)")
    for c in model.compartments:
        out.append(f"  compartment {c.id} = {_num(c.size)};")
        if c.size_rule:
            out.append(f"  {c.id} := {c.size_rule};")
    out += ["", "  // Species (mM); $ marks a buffered (boundary) pool"]
    for s in model.species:
        mark = "$" if s.boundary else ""
        out.append(f"  species {mark}{s.id} in {s.compartment} = {_num(s.initial)};  // {s.name}")
    out += ["", "  // Reactions: compartment volume × rate per volume (mM/h)"]
    for r in model.reactions:
        lhs = " + ".join(_term(s, c) for s, c in r.reactants.items()) or ""
        rhs = " + ".join(_term(s, c) for s, c in r.products.items()) or ""
        arrow = "=>" if not r.reversible else "->"
        out.append(f"  {r.id}: {lhs} {arrow} {rhs}; {r.compartment} * ({r.rate});")
    out += ["", "  // Parameters, rules and state variables"]
    for p in model.parameters:
        if p.assignment:
            out.append(f"  {p.id} := {p.assignment};  // [{p.unit}] {p.provenance}")
        elif p.initial:  # an initial assignment: starts at the formula's value
            out.append(f"  {p.id} = {p.initial};  // [{p.unit}] {p.provenance}")
        else:
            out.append(f"  {p.id} = {_num(p.value)};  // [{p.unit}] {p.provenance}")
        if p.rate_rule:
            out.append(f"  {p.id}' = {p.rate_rule};")
    if model.events:
        out += ["", "  // Events"]
        for e in model.events:
            assigns = ", ".join(f"{v} = {f}" for v, f in e.assignments.items())
            out.append(f"  {e.id}: at (time >= {_num(e.at)}): {assigns};")
    out += ["end", ""]
    return "\n".join(out)


def _term(species: str, coef: float) -> str:
    return species if coef == 1 else f"{coef:g} {species}"
