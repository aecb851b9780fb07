"""Simulation engines behind one interface; libroadrunner is the reference engine.

An engine takes SBML text (the exported model, so what runs here is exactly what COPASI or
tellurium users run) and returns trajectories as a table. Batched backends for cohorts
implement the same :class:`Engine` protocol.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from .._errors import DataError, SolverError
from .._repr import CompactRepr
from ._math import evaluate, symbols

__all__ = ["Engine", "RoadRunnerEngine", "Trajectory"]


@dataclass(frozen=True, repr=False)
class Trajectory(CompactRepr):
    """Time course: ``table`` has a ``time_h`` column and one column per selection."""

    table: pd.DataFrame

    def final(self, column: str) -> float:
        return float(self.table[column].iloc[-1])

    def at(self, column: str, hours: float) -> float:
        return float(np.interp(hours, self.table["time_h"], self.table[column]))


class Engine(Protocol):
    def simulate(
        self,
        sbml: str,
        times: Any,
        selections: list[str],
        overrides: dict[str, float] | None = None,
    ) -> Trajectory: ...

    def steady_state(
        self, sbml: str, selections: list[str], overrides: dict[str, float] | None = None
    ) -> dict[str, float]: ...


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Discard what native code (CVODE) writes to file descriptor 2 during the block.

    libroadrunner's C++ logger and CVODE's error handler write to the process's stderr,
    ahead of AsnFlux's one-line message; the failure still arrives as an exception.
    """
    try:
        saved = os.dup(2)
    except OSError:  # no usable stderr: nothing to protect
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def _solver_reason(exc: BaseException) -> str:
    """The solver's message without the C++ frame text ("In virtual double rr::…")."""
    text = " ".join(str(exc).split())
    text = re.split(r"\s*In (?:virtual |static )?[\w:<>,\s*&]*rr::", text)[0]
    return text[:200] or type(exc).__name__


def _initial_assignments(sbml: str) -> list[tuple[str, str, set[str]]]:
    """(target, formula, symbols read) of each initial assignment, in document order."""
    import libsbml

    doc = libsbml.readSBMLFromString(sbml)
    m = doc.getModel()
    out = []
    for i in range(m.getNumInitialAssignments() if m is not None else 0):
        ia = m.getInitialAssignment(i)
        formula = libsbml.formulaToL3String(ia.getMath())
        out.append((ia.getSymbol(), formula, symbols(formula)))
    return out


class RoadRunnerEngine:
    """libroadrunner (CVODE, stiff BDF) with tight tolerances.

    Selections are SBML ids: a species id gives its concentration, a parameter or
    compartment id its value.
    """

    def __init__(self, relative_tolerance: float = 1e-9, absolute_tolerance: float = 1e-12):
        self.rtol = relative_tolerance
        self.atol = absolute_tolerance
        self._cache: dict[str, Any] = {}
        self._initial: dict[str, list[tuple[str, str, set[str]]]] = {}
        self._current = ""

    def _runner(self, sbml: str) -> Any:
        import roadrunner

        # Native log lines (CVODE warnings, loader notes) would land on stderr ahead of
        # AsnFlux's own one-line error; failures still arrive as exceptions.
        roadrunner.Logger.setLevel(roadrunner.Logger.LOG_FATAL)
        key = hashlib.sha256(sbml.encode()).hexdigest()
        if key not in self._cache:
            try:
                with _native_stderr_silenced():
                    rr = roadrunner.RoadRunner(sbml)
            except RuntimeError as exc:
                raise DataError(
                    f"libroadrunner cannot load the model ({' '.join(str(exc).split())[:300]})"
                ) from None
            rr.integrator.relative_tolerance = self.rtol
            rr.integrator.absolute_tolerance = self.atol
            rr.integrator.max_steps = 200000
            if len(self._cache) >= 8:  # compiled models are large; keep the recent few
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = rr
            self._initial[key] = _initial_assignments(sbml)
        self._current = key
        rr = self._cache[key]
        rr.resetAll()
        return rr

    @staticmethod
    def _ids(rr: Any) -> tuple[set[str], set[str]]:
        """(species ids, every selectable id) of a loaded model."""
        species = set(rr.model.getFloatingSpeciesIds()) | set(rr.model.getBoundarySpeciesIds())
        others = set(rr.model.getGlobalParameterIds()) | set(rr.model.getCompartmentIds())
        return species, species | others | set(rr.model.getReactionIds())

    def _selections(self, rr: Any, names: list[str]) -> list[str]:
        """Engine selections: a species id gives its concentration, others their value."""
        species, known = self._ids(rr)
        unknown = [x for x in names if x not in known]
        if unknown:
            raise DataError(f"the model has no species, parameter or reaction {unknown[0]!r}")
        return [f"[{x}]" if x in species else x for x in names]

    def _apply(self, rr: Any, overrides: dict[str, float] | None) -> None:
        """Set parameter values and initial concentrations on a freshly reset model.

        libroadrunner keeps species *amounts* when a parameter that sizes a compartment
        (a cell volume or count) changes, so every concentration in that compartment would
        be rescaled (doubling the cell volume halved cytosolic Gln); the initial
        concentrations are therefore set again after the parameters, as the SBML with the
        values written in states them.
        """
        if not overrides:
            return
        species, known = self._ids(rr)
        for key, value in overrides.items():
            if key not in known or key in set(rr.model.getReactionIds()):
                raise DataError(f"override: the model has no parameter or species {key!r}")
            if not np.isfinite(value):
                raise DataError(f"override {key} = {value!r} is not finite")
        # boundary species too: a buffered pool (2-oxoglutarate) that a rate law reads
        # must keep its concentration when its compartment is resized
        ids = list(rr.model.getFloatingSpeciesIds()) + list(rr.model.getBoundarySpeciesIds())
        levels = list(rr.model.getFloatingSpeciesConcentrations()) + list(
            rr.model.getBoundarySpeciesConcentrations()
        )
        initial: dict[str, float] = {k: float(v) for k, v in zip(ids, levels, strict=True)}
        for key, value in overrides.items():
            if key not in species:
                rr.setValue(key, float(value))
        conc = {sid: float(overrides.get(sid, initial[sid])) for sid in ids}
        conc |= {k: float(v) for k, v in overrides.items() if k in species and k not in conc}
        # An initial assignment that reads an overridden value (directly or through another
        # initial assignment) is evaluated again — a state that starts at a basal level
        # starts at the new one — unless its own target is overridden. Species are read and
        # set as concentrations, as SBML formulas mean them; passes repeat until settled.
        changed = set(overrides)
        assignments = self._initial.get(self._current, [])
        for _ in range(len(assignments) + 1):
            moved = False
            for target, formula, reads in assignments:
                if target in overrides or not reads & changed:
                    continue
                values = {n: conc[n] if n in conc else float(rr.getValue(n)) for n in reads}
                new = evaluate(formula, values, f"initial value of {target}")
                old = conc[target] if target in conc else float(rr.getValue(target))
                if new != old or target not in changed:
                    moved = moved or new != old
                    changed.add(target)
                    if target in species:
                        conc[target] = new
                    else:
                        rr.setValue(target, new)
            if not moved:
                break
        for sid, value in conc.items():
            rr.setValue(f"[{sid}]", value)

    def simulate(
        self,
        sbml: str,
        times: Any,
        selections: list[str],
        overrides: dict[str, float] | None = None,
    ) -> Trajectory:
        t = np.asarray(times, float)
        if t.ndim != 1 or len(t) < 2 or np.any(np.diff(t) <= 0) or t[0] < 0:
            raise DataError("simulation times must be increasing, non-negative, at least two")
        rr = self._runner(sbml)
        self._apply(rr, overrides)
        sel = ["time", *self._selections(rr, selections)]
        try:
            with _native_stderr_silenced():
                out = rr.simulate(times=list(t), selections=sel)
        except RuntimeError as exc:
            reached = rr.model.getTime()
            raise SolverError(
                f"the integrator failed at t = {reached:.4g} h of {t[-1]:g} h "
                f"({_solver_reason(exc)}). Check parameter overrides for extreme, zero or "
                "negative values; a stiff start (very high enzyme doses) may need a finer "
                "output grid."
            ) from None
        data = np.asarray(out)
        if not np.all(np.isfinite(data)):
            raise SolverError("the integrator returned non-finite values")
        table = pd.DataFrame(data, columns=["time_h", *selections])
        return Trajectory(table)

    def steady_state(
        self, sbml: str, selections: list[str], overrides: dict[str, float] | None = None
    ) -> dict[str, float]:
        """Steady state by long integration, then checked: all rates of change ~ 0."""
        rr = self._runner(sbml)
        self._apply(rr, overrides)
        try:
            with _native_stderr_silenced():
                rr.simulate(0, 1e4, 200)
        except RuntimeError as exc:
            raise SolverError(
                f"no steady state: the integrator failed ({_solver_reason(exc)})"
            ) from None
        rates = np.asarray(rr.model.getFloatingSpeciesConcentrationRates())
        scale = np.maximum(np.abs(rr.model.getFloatingSpeciesConcentrations()), 1e-9)
        if np.max(np.abs(rates) / scale, initial=0.0) > 1e-6:
            worst = rr.model.getFloatingSpeciesIds()[int(np.argmax(np.abs(rates) / scale))]
            raise SolverError(
                f"not a steady state after 10,000 h: {worst} still changes; the model may grow "
                "or oscillate (steady states exist for non-growing configurations)"
            )
        names = self._selections(rr, selections)
        return {s: float(rr.getValue(n)) for s, n in zip(selections, names, strict=True)}
