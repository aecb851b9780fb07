"""Patient simulation on the compiled backend: the patient network model (the one exported
as SBML), compiled once, every patient a member. Its endpoints and traces are checked
against libroadrunner running each patient's exported SBML, and its result object against
its own definitions (pre-dose rows, daily troughs, samples). Each check has its ablation."""

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
    res = simulate(pop, reg, 35, keep_traces=False)
    picks = [0, 13, 27]
    refs = {i: _reference(pop, reg, i, 35) for i in picks}
    for i in picks:
        assert _close(res.endpoints, refs[i], i), (i, {k: res.endpoints[k][i] for k in ENDPOINTS})
    # ablation: patients differ by more than the agreement (the members' values are used)
    assert not all(_close(res.endpoints, refs[0], i) for i in picks[1:])


def test_traces_match_libroadrunner_on_the_exported_sbml():
    """Every trace of two patients against libroadrunner on their own SBML (rtol 1e-6
    both): within 0.1 % of each trace's range. Ablation: the other patient's SBML misses."""
    reg = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14")
    pop, _ = sample_population(12, 3, reg, immunogenicity=True)
    res = simulate(pop, reg, 30, record_every_h=6.0)
    rows = np.flatnonzero(np.diff(res.times_h, append=np.inf) > 0)  # drop the pre-dose rows
    grid = res.times_h[rows] * 24.0
    names = {
        "saa_IU_per_mL": ("SAA", 1.0),
        "asn_plasma_uM": ("Asn_plasma", 1e3),
        "gln_plasma_uM": ("Gln_plasma", 1e3),
        "asn_csf_uM": ("Asn_csf", 1e3),
        "asn_marrow_uM": ("Asn_marrow", 1e3),
        "blasts_sensitive": ("blasts_s", 1.0),
        "blasts_resistant": ("blasts_r", 1.0),
    }

    def worst(i: int, j: int) -> float:
        ref = (
            RoadRunnerEngine()
            .simulate(
                to_sbml(build_patient_model(pop, reg, j)), grid, [v for v, _ in names.values()]
            )
            .table
        )
        gap = 0.0
        for key, (sid, scale) in names.items():
            ours = res.traces[key][i, rows]
            theirs = ref[sid].to_numpy() * scale
            gap = max(gap, float(np.max(np.abs(ours - theirs)) / np.ptp(theirs)))
        return gap

    assert worst(0, 0) < 1e-3
    assert worst(5, 5) < 1e-3
    assert worst(0, 5) > 1e-2  # ablation


def test_the_result_object_keeps_its_definitions():
    """Each dose time appears twice (pre-dose row first, then post-dose); daily values are
    the pre-dose rows at whole days; samples at a dose time are pre-dose."""
    reg = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14")
    pop, _ = sample_population(4, 3, reg, immunogenicity=False)
    res = simulate(pop, reg, 20, sample_times_h=[0.0, 24.0, 336.0])
    t = res.times_h
    (twice,) = np.nonzero(np.diff(t) == 0)
    np.testing.assert_array_equal(t[twice], [0.0, 14.0])
    saa = res.traces["saa_IU_per_mL"]
    assert np.all(saa[:, twice] < saa[:, twice + 1])  # the dose lands between the rows
    assert np.all(saa[:, twice[0]] == 0.0)  # no enzyme before the first dose
    day = {float(d): int(np.flatnonzero(t == d)[0]) for d in range(21)}  # first row of a day
    for key in res.daily:
        np.testing.assert_allclose(res.daily[key][:, 3], res.traces[key][:, day[3.0]], rtol=1e-12)
        np.testing.assert_allclose(res.daily[key][:, 14], res.traces[key][:, day[14.0]], rtol=1e-12)
    np.testing.assert_allclose(res.samples[:, 2], saa[:, twice[1]], rtol=1e-12)
    assert np.all(res.samples[:, 0] == 0.0)
    assert list(res.status) == ["ok"] * 4
    # ablation: the post-dose row is not the trough
    assert not np.allclose(res.samples[:, 2], saa[:, twice[1] + 1], rtol=0.01)


def test_pd_constants_may_differ_per_patient():
    """``pd`` fields as arrays reach each member (the sensitivity analysis relies on it):
    a larger Asn turnover shortens the depletion; the same scalar gives the same patient."""
    import dataclasses

    from asnflux.therapy import PDParams, Population, weight_from_bsa

    reg = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0")
    pd0 = PDParams.from_kb()
    same = Population(np.ones(3), weight_from_bsa(np.ones(3)), np.zeros(3), np.zeros(3))
    k = np.array([pd0.k_asn, 10 * pd0.k_asn, pd0.k_asn])
    run = simulate(same, reg, 42, pd=dataclasses.replace(pd0, k_asn=k), keep_traces=False)
    days = run.endpoints["days_asn_plasma_below_1uM"]
    assert days[0] == pytest.approx(days[2], rel=1e-9)
    assert days[1] < days[0] - 1.0


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"backend": "gpu"}, "backend must be one of compiled"),
        ({"threshold": 0.0}, "threshold must be a positive number"),
        ({"sample_times_h": [999.0]}, "sample time 999 h lies outside"),
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
        simulate(pop, reg, 10, **kw)


def test_a_failed_patient_is_named_by_its_index_in_the_cohort(monkeypatch):
    """Review finding: a failure was named by its index within a chunk of 2,000."""
    import dataclasses

    from asnflux import SolverError
    from asnflux.therapy import PDParams, _simulate

    monkeypatch.setattr(_simulate, "CHUNK", 3)
    reg = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0")
    pop, _ = sample_population(6, 1, reg, immunogenicity=False)
    pd0 = PDParams.from_kb()
    mu = np.full(6, pd0.mu_max)
    mu[4] = 50.0  # blasts doubling every minute overflow
    pd = dataclasses.replace(pd0, mu_max=mu)
    with pytest.raises(SolverError, match=r"patient 4 \(of 6\)"):
        simulate(pop, reg, 7, pd=pd, keep_traces=False)
    res = simulate(pop, reg, 7, pd=pd, keep_traces=False, on_failure="report")
    assert [s == "ok" for s in res.status] == [True, True, True, True, False, True]


def test_a_cohort_on_dask_equals_the_local_run(monkeypatch):
    """Chunks of patients on a Dask LocalCluster, each reduced to its endpoints on the
    worker, give the local run's results bit for bit and in the right rows (ablation: one
    patient's random effect changed moves that patient's row only)."""
    import asnflux.therapy._simulate as sim_module

    monkeypatch.setattr(sim_module, "CHUNK", 4)  # 10 patients: three chunks
    reg = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14")
    pop, _ = sample_population(10, 3, reg, immunogenicity=False)
    opts = {"keep_traces": True, "record_every_h": 24.0, "sample_times_h": [0.0, 96.0]}
    local = simulate(pop, reg, 21, **opts)
    on_dask = simulate(pop, reg, 21, scheduler="local", **opts)
    for name in ENDPOINTS:
        np.testing.assert_array_equal(on_dask.endpoints[name], local.endpoints[name])
    np.testing.assert_array_equal(on_dask.daily["saa_IU_per_mL"], local.daily["saa_IU_per_mL"])
    np.testing.assert_array_equal(on_dask.traces["asn_plasma_uM"], local.traces["asn_plasma_uM"])
    np.testing.assert_array_equal(on_dask.samples, local.samples)
    pop.z_v[6] += 1.0  # Kloos' one random effect (CL and V share it)
    moved = simulate(pop, reg, 21, scheduler="local", **opts)
    differs = [
        not np.array_equal(moved.daily["saa_IU_per_mL"][k], local.daily["saa_IU_per_mL"][k])
        for k in range(10)
    ]
    assert differs == [k == 6 for k in range(10)]


def test_cli_cohort_on_a_scheduler(cli):
    import json

    args = ["therapy", "cohort", "--formulation", "peg", "--dose", "2500 IU/m**2", "--at",
            "0", "--days", "14", "--n", "30", "--json"]  # fmt: skip
    local = json.loads(cli(*args).out)
    r = cli(*args, "--scheduler", "local")
    assert r.code == 0, r.err
    assert json.loads(r.out)["endpoints"] == local["endpoints"]
    bad = cli(*args, "--scheduler", "somewhere")
    assert bad.code == 1
    assert "scheduler must be 'local' or an address" in bad.err
