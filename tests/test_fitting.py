"""Fitting core: certified references, Jacobians, failure modes, interval coverage."""

from __future__ import annotations

import numpy as np
import pytest

from asnflux import DataError, FitError, NotFoundError
from asnflux.fitting import MODELS, fit_curve, get_model

# NIST StRD nonlinear regression, Misra1a (lower difficulty): y = b1·(1 − exp(−b2·x)).
MISRA1A_X = [
    77.6,
    114.9,
    141.1,
    190.8,
    239.9,
    289.0,
    332.8,
    378.4,
    434.8,
    477.3,
    536.8,
    593.1,
    689.1,
    760.0,
]
MISRA1A_Y = [
    10.07,
    14.73,
    17.94,
    23.93,
    29.61,
    35.18,
    40.02,
    44.82,
    50.76,
    55.05,
    61.01,
    66.40,
    75.47,
    81.78,
]
# NIST StRD Rat42 (higher difficulty): y = b1 / (1 + exp(b2 − b3·x)).
RAT42_X = [9, 14, 21, 28, 42, 57, 63, 70, 79]
RAT42_Y = [8.93, 10.8, 18.59, 22.33, 39.35, 56.11, 61.73, 64.62, 67.08]
# Puromycin, treated cells (Treloar 1974; Bates & Watts 1988, appendix A1.3).
PURO_C = [0.02, 0.02, 0.06, 0.06, 0.11, 0.11, 0.22, 0.22, 0.56, 0.56, 1.10, 1.10]
PURO_V = [76, 47, 97, 107, 123, 139, 159, 152, 191, 201, 207, 200]


def test_nist_misra1a_certified():
    r = fit_curve("exponential-rise", MISRA1A_X, MISRA1A_Y)
    # Certified: b1 = 2.3894212918E+02 (2.7070075241E+00), b2 = 5.5015643181E-04
    # (7.2668688436E-06), RSS = 1.2455138894E-01. ≥ 6 digits on values, ≥ 4 on SEs.
    assert r["plateau"].value == pytest.approx(2.3894212918e02, rel=1e-7)
    assert r["rate"].value == pytest.approx(5.5015643181e-04, rel=1e-7)
    assert r["plateau"].stderr == pytest.approx(2.7070075241e00, rel=1e-5)
    assert r["rate"].stderr == pytest.approx(7.2668688436e-06, rel=1e-5)
    assert r.rss == pytest.approx(1.2455138894e-01, rel=1e-7)
    assert r.residual_sd == pytest.approx(1.0187876330e-01, rel=1e-7)


def test_nist_rat42_certified():
    r = fit_curve("logistic3", RAT42_X, RAT42_Y)
    # Certified: b1 = 7.2462237576E+01 (1.7340283401E+00), b2 = 2.6180768402E+00,
    # b3 = 6.7359200066E-02 (3.4465663377E-03); here slope = b3 and x50 = b2/b3.
    assert r["top"].value == pytest.approx(7.2462237576e01, rel=1e-7)
    assert r["slope"].value == pytest.approx(6.7359200066e-02, rel=1e-7)
    assert r["x50"].value * r["slope"].value == pytest.approx(2.6180768402e00, rel=1e-7)
    assert r["top"].stderr == pytest.approx(1.7340283401e00, rel=1e-5)
    assert r["slope"].stderr == pytest.approx(3.4465663377e-03, rel=1e-5)
    assert r.rss == pytest.approx(8.0565229338e00, rel=1e-7)


def test_puromycin_matches_published_and_profile():
    r = fit_curve("michaelis-menten", PURO_C, PURO_V)
    # Bates & Watts (1988) / R nls: Vm 212.7 (6.947), K 0.06412 (0.008281), s = 10.93 on 10 df.
    assert r["Vmax"].value == pytest.approx(212.68, abs=0.01)
    assert r["Km"].value == pytest.approx(0.064121, rel=1e-4)
    assert r["Vmax"].stderr == pytest.approx(6.947, rel=1e-3)
    assert r["Km"].stderr == pytest.approx(0.008281, rel=1e-3)
    assert r.residual_sd == pytest.approx(10.93, abs=0.005)
    # Profile intervals (MASS::confint.nls): Vm 197.3-229.3, K 0.0469-0.0862, asymmetric.
    lo, hi = r["Vmax"].ci95_profile
    assert (lo, hi) == pytest.approx((197.3, 229.3), abs=0.05)
    lo, hi = r["Km"].ci95_profile
    assert (lo, hi) == pytest.approx((0.0469, 0.0862), abs=5e-5)
    assert hi - r["Km"].value > r["Km"].value - lo  # the Km profile is skewed right


@pytest.mark.parametrize("name", sorted(MODELS))
def test_analytic_jacobian_matches_complex_step(name):
    m = get_model(name)
    rng = np.random.default_rng(0)
    x = rng.uniform(0.2, 5.0, 12)
    x2 = rng.uniform(0.1, 3.0, 12)
    p = np.array([1.3, 0.7, 2.1, 1.4, 0.9][: len(m.params)])
    h = 1e-30
    numeric = np.empty((len(x), len(p)))
    for j in range(len(p)):
        q = p.astype(complex)
        q[j] += 1j * h
        numeric[:, j] = m.f(x, x2, q).imag / h
    np.testing.assert_allclose(m.jac(x, x2, p), numeric, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    ("name", "truth"),
    [
        ("michaelis-menten", [54.8, 0.164]),
        ("substrate-inhibition", [10.0, 0.5, 8.0]),
        ("competitive", [10.0, 0.5, 0.3]),
        ("uncompetitive", [10.0, 0.5, 0.3]),
        ("noncompetitive", [10.0, 0.5, 0.3]),
        ("mixed", [10.0, 0.5, 0.3, 3.0]),
        ("ordered-bi-bi", [5.0, 0.53, 2.4, 0.8]),
        ("ping-pong", [5.0, 0.53, 2.4]),
        ("logistic4", [0.05, 2.0, 10.0, 1.2]),
        ("logistic5", [0.05, 2.0, 10.0, 1.2, 0.7]),
        ("gaussian", [1000.0, 2.4, 0.08]),
        ("quadratic", [0.01, 0.5, -0.02]),
        ("linear-through-zero", [0.3]),
    ],
)
def test_recovers_truth_without_starting_values(name, truth):
    m = get_model(name)
    rng = np.random.default_rng(1)
    if name == "gaussian":
        x = np.linspace(2.0, 2.8, 40)
    elif name.startswith("logistic"):
        x = np.geomspace(0.1, 1000, 24)
    elif name == "substrate-inhibition":
        x = np.geomspace(0.05, 100, 20)
    else:
        x = np.tile(np.geomspace(0.05, 20, 8), 4)
    x2 = np.repeat([0.0, 0.2, 0.6, 1.5], len(x) // 4) if m.needs_x2 else None
    if name in ("ordered-bi-bi", "ping-pong"):
        x2 = np.repeat([0.5, 1.5, 4.0, 12.0], len(x) // 4)
    y_true = m(x, np.array(truth), x2)
    y = y_true * (1 + 0.002 * rng.standard_normal(len(x)))
    r = fit_curve(name, x, y, x2=x2, profile=False)
    np.testing.assert_allclose(r.values, truth, rtol=0.05)
    for est, t in zip(r.parameters.values(), truth, strict=True):
        assert abs(est.value - t) < 6 * est.stderr + 1e-9 * abs(t)


def test_wald_and_profile_coverage_nominal():
    # Synthetic MM data with known truth: the 95 % intervals must cover it ~95 % of the
    # time. 200 data sets; binomial 99 % band for p = 0.95, n = 200 is about 0.91-0.99.
    truth = np.array([1.0, 0.5])
    x = np.repeat([0.1, 0.25, 0.5, 1.0, 2.0, 5.0], 2)
    m = get_model("michaelis-menten")
    rng = np.random.default_rng(2024)
    hits_wald = np.zeros(2)
    hits_prof = np.zeros(2)
    n = 200
    for _ in range(n):
        y = m(x, truth) + 0.03 * rng.standard_normal(len(x))
        r = fit_curve(m, x, y, profile=True)
        for i, est in enumerate(r.parameters.values()):
            hits_wald[i] += est.ci95[0] <= truth[i] <= est.ci95[1]
            lo, hi = est.ci95_profile
            hits_prof[i] += (lo is None or lo <= truth[i]) and (hi is None or truth[i] <= hi)
    for hits in (hits_wald, hits_prof):
        assert np.all(hits / n > 0.90)
        assert np.all(hits / n < 0.995)


def test_weighting_changes_fit_and_sd_column():
    x = np.array([1, 2, 5, 10, 20, 50, 100.0])
    y = 2.0 * x + 0.5 + np.array([0.01, -0.02, 0.05, -0.1, 0.2, -0.6, 1.0])
    unweighted = fit_curve("linear", x, y)
    weighted = fit_curve("linear", x, y, weights="1/x2")
    assert weighted["intercept"].stderr < unweighted["intercept"].stderr
    by_sd = fit_curve("linear", x, y, weights=x)  # sd ∝ x is the same as 1/x²
    assert by_sd["slope"].value == pytest.approx(weighted["slope"].value, rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"x": [1, 2, np.nan, 4], "y": [1, 2, 3, 4]}, DataError, r"column 'x': rows 3 are missing"),
        ({"x": [1, 2, 3, 4], "y": [1, None, 3, 4]}, DataError, r"column 'y': rows 2"),
        ({"x": [-1, 2, 3, 4], "y": [1, 2, 3, 4]}, DataError, r"negative concentrations in rows 1"),
        ({"x": [1, 2, 3], "y": [1, 2]}, DataError, r"x has 3 values but y has 2"),
        ({"x": [1, 2], "y": [1, 2]}, FitError, r"2 parameters but only 2 points"),
        ({"x": [2, 2, 2, 2], "y": [1, 2, 3, 4]}, FitError, r"all x values are equal"),
        ({"x": [1, 2, 3, 4], "y": [1, 2, 3, 4], "weights": "1/z"}, DataError, r"unknown weighting"),
        (
            {"x": [0, 2, 3, 4], "y": [1, 2, 3, 4], "weights": "1/x"},
            DataError,
            r"'x' is 0 in rows 1",
        ),
        (
            {"x": [1, 2, 3, 4], "y": [1, 2, 3, 4], "weights": [1, 1, 0, 1]},
            DataError,
            r"rows 3 are ≤ 0",
        ),
    ],
)
def test_bad_data(kwargs, error, match):
    with pytest.raises(error, match=match):
        fit_curve("michaelis-menten", **kwargs)


def test_unknown_model():
    with pytest.raises(NotFoundError, match="unknown model 'michaelis'; choose one of"):
        fit_curve("michaelis", [1, 2, 3], [1, 2, 3])


def test_missing_x2():
    with pytest.raises(DataError, match="needs a second variable x2"):
        fit_curve("competitive", [1, 2, 3, 4, 5], [1, 2, 3, 4, 5])


def test_substrate_inhibition_without_points_above_optimum():
    m = get_model("substrate-inhibition")
    x = np.geomspace(0.05, 1.0, 10)  # the optimum sqrt(Km·Ki) = 4.5 lies beyond the data
    y = m(x, np.array([10.0, 0.5, 40.0])) * (
        1 + 0.01 * np.random.default_rng(3).standard_normal(10)
    )
    with pytest.raises(FitError, match=r"never pass the rate maximum|cannot identify"):
        fit_curve("substrate-inhibition", x, y)


def test_unidentifiable_model():
    # Competitive inhibition with no inhibitor anywhere: Ki is not in the data.
    x = np.geomspace(0.05, 5, 8)
    y = 10 * x / (0.5 + x)
    with pytest.raises(FitError, match="do not depend on Ki"):
        fit_curve("competitive", x, y, x2=np.zeros(8))


def test_prediction_and_dict():
    r = fit_curve("michaelis-menten", PURO_C, PURO_V)
    assert r.predict([0.0641212819900992])[0] == pytest.approx(r["Vmax"].value / 2)
    assert r.prediction_se([0.5])[0] > 0
    d = r.to_dict()
    assert set(d) == {
        "model",
        "equation",
        "parameters",
        "rss",
        "dof",
        "residual_sd",
        "r2",
        "aic",
        "n",
        "converged",
    }
    assert set(d["parameters"]["Km"]) == {"value", "stderr", "ci95", "ci95_profile"}


def test_fit_saved_as_knowledge_records(kb):
    from datetime import UTC, datetime

    from asnflux.fitting import records_from_fit

    r = fit_curve("michaelis-menten", PURO_C, [v / 1000 for v in PURO_V])
    recs, ref = records_from_fit(
        r,
        id_prefix="lab.my_asnase",
        entity="L-asparaginase",
        data_file="runs/km.csv",
        x_unit="µM",
        y_unit="IU/mg",
        substrate="L-asparagine",
        when=datetime(2026, 11, 26, tzinfo=UTC),
    )
    kb2 = kb.with_records(recs, [ref])
    km = kb2.get("lab.my_asnase.km")
    assert km.unit == "mM"
    assert km.value == pytest.approx(r["Km"].value / 1000)
    assert km.uncertainty.kind == "se"
    assert kb2.get("lab.my_asnase.vmax").unit == "IU/mg"
    (cited,) = kb2.cite([km])
    assert "km.csv" in cited.title
    assert "2026-11-26T00:00:00Z" in cited.note
    with pytest.raises(DataError, match="does not fit quantity kind Km"):
        records_from_fit(r, id_prefix="x", entity="E", data_file="f", x_unit="min", y_unit="IU/mg")
    with pytest.raises(DataError, match=r"cites unknown reference 'lab:lab\.my_asnase'"):
        kb.with_records(recs)
