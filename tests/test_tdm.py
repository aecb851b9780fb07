"""TDM (therapy defect 7): the population model as a unit, a sampled posterior without a grid,
rules for advice, flags and forecasts that agree, many patients; each with its ablation."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from asnflux._errors import DataError
from asnflux.knowledge import load_knowledge_base
from asnflux.models._formulations import FORMULATIONS, weight_from_bsa
from asnflux.therapy import Population, formulation, regimen_from_options, simulate, tdm
from asnflux.therapy import _tdm as tdm_module
from asnflux.therapy._tdm import DosingRules, _fit_and_advise, tdm_dataset
from asnflux.therapy._tdm_model import Covariates, Predictor
from asnflux.therapy._tdm_study import DESIGNS, _fingerprint, ablate_iov, run_tdm_study

ROOT = Path(__file__).resolve().parents[1]
PEG = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14")
NOTICE = "For research use; not a medical device."


def _levels(days, values):
    return pd.DataFrame({"day": days, "saa_IU_per_mL": values})


@pytest.mark.parametrize("name", [*FORMULATIONS, "peg/wurthwein2021-pkpdsim"])
def test_the_predictor_is_the_engine(name):
    """TDM's exact PK solution is the patient network model's PK: the same activity as the
    simulator (the compiled model, rtol 1e-6) at the same times for random patients."""
    f = formulation(name)
    dose = "25 mg/m**2" if f.dose_unit.startswith("mg") else "5000 IU/m**2"
    reg = regimen_from_options(name, dose, f.routes[0], every="2d", doses=3)
    rng = np.random.default_rng(3)
    n = 6
    z = rng.standard_normal((n, 2))
    bsa = np.full(n, 1.2)
    pop = Population(bsa, weight_from_bsa(bsa), z[:, 0], z[:, 1])
    times = np.array([1.0, 20.0, 47.9, 50.0, 100.0, 200.0])
    engine = simulate(pop, reg, 10, sample_times_h=times, keep_traces=False).samples
    who = Covariates(1.2, float(weight_from_bsa(np.array([1.2]))[0]))
    mine = Predictor(f, who, reg.doses, times)(z[:, 0], z[:, 1], np.zeros((n, 3)))
    assert np.allclose(mine, engine, rtol=2e-5, atol=1e-9)
    # with between-occasion effects (drawn for every model; used where it has IOV)
    occ = rng.standard_normal((n, 3))
    pop.z_occ = occ
    engine = simulate(pop, reg, 10, sample_times_h=times, keep_traces=False).samples
    mine = Predictor(f, who, reg.doses, times)(z[:, 0], z[:, 1], occ)
    assert np.allclose(mine, engine, rtol=2e-5, atol=1e-9)


def test_the_predictor_is_the_engine_in_a_phase_with_an_infection():
    """Kloos 2021's phase and infection covariates reach TDM's exact PK as they reach the
    simulator (ablation: the predictor without them is far off)."""
    f = formulation("peg")
    reg = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14")
    pop = Population(np.ones(1), weight_from_bsa(np.ones(1)), np.zeros(1), np.zeros(1),
                     phase="mrg-maintenance", infection=True)  # fmt: skip
    times = np.array([24.0, 200.0, 335.9, 400.0, 600.0])
    engine = simulate(pop, reg, 30, sample_times_h=times, keep_traces=False).samples
    w = float(weight_from_bsa(np.ones(1))[0])
    who = Covariates(1.0, w, phase="mrg-maintenance", infection=True)
    mine = Predictor(f, who, reg.doses, times)(np.zeros(1), np.zeros(1), np.zeros((1, 2)))
    assert np.allclose(mine, engine, rtol=2e-5, atol=1e-9)
    plain = Predictor(f, Covariates(1.0, w), reg.doses, times)(
        np.zeros(1), np.zeros(1), np.zeros((1, 2))
    )
    assert not np.allclose(plain, engine, rtol=0.05)


def test_peg_is_kloos_2021_as_one_unit():
    """Variability, between-occasion variability and residual error of the default PEG model
    come from Kloos 2021 itself (they were generic assumptions)."""
    kb = load_knowledge_base()
    f = formulation("peg")
    for key in ("iiv_cl", "vd_eta_factor", "iov_cl", "ruv_prop", "ruv_add", "cl", "vd"):
        assert kb.get(f"pk.peg.{key}.kloos").source == "kloos2021"
        assert f"pk.peg.{key}.kloos" in f.sources
    assert f.iiv_cl == pytest.approx(0.236)
    assert f.iiv_v == pytest.approx(0.236 * 1.26)
    assert f.cl_v_corr == 1.0
    assert (f.iov_cl, f.ruv_prop, f.ruv_add) == pytest.approx((0.197, 0.17, 0.0202))
    res = tdm(_levels([7, 14], [1.1, 0.55]), PEG, bsa=1.0)
    assert res.residual_error.proportional == pytest.approx(0.17)
    assert "kloos2021" in res.residual_error.source
    erw = tdm(
        _levels([1, 3], [0.4, 0.3]),
        regimen_from_options("erwinia", "25000 IU/m**2", "im", every="2d", doses=3),
        bsa=1.0,
    )
    assert erw.residual_error.source.startswith("assumption")


def test_the_residual_error_sets_the_posterior_width():
    """Ablation of the model's residual error: a 3x larger one widens the credible interval."""
    f = formulation("erwinia")
    reg = regimen_from_options("erwinia", "25000 IU/m**2", "im", every="2d", doses=4)
    lv = _levels([1, 3, 5], [0.5, 0.35, 0.4])
    t, y = lv["day"].to_numpy(float), lv["saa_IU_per_mL"].to_numpy(float)
    who = Covariates(1.0, float(weight_from_bsa(np.array([1.0]))[0]))
    rules = DosingRules().resolved(f)
    args = (who, list(reg.doses[:3]), reg.doses[3], 8 * 24.0, t, y, np.full(3, np.nan), rules)
    sharp = _fit_and_advise(dataclasses.replace(f, ruv_prop=0.1, ruv_add=0.002), *args, None, 0)
    loose = _fit_and_advise(dataclasses.replace(f, ruv_prop=0.3, ruv_add=0.006), *args, None, 0)
    width = lambda r: r.ci90_z_cl[1] - r.ci90_z_cl[0]  # noqa: E731
    assert width(loose) > 1.5 * width(sharp)


def test_the_map_lies_inside_its_credible_interval_without_a_grid():
    """The old ±4 SD grid put the Würthwein MAP (+1.80) outside its own 90 % interval; a
    patient 6 SD out is found beyond where the grid ended."""
    reg = regimen_from_options("peg/wurthwein2021-pkpdsim", "2500 IU/m**2", "iv", at="0,14")
    res = tdm(_levels([7, 14], [0.2, 0.02]), reg, bsa=1.0)
    lo, hi = res.ci90_z_cl
    assert lo <= res.map_z_cl <= hi
    erw = regimen_from_options("erwinia", "25000 IU/m**2", "im", every="2d", doses=5)
    f = formulation("erwinia")
    who = Covariates(1.0, float(weight_from_bsa(np.array([1.0]))[0]))
    times = np.array([24.0, 48.0, 72.0, 96.0])
    truth = Predictor(f, who, erw.doses[:4], times)(np.array([-6.0]), np.zeros(1), np.zeros((1, 4)))
    res = tdm(_levels(times / 24, truth[0]), erw, bsa=1.0)
    assert res.map_z_cl < -4.0  # beyond the old grid's end
    assert res.effective_sample_size > 100


def test_between_occasion_variability_widens_the_forecast():
    """Ablation: the same fit without the model's IOV gives a narrower next-trough band."""
    f = formulation("erwinia")
    assert f.iov_cl == pytest.approx(0.13)
    reg = regimen_from_options("erwinia", "25000 IU/m**2", "im", every="2d", doses=4)
    t, y = np.array([1.0, 3.0, 5.0]), np.array([0.5, 0.35, 0.4])
    who = Covariates(1.0, float(weight_from_bsa(np.array([1.0]))[0]))
    rules = DosingRules().resolved(f)
    args = (who, list(reg.doses[:3]), reg.doses[3], 8 * 24.0, t, y, np.full(3, np.nan), rules)
    with_iov = _fit_and_advise(f, *args, None, 0)
    without = _fit_and_advise(ablate_iov(f), *args, None, 0)
    band = lambda r: math.log(r.predicted_trough_p95 / r.predicted_trough_p5)  # noqa: E731
    assert band(with_iov) > 1.1 * band(without)
    assert len(with_iov.occasion_cl_factors) == 3
    assert without.occasion_cl_factors == []


CASES = [
    ([7, 14], [1.1, 0.55], True),  # high levels: a cut
    ([7, 14], [0.15, 0.02], False),  # fast clearance: more than the rules allow
    ([7, 14], [0.6, 0.2], True),
    ([3, 10], [1.5, 0.9], True),
]


@pytest.mark.parametrize(("days", "values", "advised"), CASES)
def test_advice_follows_the_rules_and_comes_after_the_last_level(days, values, advised):
    res = tdm(_levels(days, values), PEG, bsa=1.0)
    assert res.next_dose_day > max(days)
    assert res.to_dict()["notice"] == NOTICE
    assert (res.recommended_dose is not None) == advised, res.recommendation
    if res.recommended_dose is not None:
        assert 2500 / 2 <= res.recommended_dose <= 2 * 2500
        assert res.recommended_dose % 50 == 0
        assert res.recommended_dose > 0


def test_dose_limits_are_what_stops_deep_cuts():
    """Ablation: with the rules' factor raised to 8 the same levels give a cut below half the
    dose, so the default limits are what keeps the old '7-fold cut' away."""
    lv = _levels([7, 14], [1.1, 0.55])
    default = tdm(lv, PEG, bsa=1.0)
    wide = tdm(lv, PEG, bsa=1.0, rules=DosingRules(max_factor=8.0))
    assert default.recommended_dose == 1250
    assert wide.recommended_dose is not None
    assert wide.recommended_dose < 1250
    floor = tdm(lv, PEG, bsa=1.0, rules=DosingRules(min_dose=2000, step=100))
    assert floor.recommended_dose == 2000


def test_a_target_range_is_reported_and_checked():
    res = tdm(_levels([7, 14], [0.6, 0.2]), PEG, bsa=1.0, rules=DosingRules(target_high=0.4))
    assert res.probability_in_range_advised is not None
    assert 0 <= res.probability_in_range_advised <= 1
    assert "P(trough in 0.1-0.4 IU/mL)" in res.recommendation
    with pytest.raises(DataError, match=r"target high 0\.05 IU/mL must be above"):
        tdm(_levels([7], [0.5]), PEG, bsa=1.0, rules=DosingRules(target_high=0.05))
    with pytest.raises(DataError, match="dose step 7000 IU/m\\*\\*2 leaves no dose"):
        tdm(_levels([7], [0.5]), PEG, bsa=1.0, rules=DosingRules(step=7000))


def test_a_level_at_a_dose_time_is_a_pre_dose_trough():
    reg = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14,28")
    res = tdm(_levels([7, 14], [1.1, 0.6]), reg, bsa=1.0)
    assert res.next_dose_day == 28  # the day-14 dose is given after its trough


def test_the_forecast_agrees_with_the_inactivation_flag(monkeypatch):
    """BLQ levels after PEG: inactivation suspected and the forecast, refitted with the
    inactivated clearance, is below target. Ablation: without the plausibility check (tail
    probability 0) the normal fit forecasts an adequate trough for the same levels."""
    lv = _levels([7, 10], ["<0.02", "<0.02"])
    res = tdm(lv, PEG, bsa=1.0)
    assert res.inactivation_suspected
    assert res.recommended_dose is None
    assert "switch formulation" in res.recommendation
    assert res.predicted_trough_p50 < 0.1
    assert res.probability_trough_at_target < 0.05
    assert res.forecast["p50"].iloc[-1] < 0.1
    monkeypatch.setattr(tdm_module, "_TAIL", 0.0)
    blind = tdm(lv, PEG, bsa=1.0)
    assert not blind.inactivation_suspected
    assert blind.predicted_trough_p50 > 0.1


DATASET = """ID,DATE,TIME,AMT,DV,EVID,BSA,SEX,AGE
A,2026-01-05,09:00,2500,,1,1.1,F,6
A,2026-01-12,09:30,,0.9,0,1.1,F,6
A,2026-01-19,09:00,2500,,1,,,
A,2026-01-26,10:00,,1.2,0,,,
B,2026-02-01,08:00,1500,,1,0.8,M,4
B,2026-02-08,08:00,,0.5,0,0.8,M,4
"""


def _table(text):
    rows = [line.split(",") for line in text.strip().splitlines()]
    df = pd.DataFrame(rows[1:], columns=rows[0]).replace("", None)
    df.attrs["path"] = "tdm.csv"
    return df


def test_a_dataset_of_many_patients_with_dates_and_covariates():
    out = tdm_dataset(_table(DATASET), "peg", route="iv")
    a, b = out["A"], out["B"]
    assert not isinstance(a, str)
    assert a.next_dose_day == pytest.approx(28.0)  # inferred: every 14 d from 09:00
    assert isinstance(b, str)
    assert b.startswith("ID B: the regimen must include the next dose")
    with pytest.raises(DataError, match="row 3, column TIME: '9h30' is not a clock time"):
        tdm_dataset(_table(DATASET.replace("09:30", "9h30")), "peg", route="iv")
    with pytest.raises(DataError, match="column SEX: '1'; write F or M"):
        tdm_dataset(_table(DATASET.replace(",M,4\nB,2026-02-08", ",1,4\nB,2026-02-08")), "peg")
    with pytest.raises(DataError, match="BSA changes within ID A"):
        tdm_dataset(_table(DATASET.replace(",,,\nA,2026-01-26", ",1.3,,\nA,2026-01-26")), "peg")


def test_cli_dataset_reports_each_patient(cli, tmp_path):
    path = tmp_path / "tdm.csv"
    path.write_text(DATASET, encoding="utf-8")
    r = cli("therapy", "tdm", "--dataset", str(path), "--formulation", "peg", "--json")
    assert r.code == 1  # one patient could not be fitted
    out = json.loads(r.out)
    assert out["notice"] == NOTICE
    assert out["patients"]["A"]["status"] == "ok"
    assert out["patients"]["A"]["notice"] == NOTICE
    assert out["patients"]["B"]["status"] == "error"


def test_simulation_estimation_bias_precision_and_attainment():
    """Patients drawn from the model, TDM on their simulated levels: unbiased, more precise
    than the population forecast, calibrated intervals and advice that reaches the target.
    Ablation: fitting without the model's IOV loses the calibration."""
    study = run_tdm_study(("peg", "erwinia"), n=40, seed=1).set_index("formulation")
    assert (study["bias_log"].abs() < 0.1).all()
    assert (study["precision_log"] < 0.85 * study["population_precision_log"]).all()
    assert (study["coverage90"] >= 0.7).all()
    assert (study["attainment_advised"] >= 0.8).all()
    ablated = run_tdm_study(("peg",), n=40, seed=1, fit=ablate_iov).set_index("formulation")
    assert ablated.loc["peg", "coverage90"] < study.loc["peg", "coverage90"] - 0.15


def test_the_tdm_validation_page_is_for_the_current_models():
    text = (ROOT / "docs" / "tdm-validation.md").read_text(encoding="utf-8")
    for name in DESIGNS:
        row = re.search(rf"^\| {re.escape(name)} \| .*$", text, re.MULTILINE)
        assert row is not None, name
        assert "| 200 |" in row.group(0)
        assert f"`{_fingerprint(formulation(name))}`" in row.group(0), (
            f"{name}: regenerate with asnflux therapy tdm-study --markdown docs/tdm-validation.md"
        )


def test_the_target_is_given_once():
    """The rules' target is not silently replaced by the default target trough."""
    lv = _levels([7, 14], [0.6, 0.2])
    res = tdm(lv, PEG, bsa=1.0, rules=DosingRules(target_low=0.2))
    assert res.target_trough == 0.2
    assert tdm(lv, PEG, bsa=1.0, target_trough=0.2).target_trough == 0.2
    with pytest.raises(DataError, match="differ; give one"):
        tdm(lv, PEG, bsa=1.0, target_trough=0.1, rules=DosingRules(target_low=0.2))


@pytest.mark.parametrize(
    ("name", "dose", "route", "every", "doses"),
    [
        ("erwinia", "25000 IU/m**2", "im", "2d", 5),
        ("peg", "2500 IU/m**2", "iv", "7d", 3),
    ],
)
def test_cohort_occasions_in_the_engine_match_the_exported_sbml(name, dose, route, every, doses):
    """Between-occasion variability in simulations: each dose sets the formulation's
    clearance factor, in the engine and in the exported patient (libroadrunner) alike."""
    from asnflux.models.patient import build_patient_model
    from asnflux.network import RoadRunnerEngine, to_sbml

    reg = regimen_from_options(name, dose, route, every=every, doses=doses)
    pop = Population(
        np.ones(1), weight_from_bsa(np.ones(1)), np.zeros(1), np.zeros(1),
        z_occ=np.array([[1.5, -2.0, 0.7, 2.2, -1.0][:doses]]),
    )  # fmt: skip
    res = simulate(pop, reg, 20)
    flat = simulate(Population(pop.bsa, pop.weight, pop.z_cl, pop.z_v), reg, 20)
    t = np.unique(res.times_h * 24)
    idx = [np.nonzero(res.times_h * 24 == x)[0][-1] for x in t]
    rr = RoadRunnerEngine().simulate(to_sbml(build_patient_model(pop, reg)), t, ["SAA"])
    np.testing.assert_allclose(res.traces["saa_IU_per_mL"][0][idx], rr.table["SAA"], rtol=1e-5)
    # ablation: without the occasion effects the course differs by more than 5 %
    gap = np.max(
        np.abs(np.log(res.daily["saa_IU_per_mL"][0, 3:] / flat.daily["saa_IU_per_mL"][0, 3:]))
    )
    assert gap > 0.05


def test_cohorts_draw_occasions_only_for_models_with_iov():
    from asnflux.therapy import sample_population

    peg = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14")
    pop, _ = sample_population(500, 3, peg)
    assert pop.z_occ is not None
    assert pop.z_occ.shape == (500, 2)
    assert abs(float(np.std(pop.z_occ)) - 1) < 0.1
    cal = regimen_from_options("calaspargase", "2500 IU/m**2", "iv", at="0,21")
    assert sample_population(10, 3, cal)[0].z_occ is None
    # dose by dose: a longer regimen keeps the first doses' effects
    longer = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14,28,42")
    more = sample_population(500, 3, longer)[0].z_occ
    assert more is not None
    assert np.array_equal(more[:, :2], pop.z_occ)


def test_the_importance_sampled_posterior_is_the_exact_one():
    """Posterior mean and SD of both random effects against a brute-force grid (native
    E. coli: two effects, no IOV). Ablation: the proposal's draws without their weights are
    too wide, so the weights are what makes the posterior right."""
    from asnflux.therapy._tdm_model import ResidualError, log_likelihood, posterior

    f = formulation("native-ecoli")
    reg = regimen_from_options("native-ecoli", "10000 IU/m**2", "im", every="3d", doses=3)
    who = Covariates(1.0, float(weight_from_bsa(np.array([1.0]))[0]))
    times = np.array([48.0, 120.0])
    y = np.array([1.2, 0.6])
    pred = Predictor(f, who, reg.doses[:2], times)
    ruv = ResidualError.of(f)
    post = posterior(pred, y, np.full(2, np.nan), ruv, 0, np.random.default_rng(0))
    g = np.linspace(-5, 5, 121)
    zc, zv = (a.ravel() for a in np.meshgrid(g, g, indexing="ij"))
    logp = log_likelihood(pred(zc, zv, np.zeros((len(zc), 2))), y, np.full(2, np.nan), ruv)
    logp = logp - 0.5 * (zc**2 + zv**2)
    p = np.exp(logp - logp.max())
    p /= p.sum()
    for k, z in enumerate((zc, zv)):
        mean, sd = float(p @ z), float(np.sqrt(p @ (z - p @ z) ** 2))
        w = post.weights
        m_is = float(w @ post.samples[:, k])
        sd_is = float(np.sqrt(w @ (post.samples[:, k] - m_is) ** 2))
        assert m_is == pytest.approx(mean, abs=0.05)
        assert sd_is == pytest.approx(sd, rel=0.1)
        raw = post.samples[:, k]
        assert abs(float(np.std(raw)) - sd) > 0.2 * sd  # ablation: weights removed


def test_a_unit_slip_is_not_called_an_inactivation():
    """A level far above the population beside a normal one: the unit flag, no inactivation
    call and no inactivated forecast (the outlier used to drag the fit)."""
    res = tdm(_levels([1, 7], [40.0, 0.5]), PEG, bsa=1.0)
    assert "far above" in res.recommendation
    assert not res.inactivation_suspected
    assert res.recommended_dose is None


def test_levels_and_sizes_that_are_refused():
    with pytest.raises(DataError, match="with the LLOQ > 0"):
        tdm(_levels([7], ["<0"]), PEG, bsa=1.0)
    with pytest.raises(DataError, match="body weight must be a positive"):
        tdm(_levels([7], [0.5]), PEG, bsa=1.0, weight=float("nan"))


def test_a_patient_without_levels_gets_a_status_not_a_file_error():
    text = DATASET + "C,2026-03-01,08:00,1500,,1,1.0,M,5\n"
    out = tdm_dataset(_table(text), "peg", route="iv")
    assert not isinstance(out["A"], str)
    assert out["C"] == "tdm.csv: ID C has no level (EVID 0, MDV 0)"
    with pytest.raises(DataError, match="DATE/TIME goes backwards for ID A"):
        tdm_dataset(_table(DATASET.replace("2026-01-26", "2026-01-02")), "peg", route="iv")
