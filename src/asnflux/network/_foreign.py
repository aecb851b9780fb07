"""SBML written by others: a validation report and a libroadrunner time course.

Any SBML Level 2 or 3 core model that libroadrunner runs (rules, events, function
definitions, kinetic laws of any form) can be checked and simulated here as it stands, with
no translation into AsnFlux's own model objects: the report is libsbml's (with the unit
checks), the time course libroadrunner's. Concentrations are reported for species whose
amounts are not declared the only units; species with ``hasOnlySubstanceUnits`` are
reported as amounts. Units are taken from the model's unit definitions where it declares
them.
"""

from __future__ import annotations

from typing import Any

import libsbml
import numpy as np
import pandas as pd

from .._errors import DataError, SolverError
from ._engine import RoadRunnerEngine, _native_stderr_silenced, _solver_reason
from ._sbml import read_document

__all__ = ["check_sbml", "simulate_sbml"]

MAX_POINTS = 1_000_000


def check_sbml(text: str, where: str = "SBML") -> dict[str, Any]:
    """libsbml's consistency report (units included) and whether libroadrunner loads it.

    Returns level/version, element counts, ``errors`` and ``warnings`` (line and message),
    and ``runnable`` with libroadrunner's message when it refuses the model.
    """
    doc = read_document(text, where)
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, True)
    doc.checkConsistency()
    errors: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    for i in range(doc.getNumErrors()):
        err = doc.getError(i)
        item = {
            "line": err.getLine(),
            "id": err.getErrorId(),
            "units": err.getCategory() == libsbml.LIBSBML_CAT_UNITS_CONSISTENCY,
            "message": " ".join(err.getMessage().split())[:500],
        }
        (errors if err.getSeverity() >= libsbml.LIBSBML_SEV_ERROR else warnings).append(item)
    m = doc.getModel()
    report: dict[str, Any] = {
        "level": doc.getLevel(),
        "version": doc.getVersion(),
        "model": m.getId() or m.getName() or None,
        "compartments": m.getNumCompartments(),
        "species": m.getNumSpecies(),
        "parameters": m.getNumParameters(),
        "reactions": m.getNumReactions(),
        "rules": m.getNumRules(),
        "events": m.getNumEvents(),
        "function_definitions": m.getNumFunctionDefinitions(),
        "errors": errors,
        "warnings": warnings,
    }
    if any(not e["units"] for e in errors):
        # libroadrunner is only given valid documents: it crashes the process on some
        # invalid ones (a pow with three arguments), which no error handling can catch.
        report["runnable"] = False
        report["runner_message"] = "not loaded: the document has SBML errors"
        return report
    try:
        RoadRunnerEngine()._runner(text)
        report["runnable"], report["runner_message"] = True, None
    except DataError as exc:
        report["runnable"], report["runner_message"] = False, str(exc)
    return report


def _valid(doc: Any, where: str) -> None:
    """Refuse a document with SBML errors (unit checks aside) before libroadrunner sees it."""
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, False)
    doc.checkConsistency()
    for i in range(doc.getNumErrors()):
        err = doc.getError(i)
        if err.getSeverity() >= libsbml.LIBSBML_SEV_ERROR:
            raise DataError(
                f"{where}: line {err.getLine()}: {' '.join(err.getMessage().split())[:300]} "
                "(run 'asnflux sbml check' for the full report)"
            )


def _unit_text(model: Any, uid: str) -> str:
    if not uid:
        return ""
    ud = model.getUnitDefinition(uid)
    if ud is None:
        return uid  # a base unit name such as "mole" or "second"
    return str(libsbml.UnitDefinition.printUnits(ud, True)) or uid


def _default(model: Any, kind: str) -> str:
    """The model-wide unit of ``kind`` (substance, volume, time): L3 declares it on the
    model; L2 has built-in defaults (mole, litre, second) that the model may redefine."""
    declared = {
        "substance": model.getSubstanceUnits(),
        "volume": model.getVolumeUnits(),
        "time": model.getTimeUnits(),
    }[kind]
    if declared or model.getLevel() >= 3:
        return str(declared)
    if model.getUnitDefinition(kind) is not None:
        return kind
    return {"substance": "mole", "volume": "litre", "time": "second"}[kind]


def _species_units(model: Any, s: Any) -> str:
    substance = s.getSubstanceUnits() or _default(model, "substance")
    if s.getHasOnlySubstanceUnits():
        return _unit_text(model, substance)
    comp = model.getCompartment(s.getCompartment())
    volume = (comp.getUnits() if comp is not None else "") or _default(model, "volume")
    if substance and volume:
        v = _unit_text(model, volume)
        return f"{_unit_text(model, substance)}/{v if v.isalnum() else f'({v})'}"
    return ""


def simulate_sbml(
    text: str, end: float, points: int, *, where: str = "SBML", rtol: float = 1e-6
) -> pd.DataFrame:
    """Time course of every species from 0 to ``end`` (model time units) at ``points``
    evenly spaced times; ``attrs["units"]`` holds the units the model declares."""
    if not (np.isfinite(end) and end > 0):
        raise DataError(f"end must be a positive, finite time, got {end!r}")
    if not 2 <= points <= MAX_POINTS:
        raise DataError(f"points must be 2-{MAX_POINTS:,}, got {points}")
    doc = read_document(text, where)
    _valid(doc, where)
    model = doc.getModel()
    rr = RoadRunnerEngine(relative_tolerance=rtol)._runner(text)
    ids = list(rr.model.getFloatingSpeciesIds()) + list(rr.model.getBoundarySpeciesIds())
    only_amounts = {
        model.getSpecies(i).getId()
        for i in range(model.getNumSpecies())
        if model.getSpecies(i).getHasOnlySubstanceUnits()
    }
    selections = ["time", *(s if s in only_amounts else f"[{s}]" for s in ids)]
    try:
        with _native_stderr_silenced():
            out = np.asarray(rr.simulate(0.0, float(end), int(points), selections=selections))
    except RuntimeError as exc:
        reached = rr.model.getTime()
        raise SolverError(
            f"{where}: the integrator failed at t = {reached:.4g} of {end:g} "
            f"({_solver_reason(exc)})"
        ) from None
    if not np.all(np.isfinite(out)):
        raise SolverError(f"{where}: the integrator returned non-finite values")
    table = pd.DataFrame(out, columns=["time", *ids])
    units = {"time": _unit_text(model, _default(model, "time"))}
    for s in ids:
        units[s] = _species_units(model, model.getSpecies(s))
    table.attrs["units"] = units
    return table
