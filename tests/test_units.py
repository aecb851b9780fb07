"""Units: the registry's definitions, parsing as sources print values, mass ↔ amount."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asnflux import UnitError
from asnflux.units import (
    Q_,
    as_quantity,
    formula_mass,
    magnitude,
    molar_mass,
    parse_quantity,
    to_amount_concentration,
    to_mass_concentration,
)

positive = st.floats(min_value=1e-9, max_value=1e9, allow_nan=False, allow_infinity=False)


def test_iu_is_micromole_per_minute():
    # Elspar/Oncaspar labels: 1 IU releases 1 µmol NH3 per minute.
    assert Q_(1, "IU").to("µmol/min").magnitude == pytest.approx(1.0, rel=1e-15)
    assert Q_(1, "U").to("IU").magnitude == pytest.approx(1.0, rel=1e-15)


def test_activity_per_volume_is_hydrolysis_capacity():
    # 1 IU/mL = 1 mM/min = 60 mM/h = 1000 U/L.
    assert Q_(1, "IU/mL").to("mM/min").magnitude == pytest.approx(1.0)
    assert Q_(1, "IU/mL").to("mM/h").magnitude == pytest.approx(60.0)
    assert Q_(1, "IU/mL").to("U/L").magnitude == pytest.approx(1000.0)


def test_bsa_dosing_units():
    dose = as_quantity("2500 IU/m**2", "IU/m**2", name="dose")
    assert (dose * Q_(0.8, "m**2")).to("IU").magnitude == pytest.approx(2000.0)
    assert magnitude("25 mg/m**2", "mg/m**2") == 25.0


@pytest.mark.parametrize(
    ("text", "unit", "value"),
    [
        ("0.031 M", "mM", 31.0),
        ("2.2 mM", "mM", 2.2),
        ("1.537 U/µg", "U/mg", 1537.0),
        ("1.537 U/μg", "U/mg", 1537.0),  # Greek mu, as the seed prints it
        ("50 μM", "µM", 50.0),
        ("100 IU/L", "IU/mL", 0.1),
    ],
)
def test_parse_as_printed(text, unit, value):
    parsed = parse_quantity(text)
    assert parsed.quantity.to(unit).magnitude == pytest.approx(value, rel=1e-12)
    assert not parsed.approximate


def test_parse_keeps_approximate_marker():
    parsed = parse_quantity("~50 µM")
    assert parsed.approximate
    assert parsed.quantity.to("µM").magnitude == pytest.approx(50.0)


def test_parse_plus_minus_with_header_unit():
    parsed = parse_quantity("0.53 ± 0.01", default_unit="mM")
    assert parsed.quantity.to("mM").magnitude == pytest.approx(0.53)
    assert parsed.uncertainty is not None
    assert parsed.uncertainty.kind == "pm"
    assert parsed.uncertainty.value == pytest.approx(0.01)


def test_parse_range():
    parsed = parse_quantity("1.6-10 mM")
    assert parsed.quantity is None
    assert parsed.low.to("mM").magnitude == 1.6
    assert parsed.high.to("mM").magnitude == 10


@pytest.mark.parametrize(
    ("text", "default", "match"),
    [
        ("about", None, "no number"),
        ("2.2 mMol", None, "unknown unit 'mMol'"),
        ("2.2", None, "has no unit"),
        ("10-1.6 mM", None, "low end above its high end"),
    ],
)
def test_parse_errors(text, default, match):
    with pytest.raises(UnitError, match=match):
        parse_quantity(text, default_unit=default)


def test_parse_rejects_non_text():
    with pytest.raises(UnitError, match="expected text"):
        parse_quantity(2.2)  # type: ignore[arg-type]


def test_molar_masses_from_formulas():
    # PubChem molecular weights: Asn 132.12, Asp 133.10, Gln 146.14, Glu 147.13 g/mol
    # (PubChem prints two decimals; IUPAC abridged weights give e.g. Gln 146.146).
    assert molar_mass("Asn").to("g/mol").magnitude == pytest.approx(132.12, abs=0.01)
    assert molar_mass("L-aspartate").to("g/mol").magnitude == pytest.approx(133.10, abs=0.01)
    assert molar_mass("glutamine").to("g/mol").magnitude == pytest.approx(146.14, abs=0.01)
    assert molar_mass("Glu").to("g/mol").magnitude == pytest.approx(147.13, abs=0.01)


def test_mass_to_amount_concentration_for_asn():
    # 13.212 µg/mL of Asn is 100 µM; the Asparlas label's CSF 0.8 µg/mL is ≈ 6.1 µM.
    assert to_amount_concentration("13.212 µg/mL", "Asn").magnitude == pytest.approx(100.0, 1e-4)
    assert to_amount_concentration("0.8 µg/mL", "Asn").to("µM").magnitude == pytest.approx(
        6.055, 1e-3
    )


def test_molar_mass_errors():
    with pytest.raises(UnitError, match="no molar mass for species 'unobtainium'"):
        molar_mass("unobtainium")
    with pytest.raises(UnitError, match="cannot read elemental formula"):
        formula_mass("c4h8")
    with pytest.raises(UnitError, match="no atomic weight for element 'Xe'"):
        formula_mass("XeF2")


@pytest.mark.parametrize(
    ("value", "dimension", "match"),
    [
        (2.2, "mM", "bare number 2.2 has no unit"),
        ("2.2 mM", "[time]", "expected 1 / \\[time\\]|expected \\[time\\]"),
        (Q_(float("nan"), "mM"), None, "not a finite number"),
        ([1, 2], None, "expected a pint Quantity"),
    ],
)
def test_as_quantity_errors(value, dimension, match):
    with pytest.raises(UnitError, match=match):
        as_quantity(value, dimension, name="km")


def test_wrong_dimension_names_parameter():
    with pytest.raises(UnitError, match=r"dose: .* has dimension"):
        as_quantity("5 mM", "IU/m**2", name="dose")


@given(positive)
def test_round_trip_concentration(x):
    q = Q_(x, "mM")
    assert q.to("µM").to("M").to("mM").magnitude == pytest.approx(x, rel=1e-12)


@given(positive)
def test_round_trip_activity(x):
    q = Q_(x, "IU/mL")
    back = q.to("mM/min").to("U/L").to("IU/mL")
    assert back.magnitude == pytest.approx(x, rel=1e-12)


@given(positive, st.sampled_from(["Asn", "Asp", "Gln", "Glu", "Ser", "Arg", "His", "Leu"]))
def test_round_trip_mass_amount(x, species):
    mass = to_mass_concentration(Q_(x, "µM"), species)
    assert to_amount_concentration(mass, species).magnitude == pytest.approx(x, rel=1e-12)


@given(positive, st.sampled_from(["mM", "µM", "IU/mL", "U/mg", "h", "L/h/m**2", "IU/m**2"]))
def test_round_trip_text(x, unit):
    text = f"{x!r} {unit}"
    parsed = parse_quantity(text)
    assert math.isclose(parsed.quantity.to(unit).magnitude, x, rel_tol=1e-12)
