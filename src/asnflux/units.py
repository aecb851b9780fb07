"""The one pint registry of AsnFlux, and helpers for quantities at API boundaries.

Conventions
-----------
* ``IU`` (international unit of enzyme activity) = ``U`` = 1 µmol/min, as defined on the
  Elspar and Oncaspar labels (NH3 released per minute at pH 7.3, 37 °C). An activity of
  A IU/mL in a fluid is therefore a hydrolysis capacity of A mM/min.
* ``M`` is mol/L. Both the micro sign (U+00B5, ``µ``) and the Greek mu (U+03BC, ``μ``) are
  accepted, since sources print either.
* Dosing by body-surface area uses ``m**2`` (``"2500 IU/m**2"``, ``"25 mg/m**2"``).
* Mass ↔ amount conversions (µg/mL ↔ µM) use molar masses computed from elemental
  formulas and IUPAC standard atomic weights (:func:`molar_mass`), never typed-in masses.

Public functions accept pint quantities or strings such as ``"2.2 mM"`` and check their
dimension; solvers receive plain floats in canonical units, converted once.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import pint

from ._errors import UnitError

__all__ = [
    "Q_",
    "ParsedQuantity",
    "Uncertainty",
    "as_quantity",
    "check_dimension",
    "formula_mass",
    "magnitude",
    "molar_mass",
    "parse_quantity",
    "to_amount_concentration",
    "to_mass_concentration",
    "ureg",
]

ureg: Any = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
# pint already defines U = enzyme_unit = µmol/min; IU is the clinical spelling of it.
ureg.define("international_unit = enzyme_unit = IU")
# Radiometric counting: disintegrations per minute (a decay rate; 1 µCi = 2.22e6 dpm).
ureg.define("disintegrations_per_minute = 1 / minute = dpm")
ureg.formatter.default_format = "~P"
pint.set_application_registry(ureg)
Q_: Any = ureg.Quantity

# IUPAC 2021 conventional/abridged standard atomic weights (Prohaska T et al., Pure Appl
# Chem 2022;94:573, doi:10.1515/pac-2019-0603). Abridged to the digits given there.
_ATOMIC_WEIGHT = {
    "H": 1.008,
    "C": 12.011,
    "N": 14.007,
    "O": 15.999,
    "S": 32.06,
    "P": 30.974,
    "Cl": 35.45,
    "Na": 22.990,
    "K": 39.098,
    "Mg": 24.305,
}

# Neutral elemental formulas (ChEBI) of the metabolites AsnFlux converts between mass and
# amount. Keys are canonical names; _ALIASES maps the spellings users type.
_FORMULA = {
    "L-asparagine": "C4H8N2O3",
    "L-aspartate": "C4H7NO4",  # as the neutral acid, L-aspartic acid
    "L-glutamine": "C5H10N2O3",
    "L-glutamate": "C5H9NO4",  # as the neutral acid, L-glutamic acid
    "L-serine": "C3H7NO3",
    "L-arginine": "C6H14N4O2",
    "L-histidine": "C6H9N3O2",
    "L-leucine": "C6H13NO2",
    "ammonia": "NH3",
    "ammonium": "NH4",
    "ammonium sulfate": "N2H8SO4",
    "ammonium chloride": "NH4Cl",
    "L-arginine hydrochloride": "C6H15ClN4O2",
    "L-histidine hydrochloride monohydrate": "C6H12ClN3O3",
    "AMP": "C10H14N5O7P",
    "ATP": "C10H16N5O13P3",
    "alpha-ketosuccinamate": "C4H5NO4",
    "oxaloacetate": "C4H4O5",
}
_ALIASES = {
    "asn": "L-asparagine",
    "n": "L-asparagine",
    "asparagine": "L-asparagine",
    "asp": "L-aspartate",
    "d": "L-aspartate",
    "aspartate": "L-aspartate",
    "aspartic acid": "L-aspartate",
    "l-aspartic acid": "L-aspartate",
    "gln": "L-glutamine",
    "q": "L-glutamine",
    "glutamine": "L-glutamine",
    "glu": "L-glutamate",
    "e": "L-glutamate",
    "glutamate": "L-glutamate",
    "glutamic acid": "L-glutamate",
    "l-glutamic acid": "L-glutamate",
    "ser": "L-serine",
    "s": "L-serine",
    "serine": "L-serine",
    "arg": "L-arginine",
    "r": "L-arginine",
    "arginine": "L-arginine",
    "his": "L-histidine",
    "h": "L-histidine",
    "histidine": "L-histidine",
    "leu": "L-leucine",
    "l": "L-leucine",
    "leucine": "L-leucine",
    "nh3": "ammonia",
    "nh4": "ammonium",
    "nh4+": "ammonium",
    "(nh4)2so4": "ammonium sulfate",
    "nh4cl": "ammonium chloride",
}

_FORMULA_TOKEN = re.compile(r"([A-Z][a-z]?)(\d*)")


def formula_mass(formula: str) -> Any:
    """Molar mass of an elemental formula such as ``"C4H8N2O3"``, in g/mol.

    Raises
    ------
    UnitError
        If the formula is empty or names an element without a tabulated weight.
    """
    if not formula or _FORMULA_TOKEN.sub("", formula) != "":
        raise UnitError(
            f"cannot read elemental formula {formula!r}: expected element symbols each "
            "followed by an optional count, e.g. 'C4H8N2O3'"
        )
    total = 0.0
    for symbol, count in _FORMULA_TOKEN.findall(formula):
        if symbol not in _ATOMIC_WEIGHT:
            known = ", ".join(sorted(_ATOMIC_WEIGHT))
            raise UnitError(
                f"formula {formula!r}: no atomic weight for element {symbol!r}; known: {known}"
            )
        total += _ATOMIC_WEIGHT[symbol] * (int(count) if count else 1)
    return Q_(total, "g/mol")


def _canonical_species(species: str) -> str:
    if species in _FORMULA:
        return species
    key = species.strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    for name in _FORMULA:
        if name.lower() == key:
            return name
    known = ", ".join(sorted(_FORMULA))
    raise UnitError(f"no molar mass for species {species!r}; known species: {known}")


@cache
def molar_mass(species: str) -> Any:
    """Molar mass of a metabolite by name or abbreviation (``"Asn"``, ``"L-asparagine"``).

    Computed from the ChEBI neutral formula and IUPAC standard atomic weights: Asn
    (C4H8N2O3) gives 132.12 g/mol.
    """
    return formula_mass(_FORMULA[_canonical_species(species)])


def to_amount_concentration(quantity: Any, species: str, unit: str = "µM") -> Any:
    """Convert a mass concentration (e.g. µg/mL) of ``species`` to an amount concentration."""
    q = as_quantity(quantity, "[mass] / [length] ** 3", name="mass concentration")
    return (q / molar_mass(species)).to(unit)


def to_mass_concentration(quantity: Any, species: str, unit: str = "µg/mL") -> Any:
    """Convert an amount concentration (e.g. µM) of ``species`` to a mass concentration."""
    q = as_quantity(quantity, "[substance] / [length] ** 3", name="concentration")
    return (q * molar_mass(species)).to(unit)


#: Longest value text read; a printed value or an option is far shorter, and the cap keeps
#: parsing time bounded whatever a file or a user passes.
MAX_QUANTITY_TEXT = 200


def _normalise_text(text: str) -> str:
    # Greek mu → micro sign; typographic minus and dashes → ASCII; NBSP → space.
    return (
        text.replace("\u03bc", "\u00b5")
        .replace("\u2212", "-")
        .replace("\u2013", "-")
        .replace("\u2014", "-")
        .replace("\u00a0", " ")
        .strip()
    )


# Powers as people type them: m2, cm3, m² → m**2 (a length unit followed by 2 or 3 only,
# so "13C4" or "mg2" stay as they are and fail loudly).
_SUPERSCRIPT = str.maketrans({"\u00b2": "**2", "\u00b3": "**3"})
_BARE_POWER = re.compile(r"(?<![A-Za-zµ])((?:[kcmµn]?m))([23])(?![\d.*])")


def _unit_text(text: str) -> str:
    return _BARE_POWER.sub(r"\1**\2", text.translate(_SUPERSCRIPT))


def _parse_unit(unit_text: str, context: str) -> Any:
    text = _unit_text(_normalise_text(unit_text))
    if text == "":
        return ureg.dimensionless
    try:
        unit = ureg.parse_units(text)
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError) as exc:
        raise UnitError(f"{context}: unknown unit {unit_text!r} ({exc})") from None
    except Exception as exc:  # pint raises assorted errors on malformed expressions
        raise UnitError(f"{context}: cannot read unit {unit_text!r} ({exc})") from None
    return unit


def check_dimension(quantity: Any, dimension: str, name: str) -> None:
    """Raise :class:`UnitError` unless ``quantity`` has ``dimension`` (a pint dimension string
    such as ``"[substance] / [length] ** 3"``, or a unit string whose dimension is used)."""
    expected = _dimensionality(dimension)
    if quantity.dimensionality != expected:
        raise UnitError(
            f"{name}: {quantity:~P} has dimension {quantity.dimensionality}, expected {expected}"
        )


def _dimensionality(dimension: str) -> Any:
    if "[" in dimension:
        return ureg.get_dimensionality(dimension)
    return _parse_unit(dimension, "expected unit").dimensionality


def as_quantity(value: Any, dimension: str | None = None, *, name: str = "value") -> Any:
    """Turn a pint quantity or a string like ``"2500 IU/m**2"`` into a checked quantity.

    Parameters
    ----------
    value
        A pint ``Quantity`` or a string with a number and a unit.
    dimension
        A pint dimension (``"[time]"``) or a unit (``"IU/mL"``) whose dimension the value
        must have; ``None`` skips the check.
    name
        The parameter's name, used in error messages.

    Raises
    ------
    UnitError
        On a bare number (units are explicit in AsnFlux), an unknown unit, a non-finite
        magnitude, or the wrong dimension.
    """
    if isinstance(value, str):
        parsed = parse_quantity(value, context=name, hint_unit=_example_unit(dimension))
        if parsed.quantity is None or parsed.uncertainty is not None:
            raise UnitError(f"{name}: {value!r} is a range or a ± value; give one value")
        q = parsed.quantity
    elif isinstance(value, ureg.Quantity):
        q = value
    elif isinstance(value, int | float):
        example = _example_unit(dimension)
        hint = f" e.g. '{value} {example}'" if example else ""
        raise UnitError(f"{name}: bare number {value!r} has no unit; give a quantity{hint}")
    else:
        raise UnitError(
            f"{name}: expected a pint Quantity or a string like '2.2 mM', got "
            f"{type(value).__name__} {value!r}"
        )
    mag = q.magnitude
    if isinstance(mag, int | float) and not math.isfinite(mag):
        raise UnitError(f"{name}: magnitude {mag!r} is not a finite number")
    if dimension is not None:
        check_dimension(q, dimension, name)
    return q


# Units shown in hints, by the dimension a value must have (the first that fits is shown).
_EXAMPLE_UNITS = (
    "mM",
    "h",
    "mL",
    "IU/mL",
    "IU/m**2",
    "mg/m**2",
    "mg/mL",
    "IU",
    "mg",
    "kg",
    "m**2",
    "mCi/mmol",
    "nmol/min",
    "1/h",
    "°C",
)


def _example_unit(dimension: str | None) -> str | None:
    """A unit to suggest for a value of ``dimension`` (a dimension or a unit string)."""
    if dimension is None:
        return None
    if "[" not in dimension:
        return dimension
    want = ureg.get_dimensionality(dimension)
    for unit in _EXAMPLE_UNITS:
        if ureg.parse_units(unit).dimensionality == want:
            return unit
    return None


def magnitude(value: Any, unit: str, *, name: str = "value") -> float:
    """The magnitude of ``value`` (quantity or string) in ``unit``, as a float."""
    q = as_quantity(value, unit, name=name)
    return float(q.to(unit).magnitude)


@dataclass(frozen=True)
class Uncertainty:
    """Spread of a reported value, in the same unit as the value.

    ``kind`` is ``"sd"`` (standard deviation), ``"se"`` (standard error), ``"pm"`` (a
    printed ± whose meaning the source does not state), ``"ci95"`` (half-width of a 95 %
    interval) or ``"cv"`` (coefficient of variation as a fraction; then ``value`` is
    dimensionless).
    """

    kind: Literal["sd", "se", "pm", "ci95", "cv"]
    value: float

    def __post_init__(self) -> None:
        if self.kind not in ("sd", "se", "pm", "ci95", "cv"):
            raise UnitError(f"uncertainty kind {self.kind!r} is not one of sd, se, pm, ci95, cv")
        if not math.isfinite(self.value) or self.value < 0:
            raise UnitError(f"uncertainty {self.kind} = {self.value!r} must be finite and ≥ 0")


@dataclass(frozen=True)
class ParsedQuantity:
    """What :func:`parse_quantity` read from a printed value.

    ``quantity`` is the central value (``None`` for a pure range), ``low``/``high`` the
    bounds of a printed range, ``approximate`` whether the source marked it with ``~``
    (or ``≈``, ``ca.``), and ``uncertainty`` a printed ``±``.
    """

    quantity: Any
    approximate: bool = False
    uncertainty: Uncertainty | None = None
    low: Any = None
    high: Any = None

    @property
    def unit(self) -> Any:
        q = self.quantity if self.quantity is not None else self.low
        return q.units


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_APPROX = re.compile(r"^(?:~|≈|ca\.?\s*|approx\.?\s*|about\s+)\s*", re.IGNORECASE)
_PM = re.compile(rf"^({_NUMBER})\s*(?:±|\+/-|\+-)\s*({_NUMBER})\s*(.*)$")
_RANGE = re.compile(rf"^({_NUMBER})\s*(?:-|to|–)\s*({_NUMBER})\s*(.*)$")
_SINGLE = re.compile(rf"^({_NUMBER})\s*(.*)$")


def parse_quantity(
    text: str,
    default_unit: str | None = None,
    *,
    context: str = "value",
    hint_unit: str | None = None,
) -> ParsedQuantity:
    """Read a value as sources print it.

    Understands ``"0.031 M"``, ``"2.2 mM"``, ``"1.537 U/µg"``, ``"~50 μM"`` (the ``~`` is
    kept as :attr:`ParsedQuantity.approximate`), ``"0.53 ± 0.01"`` (a ``±`` of unstated
    kind) and ranges such as ``"1.6-10 mM"``. A value printed without a unit takes
    ``default_unit`` (e.g. the table's column header); with neither, it is an error.

    Raises
    ------
    UnitError
        If the text holds no number, an unknown unit, or no unit at all without a default.
    """
    if not isinstance(text, str):
        raise UnitError(f"{context}: expected text such as '2.2 mM', got {text!r}")
    if len(text) > MAX_QUANTITY_TEXT:
        raise UnitError(
            f"{context}: value text is {len(text)} characters long; expected a number and a "
            f"unit (at most {MAX_QUANTITY_TEXT} characters)"
        )
    raw = _normalise_text(text)
    approx = False
    m = _APPROX.match(raw)
    if m:
        approx = True
        raw = raw[m.end() :]

    def num(digits: str) -> float:
        value = float(digits)
        if not math.isfinite(value):
            raise UnitError(f"{context}: {digits!r} is too large for a finite number")
        return value

    def unit_of(unit_text: str) -> Any:
        unit_text = unit_text.strip()
        if "±" in unit_text or "+/-" in unit_text:
            raise UnitError(
                f"{context}: {text[:60]!r} puts ± after the unit (a value ± uncertainty is "
                "written '1 ± 0.1 mL', where one is accepted)"
            )
        if unit_text:
            return _parse_unit(unit_text, context)
        if default_unit is None:
            example = hint_unit or "mM"
            raise UnitError(f"{context}: {text!r} has no unit; write one, e.g. '{raw} {example}'")
        return _parse_unit(default_unit, context)

    pm = _PM.match(raw)
    if pm:
        unit = unit_of(pm.group(3))
        return ParsedQuantity(
            quantity=Q_(num(pm.group(1)), unit),
            approximate=approx,
            uncertainty=Uncertainty("pm", num(pm.group(2))),
        )
    rng = _RANGE.match(raw)
    if rng:
        unit = unit_of(rng.group(3))
        lo, hi = num(rng.group(1)), num(rng.group(2))
        if lo > hi:
            raise UnitError(f"{context}: range {text!r} has its low end above its high end")
        return ParsedQuantity(
            quantity=None, approximate=approx, low=Q_(lo, unit), high=Q_(hi, unit)
        )
    single = _SINGLE.match(raw)
    if single:
        unit = unit_of(single.group(2))
        return ParsedQuantity(quantity=Q_(num(single.group(1)), unit), approximate=approx)
    raise UnitError(f"{context}: no number in {text!r}; expected e.g. '2.2 mM' or '~50 µM'")
