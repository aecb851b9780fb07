"""Declarative model objects: compartments, species, parameters, reactions, events.

Conventions (the whole package): time in hours, concentrations in mM, volumes in litres,
amounts in mmol. A reaction's ``rate`` is written *per volume of its compartment* (mM/h);
the SBML kinetic law multiplies it by that compartment's size, so that SBML sees amounts
per time and transport between compartments of different volume is exact.

Every parameter is bound to a knowledge-base record (``record``) or labelled as an
assumption (``assumption`` says why the value is plausible) or is a definition/derived
quantity (``derived``: an assignment rule or a state variable with a rate rule, whose
formula is the source). Nothing numeric enters a rate law unexplained.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Compartment",
    "Event",
    "Model",
    "Parameter",
    "Reaction",
    "Species",
]


@dataclass(frozen=True)
class Compartment:
    id: str
    name: str
    size: float  # L
    size_rule: str | None = None  # infix assignment rule (variable volume)
    sbo: str = "SBO:0000290"  # physical compartment


@dataclass(frozen=True)
class Species:
    """A metabolite (or other amount-bearing entity) in a compartment, in mM."""

    id: str
    name: str
    compartment: str
    initial: float  # mM
    chebi: str | None = None
    formula: str | None = None
    boundary: bool = False  # held constant (buffered pool)
    sbo: str = "SBO:0000247"  # simple chemical


@dataclass(frozen=True)
class Parameter:
    """A named value with a unit (pint syntax); a state variable if ``rate_rule`` is set."""

    id: str
    value: float
    unit: str
    name: str = ""
    record: str | None = None  # knowledge-base record id
    assumption: str | None = None  # why the value is plausible
    derived: str | None = None  # what the assignment/rate rule means
    assignment: str | None = None  # infix assignment rule
    rate_rule: str | None = None  # infix d(value)/dt
    uniprot: str | None = None  # for activities of named proteins
    sbo: str = "SBO:0000002"  # quantitative systems description parameter
    variable: bool = False  # changed by events
    initial: str | None = None  # infix initial assignment (a state starting at another value)

    @property
    def constant(self) -> bool:
        return self.assignment is None and self.rate_rule is None and not self.variable

    @property
    def provenance(self) -> str:
        if self.record:
            return f"record {self.record}"
        if self.assumption:
            return f"assumption: {self.assumption}"
        return f"derived: {self.derived or 'rule'}"


@dataclass(frozen=True)
class Reaction:
    """Stoichiometric reaction with a per-compartment-volume rate law (mM/h)."""

    id: str
    name: str
    reactants: dict[str, float]
    products: dict[str, float]
    rate: str  # infix, mM/h per volume of ``compartment``
    compartment: str
    boundary: bool = False  # exchange with the outside (biomass, dead cells): not balanced
    reversible: bool = False
    sbo: str = "SBO:0000176"  # biochemical reaction
    note: str = ""
    ec: str | None = None  # EC number of the catalysing enzyme class, e.g. "6.3.5.4"


@dataclass(frozen=True)
class Event:
    """Assignments made once when ``time`` reaches ``at`` (h): additions, washes, doses."""

    id: str
    at: float
    assignments: dict[str, str]  # variable id -> infix value
    name: str = ""


@dataclass
class Model:
    """A whole model; :meth:`check` validates it, :mod:`asnflux.network` exports it."""

    id: str
    name: str
    compartments: list[Compartment] = field(default_factory=list)
    species: list[Species] = field(default_factory=list)
    parameters: list[Parameter] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    notes: str = ""

    def ids(self) -> dict[str, str]:
        """Every defined id with its kind."""
        out: dict[str, str] = {}
        for kind, items in (
            ("compartment", self.compartments),
            ("species", self.species),
            ("parameter", self.parameters),
            ("reaction", self.reactions),
            ("event", self.events),
        ):
            for item in items:
                out[item.id] = kind
        return out

    def parameter(self, pid: str) -> Parameter:
        for p in self.parameters:
            if p.id == pid:
                return p
        raise KeyError(pid)

    def species_by_id(self) -> dict[str, Species]:
        return {s.id: s for s in self.species}
