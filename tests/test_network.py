"""The modelling core: checks, SBML validity and round trip, Antimony, the engine."""

from __future__ import annotations

import math
from dataclasses import replace

import antimony
import libsbml
import numpy as np
import pytest
import roadrunner

from asnflux import DataError, SolverError
from asnflux.models.cell import CellConfig, build_cell_model
from asnflux.network import (
    Compartment,
    Event,
    Model,
    Parameter,
    Reaction,
    RoadRunnerEngine,
    Species,
    check_model,
    from_sbml,
    to_antimony,
    to_sbml,
)


def tiny(**changes) -> Model:
    """Asparaginase in 1 mL: Asn -> Asp + NH4 with MM kinetics (analytic check below)."""
    m = Model(
        "tiny",
        "tiny",
        [Compartment("medium", "medium", 1e-3)],
        [
            Species("Asn", "Asn", "medium", 1.0, "CHEBI:17196", "C4H8N2O3"),
            Species("Asp", "Asp", "medium", 0.0, "CHEBI:17053", "C4H7NO4"),
            Species("NH4", "NH4", "medium", 0.0, "CHEBI:28938", "NH4"),
        ],
        [
            Parameter("V", 2.0, "mM/h", "Vmax", assumption="test value"),
            Parameter("Km", 0.5, "mM", "Km", record="seed.t1.asns_human.km_asp"),
        ],
        [
            Reaction(
                "R",
                "asparaginase",
                {"Asn": 1},
                {"Asp": 1, "NH4": 1},
                "V * Asn / (Km + Asn)",
                "medium",
            )
        ],
    )
    for k, v in changes.items():
        setattr(m, k, v)
    return m


def test_tiny_model_matches_lambert_w_solution():
    # Integrated Michaelis-Menten: Km ln(S0/S) + (S0 - S) = V t.
    sbml = to_sbml(tiny())
    tr = RoadRunnerEngine().simulate(sbml, np.linspace(0, 1, 11), ["Asn", "Asp"])
    s = tr.table["Asn"].to_numpy()
    lhs = 0.5 * np.log(1.0 / s) + (1.0 - s)
    np.testing.assert_allclose(lhs, 2.0 * tr.table["time_h"], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(tr.table["Asn"] + tr.table["Asp"], 1.0, rtol=1e-9)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (
            lambda m: setattr(
                m, "reactions", [replace(m.reactions[0], rate="V * Asn / (Kx + Asn)")]
            ),
            "undefined symbol",
        ),
        (
            lambda m: setattr(m, "reactions", [replace(m.reactions[0], products={"Asp": 1})]),
            r"not balanced \(N -1",
        ),
        (
            lambda m: setattr(m, "reactions", [replace(m.reactions[0], rate="V * Asn")]),
            "expected mM / h",
        ),
        (
            lambda m: setattr(m, "reactions", [replace(m.reactions[0], rate="V + Asn")]),
            "units are inconsistent",
        ),
        (
            lambda m: setattr(m, "species", [replace(m.species[0], initial=-1.0), *m.species[1:]]),
            "must be ≥ 0",
        ),
        (
            lambda m: setattr(m, "parameters", [replace(m.parameters[0], assumption=None)]),
            "no source",
        ),
        (
            lambda m: setattr(
                m, "parameters", [replace(m.parameters[0], value=2e-3, unit="M/h"), m.parameters[1]]
            ),
            "not in consistent units",
        ),
        (
            lambda m: setattr(
                m, "parameters", [*m.parameters, Parameter("V", 1, "mM", "dup", assumption="x")]
            ),
            "used by a parameter and a parameter",
        ),
        (lambda m: setattr(m, "events", [Event("e", 1.0, {"V": "3"})]), "declared constant"),
        (lambda m: setattr(m, "events", [Event("e", 0.0, {"Asn": "3"})]), "after the start"),
        (
            lambda m: setattr(m, "reactions", [replace(m.reactions[0], rate="V * Asn / (Km + ")]),
            "cannot parse",
        ),
    ],
)
def test_checks_catch_bad_models(mutate, match):
    m = tiny()
    mutate(m)
    with pytest.raises(DataError, match=match):
        check_model(m)


def test_boundary_reactions_skip_the_balance_check():
    m = tiny()
    m.reactions = [replace(m.reactions[0], products={"Asp": 1}, boundary=True)]
    check_model(m)


@pytest.fixture(scope="module")
def cell_model():
    return build_cell_model(
        CellConfig(
            cell_types=("all-blast", "msc"), asparaginase="0.1 IU/mL", knockdown={"asns": 0.5}
        )
    )


def test_sbml_is_valid_l3v2_with_annotations(cell_model):
    text = to_sbml(cell_model)
    doc = libsbml.readSBMLFromString(text)
    assert (doc.getLevel(), doc.getVersion()) == (3, 2)
    doc.checkConsistency()
    assert doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) == 0
    m = doc.getModel()
    asn = m.getSpecies("Asn_med")
    assert asn.getSBOTermID() == "SBO:0000247"
    assert "identifiers.org/CHEBI:17196" in asn.getCVTerm(0).getResourceURI(0)
    assert m.getParameter("V_ASNS_all_blast").getCVTerm(0).getResourceURI(0).endswith("P08243")
    assert m.getReaction("uptake_Asn_all_blast").getSBOTermID() == "SBO:0000185"
    assert m.getUnitDefinition("hour").getUnit(0).getMultiplier() == pytest.approx(3600)


def test_sbml_round_trip(cell_model):
    text = to_sbml(cell_model)
    back = from_sbml(text)
    assert to_sbml(back) == text
    assert [p.id for p in back.parameters] == [p.id for p in cell_model.parameters]
    for a, b in zip(cell_model.parameters, back.parameters, strict=True):
        assert math.isclose(a.value, b.value, rel_tol=1e-14, abs_tol=0)
        assert (a.record, a.assumption, a.unit, a.constant) == (
            b.record,
            b.assumption,
            b.unit,
            b.constant,
        )
    assert {r.id: r.boundary for r in back.reactions} == {
        r.id: r.boundary for r in cell_model.reactions
    }


def test_antimony_text_loads_and_simulates_the_same(cell_model):
    text = to_antimony(cell_model)
    antimony.clearPreviousLoads()
    assert antimony.loadAntimonyString(text) >= 0, antimony.getLastError()
    sbml2 = antimony.getSBMLString("asnflux_cell")
    cols = ["Asn_med", "Asn_cyt_all_blast", "cells_msc"]
    t = np.linspace(0, 48, 49)
    a = RoadRunnerEngine().simulate(to_sbml(cell_model), t, cols).table
    b = RoadRunnerEngine().simulate(sbml2, t, cols).table
    np.testing.assert_allclose(a[cols], b[cols], rtol=1e-6, atol=1e-12)


def test_engine_failure_is_a_solver_error():
    # dA/dt = V A²/Km²: finite-time blow-up at t = Km²/(V A0) = 2.5e-4 h.
    m = tiny()
    m.parameters = [replace(m.parameters[0], value=1e3), m.parameters[1]]
    m.reactions = [
        Reaction(
            "R",
            "autocatalysis",
            {},
            {"Asn": 1},
            "V * Asn * Asn / (Km * Km)",
            "medium",
            boundary=True,
        )
    ]
    with pytest.raises(SolverError, match="integrator"):
        RoadRunnerEngine().simulate(to_sbml(m), [0, 1], ["Asn"])


def test_engine_bad_inputs():
    sbml = to_sbml(tiny())
    eng = RoadRunnerEngine()
    with pytest.raises(DataError, match="increasing"):
        eng.simulate(sbml, [1, 0], ["Asn"])
    with pytest.raises(DataError, match="no parameter or species 'Vmax'"):
        eng.simulate(sbml, [0, 1], ["Asn"], overrides={"Vmax": 1.0})
    with pytest.raises(DataError, match="not finite"):
        eng.simulate(sbml, [0, 1], ["Asn"], overrides={"V": float("nan")})
    with pytest.raises(DataError, match="no species, parameter or reaction 'Asx'"):
        eng.simulate(sbml, [0, 1], ["Asx"])
    out = eng.simulate(sbml, [0, 1], ["Asn"], overrides={"V": 0.0})
    assert out.final("Asn") == pytest.approx(1.0)


def test_steady_state_is_checked():
    m = tiny()
    ss = RoadRunnerEngine().steady_state(to_sbml(m), ["Asn", "Asp"])
    assert ss["Asn"] == pytest.approx(0.0, abs=1e-6)
    assert ss["Asp"] == pytest.approx(1.0, rel=1e-6)


def test_roadrunner_reads_exported_file_directly(cell_model, tmp_path):
    path = tmp_path / "model.xml"
    path.write_text(to_sbml(cell_model), encoding="utf-8")
    rr = roadrunner.RoadRunner(str(path))
    assert "Asn_cyt_all_blast" in rr.model.getFloatingSpeciesIds()


def test_overrides_re_evaluate_initial_assignments_chained_and_on_species():
    # SBML initial assignments that read an overridden value are evaluated again on the
    # engine's override path: through a chain (b = a + 1, a = 2 k), for a species target
    # (T = 2 k), and reading a species as its concentration (x = S, S in a 2 L compartment).
    antimony.loadAntimonyString(
        "model ia_check\n compartment C = 2\n species S in C\n S = 3\n k = 1\n a = 2*k\n"
        " b = a + 1\n species T in C\n T = 2*k\n x = S\n x' = 0\n a' = 0\n b' = 0\n"
        " T' = 0\nend"
    )
    sbml = antimony.getSBMLString("ia_check")
    engine = RoadRunnerEngine()
    sel = ["a", "b", "T", "x", "S"]

    def start(overrides):
        return engine.simulate(sbml, [0, 1], sel, overrides).table.iloc[0]

    row = start({"k": 5.0})
    assert (row["a"], row["b"], row["T"]) == (10.0, 11.0, 10.0)
    assert start({"S": 10.0})["x"] == 10.0  # the concentration, not the amount (20)
    assert start({"k": 5.0, "a": 1.0})["b"] == 2.0  # an overridden target wins
    row = start({})  # the cached model is back at its own values
    assert (row["a"], row["b"], row["T"], row["x"]) == (2.0, 3.0, 2.0, 3.0)
