"""What a knowledge-base record may say: quantity kinds, their units, and flags.

Each quantity kind lists the dimensions it may carry, with the canonical unit that values
of that dimension are normalised to. A value whose dimension is not listed is rejected at
load time: a Km in U/mg is a curation error, not data.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FLAGS", "KINDS", "QuantityKind"]


@dataclass(frozen=True)
class QuantityKind:
    """A kind of quantity: its allowed canonical units and whether it can be negative."""

    name: str
    description: str
    canonical_units: tuple[str, ...]
    may_be_negative: bool = False
    at_most_one: bool = False

    @property
    def numeric(self) -> bool:
        return bool(self.canonical_units)


_CONC = "mM"
_KINDS = (
    QuantityKind("Km", "Michaelis constant", (_CONC,)),
    QuantityKind("Ki", "inhibition constant", (_CONC,)),
    QuantityKind("K_half", "half-saturation or half-activation constant", (_CONC,)),
    QuantityKind(
        "Vmax",
        "maximal rate; per mass of protein, per volume of preparation, or per cell volume",
        ("IU/mg", "IU/mL", "mM/h"),
    ),
    QuantityKind("kcat", "turnover number", ("1/s",)),
    QuantityKind(
        "equilibrium_constant",
        "apparent equilibrium constant of a reaction, products over substrates",
        ("dimensionless", _CONC),
    ),
    QuantityKind("ratio", "ratio of two concentrations in one state", ("dimensionless",)),
    QuantityKind("specific_activity", "enzyme activity per mass of protein", ("IU/mg",)),
    QuantityKind("concentration", "amount concentration", (_CONC,)),
    QuantityKind("fold_change", "ratio of a quantity between two conditions", ("dimensionless",)),
    QuantityKind("half_life", "half-life", ("h",)),
    QuantityKind("clearance", "clearance, absolute or per m² BSA", ("L/h", "L/h/m**2")),
    QuantityKind("volume", "volume of distribution, absolute or per m² BSA", ("L", "L/m**2")),
    QuantityKind("rate_constant", "first-order rate constant", ("1/h",)),
    QuantityKind("clearance_slope", "relative rise of clearance per unit time", ("1/h",)),
    QuantityKind("fraction", "fraction between 0 and 1", ("dimensionless",), at_most_one=True),
    QuantityKind(
        "bioavailability",
        "fraction of an extravascular dose absorbed",
        ("dimensionless",),
        at_most_one=True,
    ),
    QuantityKind(
        "variability",
        "between- or within-patient variability as a CV fraction",
        ("dimensionless",),
    ),
    QuantityKind("exponent", "allometric or covariate exponent", ("dimensionless",), True),
    QuantityKind("dose", "dose per m² body-surface area", ("IU/m**2", "mg/m**2")),
    QuantityKind("time", "a duration or time point", ("h",)),
    QuantityKind("activity_threshold", "serum asparaginase activity threshold", ("IU/mL",)),
    QuantityKind("activity", "serum asparaginase activity, e.g. a peak", ("IU/mL",)),
    QuantityKind("exposure", "area under the activity-time curve", ("h*IU/mL",)),
    QuantityKind(
        "covariate_slope",
        "relative change of a parameter per unit of a covariate (BSA, age)",
        ("1/m**2", "1/year"),
    ),
    QuantityKind("body_surface_area", "body-surface area of a reference patient", ("m**2",)),
    QuantityKind("age", "age of a (reference) patient", ("year",)),
    QuantityKind("concentration_threshold", "metabolite concentration threshold", (_CONC,)),
    QuantityKind("cell_volume", "volume of one cell", ("pL",)),
    QuantityKind("doubling_time", "population doubling time", ("h",)),
    QuantityKind("flux", "rate per cell volume", ("mM/h",), True),
    QuantityKind("molar_mass", "molar mass", ("g/mol",)),
    QuantityKind("mass", "mass, e.g. protein per cell or subunit mass", ("pg", "kDa")),
    QuantityKind("mass_concentration", "mass per volume (media, protein)", ("g/L",)),
    QuantityKind("cell_density", "cells per volume of culture", ("1/mL",)),
    QuantityKind("body_weight", "body weight of a (reference) patient", ("kg",)),
    QuantityKind("count", "a number of items, e.g. a minimum number of levels", ("dimensionless",)),
    QuantityKind("qualitative", "a statement without a number", ()),
)
KINDS: dict[str, QuantityKind] = {k.name: k for k in _KINDS}

# Controlled vocabulary of flags, so that a typo cannot create a new, silent category.
FLAGS: dict[str, str] = {
    "approximate": "printed with '~' or 'about': the source gives an order, not a measurement",
    "unit_differs_from_header": (
        "the cell prints a unit different from its column header; normalised from the printed unit"
    ),
    "implausible_magnitude": (
        "far outside the range of comparable values; kept as printed, not used as a default"
    ),
    "incomparable_unit": (
        "reported per a different basis (per mg, per mL, per µg) than related values: compare "
        "only like with like"
    ),
    "no_primary_reference": "the seed gives no reference for this row",
    "qualitative": "no number: the source states a direction or behaviour",
    "mislabelled_quantity": (
        "the source's table heading claims a different quantity than the row reports"
    ),
    "uncertainty_kind_unstated": "printed with ± without saying SD, SE or CI",
    "abstract_only": "checked against the abstract or label excerpt only, not the full text",
    "not_verified": "taken from a secondary compilation; the primary source was not re-read",
    "range": "the source gives a range, not a single value",
    "per_70kg": "typical value for a 70 kg adult; scale allometrically",
    "population_typical": (
        "typical value of a population model (between-patient variability applies)"
    ),
}
