"""Prism-style fit diagnostics and the added models, each with the ablation it can fail on."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from asnflux import DataError
from asnflux.fitting import fit_curve
from asnflux.fitting._diagnostics import (
    _p_few_runs,
    aicc,
    compare_fits,
    replicates_test,
    runs_test,
)

RNG = np.random.default_rng(7)
PUROMYCIN = Path(__file__).resolve().parents[1] / "examples" / "fit" / "puromycin.csv"


def test_runs_distribution_matches_the_swed_eisenhart_table():
    # Swed & Eisenhart (Ann Math Stat 1943) table: n1 = n2 = 10, P(R ≤ 6) = 0.019.
    assert _p_few_runs(6, 10, 10) == pytest.approx(0.019, abs=0.0005)
    assert _p_few_runs(20, 10, 10) == pytest.approx(1.0)  # the distribution sums to one


def test_runs_test_sees_a_curve_fitted_by_a_line():
    x = np.linspace(0, 10, 24)
    y = 0.3 * x**2 + RNG.normal(0, 0.3, x.size)
    wrong = runs_test(fit_curve("linear", x, y))
    right = runs_test(fit_curve("quadratic", x, y))
    assert wrong["deviates"]  # a line leaves runs of same-sign residuals
    assert not right["deviates"]  # ablation: with the right model the residuals are random


def test_replicates_test_sees_lack_of_fit():
    x = np.repeat([1.0, 2, 4, 8, 16, 32], 3)
    y = 10 * x / (3 + x) + RNG.normal(0, 0.1, x.size)
    assert replicates_test(fit_curve("linear", x, y))["lack_of_fit"]
    assert not replicates_test(fit_curve("michaelis-menten", x, y))["lack_of_fit"]
    assert replicates_test(fit_curve("michaelis-menten", x[::3], y[::3])) is None  # no reps


def test_f_test_and_aicc_prefer_the_model_that_made_the_data():
    x = np.geomspace(0.2, 50, 14)
    noise = 1 + RNG.normal(0, 0.01, x.size)
    sigmoid = 10 * x**2.5 / (4**2.5 + x**2.5) * noise
    hyperbolic = 10 * x / (4 + x) * noise
    for y, truth in ((sigmoid, "hill"), (hyperbolic, "michaelis-menten")):
        out = compare_fits(fit_curve("michaelis-menten", x, y), fit_curve("hill", x, y))
        assert out["f_test"]["preferred"] == truth
        assert out["aicc"]["preferred"] == truth


def test_aicc_is_prism_s_definition():
    x = np.arange(1.0, 9)
    y = 2 * x + np.array([0.1, -0.2, 0.05, 0.1, -0.1, 0.2, -0.05, -0.1])
    fit = fit_curve("linear", x, y)
    n, k = 8, 3  # two parameters + the variance
    expected = n * math.log(fit.rss / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1)
    assert aicc(fit) == pytest.approx(expected)


def test_compare_refuses_non_nested_order_and_other_data():
    x = np.geomspace(0.2, 50, 10)
    y = 10 * x / (4 + x)
    mm, hill = fit_curve("michaelis-menten", x, y + 0.01), fit_curve("hill", x, y + 0.01)
    with pytest.raises(DataError, match="more parameters"):
        compare_fits(hill, mm)
    with pytest.raises(DataError, match="same data"):
        compare_fits(mm, fit_curve("hill", x, y * 1.1))


def test_hill_and_morrison_recover_their_parameters():
    x = np.array([0.5, 1, 2, 3, 5, 8, 12, 20.0])
    y = 10 * x**2.5 / (4**2.5 + x**2.5) * (1 + 0.002 * np.sin(5 * x))
    hill = fit_curve("hill", x, y)
    assert hill["h"].value == pytest.approx(2.5, rel=0.01)
    assert hill["Khalf"].value == pytest.approx(4, rel=0.01)
    inhibitor = np.array([0, 1, 2, 5, 10, 20, 50, 100.0])
    enzyme = np.full(8, 10.0)
    b = enzyme + inhibitor + 3.0
    v = 100 * (1 - (b - np.sqrt(b**2 - 4 * enzyme * inhibitor)) / (2 * enzyme))
    tight = fit_curve("morrison", inhibitor, v * (1 + 0.002 * np.cos(inhibitor)), x2=enzyme)
    assert tight["Ki_app"].value == pytest.approx(3.0, rel=0.02)
    # Ablation: the classical IC50 model ignores depletion by the enzyme and gets Ki wrong
    # by about E/2 (Copeland 2005: IC50 = Ki + E/2 for tight binders).
    naive = fit_curve("hill", inhibitor[1:], 100 - v[1:])
    assert naive["Khalf"].value == pytest.approx(3.0 + 10 / 2, rel=0.1)


def test_fit_cli_reports_diagnostics_and_comparison(cli):
    r = cli(
        "fit", str(PUROMYCIN), "--model", "michaelis-menten",
        "--compare", "hill", "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["diagnostics"]["runs_test"]["p"] > 0.05
    assert out["diagnostics"]["replicates_test"]["dfd"] == 6  # six duplicated concentrations
    assert out["comparison"]["f_test"]["preferred"] == "michaelis-menten"


def test_relative_weighting_by_the_fitted_curve_is_unbiased():
    # 15 % CV proportional noise on Michaelis-Menten data, 100 simulated experiments.
    # Weighting by the fitted curve (Prism's relative weighting) is unbiased; weighting by
    # the observed y — the ablation — biases Vmax low by about 3-4 %.
    rng = np.random.default_rng(1)
    x = np.array([0.5, 1, 2, 4, 8, 16, 32.0])
    true = 10 * x / (3 + x)
    by_fit, by_obs = [], []
    for _ in range(100):
        y = true * (1 + rng.normal(0, 0.15, x.size))
        by_fit.append(fit_curve("michaelis-menten", x, y, weights="1/yfit2", profile=False))
        by_obs.append(fit_curve("michaelis-menten", x, y, weights="1/y2", profile=False))
    bias_fit = np.mean([f["Vmax"].value for f in by_fit]) / 10 - 1
    bias_obs = np.mean([f["Vmax"].value for f in by_obs]) / 10 - 1
    assert abs(bias_fit) < 0.012
    assert bias_obs < -0.02
    # At the fixed point the weights are 1/Ŷ² of the final curve.
    f = by_fit[0]
    assert np.allclose(f.weights, 1 / f.predict(f.x) ** 2, rtol=1e-6)


def test_fit_cli_interpolates_unknowns_and_reports_kcat(cli):
    r = cli(
        "fit", str(PUROMYCIN), "--model", "michaelis-menten", "--interpolate", "100,250",
        "--enzyme-concentration", "0.5", "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    out = json.loads(r.out)
    vmax, km = out["parameters"]["Vmax"]["value"], out["parameters"]["Km"]["value"]
    first, second = out["interpolated"]
    assert first["value"] == pytest.approx(km * 100 / (vmax - 100), rel=1e-8)  # x = Km·y/(V−y)
    assert first["se"] > 0
    assert second["status"] == ">ULOQ"  # 250 is above Vmax: never extrapolated
    assert out["kcat"]["value"] == pytest.approx(vmax / 0.5)
    bad = cli("fit", str(PUROMYCIN), "--model", "linear", "--enzyme-concentration", "1")
    assert bad.code == 1
    assert "Vmax" in bad.err


def test_rout_flags_a_gross_outlier_and_rarely_a_clean_point():
    from asnflux.fitting._diagnostics import rout_outliers

    x = np.repeat([0.5, 1, 2, 4, 8, 16, 32.0], 3)
    false_alarms = found = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        clean = 10 * x / (3 + x) + rng.normal(0, 0.2, x.size)
        false_alarms += bool(rout_outliers("michaelis-menten", x, clean)["outliers"])
        spiked = clean.copy()
        spiked[10] += 2.0  # ten SDs
        found += rout_outliers("michaelis-menten", x, spiked)["outliers"] == [10]
    assert false_alarms <= 3  # Q = 1 %: about 2 % of clean data sets in simulation
    assert found >= 57
    # The refit without the outlier recovers Vmax; the fit with it does not.
    rng = np.random.default_rng(0)
    y = 10 * x / (3 + x) + rng.normal(0, 0.2, x.size)
    y[20] += 6.0
    robust = rout_outliers("michaelis-menten", x, y)
    assert robust["outliers"] == [20]
    assert abs(robust["fit"]["Vmax"].value - 10) < abs(fit_curve("michaelis-menten", x, y)
                                                       ["Vmax"].value - 10)  # fmt: skip


def test_fit_cli_rout_names_file_rows(cli, tmp_path):
    x = np.repeat([0.5, 1, 2, 4, 8, 16, 32.0], 2)
    y = 10 * x / (3 + x) + np.random.default_rng(2).normal(0, 0.1, x.size)
    y[5] += 4
    path = tmp_path / "mm.csv"
    path.write_text("S,v\n" + "".join(f"{a},{b}\n" for a, b in zip(x, y, strict=True)))
    r = cli("fit", str(path), "--model", "michaelis-menten", "--rout", "1", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["rout"]["outlier_rows"] == [7]  # header is row 1
