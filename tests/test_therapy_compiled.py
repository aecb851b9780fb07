"""Cohorts on the compiled backend: the patient network model (the one exported as SBML),
compiled once, every patient a member. Its endpoints are checked against libroadrunner
running each patient's exported SBML, and against the hand-written numpy engine within
that engine's 3-minute-step error. Each comparison has its ablation."""

from __future__ import annotations

import numpy as np
import pytest

from asnflux import DataError
from asnflux.models.patient import build_patient_model
from asnflux.network import RoadRunnerEngine, to_sbml
from asnflux.therapy import regimen_from_options, sample_population, simulate

REGIMENS = [
    ("peg", "2500 IU/m**2", "iv", {"at": "0,14"}),
    ("erwinia", "25000 IU/m**2", "im", {"every": "2d", "doses": 6}),
    ("native-ecoli", "10000 IU/m**2", "im", {"every": "7d", "doses": 4}),
]
ENDPOINTS = [
    "days_saa_at_or_above_threshold",
    "days_asn_plasma_below_1uM",
    "days_csf_asn_depleted",
    "gln_nadir_uM",
    "blast_log_kill",
]


def _reference(pop, reg, i: int, days: float) -> dict[str, float]:
    """Patient i's endpoints from libroadrunner on that patient's exported SBML."""
    grid = np.arange(0.0, days * 24 + 1e-9, 1.0)
    out = ["t_saa_above", "t_asn_depleted", "t_csf_depleted", "Gln_plasma"]
    out += ["blasts_s", "blasts_r"]
    t = (
        RoadRunnerEngine()
        .simulate(to_sbml(build_patient_model(pop, reg, i, endpoint_states=True)), grid, out)
        .table
    )
    blasts = t["blasts_s"] + t["blasts_r"]
    return {
        "days_saa_at_or_above_threshold": t["t_saa_above"].iloc[-1] / 24,
        "days_asn_plasma_below_1uM": t["t_asn_depleted"].iloc[-1] / 24,
        "days_csf_asn_depleted": t["t_csf_depleted"].iloc[-1] / 24,
        "gln_nadir_uM": 1e3 * t["Gln_plasma"].min(),
        "blast_log_kill": float(np.log10(blasts.iloc[0] / blasts.iloc[-1])),
    }


def _close(ours: dict, ref: dict, i: int) -> bool:
    return all(
        abs(ours[k][i] - ref[k]) <= 0.01 * max(abs(ref[k]), 0.1) for k in ENDPOINTS
    )  # 1 % (floored at 0.001 day / µM / log)


@pytest.mark.parametrize(("name", "dose", "route", "kw"), REGIMENS)
def test_compiled_cohort_endpoints_match_libroadrunner_patient_by_patient(name, dose, route, kw):
    reg = regimen_from_options(name, dose, route, **kw)
    pop, _ = sample_population(40, 7, reg, immunogenicity=True)
    res = simulate(pop, reg, 35, keep_traces=False, backend="compiled")
    picks = [0, 13, 27]
    refs = {i: _reference(pop, reg, i, 35) for i in picks}
    for i in picks:
        assert _close(res.endpoints, refs[i], i), (i, {k: res.endpoints[k][i] for k in ENDPOINTS})
    # ablation: patients differ by more than the agreement (the members' values are used)
    assert not all(_close(res.endpoints, refs[0], i) for i in picks[1:])


def test_compiled_and_numpy_backends_give_the_same_result_object_and_agree():
    """Same traces, daily values and endpoints, within the numpy engine's step error (its
    PD takes first-order 3-minute steps: ≤ 1 % here); PK (SAA) agrees to the solver's
    tolerance. Ablation: a 2 % change of the threshold moves the SAA days beyond that."""
    reg = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14")
    pop, _ = sample_population(30, 3, reg, immunogenicity=True)
    kw = {"sample_times_h": [0.0, 24.0, 336.0]}
    a = simulate(pop, reg, 30, **kw)
    b = simulate(pop, reg, 30, backend="compiled", **kw)
    np.testing.assert_array_equal(a.times_h, b.times_h)
    assert a.traces.keys() == b.traces.keys()
    assert a.daily.keys() == b.daily.keys()
    np.testing.assert_allclose(
        b.traces["saa_IU_per_mL"], a.traces["saa_IU_per_mL"], rtol=1e-4, atol=1e-6
    )
    np.testing.assert_allclose(
        b.daily["saa_IU_per_mL"], a.daily["saa_IU_per_mL"], rtol=1e-4, atol=1e-6
    )
    np.testing.assert_allclose(b.samples, a.samples, rtol=1e-4, atol=1e-6)
    for key in a.traces:
        scale = np.abs(a.traces[key]).max(axis=1, keepdims=True)
        assert np.max(np.abs(b.traces[key] - a.traces[key]) / scale) < 0.01, key
    for key in ENDPOINTS:
        np.testing.assert_allclose(b.endpoints[key], a.endpoints[key], rtol=0.01, atol=0.02)
    np.testing.assert_array_equal(
        b.endpoints["doses_skipped_after_allergy"], a.endpoints["doses_skipped_after_allergy"]
    )
    np.testing.assert_array_equal(np.isnan(b.detection_h), np.isnan(a.detection_h))
    moved = simulate(pop, reg, 30, backend="compiled", threshold=2.0, keep_traces=False)
    shift = (
        moved.endpoints["days_saa_at_or_above_threshold"]
        - a.endpoints["days_saa_at_or_above_threshold"]
    )
    assert np.max(np.abs(shift)) > 0.05


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"backend": "gpu"}, "backend must be 'numpy' or 'compiled'"),
        ({"backend": "compiled", "pk_only": True}, "compiled backend runs the full model"),
        ({"backend": "compiled", "threshold": 0.0}, "threshold must be a positive number"),
        ({"backend": "compiled", "sample_times_h": [999.0]}, "sample time 999 h lies outside"),
    ],
)
def test_compiled_backend_options_are_checked(kw, message):
    reg = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0")
    pop, _ = sample_population(2, 1, reg)
    with pytest.raises(DataError, match=message):
        simulate(pop, reg, 10, **kw)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"record_every_h": 0.0}, "record_every_h must be a positive number"),
        ({"monitor_every_days": 0.0}, "monitor_every_days must be a positive number"),
        ({"sample_times_h": [float("nan")]}, "sample time nan h lies outside"),
    ],
)
def test_compiled_run_settings_are_checked(kw, message):
    reg = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0")
    pop, _ = sample_population(2, 1, reg)
    with pytest.raises(DataError, match=message):
        simulate(pop, reg, 10, backend="compiled", **kw)
