"""The JAX backend of the ensemble engine, on JAX's CPU backend (issue #10).

The same network model, compiled from the same symbolic system into a JAX program, must
give the numba backend's results: both run the same RODAS4 scheme with the same error
control, so they agree far inside the solver tolerance; the one difference is the linear
algebra (dense pivoted LU here, the planned sparse LU there), which moves results by
rounding only. Each agreement has its ablation: against another member's run the same
rule fails. The GPU benchmark (``benchmarks/gpu_cohort.py``) runs at small N in
``test_benchmarks.py``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from asnflux import DataError, SolverError
from asnflux.engine import compile_model
from asnflux.network import Compartment, Event, Model, Parameter
from test_engine_compiled import (  # the models and members the numba tests use
    FEATURE_OUTPUTS,
    MEMBERS,
    _features_model,
    _oscillator,
    _values,
)

pytest.importorskip("jax")  # a dev dependency: present wherever make test installed it


def _worst(a, b, outputs, ka: int = 0, kb: int = 0) -> float:
    """Largest difference between member ``ka`` of ``a`` and ``kb`` of ``b`` over all
    outputs and times, relative to each output's largest magnitude."""
    worst = 0.0
    for name in outputs:
        x, y = a[name].values[ka], b[name].values[kb]
        worst = max(worst, float(np.max(np.abs(x - y)) / max(np.abs(y).max(), 1e-12)))
    return worst


@pytest.fixture(scope="module")
def features():
    model = _features_model()
    return model, compile_model(model)


def test_every_construct_gives_the_numba_backends_result(features):
    model, compiled = features
    times = np.linspace(0.0, 30.0, 61)  # the events (10 h, 20 h) are output times
    values = _values(MEMBERS[:3], model)
    opts = {"times": times, "outputs": FEATURE_OUTPUTS, "rtol": 1e-8, "atol": 1e-11}
    ref = compiled.simulate(values, **opts)
    ds = compiled.simulate(values, backend="jax", **opts)
    assert list(ds.status.values) == [0, 0, 0]
    for k in range(3):
        assert _worst(ds, ref, FEATURE_OUTPUTS, k, k) < 1e-9
    # the same steps taken: the same scheme, not merely the same answer (rounding may
    # move a step at the end of a segment)
    for a, b in zip(ds.steps.values, ref.steps.values, strict=True):
        assert abs(int(a) - int(b)) <= max(2, 0.01 * b)
    # ablation: each member differs from the others by far more than the agreement
    assert _worst(ds, ref, FEATURE_OUTPUTS, 1, 0) > 1e-3
    # the state after an event at its own output time, as on the numba backend
    i10 = int(np.flatnonzero(times == 10.0)[0])
    assert ds["A_med"].values[0, i10] - ds["A_med"].values[0, i10 - 1] > 0.45
    assert ds["A_med"].attrs["units"] == "mM"


def test_durations_on_the_dense_output_as_on_the_numba_backend():
    """sin t ≥ 0.5 for 2π/3 of every 2π: measured between steps, exact to tolerance."""
    times = np.linspace(0.0, 10 * np.pi, 41)
    compiled = compile_model(_oscillator())
    ds = compiled.simulate(
        {}, times=times, outputs=["t_up", "x"], rtol=1e-8, atol=1e-10, backend="jax"
    )
    phase = np.mod(times, 2 * np.pi)
    exact = (times // (2 * np.pi)) * 2 * np.pi / 3 + np.clip(phase - np.pi / 6, 0, 2 * np.pi / 3)
    np.testing.assert_allclose(ds["t_up"].values[0], exact, atol=1e-6)
    # ablation: read by a rate, the same state is integrated, and its switches cost steps
    integrated = compile_model(_oscillator(duration_read=True))
    ref = integrated.simulate(
        {}, times=times, outputs=["t_up"], rtol=1e-8, atol=1e-10, backend="jax"
    )
    assert ref["steps"].values[0] > 1.2 * ds["steps"].values[0]


def test_a_failing_member_is_reported_and_the_others_are_kept(features):
    _model, compiled = features
    values = {"k_up": np.array([0.3, 1e308, 0.3])}  # member 1 overflows
    with pytest.raises(SolverError, match="member 1"):
        compiled.simulate(values, times=[0, 30], outputs=["A_cyt"], backend="jax")
    ds = compiled.simulate(
        values, times=[0, 30], outputs=["A_cyt"], on_failure="report", backend="jax"
    )
    assert list(ds.status.values != 0) == [False, True, False]
    assert np.isnan(ds["A_cyt"].values[1]).all()
    assert ds["A_cyt"].values[0, -1] == pytest.approx(ds["A_cyt"].values[2, -1], rel=1e-12)
    few = compiled.simulate(
        values, times=[0, 30], outputs=["A_cyt"], on_failure="report", max_steps=3,
        backend="jax",
    )  # fmt: skip
    assert list(few.status_text.values) == ["maximum number of steps reached"] * 3
    # a non-finite output ends the member where the numba backend ends it (review finding)
    nan = {"Vcell": np.array([1e-9, 0.0])}  # member 1: concentrations 0/0 from the start
    opts = {"times": [0, 10, 30], "outputs": ["A_cyt", "uptake"], "on_failure": "report"}
    a = compiled.simulate(nan, **opts)
    b = compiled.simulate(nan, backend="jax", **opts)
    assert list(b.status.values) == list(a.status.values) == [0, 3]
    assert list(b.steps.values) == list(a.steps.values)


def test_padding_a_chunk_changes_nothing(features):
    """Three members run padded to four; each equals its own run alone."""
    _model, compiled = features
    values = {"k_up": np.array([0.1, 0.3, 0.5])}
    opts = {"times": np.linspace(0, 30, 31), "outputs": ["A_cyt", "S"], "backend": "jax"}
    ds = compiled.simulate(values, **opts)
    for k in range(3):
        alone = compiled.simulate({"k_up": values["k_up"][k : k + 1]}, **opts)
        assert _worst(ds, alone, ["A_cyt", "S"], k, 0) < 1e-12
    assert _worst(ds, alone, ["A_cyt", "S"], 0, 0) > 1e-3  # ablation: another member


def test_events_at_the_start_and_the_end_and_outputs_from_later_on():
    """An event at time 0 fires before the first output, one at the last output time shows
    in it, and outputs may start after 0: as on the numba backend."""
    model = Model(
        "e",
        "edges",
        [Compartment("c", "c", 1.0)],
        [],
        [
            Parameter(
                "x", 1.0, "dimensionless", assumption="x", rate_rule="-0.2 * x", variable=True
            ),
        ],
        events=[Event("start", 0.0, {"x": "x + 1"}), Event("end", 10.0, {"x": "x + 5"})],
    )
    compiled = compile_model(model)
    for times in ([0.0, 5.0, 10.0], [2.5, 7.5, 10.0]):
        a = compiled.simulate({}, times=times, outputs=["x"], rtol=1e-9, atol=1e-12)
        b = compiled.simulate({}, times=times, outputs=["x"], rtol=1e-9, atol=1e-12,
                              backend="jax")  # fmt: skip
        np.testing.assert_allclose(b["x"].values, a["x"].values, rtol=1e-9)
        exact = 2.0 * np.exp(-0.2 * np.asarray(times)) + np.where(np.equal(times, 10.0), 5, 0)
        np.testing.assert_allclose(b["x"].values[0], exact, rtol=1e-7)


def test_an_unknown_backend_is_a_one_line_error(features):
    _model, compiled = features
    with pytest.raises(DataError, match="backend must be one of numba, jax, compiled, got 'gpu'"):
        compiled.simulate({}, times=[0, 1], outputs=["A_cyt"], backend="gpu")


def test_patient_cohorts_on_jax_equal_the_compiled_backend():
    """Issue #10: the same patients on both backends, every trace and endpoint, for the
    three benchmark regimens (PEG days 0 and 14; Erwinia IM q2d x 6; native IM weekly)."""
    from asnflux.therapy import regimen_from_options, sample_population, simulate

    regimens = [
        regimen_from_options("peg", "2500 IU/m**2", at="0,14"),
        regimen_from_options("erwinia", "25000 IU/m**2", "im", every="2d", doses=6),
        regimen_from_options("native-ecoli", "10000 IU/m**2", "im", every="7d", doses=5),
    ]
    for reg in regimens:
        pop, _ = sample_population(6, 3, reg, 1.0, True, None, None)
        a = simulate(pop, reg, 35.0, keep_traces=True)
        b = simulate(pop, reg, 35.0, keep_traces=True, backend="jax")
        assert set(b.status) == {"ok"}
        for key, x in a.endpoints.items():
            np.testing.assert_allclose(b.endpoints[key], x, rtol=1e-7, atol=1e-9, err_msg=key)
        for key, x in a.traces.items():
            np.testing.assert_allclose(b.traces[key], x, rtol=1e-6, atol=1e-9, err_msg=key)
        # ablation: another patient's endpoints differ far beyond that
        shifted = np.roll(b.endpoints["blast_log_kill"], 1)
        assert not np.allclose(shifted, a.endpoints["blast_log_kill"], rtol=1e-3)


def test_the_cli_runs_a_cohort_on_jax(cli):
    args = ["therapy", "cohort", "--formulation", "peg", "--dose", "2500 IU/m**2",
            "--at", "0,14", "--n", "8", "--seed", "5", "--days", "28", "--json"]  # fmt: skip
    ref, res = cli(*args), cli(*args, "--backend", "jax")
    assert ref.code == 0, ref.err
    assert res.code == 0, res.err
    a, b = json.loads(ref.out), json.loads(res.out)
    assert b["endpoints"].keys() == a["endpoints"].keys()
    for key, stats in a["endpoints"].items():
        if key == "inactivation":  # counts (and a median that may be None)
            assert b["endpoints"][key] == stats
        else:
            assert b["endpoints"][key] == pytest.approx(stats, rel=1e-6, abs=1e-9), key
    for q, values in a["saa_IU_per_mL"].items():
        np.testing.assert_allclose(b["saa_IU_per_mL"][q], values, rtol=1e-6, atol=1e-9)
    bad = cli(*args, "--backend", "gpu")
    assert bad.code != 0
    assert bad.err.strip().splitlines() == [
        "error: backend must be one of compiled, jax, got 'gpu'"
    ]


@pytest.mark.slow
def test_cell_model_ensemble_on_jax_equals_the_compiled_backend(cli, tmp_path):
    """Every output of the cell model (species, signalling, fluxes) under asparaginase on
    random parameter sets, both backends at rtol 1e-6."""
    from asnflux.models.cell import CellConfig, simulate_cell_ensemble

    cfg = CellConfig(cell_types=("all-blast",), asparaginase="1 IU/mL")
    rng = np.random.default_rng(4)
    values = {
        "Km_ASNS_Asp": np.exp(rng.uniform(np.log(0.3), np.log(3.0), 3)),
        "Vtr_Asn": np.exp(rng.uniform(np.log(0.5), np.log(2.0), 3)),
    }
    a = simulate_cell_ensemble(cfg, values, 48.0, points_per_hour=2)
    b = simulate_cell_ensemble(cfg, values, 48.0, points_per_hour=2, backend="jax")
    assert (b.status.values == 0).all()
    cols = [k for k in a.data_vars if a[k].dims == ("member", "time")]
    assert len(cols) > 40
    for k in range(3):
        assert _worst(b, a, cols, k, k) < 1e-5
    assert _worst(b, a, cols, 1, 0) > 1e-3  # ablation: another member's run
    bad = cli("cell", "ensemble", "--vary", "Km_ASNS_Asp=0.2:1", "--n", "2",
              "--output", str(tmp_path / "e.nc"), "--backend", "gpu")  # fmt: skip
    assert bad.code != 0
    assert bad.err.strip().splitlines() == [
        "error: backend must be one of compiled, jax, got 'gpu'"
    ]


@pytest.mark.slow
def test_jax_chunks_on_a_dask_cluster_equal_the_local_jax_run(features):
    """Issue #10, "same results on every executor": JAX chunks on a LocalCluster's two
    worker processes equal the local JAX run (each chunk of three is padded to four on
    its worker as locally); ablation: one member's changed value changes that member."""
    _model, compiled = features
    values = {"k_up": np.linspace(0.1, 0.6, 6)}
    opts = {"times": np.linspace(0.0, 30.0, 13), "outputs": ["A_cyt", "S"], "chunk": 3,
            "backend": "jax"}  # fmt: skip
    local = compiled.simulate(values, **opts)
    on_dask = compiled.simulate(values, scheduler="local", **opts)
    for name in ("A_cyt", "S"):
        np.testing.assert_allclose(on_dask[name].values, local[name].values, rtol=1e-12)
    changed = {"k_up": values["k_up"].copy()}
    changed["k_up"][4] *= 1.5
    moved = compiled.simulate(changed, scheduler="local", **opts)
    differs = [
        not np.allclose(moved["A_cyt"].values[k], local["A_cyt"].values[k], rtol=1e-9)
        for k in range(6)
    ]
    assert differs == [False, False, False, False, True, False]
