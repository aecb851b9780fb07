"""SBML Level 3 Version 2 export and import (libsbml), with units, MIRIAM and SBO terms.

Provenance that SBML has no field for (the knowledge-base record, the assumption's reason,
the boundary flag, the pint unit text) travels in a small ``asnflux:meta`` annotation, so
that a model read back is equivalent to the one written; COPASI and tellurium ignore it.
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import quoteattr

import libsbml

from .._errors import DataError
from ..units import Q_
from ._checks import check_model
from ._math import canonical, parse, symbols
from ._model import Compartment, Event, Model, Parameter, Reaction, Species

__all__ = ["from_sbml", "to_sbml", "validate_sbml"]

NS = "urn:asnflux:sbml:1"
_BASE = {
    "meter": libsbml.UNIT_KIND_METRE,
    "second": libsbml.UNIT_KIND_SECOND,
    "mole": libsbml.UNIT_KIND_MOLE,
    "kilogram": libsbml.UNIT_KIND_KILOGRAM,
}
_META_KEYS = ("record", "assumption", "derived", "unit", "boundary", "formula", "note", "rate")


def _ok(code: int, what: str) -> None:
    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise DataError(
            f"SBML export: {what} failed ({libsbml.OperationReturnValue_toString(code)})"
        )


def _unit_id(pint_unit: str) -> str:
    text = re.sub(r"[^A-Za-z0-9]+", "_", pint_unit).strip("_") or "dimensionless"
    return f"u_{text}"


def _add_unit(model: Any, pint_unit: str, uid: str | None = None) -> str:
    uid = uid or _unit_id(pint_unit)
    if model.getUnitDefinition(uid) is not None:
        return uid
    ud = model.createUnitDefinition()
    _ok(ud.setId(uid), f"unit {uid}")
    ud.setName(pint_unit)
    q = Q_(1.0, pint_unit).to_base_units()
    factor = float(q.magnitude)
    dims = [(str(name), float(exp)) for name, exp in q.units._units.items()]
    if not dims:
        u = ud.createUnit()
        u.setKind(libsbml.UNIT_KIND_DIMENSIONLESS)
        u.setExponent(1.0)
        u.setScale(0)
        u.setMultiplier(factor)
        return uid
    for i, (name, exp) in enumerate(dims):
        if name not in _BASE:
            raise DataError(f"SBML export: unit {pint_unit!r} has base unit {name!r}")
        u = ud.createUnit()
        u.setKind(_BASE[name])
        u.setExponent(exp)
        u.setScale(0)
        u.setMultiplier(factor ** (1.0 / exp) if i == 0 else 1.0)
    return uid


def _meta(element: Any, values: dict[str, Any]) -> None:
    attrs = " ".join(f"{k}={quoteattr(str(v))}" for k, v in values.items() if v not in (None, ""))
    if not attrs:
        return
    _ok(element.appendAnnotation(f'<asnflux:meta xmlns:asnflux="{NS}" {attrs}/>'), "annotation")


def _read_meta(element: Any) -> dict[str, str]:
    ann = element.getAnnotation()
    out: dict[str, str] = {}
    if ann is None:
        return out
    for i in range(ann.getNumChildren()):
        child = ann.getChild(i)
        if child.getName() == "meta" and child.getURI() == NS:
            for key in _META_KEYS:
                if child.hasAttr(key):
                    out[key] = child.getAttrValue(key)
    return out


def _cv(element: Any, resource: str) -> None:
    term = libsbml.CVTerm(libsbml.BIOLOGICAL_QUALIFIER)
    term.setBiologicalQualifierType(libsbml.BQB_IS)
    term.addResource(resource)
    _ok(element.addCVTerm(term), f"MIRIAM annotation of {element.getId()}")


def to_sbml(model: Model) -> str:
    """SBML L3V2 text of a checked model; validated by libsbml with zero errors."""
    check_model(model)
    doc = libsbml.SBMLDocument(3, 2)
    m = doc.createModel()
    m.setId(model.id)
    m.setName(model.name)
    m.setMetaId(f"meta_{model.id}")
    _add_unit(m, "h", "hour")
    _add_unit(m, "mmol", "mmol")
    m.setTimeUnits("hour")
    m.setSubstanceUnits("mmol")
    m.setExtentUnits("mmol")
    m.setVolumeUnits("litre")
    if model.notes:
        m.setNotes(f'<body xmlns="http://www.w3.org/1999/xhtml"><p>{_esc(model.notes)}</p></body>')
    for c in model.compartments:
        comp = m.createCompartment()
        comp.setId(c.id)
        comp.setName(c.name)
        comp.setSpatialDimensions(3)
        comp.setSize(c.size)
        comp.setUnits("litre")
        comp.setConstant(c.size_rule is None)
        comp.setSBOTerm(c.sbo)
        if c.size_rule:
            rule = m.createAssignmentRule()
            rule.setVariable(c.id)
            rule.setMath(_units_on_literals(parse(c.size_rule, c.id), "dimensionless"))
    for s in model.species:
        sp = m.createSpecies()
        sp.setId(s.id)
        sp.setMetaId(f"meta_{s.id}")
        sp.setName(s.name)
        sp.setCompartment(s.compartment)
        sp.setInitialConcentration(s.initial)
        sp.setHasOnlySubstanceUnits(False)
        sp.setBoundaryCondition(s.boundary)
        sp.setConstant(False)
        sp.setSubstanceUnits("mmol")
        sp.setSBOTerm(s.sbo)
        _meta(sp, {"formula": s.formula})
        if s.chebi:
            _cv(sp, f"https://identifiers.org/{s.chebi}")
    for p in model.parameters:
        par = m.createParameter()
        par.setId(p.id)
        par.setMetaId(f"meta_{p.id}")
        par.setName(p.name)
        par.setValue(p.value)
        par.setUnits(_add_unit(m, p.unit))
        par.setConstant(p.constant)
        par.setSBOTerm(p.sbo)
        _meta(
            par,
            {"record": p.record, "assumption": p.assumption, "derived": p.derived, "unit": p.unit},
        )
        if p.uniprot:
            _cv(par, f"https://identifiers.org/uniprot:{p.uniprot}")
        if p.assignment:
            rule = m.createAssignmentRule()
            rule.setVariable(p.id)
            rule.setMath(_units_on_literals(parse(p.assignment, p.id), "dimensionless"))
        if p.rate_rule:
            rule = m.createRateRule()
            rule.setVariable(p.id)
            rule.setMath(_units_on_literals(parse(p.rate_rule, p.id), "dimensionless"))
        if p.initial:
            init = m.createInitialAssignment()
            init.setSymbol(p.id)
            init.setMath(_units_on_literals(parse(p.initial, p.id), "dimensionless"))
    for r in model.reactions:
        rx = m.createReaction()
        rx.setId(r.id)
        rx.setMetaId(f"meta_{r.id}")
        rx.setName(r.name)
        rx.setReversible(r.reversible)
        rx.setCompartment(r.compartment)
        rx.setSBOTerm(r.sbo)
        _meta(
            rx,
            {"boundary": "true" if r.boundary else None, "note": r.note, "rate": canonical(r.rate)},
        )
        for sid, coef in r.reactants.items():
            ref = rx.createReactant()
            ref.setSpecies(sid)
            ref.setStoichiometry(coef)
            ref.setConstant(True)
        for sid, coef in r.products.items():
            ref = rx.createProduct()
            ref.setSpecies(sid)
            ref.setStoichiometry(coef)
            ref.setConstant(True)
        if r.ec:
            term = libsbml.CVTerm(libsbml.BIOLOGICAL_QUALIFIER)
            term.setBiologicalQualifierType(libsbml.BQB_IS_VERSION_OF)
            term.addResource(f"https://identifiers.org/ec-code:{r.ec}")
            _ok(rx.addCVTerm(term), f"EC annotation of {r.id}")
        species_ids = {sp.id for sp in model.species}
        for sid in sorted((symbols(r.rate) & species_ids) - set(r.reactants) - set(r.products)):
            mod = rx.createModifier()
            mod.setSpecies(sid)
            mod.setSBOTerm("SBO:0000019")  # modifier
        law = rx.createKineticLaw()
        rate = _units_on_literals(parse(f"{r.compartment} * ({r.rate})", r.id), "dimensionless")
        _ok(law.setMath(rate), f"rate of {r.id}")
    units_of = {p.id: _add_unit(m, p.unit) for p in model.parameters}
    units_of |= {sp.id: _add_unit(m, "mM") for sp in model.species}
    for e in model.events:
        ev = m.createEvent()
        ev.setId(e.id)
        ev.setName(e.name)
        ev.setUseValuesFromTriggerTime(True)
        trig = ev.createTrigger()
        trig.setInitialValue(False)
        trig.setPersistent(True)
        trig.setMath(_units_on_literals(parse(f"time >= {e.at!r}", e.id), "hour"))
        for var, formula in e.assignments.items():
            ea = ev.createEventAssignment()
            ea.setVariable(var)
            target = units_of.get(var, "dimensionless")
            # an event sets its target, so even a 0 is in the target's units
            ea.setMath(_units_on_literals(parse(formula, e.id), target, zeros=True))
    text = str(libsbml.writeSBMLToString(doc))
    validate_sbml(text)
    return text


_NO_UNITS = libsbml.L3ParserSettings()
_NO_UNITS.setParseUnits(False)


def _text(ast: Any) -> str:
    """A math element as L3 formula text, without the units export puts on literals."""
    return str(libsbml.formulaToL3StringWithSettings(ast, _NO_UNITS))


def _units_on_literals(ast: Any, unit: str, zeros: bool = False) -> Any:
    """``ast`` with ``unit`` on every number that states none (SBML L3 ``sbml:units``), so
    that libsbml can check the units of every expression (a bare number is unitless to it
    and makes the whole expression unverifiable)."""
    # A zero takes the units of whatever it is compared with or chosen against (a branch
    # of a piecewise, the other side of gt); left unitless, libsbml infers nothing from it.
    if ast.isNumber() and not ast.hasUnits() and (zeros or ast.getValue() != 0):
        _ok(ast.setUnits(unit), f"units of the literal {libsbml.formulaToL3String(ast)}")
    for i in range(ast.getNumChildren()):
        _units_on_literals(ast.getChild(i), unit, zeros)
    return ast


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def validate_sbml(text: str) -> list[str]:
    """Run libsbml's consistency checks; raise on any error, return the warnings."""
    doc = libsbml.readSBMLFromString(text)
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, True)
    doc.checkConsistency()
    errors: list[str] = []
    warnings: list[str] = []
    for i in range(doc.getNumErrors()):
        err = doc.getError(i)
        msg = f"line {err.getLine()}: {err.getShortMessage()}: {err.getMessage().strip()}"
        (errors if err.getSeverity() >= libsbml.LIBSBML_SEV_ERROR else warnings).append(msg)
    if errors:
        raise DataError("SBML validation failed: " + "; ".join(errors[:10]))
    return warnings


def read_document(text: str, where: str = "SBML") -> Any:
    """The libsbml document of ``text``; a ``DataError`` naming ``where`` and the line of
    the first read error when it is empty, not SBML, or has no model."""
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"{where}: empty document")
    doc = libsbml.readSBMLFromString(text)
    if doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) or doc.getModel() is None:
        first = next(
            (
                doc.getError(i)
                for i in range(doc.getNumErrors())
                if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
            ),
            None,
        )
        what = (
            f"line {first.getLine()}: {' '.join(first.getMessage().split())}"
            if first is not None
            else "no model element"
        )
        prefix = "" if where == "SBML" else f"{where}: "
        raise DataError(f"{prefix}not a readable SBML document ({what[:300]})")
    return doc


def from_sbml(text: str) -> Model:
    """Read an SBML model written by :func:`to_sbml` back into model objects.

    Raises
    ------
    DataError
        If the text is not SBML (the first error with its line), or uses a construct this
        importer does not represent (kinetic laws not written as compartment × rate, …).
    """
    doc = read_document(text)
    try:
        return _from_model(doc.getModel())
    except DataError:
        raise
    except (AttributeError, TypeError, ValueError, KeyError, IndexError) as exc:
        raise DataError(
            "SBML model uses a construct the AsnFlux importer does not represent "
            f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); it reads models "
            "written by asnflux (see the cell-model docs)"
        ) from None


def _ec_of(element: Any) -> str | None:
    for k in range(element.getNumCVTerms()):
        term = element.getCVTerm(k)
        for j in range(term.getNumResources()):
            res = term.getResourceURI(j)
            if "ec-code:" in res:
                return str(res.split("ec-code:")[1])
    return None


def _from_model(m: Any) -> Model:
    rules: dict[str, Any] = {
        m.getRule(i).getVariable(): m.getRule(i) for i in range(m.getNumRules())
    }

    initial = {
        m.getInitialAssignment(i).getSymbol(): canonical(_text(m.getInitialAssignment(i).getMath()))
        for i in range(m.getNumInitialAssignments())
    }

    def rule_text(var: str, kind: Any) -> str | None:
        r: Any = rules.get(var)
        if not isinstance(r, kind):
            return None
        return canonical(_text(r.getMath()))

    comps = []
    for i in range(m.getNumCompartments()):
        c = m.getCompartment(i)
        comps.append(
            Compartment(
                c.getId(),
                c.getName(),
                c.getSize(),
                rule_text(c.getId(), libsbml.AssignmentRule),
                c.getSBOTermID(),
            )
        )
    species = []
    for i in range(m.getNumSpecies()):
        s = m.getSpecies(i)
        chebi = None
        for k in range(s.getNumCVTerms()):
            res = s.getCVTerm(k).getResourceURI(0)
            if "CHEBI:" in res:
                chebi = res[res.index("CHEBI:") :]
        meta = _read_meta(s)
        species.append(
            Species(
                s.getId(),
                s.getName(),
                s.getCompartment(),
                s.getInitialConcentration(),
                chebi,
                meta.get("formula"),
                s.getBoundaryCondition(),
                s.getSBOTermID(),
            )
        )
    params = []
    for i in range(m.getNumParameters()):
        p = m.getParameter(i)
        meta = _read_meta(p)
        uniprot = None
        for k in range(p.getNumCVTerms()):
            res = p.getCVTerm(k).getResourceURI(0)
            if "uniprot:" in res:
                uniprot = res.split("uniprot:")[1]
        unit = meta.get("unit") or m.getUnitDefinition(p.getUnits()).getName()
        params.append(
            Parameter(
                p.getId(),
                p.getValue(),
                unit,
                p.getName(),
                meta.get("record"),
                meta.get("assumption"),
                meta.get("derived"),
                rule_text(p.getId(), libsbml.AssignmentRule),
                rule_text(p.getId(), libsbml.RateRule),
                uniprot,
                p.getSBOTermID(),
                variable=not p.getConstant() and p.getId() not in rules,
                initial=initial.get(p.getId()),
            )
        )
    reactions = []
    for i in range(m.getNumReactions()):
        r = m.getReaction(i)
        law = r.getKineticLaw().getMath()
        comp = r.getCompartment()
        meta = _read_meta(r)
        if "rate" in meta:
            rate = canonical(meta["rate"])
        elif (
            law.getType() == libsbml.AST_TIMES
            and law.getNumChildren() == 2
            and law.getChild(0).getName() == comp
        ):
            rate = canonical(_text(law.getChild(1)))
        else:
            raise DataError(f"reaction {r.getId()}: kinetic law is not '{comp} * (rate)'")
        reactions.append(
            Reaction(
                r.getId(),
                r.getName(),
                {
                    r.getReactant(k).getSpecies(): r.getReactant(k).getStoichiometry()
                    for k in range(r.getNumReactants())
                },
                {
                    r.getProduct(k).getSpecies(): r.getProduct(k).getStoichiometry()
                    for k in range(r.getNumProducts())
                },
                rate,
                comp,
                meta.get("boundary") == "true",
                r.getReversible(),
                r.getSBOTermID(),
                meta.get("note", ""),
                _ec_of(r),
            )
        )
    events = []
    for i in range(m.getNumEvents()):
        e = m.getEvent(i)
        trig = e.getTrigger().getMath()
        at = float(_text(trig.getChild(1)))
        events.append(
            Event(
                e.getId(),
                at,
                {
                    e.getEventAssignment(k).getVariable(): canonical(
                        _text(e.getEventAssignment(k).getMath())
                    )
                    for k in range(e.getNumEventAssignments())
                },
                e.getName(),
            )
        )
    notes = ""
    if m.isSetNotes():
        notes = re.sub(r"<[^>]+>", "", m.getNotesString()).strip()
        notes = notes.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return Model(m.getId(), m.getName(), comps, species, params, reactions, events, notes)
