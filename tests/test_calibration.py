"""Standard curves: inverse prediction, range reporting, back-calculation, LOD/LOQ."""

from __future__ import annotations

import numpy as np
import pytest

from asnflux import DataError, FitError
from asnflux.assays import calibrate
from asnflux.fitting import get_model

LEVELS = np.repeat([0.5, 1.0, 2.0, 5.0, 10.0, 20.0], 3)


def test_linear_inverse_exact():
    cal = calibrate(LEVELS, 0.02 + 0.1 * LEVELS)
    p = cal.inverse(0.02 + 0.1 * 7.3)
    assert p.status == "ok"
    assert p.value == pytest.approx(7.3, rel=1e-10)
    assert p.se == pytest.approx(0.0, abs=1e-8)


def test_out_of_range_is_reported_not_extrapolated():
    cal = calibrate(LEVELS, 0.02 + 0.1 * LEVELS)
    low, high = cal.inverse(0.0), cal.inverse(5.0)
    assert (low.status, low.value) == ("<LLOQ", None)
    assert (high.status, high.value) == (">ULOQ", None)


def test_decreasing_curve_range():
    # A competitive-binding style curve: response falls as concentration rises.
    cal = calibrate(LEVELS, 3.0 - 0.1 * LEVELS)
    assert not cal.increasing
    assert cal.inverse(3.0 - 0.1 * 4.0).value == pytest.approx(4.0)
    assert cal.inverse(3.0).status == "<LLOQ"
    assert cal.inverse(0.0).status == ">ULOQ"


def test_logistic4_and_quadratic_inverse():
    m = get_model("logistic4")
    x = np.repeat(np.geomspace(0.1, 100, 8), 2)
    truth = np.array([0.05, 2.0, 8.0, 1.1])
    y = m(x, truth)
    cal = calibrate(x, y, model="logistic4")
    assert cal.inverse(float(m(np.array([3.3]), truth)[0])).value == pytest.approx(3.3, rel=1e-6)
    q = calibrate(LEVELS, 0.01 + 0.2 * LEVELS - 0.003 * LEVELS**2, model="quadratic")
    assert q.inverse(0.01 + 0.2 * 12 - 0.003 * 144).value == pytest.approx(12.0, rel=1e-8)


def test_inverse_se_covers_truth_at_nominal_rate():
    rng = np.random.default_rng(11)
    hits, n = 0, 300
    for _ in range(n):
        y = 0.05 + 0.1 * LEVELS + 0.01 * rng.standard_normal(LEVELS.size)
        cal = calibrate(LEVELS, y)
        obs = 0.05 + 0.1 * 6.0 + 0.01 * rng.standard_normal()
        p = cal.inverse(obs)
        hits += abs(p.value - 6.0) <= 1.96 * p.se
    assert 0.91 < hits / n < 0.99


def test_back_calculated_bias():
    y = 0.1 * LEVELS
    y[0] *= 1.3  # one low standard reads 30 % high
    bc = calibrate(LEVELS, y, weights="1/x2").back_calculated()
    assert bc.loc[0, "bias_pct"] > 20
    assert abs(bc.loc[5, "bias_pct"]) < 5


def test_lod_and_loq():
    rng = np.random.default_rng(5)
    y = 0.1 * LEVELS * (1 + 0.05 * rng.standard_normal(LEVELS.size))
    y[:3] = 0.1 * 0.5 * np.array([1.6, 0.5, 1.2])  # the lowest level is noisy
    cal = calibrate(LEVELS, y, weights="1/x2")
    assert cal.loq(max_bias_pct=20, max_cv_pct=20) == pytest.approx(1.0)
    lod = cal.lod([0.001, 0.004, -0.002, 0.002], k=3)
    assert 0 < lod < 0.5


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"model": "gaussian"}, DataError, "calibration model 'gaussian' is not one of"),
        ({"lloq": 0.1}, DataError, r"calibrated range \[0.1, 20\] must lie within"),
        ({"lloq": 10.0, "uloq": 5.0}, DataError, "LLOQ < ULOQ"),
    ],
)
def test_calibration_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        calibrate(LEVELS, 0.1 * LEVELS, **kwargs)


def test_too_few_levels():
    with pytest.raises(DataError, match="at least 3 distinct non-zero levels, got 2"):
        calibrate([0, 1, 1, 2, 2], [0, 0.1, 0.1, 0.2, 0.2])


def test_non_monotone_curve():
    x = LEVELS
    with pytest.raises(FitError, match="not monotone"):
        calibrate(x, 1.0 * x - 0.05 * x**2, model="quadratic")


def test_non_finite_response():
    cal = calibrate(LEVELS, 0.1 * LEVELS)
    with pytest.raises(DataError, match="not a finite number"):
        cal.inverse(float("nan"))
