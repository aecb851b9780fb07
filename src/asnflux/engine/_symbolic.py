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
    changed by events (its value), or ``time`` when a formula reads it. ``parameters`` are
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
    _jacobian: list[sp.Matrix] = field(default_factory=list, repr=False, compare=False)

    def jacobian(self) -> sp.Matrix:
        """∂rhs/∂y; powers are recombined (sympy writes d(x**n)/dx as n*x**n/x, which is
        0/0 at x = 0)."""
        if self._jacobian:
            return self._jacobian[0]
        jac = sp.Matrix(self.rhs).jacobian(sp.Matrix(self.state_symbols))
        jac = jac.applyfunc(lambda e: sp.powsimp(e, combine="exp") if e.has(sp.Pow) else e)
        self._jacobian.append(jac)
        return jac


def structure_key(model: Model) -> str:
    """What the generated code of ``model`` depends on — its formulas, ids, kinds and
    event times — and not its values (parameter values, initial concentrations and
    compartment sizes enter at run time)."""
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
            [(e.at, sorted(e.assignments.items())) for e in model.events],
        )
    )  # fmt: skip


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
    )
