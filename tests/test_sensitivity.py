"""Global sensitivity: Sobol' indices against the Ishigami function's analytic values, and
the cell model's global analysis (with the model defect it found)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from asnflux import DataError, SolverError
from asnflux.analysis import Factor, cell_factors, cell_sensitivity, morris, sobol
from asnflux.knowledge import load_knowledge_base

PI = math.pi
BOUNDS = [Factor(f"x{i}", -PI, PI, "linear") for i in (1, 2, 3)]


def ishigami(a: float, b: float):
    def f(x):
        return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])

    return f


def analytic(a: float, b: float) -> tuple[list[float], list[float]]:
    # Ishigami & Homma 1990; the partial variances as in Saltelli et al., Global
    # Sensitivity Analysis: The Primer (2008), section 4.7.
    v1 = 0.5 * (1 + b * PI**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * PI**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return [v1 / v, v2 / v, 0.0], [(v1 + v13) / v, v2 / v, v13 / v]


def test_sobol_reproduces_the_ishigami_indices():
    s1, st = analytic(7, 0.1)
    assert s1 == pytest.approx([0.3139, 0.4424, 0.0], abs=1e-4)  # the printed values
    r = sobol(ishigami(7, 0.1), BOUNDS, 4096, seed=3)
    assert r.table["S1"].to_numpy() == pytest.approx(s1, abs=0.03)
    assert r.table["ST"].to_numpy() == pytest.approx(st, abs=0.03)
    assert r.evaluations == 4096 * 5


def test_ablation_without_the_x2_term_its_index_vanishes():
    r = sobol(ishigami(0, 0.1), BOUNDS, 4096, seed=3)
    assert r.table["ST"].iloc[1] == pytest.approx(0, abs=0.01)
    assert r.table["S1"].iloc[1] != pytest.approx(analytic(7, 0.1)[0][1], abs=0.03)


def test_morris_ranks_a_linear_function_by_its_slopes():
    factors = [Factor(f"x{i}", 0, 1, "linear") for i in range(3)]
    r = morris(lambda x: 5 * x[:, 0] + 1 * x[:, 1] + 0 * x[:, 2], factors, 10, seed=1)
    assert r.table["mu_star"].to_numpy() == pytest.approx([5, 1, 0], abs=1e-9)
    assert r.ranking() == ["x0", "x1", "x2"]


def test_failed_runs_stop_the_analysis_and_are_named():
    factors = [Factor("k", 0.1, 10), Factor("j", 0, 1, "linear")]
    with pytest.raises(SolverError, match=r"of 32 parameter sets gave no finite output"):
        sobol(lambda x: np.where(x[:, 0] > 5, np.nan, x[:, 0]), factors, 8, seed=1)
    with pytest.raises(DataError, match="power of 2"):
        sobol(lambda x: x[:, 0], factors, 10, seed=1)


def test_cell_factors_keep_fractions_inside_0_1():
    factors = {f.name: f for f in cell_factors("blast_viable_96h_asnase")}
    basal = factors["eIF2P_basal"]
    assert basal.scale == "logit"
    assert 0 < basal.low < 0.05 < basal.high < 1
    kd = load_knowledge_base().value("death.rate.max", "1/h")
    assert factors["kd_max"].low == pytest.approx(kd / 2)  # the KB value / 2 ... x 2
    assert factors["kd_max"].high == pytest.approx(kd * 2)


def test_cell_morris_screen_runs_and_ranks_the_death_rate_first():
    r = cell_sensitivity(
        "blast_viable_96h_asnase",
        "morris",
        4,
        1,
        factors=["kd_max", "tau_PERK", "k_NIT2"],
        workers=1,
    )
    assert r.ranking()[0] == "kd_max"
    assert r.evaluations == 16


def test_cell_design_on_the_compiled_backend_equals_libroadrunner():
    """Every assumed constant varied at once, four rows of a design: the compiled ensemble's
    output is libroadrunner's on the same SBML with the same overrides (ablation: the rows
    differ from each other by far more than the agreement, so the comparison is not
    vacuous)."""
    from asnflux.analysis._cell import CELL_OUTPUTS, _evaluator, _model
    from asnflux.network import RoadRunnerEngine, to_sbml

    output = "asn_cyt_72h_rpmi"
    factors = cell_factors(output)
    rng = np.random.default_rng(3)
    u = rng.uniform(size=(4, len(factors)))
    rows = np.column_stack(
        [f._values(lo + u[:, j] * (hi - lo)) for j, f in enumerate(factors)
         for lo, hi in [f._bounds()]]
    )  # fmt: skip
    got = _evaluator(output, factors, 2, None)(rows)
    _, hours, column = CELL_OUTPUTS[output]
    sbml, engine = to_sbml(_model(output)), RoadRunnerEngine()
    ref = [
        engine.simulate(sbml, np.linspace(0.0, hours, 5), [column],
                        dict(zip([f.name for f in factors], map(float, row), strict=True)))
        .final(column)
        for row in rows
    ]  # fmt: skip
    np.testing.assert_allclose(got, ref, rtol=1e-5)
    assert np.ptp(got) > 0.05 * np.mean(got)


# --- the patient model ------------------------------------------------------------------
def test_patient_design_members_equal_single_patient_runs():
    # the vectorised path (PD constants as arrays over a chunk) against one run per member
    import dataclasses

    from asnflux.analysis._patient import _evaluator, patient_factors
    from asnflux.therapy import (
        PDParams,
        Population,
        regimen_from_options,
        simulate,
        weight_from_bsa,
    )

    factors = patient_factors("peg_days_csf_depleted", ["z_CL", "k_csf", "k_marrow"])
    rows = np.array([[0.0, 0.2, 2.0], [1.5, 0.1, 1.0], [-1.0, 0.4, 4.0]])
    got = _evaluator("peg_days_csf_depleted", factors, None)(rows)
    regimen = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0")
    for row, value in zip(rows, got, strict=True):
        pop = Population(
            bsa=np.ones(1), weight=weight_from_bsa(np.ones(1)), z_cl=row[:1], z_v=np.zeros(1)
        )
        pd = dataclasses.replace(PDParams.from_kb(), k_csf=float(row[1]), k_marrow=float(row[2]))
        one = simulate(pop, regimen, 42.0, pd=pd, keep_traces=False)
        assert value == pytest.approx(one.endpoints["days_csf_asn_depleted"][0], abs=1e-12)
    assert len(set(np.round(got, 6))) == 3  # the inputs matter


def test_patient_sobol_ranks_the_pk_random_effect_first_and_an_unread_input_last(monkeypatch):
    from asnflux import therapy
    from asnflux.analysis import patient_sensitivity

    # Kloos 2021 has one random effect shared by CL and V (V = exp(1.26 eta_CL)): it is
    # z_V's, and z_CL is inert; plasma Gln turnover does not enter plasma Asn.
    names = ["z_CL", "z_V", "k_gln"]
    r = patient_sensitivity("peg_days_asn_below_1uM", "sobol", 32, 1, factors=names)
    st = dict(zip(r.table["factor"], r.table["ST"], strict=True))
    assert r.ranking()[0] == "z_V"
    assert st["z_V"] > 0.5
    # inert up to the solver's noise (Gln shares the adaptive step sequence with Asn)
    assert abs(st["z_CL"]) < 1e-6
    assert abs(st["k_gln"]) < 1e-6
    # ablation: a PK that ignores the shared random effect leaves the output no variance
    real = therapy.Population

    def no_iiv(**kw):
        return real(**{**kw, "z_v": np.zeros_like(kw["z_v"])})

    monkeypatch.setattr(therapy, "Population", no_iiv)
    with pytest.raises(DataError, match="does not vary over the design"):
        patient_sensitivity("peg_days_asn_below_1uM", "sobol", 32, 1, factors=names)


def test_analyze_sensitivity_cli(cli, tmp_path):
    r = cli("analyze", "sensitivity", "--model", "patient")
    assert r.code == 0
    assert "peg_days_asn_below_1uM" in r.out
    fig = tmp_path / "s.svg"
    r = cli(
        "analyze", "sensitivity", "--model", "patient", "--output", "peg_blast_log_kill",
        "--method", "morris", "--n", "4", "--factor", "kd_max", "--factor", "k_csf",
        "--plot", str(fig), "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    payload = __import__("json").loads(r.out)
    assert payload["evaluations"] == 12
    assert {row["factor"] for row in payload["indices"]} == {"kd_max", "k_csf"}
    assert "<svg" in fig.read_text(encoding="utf-8")
    r = cli("analyze", "sensitivity", "--model", "liver", "--output", "x")
    assert r.code == 1
    assert r.err.strip() == "error: --model 'liver': choose cell or patient"
    r = cli("analyze", "sensitivity", "--model", "patient", "--output", "x", "--workers", "2")
    assert r.code == 1
