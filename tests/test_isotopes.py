"""Isotope facts: computed masses against reference values, exchangeable H, crosstalk."""

from __future__ import annotations

import numpy as np
import pytest
from molmass import Formula

from asnflux import DataError
from asnflux.assays import isotope_report
from asnflux.assays._isotopes import (
    ANALYTES,
    exchangeable_hydrogens,
    labelled_standard,
    nominal_distribution,
    smiles_composition,
)
from asnflux.units import _FORMULA, formula_mass

# PubChem CID 6267 (L-asparagine): monoisotopic mass 132.05349212 Da. A proton is
# 1.007276467 Da (CODATA 2018), so [M+H]+ = 133.060769.
ASN_MONOISOTOPIC = 132.05349212
PROTON = 1.007276467


def test_asn_protonated_mass_matches_pubchem():
    r = isotope_report("Asn", "13C4,15N2")
    assert r.mz_analyte == pytest.approx(ASN_MONOISOTOPIC + PROTON, abs=2e-6)
    assert r.formula == "C4H8N2O3"
    assert r.chebi == "CHEBI:17196"


def test_labelled_standards_as_sold_and_observed():
    # 13C (13.00335484) - 12C = 1.00335484 Da; 15N - 14N = 0.99703489 Da; D - H =
    # 1.00627675 Da (AME2020). Shifts in [M+H]+ follow from these differences.
    c13, n15, d = 1.00335484, 0.99703489, 1.00627675
    base = ASN_MONOISOTOPIC + PROTON
    heavy = labelled_standard("Asn", "13C4,15N2")
    assert heavy.mz_observed == pytest.approx(base + 4 * c13 + 2 * n15, abs=2e-6)
    assert heavy.shift_observed == 6
    deut = labelled_standard("Asn", "15N2,d8")
    assert deut.mz_sold == pytest.approx(base + 2 * n15 + 8 * d, abs=2e-6)
    # 5 of the 8 D sit on N and O and exchange with water/methanol: observed as 15N2,d3.
    assert deut.deuterium_observed == 3
    assert deut.formula_observed == "C4H5[2H]3[15N]2O3"
    assert deut.mz_observed == pytest.approx(base + 2 * n15 + 3 * d, abs=2e-6)
    assert deut.shift_observed == 5


@pytest.mark.parametrize(
    ("name", "exchangeable", "carbon_bound"),
    [("asparagine", 5, 3), ("aspartate", 4, 3), ("glutamine", 5, 5), ("glutamate", 4, 5)],
)
def test_exchangeable_hydrogens_counted_from_structure(name, exchangeable, carbon_bound):
    assert exchangeable_hydrogens(ANALYTES[name][0]) == (exchangeable, carbon_bound)


@pytest.mark.parametrize("name", sorted(ANALYTES))
def test_smiles_agree_with_chebi_formulas(name):
    counts = smiles_composition(ANALYTES[name][0])
    key = {"aspartate": "L-aspartate", "glutamate": "L-glutamate"}.get(name, f"L-{name}")
    assert formula_mass("".join(f"{k}{v}" for k, v in counts.items())).magnitude == (
        pytest.approx(formula_mass(_FORMULA[key]).magnitude)
    )


def test_natural_distribution_matches_molmass_spectrum():
    # Independent computation: molmass combines isotopes by its own algorithm.
    ours = nominal_distribution({"C": 4, "H": 8, "N": 2, "O": 3})
    spectrum = Formula("C4H8N2O3").spectrum()
    theirs = np.array([spectrum[132 + k].fraction for k in range(5)])
    np.testing.assert_allclose(ours[:5], theirs, rtol=1e-9)
    assert ours.sum() == pytest.approx(1.0)


def test_label_purity_sets_the_unlabelled_fraction():
    # With enrichment p per labelled atom, the all-light M+0 fraction of a 6-label
    # standard is (1-p)^6 times the natural M+0 of the unlabelled atoms (here ~1).
    counts = {"C": 4, "H": 8, "N": 2, "O": 3}
    for p in (0.9, 0.99):
        dist = nominal_distribution(counts, {"C": 4, "N": 2}, p)
        rest = nominal_distribution({"H": 8, "O": 3})[0]
        assert dist[0] == pytest.approx((1 - p) ** 6 * rest, rel=1e-9)
    lo = isotope_report("Asn", "13C4,15N2", purity=0.9).is_into_analyte
    hi = isotope_report("Asn", "13C4,15N2", purity=0.99).is_into_analyte
    assert lo > hi * 1e5


def test_crosstalk_analyte_into_is_channel_is_natural_m_plus_n():
    r = isotope_report("Asn", "15N2,d8")
    nat = nominal_distribution({"C": 4, "H": 8, "N": 2, "O": 3})
    assert r.analyte_into_is == pytest.approx(nat[5] / nat[0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"analyte": "Asn", "label": "13C5"}, "has 4 C atoms, cannot carry 5"),
        ({"analyte": "Asn", "label": "14C2"}, "cannot read '14C2'"),
        ({"analyte": "Asn", "label": ""}, "no labelled atoms"),
        ({"analyte": "Leu", "label": "13C6"}, "unknown analyte 'Leu'"),
        ({"analyte": "Asn", "label": "13C4", "purity": 1.5}, r"purity must be in \(0, 1\]"),
    ],
)
def test_bad_isotope_input(kwargs, match):
    with pytest.raises(DataError, match=match):
        isotope_report(**kwargs)


@pytest.mark.parametrize(
    ("smiles", "match"),
    [
        ("c1ccccc1", "aromatic"),
        ("NC(CC(N)=O", "unclosed branch"),
        ("NC)C", "unbalanced"),
        ("[NH3+]CC", "not supported"),
        ("C1CC", "unclosed"),
    ],
)
def test_bad_smiles(smiles, match):
    with pytest.raises(DataError, match=match):
        smiles_composition(smiles)


def test_ring_closure_counts():
    # Cyclohexane: C6H12, no exchangeable H; pyrrolidine: one NH.
    assert smiles_composition("C1CCCCC1") == {"C": 6, "H": 12}
    assert exchangeable_hydrogens("C1CCNC1") == (1, 8)
