"""Glutamate dehydrogenase and aspartate aminotransferase run both ways (issue #12).

Both use the common modular rate law (Liebermeister 2010) with an equilibrium constant from
eQuilibrator (Beber 2022; GDH's at the matrix NAD+/NADH of Williamson 1967), so the net
direction of each follows its mass-action ratio. Each test has its ablation: the same
reaction made irreversible (an equilibrium constant of 1e9) no longer runs backwards.
"""

from __future__ import annotations

import numpy as np
import pytest
import roadrunner

from asnflux.models.cell import CellConfig, build_cell_model, simulate_cell
from asnflux.models.scenarios import SCENARIOS, run_scenario
from asnflux.network import to_sbml

IRREVERSIBLE = 1e9


def _rates(config: CellConfig, hours: float, reaction: str, set_values=None) -> np.ndarray:
    """Net rate (mM/h of cytosol) of ``reaction`` at each whole hour up to ``hours``."""
    model = build_cell_model(config)
    rr = roadrunner.RoadRunner(to_sbml(model))
    for key, value in (set_values or {}).items():
        rr.setValue(key, value)
    compartment = model.reactions[[r.id for r in model.reactions].index(reaction)].compartment
    out = []
    for t in range(int(hours)):
        if t:
            rr.simulate(t - 1, t, 2)
        out.append(rr.getValue(reaction) / rr.getValue(compartment))
    return np.asarray(out)


def test_gdh_deaminates_in_fresh_medium_and_aminates_with_ammonia():
    # 143B in fresh DMEM (intracellular NH4+ ~0.03 mM): oxidative deamination, net
    # Glu -> 2-OG, for the first half day (as the culture's ammonia accumulates GDH turns
    # towards amination by about 20 h).
    fresh = _rates(CellConfig(cell_types=("143b",), medium="dmem"), 12, "GDH_c143b")
    assert (fresh > 0).all()
    # Under E. coli asparaginase the medium fills with ammonia (about 2 mM from Asn and Gln
    # hydrolysis): GDH turns to reductive amination (ammonia recycling, Spinelli 2017).
    cfg, _ = SCENARIOS["glutaminase-requirement"].runs["ASNS-high + wild type"]
    loaded = _rates(cfg, 48, "GDH_solid_high")
    assert loaded[24:].max() < 0


def test_gdh_ablation_irreversible_never_aminates():
    cfg, _ = SCENARIOS["glutaminase-requirement"].runs["ASNS-high + wild type"]
    loaded = _rates(cfg, 48, "GDH_solid_high", {"Keq_GDH": IRREVERSIBLE})
    assert loaded.min() > 0


@pytest.mark.parametrize("asp_mM", [0.43, 60.0])
def test_aminotransferase_direction_follows_the_mass_action_ratio(asp_mM):
    # At the measured 143B Asp (0.43 mM) the enzyme makes Asp; with Asp far above its
    # equilibrium share (60 mM against Keq 3.3 x Glu 8.0 mM (the DMEM steady start) x
    # OAA/2-OG 1 = 27 mM) it makes Glu from Asp nitrogen instead.
    cfg = CellConfig(cell_types=("143b",), medium="dmem", overrides={"Asp_cyt_c143b": asp_mM})
    first = _rates(cfg, 1, "GOT_c143b")[0]
    assert (first > 0) == (asp_mM < 27.0)


def test_aminotransferase_ablation_irreversible_never_makes_glu():
    cfg = CellConfig(cell_types=("143b",), medium="dmem", overrides={"Asp_cyt_c143b": 60.0})
    assert _rates(cfg, 1, "GOT_c143b", {"Keq_GOT": IRREVERSIBLE})[0] > 0


def test_reversible_gdh_would_let_asns_high_cells_escape_without_its_calibrated_capacity():
    # V_GDH is calibrated against Chan 2014 (KB record gdh.vmax says so): a tenfold capacity
    # lets ASNS-high cells rebuild Gln from asparaginase's ammonia and escape the wild-type
    # enzyme, which is what the check forbids. This shows the check depends on the value.
    statement = (
        "wild-type enzyme (with glutaminase) stops ASNS-high cells: no net growth and "
        "< 70 % viable at 96 h"
    )
    assert dict(run_scenario("glutaminase-requirement").checks)[statement]
    ablated = run_scenario("glutaminase-requirement", ablate={"V_GDH": 1.0})
    assert not dict(ablated.checks)[statement]


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue #12: 143B Asp at 48 h is 0.72 mM against 0.43 measured (krdav); with the "
    "buffered pools held at 1 mM the assumed synthesis capacity (5 mM/h) overshoots - the "
    "143B calibration is open",
)
def test_143b_aspartate_matches_its_measurement():
    # krdav 143B intracellular Asp 0.43 mM in DMEM (the PEtab measurement table).
    cfg = CellConfig(cell_types=("143b",), medium="dmem")
    asp = simulate_cell(cfg, 48.0, points_per_hour=1).final("Asp_cyt_c143b")
    assert asp == pytest.approx(0.43, rel=0.25)
