"""A network :class:`~asnflux.network.Model` as a symbolic ODE system (sympy).

The system follows the SBML the model exports, so that what the compiled backend integrates
is what libroadrunner integrates: a floating species' state is its *amount* (concentration ×
compartment size, mmol), changed by reactions whose flux is compartment size × rate law; a
boundary species keeps its amount, so its concentration follows a resized compartment; a
parameter with a rate rule, or one that events change, is a state of its own; assignment
rules (parameters and compartment sizes) are substituted into every formula that reads
them. The model's own formulas, parsed by libsbml, are the only source of the equations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from .._errors import DataError
from ..network import Model
from ..network._math import parse, sympy_of

__all__ = ["SymbolicSystem", "structure_key", "symbolic_system"]

TIME = sp.Symbol("time__")


def to_sympy(formula: str, names: dict[str, sp.Basic], where: str) -> sp.Basic:
    """The sympy expression of an SBML L3 infix formula, each name looked up in ``names``
    (``time`` is :data:`TIME`)."""

    def name(n: str) -> sp.Basic:
        if n == "time":
            return TIME
        if n not in names:
            raise DataError(f"{where}: {n!r} is not defined in the model")
        return names[n]

    suffix = " by the compiled backend (use the libroadrunner engine)"
    return sympy_of(parse(formula, where), name, where, suffix)


@dataclass(frozen=True)
class SymbolicSystem:
    """dy/dt = rhs(y, p) with named states, parameters and observables.

    ``states`` are ids: a floating species (its amount), a parameter with a rate rule or
    changed by events (its value), or ``time`` when a formula reads it. The first
    ``n_ode`` are integrated (``rhs`` has one entry each); the rest are *durations*: rate
    rules of the form ``piecewise(1, a >= b, 0)`` (any comparison) that no rate reads, the
    time for which a condition holds. They are not integrated but measured on the solver's
    dense output between steps (the condition changes sign at ``durations[j] = 0``, true
    where it is ≥ 0), so their switching costs no steps. ``parameters`` are
    the constant inputs: parameter values, constant compartment sizes and, as
    ``amount__ID``, the amount each boundary species keeps. ``observables`` map each
    selectable id (species → concentration, parameters and compartments → value,
    reaction → flux in mmol/h) to its expression.
    """

    model: Model
    states: tuple[str, ...]
    parameters: tuple[str, ...]
    state_symbols: tuple[sp.Symbol, ...]
    parameter_symbols: tuple[sp.Symbol, ...]
    rhs: tuple[sp.Basic, ...]
    observables: dict[str, sp.Basic]
    size_of: dict[str, sp.Basic]  # compartment id -> size expression
    # (at, ((state, value), ...)), one entry per distinct time
    events: tuple[tuple[float, tuple[tuple[int, sp.Basic], ...]], ...]
    species_compartment: dict[str, str]
    n_ode: int = -1  # states integrated (the rest are durations); -1: all
    durations: tuple[sp.Basic, ...] = ()  # per duration state: true where ≥ 0 (or > 0)
    strict: tuple[bool, ...] = ()  # per duration: the condition holds only where > 0
    _jacobian: list[sp.Matrix] = field(default_factory=list, repr=False, compare=False)
    _branches: list[Any] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.n_ode < 0:
            object.__setattr__(self, "n_ode", len(self.states))

    def jacobian(self) -> sp.Matrix:
        """∂rhs/∂y; powers are recombined (sympy writes d(x**n)/dx as n*x**n/x, which is
        0/0 at x = 0)."""
        if self._jacobian:
            return self._jacobian[0]
        jac = sp.Matrix(self.rhs).jacobian(sp.Matrix(self.state_symbols[: self.n_ode]))
        jac = jac.applyfunc(lambda e: sp.powsimp(e, combine="exp") if e.has(sp.Pow) else e)
        self._jacobian.append(jac)
        return jac


def structure_key(model: Model, *, event_times: bool = True) -> str:
    """What a compiled form of ``model`` depends on — its formulas, ids, kinds and event
    times — and not its values (parameter values, initial concentrations and compartment
    sizes enter at run time).

    ``event_times=False`` leaves the events out: the generated code's key adds their
    templates (:func:`event_branches`), which hold neither their times, nor how often each
    recurs, nor the numbers they assign — all passed to the integrator at run time — so
    regimens that differ only in their dose times, counts or amounts share one kernel."""
    events: list[Any] = []
    for e in sorted(model.events, key=lambda e: e.at):
        assigned = sorted(e.assignments.items())
        if events and events[-1][0] == e.at:
            events[-1][1].append(assigned)
        else:
            events.append((e.at, [assigned]))
    if not event_times:  # the generated code's key adds the events' lifted templates
        events = []
    return repr(
        (
            [(c.id, c.size_rule) for c in model.compartments],
            [(s.id, s.compartment, s.boundary) for s in model.species],
            [
                (p.id, p.assignment, p.rate_rule, p.variable, p.initial, p.constant)
                for p in model.parameters
            ],
            [
                (r.id, sorted(r.reactants.items()), sorted(r.products.items()), r.rate,
                 r.compartment)
                for r in model.reactions
            ],
            events,
        )
    )  # fmt: skip


def distinct(items: list[Any]) -> list[Any]:
    """The distinct items (compared by ``repr``) in order of first appearance."""
    seen: dict[str, Any] = {}
    for item in items:
        seen.setdefault(repr(item), item)
    return list(seen.values())


def event_branches(system: SymbolicSystem) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """The generated code's event branches, one per distinct *template* — an event group's
    assignments with their numbers lifted out as ``q__0``, ``q__1``, … (in order of first
    appearance) — in order of first appearance; per event time, the branch it runs; and per
    event time, its lifted numbers (rows padded with zeros). Computed once per system
    (every chunk of a run reads it)."""
    if system._branches:
        return system._branches[0]
    templates, numbers = [], []
    for _, assigned in system.events:
        found: list[sp.Basic] = []
        for _, value in assigned:
            for node in sp.preorder_traversal(value):
                if isinstance(node, sp.Number) and node not in found:
                    found.append(node)
        lift = {v: sp.Symbol(f"q__{i}") for i, v in enumerate(found)}
        templates.append(tuple((i, value.xreplace(lift)) for i, value in assigned))
        numbers.append([float(v) for v in found])
    branches = distinct(templates)
    number = {repr(b): i for i, b in enumerate(branches)}
    width = max([1, *(len(row) for row in numbers)])
    values = np.zeros((len(numbers), width))
    for k, row in enumerate(numbers):
        values[k, : len(row)] = row
    which = np.array([number[repr(t)] for t in templates], dtype=np.int64)
    system._branches.append((branches, which, values))
    return branches, which, values


def symbolic_system(model: Model) -> SymbolicSystem:
    """Translate ``model`` (see the module docstring for the semantics)."""
    sym = {name: sp.Symbol(f"v__{i}") for i, name in enumerate(model.ids())}
    species = model.species
    compartments = {c.id: c for c in model.compartments}
    event_targets = {var for e in model.events for var in e.assignments}
    floating = [s for s in species if not s.boundary]
    state_params = [
        p
        for p in model.parameters
        if p.rate_rule is not None or p.variable or p.id in event_targets
    ]
    for p in state_params:
        if p.assignment is not None:
            raise DataError(f"parameter {p.id}: an assignment rule and events/rate rule at once")
    states = [s.id for s in floating] + [p.id for p in state_params]
    const_params = [p.id for p in model.parameters if p.constant and p.id not in event_targets]
    const_sizes = [c.id for c in model.compartments if c.size_rule is None]
    boundary = [f"amount__{s.id}" for s in species if s.boundary]
    params = const_params + const_sizes + boundary
    state_syms = [sp.Symbol(f"y__{i}") for i in range(len(states))]
    param_syms = [sp.Symbol(f"p__{i}") for i in range(len(params))]
    # ``value``: what a name means in a formula; a species' state is its amount, read
    # through ``concentration``
    amount = dict(zip(states, state_syms, strict=True))
    amount |= {
        name.removeprefix("amount__"): s
        for name, s in zip(params, param_syms, strict=True)
        if name.startswith("amount__")
    }
    species_ids = {s.id for s in species}
    value: dict[str, sp.Basic] = {
        name: s
        for name, s in [
            *zip(states, state_syms, strict=True),
            *zip(params, param_syms, strict=True),
        ]
        if name not in species_ids and not name.startswith("amount__")
    }
    # Assignment rules (parameters and compartment sizes), resolved in dependency order;
    # each is written in terms of states and constant parameters only.
    rules = {p.id: p.assignment for p in model.parameters if p.assignment is not None}
    rules |= {c.id: c.size_rule for c in model.compartments if c.size_rule is not None}
    raw = {k: to_sympy(f, sym, k) for k, f in rules.items()}
    back = {v: k for k, v in sym.items()}

    def concentration(sid: str) -> sp.Basic:
        comp = next(s.compartment for s in species if s.id == sid)
        return amount[sid] / resolve(comp)

    resolving: set[str] = set()

    def resolve(name: str) -> sp.Basic:
        if name in value:
            return value[name]
        if name in species_ids:
            return concentration(name)
        if name not in raw:
            raise DataError(f"{name!r} has no value in the model")
        if name in resolving:
            raise DataError(f"assignment rules are circular through {name!r}")
        resolving.add(name)
        expr = raw[name].xreplace({s: resolve(back[s]) for s in raw[name].free_symbols - {TIME}})
        resolving.discard(name)
        value[name] = expr
        return expr

    def expression(formula: str, where: str) -> sp.Basic:
        expr = to_sympy(formula, sym, where)
        return expr.xreplace({s: resolve(back[s]) for s in expr.free_symbols - {TIME}})

    size_of = {c: resolve(c) for c in compartments}
    index = {name: i for i, name in enumerate(states)}
    floating_ids = {s.id for s in floating}
    species_compartment = {s.id: s.compartment for s in species}
    rhs: list[sp.Basic] = [sp.Integer(0)] * len(states)
    observables: dict[str, sp.Basic] = {}
    for r in model.reactions:
        flux = size_of[r.compartment] * expression(r.rate, f"reaction {r.id}")
        observables[r.id] = flux
        for sid, coef in r.reactants.items():
            if sid in index:
                rhs[index[sid]] -= coef * flux
        for sid, coef in r.products.items():
            if sid in index:
                rhs[index[sid]] += coef * flux
    for p in state_params:
        if p.rate_rule is not None:
            rhs[index[p.id]] = expression(p.rate_rule, f"rate rule of {p.id}")
    events: list[tuple[float, tuple[tuple[int, sp.Basic], ...]]] = []
    for e in sorted(model.events, key=lambda e: e.at):
        assigned = []
        for var, formula in e.assignments.items():
            if var not in index:
                raise DataError(f"event {e.id}: {var!r} is not a species or variable parameter")
            val = expression(formula, f"event {e.id}")
            if var in floating_ids:  # a species is set as a concentration
                val = val * size_of[species_compartment[var]]
            assigned.append((index[var], val))
        if events and events[-1][0] == float(e.at):
            # events at one time are all computed from the values before any of them (SBML
            # useValuesFromTriggerTime); two writing one variable would depend on an order
            # SBML leaves undefined
            clash = {i for i, _ in events[-1][1]} & {i for i, _ in assigned}
            if clash:
                raise DataError(
                    f"event {e.id} and another event at t = {e.at:g} h both set "
                    f"{states[min(clash)]}; SBML leaves their order undefined: merge them"
                )
            events[-1] = (events[-1][0], events[-1][1] + tuple(assigned))
        else:
            events.append((float(e.at), tuple(assigned)))
    if any(TIME in expr.free_symbols for expr in [*rhs, *(v for _, a in events for _, v in a)]):
        t_sym = sp.Symbol(f"y__{len(states)}")
        states.append("time")
        state_syms.append(t_sym)
        rhs = [expr.xreplace({TIME: t_sym}) for expr in rhs] + [sp.Integer(1)]
        events = [(at, tuple((i, v.xreplace({TIME: t_sym})) for i, v in a)) for at, a in events]
        observables = {k: v.xreplace({TIME: t_sym}) for k, v in observables.items()}
    for s in species:
        observables[s.id] = concentration(s.id)
    for p in model.parameters:
        observables[p.id] = resolve(p.id)
    for c in model.compartments:
        observables[c.id] = size_of[c.id]
    if "time" in states:
        observables = {k: v.xreplace({TIME: state_syms[-1]}) for k, v in observables.items()}
    # Durations to the end: each one's symbol renamed to its new place.
    dur = _durations(rhs, events, state_syms)
    order = [i for i in range(len(states)) if i not in dur] + sorted(dur)
    rename = {state_syms[old]: state_syms[new] for new, old in enumerate(order)}
    new_at = {old: new for new, old in enumerate(order)}
    states = [states[i] for i in order]
    conditions = tuple(dur[i][0].xreplace(rename) for i in sorted(dur))
    strict = tuple(dur[i][1] for i in sorted(dur))
    rhs = [rhs[i].xreplace(rename) for i in order if i not in dur]
    events = [(at, tuple((new_at[i], v.xreplace(rename)) for i, v in a)) for at, a in events]
    observables = {k: v.xreplace(rename) for k, v in observables.items()}
    return SymbolicSystem(
        model=model,
        states=tuple(states),
        parameters=tuple(params),
        state_symbols=tuple(state_syms),
        parameter_symbols=tuple(param_syms),
        rhs=tuple(rhs),
        observables=observables,
        size_of=size_of,
        events=tuple(events),
        species_compartment=species_compartment,
        n_ode=len(rhs),
        durations=conditions,
        strict=strict,
    )


def _durations(
    rhs: list[sp.Basic], events: list[Any], state_syms: list[sp.Symbol]
) -> dict[int, tuple[sp.Basic, bool]]:
    """States whose rate is ``piecewise(1, condition, 0)`` with one comparison, which no
    rate (their own condition included) reads and no event sets: index → (g, strict), the
    condition as "g ≥ 0" (or "g > 0" when strict). None when every state would be one (the
    integrator needs a state to step)."""
    found: dict[int, tuple[sp.Basic, bool]] = {}
    for i, expr in enumerate(rhs):
        if not isinstance(expr, sp.Piecewise) or len(expr.args) != 2:
            continue
        (one, cond), (zero, other) = expr.args
        if not (one == 1 and zero == 0 and other == sp.true):
            continue
        strict = isinstance(cond, (sp.StrictGreaterThan, sp.StrictLessThan))
        if isinstance(cond, (sp.GreaterThan, sp.StrictGreaterThan)):
            found[i] = (cond.lhs - cond.rhs, strict)
        elif isinstance(cond, (sp.LessThan, sp.StrictLessThan)):
            found[i] = (cond.rhs - cond.lhs, strict)
    targets = {i for _, assigned in events for i, _ in assigned}
    read = set().union(*(e.free_symbols for j, e in enumerate(rhs) if j not in found))
    read |= set().union(*(g.free_symbols for g, _ in found.values()), set())
    chosen = {i: f for i, f in found.items() if i not in targets and state_syms[i] not in read}
    return chosen if len(chosen) < len(rhs) else {}
