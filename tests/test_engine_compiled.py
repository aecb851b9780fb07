"""The compiled ensemble backend against libroadrunner, the reference engine.

Each comparison runs the same network model through both: the compiled backend from the
model object, libroadrunner from its exported SBML with the same values as overrides. Each
agreement test has its ablation: the same comparison against the wrong reference (another
member's run, or the state before an event) fails, so agreement is not automatic.
"""

from __future__ import annotations

import numpy as np
import pytest

from asnflux import DataError, SolverError
from asnflux.engine import compile_model
from asnflux.network import (
    Compartment,
    Event,
    Model,
    Parameter,
    Reaction,
    RoadRunnerEngine,
    Species,
    to_sbml,
)

REFERENCE = RoadRunnerEngine(relative_tolerance=1e-10, absolute_tolerance=1e-14)


def _worst(ds, member: int, ref, outputs: list[str]) -> float:
    """Largest difference over all outputs and times, relative to each output's range."""
    worst = 0.0
    for name in outputs:
        a = ds[name].values[member]
        b = ref[name].to_numpy()
        worst = max(worst, float(np.max(np.abs(a - b)) / max(np.abs(b).max(), 1e-12)))
    return worst


def _features_model() -> Model:
    """Every construct the backend translates: a compartment sized by a growing state, a
    boundary species diluted by it, assignment and rate rules, ``time`` in a formula,
    piecewise, an initial assignment, events on a species and on a parameter."""
    return Model(
        "features",
        "features",
        [
            Compartment("medium", "medium", 1e-3),
            Compartment("cyt", "cytosol", 1e-4, size_rule="cells * Vcell"),
        ],
        [
            Species("A_med", "A in medium", "medium", 1.0, formula="C4H8N2O3"),
            Species("A_cyt", "A in cells", "cyt", 0.5, formula="C4H8N2O3"),
            Species("B_cyt", "buffered B", "cyt", 2.0, formula="C5H6O5", boundary=True),
        ],
        [
            Parameter("k_up", 0.3, "1/h", assumption="test value"),
            Parameter("Km", 0.2, "mM", assumption="test value"),
            Parameter("mu", 0.05, "1/h", assumption="test value"),
            Parameter("Vcell", 1e-9, "L", assumption="test value"),
            Parameter("tau", 2.0, "h", assumption="test value"),
            Parameter("t_pulse", 5.0, "h", assumption="test value"),
            Parameter("k_use", 0.1, "1/h", assumption="test value", variable=True),
            Parameter(
                "cells", 1e5, "dimensionless", derived="grows", rate_rule="mu * cells"
            ),
            Parameter(
                "pulse", 1.0, "dimensionless", derived="doubles uptake from 5 h",
                assignment="piecewise(2, time >= t_pulse, 1)",
            ),
            Parameter(
                "S", 0.0, "dimensionless", derived="lagged saturation",
                rate_rule="(A_cyt / (Km + A_cyt) - S) / tau", initial="A_cyt / (Km + A_cyt)",
            ),
        ],
        [
            Reaction(
                "uptake", "uptake", {"A_med": 1}, {"A_cyt": 1},
                "k_up * pulse * A_med * B_cyt / (Km + B_cyt)", "cyt",
            ),
            Reaction("use", "use", {"A_cyt": 1}, {}, "k_use * A_cyt", "cyt", boundary=True),
        ],
        [
            Event("feed", 10.0, {"A_med": "A_med + 0.5"}),
            Event("boost", 20.0, {"k_use": "2 * k_use"}),
        ],
    )  # fmt: skip


FEATURE_OUTPUTS = ["A_med", "A_cyt", "B_cyt", "cells", "pulse", "S", "k_use", "cyt", "uptake"]
MEMBERS = [
    {},
    {"Vcell": 2e-9, "k_up": 0.5},  # a resized compartment keeps its concentrations
    {"A_cyt": 0.1, "mu": 0.02},  # S's initial assignment reads the new A_cyt
    {"S": 0.9, "A_cyt": 0.1},  # an overridden target keeps its value
]


@pytest.fixture(scope="module")
def features():
    model = _features_model()
    return model, compile_model(model), to_sbml(model)


def _values(members: list[dict[str, float]], model: Model) -> dict[str, np.ndarray]:
    keys = sorted({k for m in members for k in m})
    default = {s.id: s.initial for s in model.species} | {p.id: p.value for p in model.parameters}
    return {k: np.array([m.get(k, default[k]) for m in members]) for k in keys}


def test_every_construct_matches_libroadrunner_member_by_member(features):
    model, compiled, sbml = features
    times = np.linspace(0.0, 30.0, 61)  # 10 h and 20 h (the events) are output times
    opts = {"times": times, "outputs": FEATURE_OUTPUTS, "rtol": 1e-9, "atol": 1e-12}
    # an id given is set for every member of the ensemble: the first three share their ids,
    # the fourth (an overridden initial-assignment target) runs as its own ensemble
    ds = compiled.simulate(_values(MEMBERS[:3], model), **opts)
    one = compiled.simulate(_values(MEMBERS[3:], model), **opts)
    assert list(ds.status.values) == [0, 0, 0]
    assert one.status.values[0] == 0
    refs = [REFERENCE.simulate(sbml, times, FEATURE_OUTPUTS, m or None).table for m in MEMBERS]
    for k, ref in enumerate(refs[:3]):
        assert _worst(ds, k, ref, FEATURE_OUTPUTS) < 1e-6, MEMBERS[k]
    assert _worst(one, 0, refs[3], FEATURE_OUTPUTS) < 1e-6
    assert one["S"].values[0, 0] == 0.9
    # ablation: each member differs from the others by far more than the agreement
    for k in (1, 2):
        assert _worst(ds, k, refs[0], FEATURE_OUTPUTS) > 1e-3
    assert _worst(one, 0, refs[2], FEATURE_OUTPUTS) > 1e-3
    # an output at an event's time is the state after the event, as libroadrunner reports
    i10 = int(np.flatnonzero(times == 10.0)[0])
    jump = ds["A_med"].values[0, i10] - ds["A_med"].values[0, i10 - 1]
    assert jump > 0.45  # the 0.5 mM feed, less half an hour of uptake
    # units travel with the outputs
    assert ds["A_med"].attrs["units"] == "mM"
    assert ds["uptake"].attrs["units"] == "mmol/h"


def test_a_failing_member_is_reported_and_the_others_are_kept(features):
    _model, compiled, _ = features
    values = {"k_up": np.array([0.3, 1e308, 0.3])}  # member 1 overflows
    with pytest.raises(SolverError, match="member 1"):
        compiled.simulate(values, times=[0, 30], outputs=["A_cyt"])
    ds = compiled.simulate(values, times=[0, 30], outputs=["A_cyt"], on_failure="report")
    assert list(ds.status.values != 0) == [False, True, False]
    assert np.isnan(ds["A_cyt"].values[1]).all()
    assert ds["A_cyt"].values[0, -1] == pytest.approx(ds["A_cyt"].values[2, -1], rel=1e-12)
    assert ds["status_text"].values[0] == "ok"


@pytest.mark.parametrize(
    ("values", "outputs", "message"),
    [
        ({"nope": 1.0}, ["A_med"], "no settable species, parameter or compartment 'nope'"),
        ({"pulse": 1.0}, ["A_med"], "'pulse'"),  # an assignment rule is not settable
        ({"k_up": [1.0, np.nan]}, ["A_med"], "k_up of member 1 is nan, not a finite number"),
        ({"k_up": [1.0, 2.0], "Km": [1.0, 2.0, 3.0]}, ["A_med"], "differ in length"),
        ({}, ["A_med", "missing"], "no species, parameter or reaction 'missing'"),
    ],
)
def test_bad_ensemble_input_is_a_one_line_error(features, values, outputs, message):
    _, compiled, _ = features
    with pytest.raises(DataError, match=message):
        compiled.simulate(values, times=[0, 1], outputs=outputs)


@pytest.fixture(scope="module")
def cell():
    from asnflux.models.cell import CellConfig, build_cell_model, output_columns

    config = CellConfig(asparaginase="0.1 IU/mL")
    model = build_cell_model(config)
    return model, compile_model(model), to_sbml(model), output_columns(model, config)[0]


def test_generated_jacobian_and_sparse_factorisation_solve_the_iteration_matrix(cell):
    """W = fac·I − J from the generated code, factorised by the generated sparse LU, solves
    like numpy's dense solve of W built from a finite-difference Jacobian of the rhs."""
    _, compiled, _, cols = cell
    fns = compiled.kernel(cols).functions
    y0, pv, _ = compiled._initial({}, 1)
    y, p = y0[0], pv[0]
    m = len(y)
    f0 = np.zeros(m)
    fns["rhs"](y, p, f0)
    jac = np.zeros((m, m))
    for j in range(m):
        step = 1e-7 * max(abs(y[j]), 1e-6)
        yp = y.copy()
        yp[j] += step
        f1 = np.zeros(m)
        fns["rhs"](yp, p, f1)
        jac[:, j] = (f1 - f0) / step
    fac = 50.0
    w = np.zeros(m * m)
    fns["wmat"](y, p, fac, w)
    assert fns["lu"](w)
    b = np.random.default_rng(3).normal(size=m)
    x = b.copy()
    fns["solve"](w, x)
    expected = np.linalg.solve(fac * np.eye(m) - jac, b)
    np.testing.assert_allclose(x, expected, rtol=1e-4, atol=1e-8 * np.abs(expected).max())


@pytest.mark.slow
def test_cell_model_matches_libroadrunner_on_random_parameter_sets(cell):
    """Issue #10: every output of the cell model (species, signalling, fluxes) on random
    parameter sets, including a resized cell and a changed medium, at the backend's
    default tolerance (rtol 1e-6) against libroadrunner at rtol 1e-10."""
    model, compiled, sbml, cols = cell
    rng = np.random.default_rng(11)
    names = ["Km_ASNS_Asp", "Km_ASNS_Gln", "V_GLS", "Vtr_Asn", "K_GCN2", "kd_max"]
    names += ["Vcell_all_blast", "Asn_med"]
    members = [
        {k: model.parameter(k).value if k != "Asn_med" else 0.38 for k in names} for _ in range(6)
    ]
    for m in members:
        for k in m:
            m[k] *= float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
    times = np.linspace(0.0, 72.0, 97)
    values = {k: np.array([m[k] for m in members]) for k in names}
    ds = compiled.simulate(values, times=times, outputs=cols)
    assert (ds.status.values == 0).all()
    refs = [REFERENCE.simulate(sbml, times, cols, m).table for m in members]
    for k, ref in enumerate(refs):
        assert _worst(ds, k, ref, cols) < 2e-4
    # ablation: against another member's reference the same rule fails
    assert _worst(ds, 1, refs[0], cols) > 1e-2


def test_patient_model_with_doses_matches_libroadrunner():
    """The patient network model (PK chains, PD, blasts; doses as events) runs on the
    compiled backend as exported; an IV dose shows at its own output time."""
    from asnflux.models.patient import build_patient_model
    from asnflux.therapy import typical_patient
    from asnflux.therapy._regimen import regimen_from_options

    reg = regimen_from_options("peg", "2500 IU/m**2", "iv", every="7d", doses=2)
    model = build_patient_model(typical_patient(1.0), reg)
    outputs = [s.id for s in model.species] + ["SAA"]
    times = np.linspace(0.0, 14 * 24.0, 337)
    ds = compile_model(model).simulate({}, times=times, outputs=outputs)
    ref = REFERENCE.simulate(to_sbml(model), times, outputs).table
    assert _worst(ds, 0, ref, outputs) < 1e-5
    i = int(np.flatnonzero(times == 168.0)[0])
    assert ds["SAA"].values[0, i] > 2.5 * ds["SAA"].values[0, i - 1]  # second dose, given
    # ablation: the pre-dose value at the dose time would miss the reference there
    assert abs(ds["SAA"].values[0, i - 1] - ref["SAA"].iloc[i]) > 1.0


def test_generated_code_is_cached_on_disk_and_reused_by_a_new_process(tmp_path):
    """The generated module and numba's machine code are written once to the cache folder;
    a second process loads them (no regeneration) and gives the same numbers."""
    import os
    import subprocess
    import sys

    script = (
        "import sys, numpy as np; sys.path.insert(0, 'tests')\n"
        "from test_engine_compiled import _features_model\n"
        "from asnflux.engine import compile_model\n"
        "ds = compile_model(_features_model()).simulate({'k_up': [0.3, 0.6]}, "
        "times=np.linspace(0, 30, 7), outputs=['A_cyt'])\n"
        "print(repr(ds['A_cyt'].values.tolist()))\n"
    )
    env = dict(os.environ, ASNFLUX_CACHE_DIR=str(tmp_path))
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        for _ in range(2)
    ]
    generated = list(tmp_path.glob("asnflux_model_*.py"))
    assert len(generated) == 1
    assert list((tmp_path / "__pycache__").glob("*.nbi")), "numba's cache index is missing"
    assert runs[0].stdout == runs[1].stdout


@pytest.mark.slow
def test_a_dask_local_cluster_gives_the_same_results_as_the_local_executor(features):
    """Issue #10: the same members through a distributed.LocalCluster (two single-threaded
    worker processes, chunks of three) equal the local run bit for bit; ablation: one
    member's changed value changes that member only."""
    _, compiled, _ = features
    values = {"k_up": np.linspace(0.1, 0.6, 7), "Vcell": np.linspace(1e-9, 2e-9, 7)}
    opts = {"times": np.linspace(0.0, 30.0, 13), "outputs": FEATURE_OUTPUTS, "chunk": 3}
    local = compiled.simulate(values, **opts)
    on_dask = compiled.simulate(values, scheduler="local", **opts)
    for name in FEATURE_OUTPUTS:
        np.testing.assert_array_equal(on_dask[name].values, local[name].values)
    np.testing.assert_array_equal(on_dask["member"].values, np.arange(7))
    changed = {"k_up": values["k_up"].copy(), "Vcell": values["Vcell"]}
    changed["k_up"][4] *= 1.5
    moved = compiled.simulate(changed, scheduler="local", **opts)
    differs = [
        not np.array_equal(moved["A_cyt"].values[k], local["A_cyt"].values[k]) for k in range(7)
    ]
    assert differs == [False, False, False, False, True, False, False]


def test_a_scheduler_address_is_checked(features):
    _, compiled, _ = features
    with pytest.raises(DataError, match="scheduler must be 'local' or an address"):
        compiled.simulate({}, times=[0, 1], outputs=["A_med"], scheduler="somewhere")


def test_events_at_one_time_read_the_values_from_before_any_of_them():
    """SBML useValuesFromTriggerTime, as libroadrunner runs it: an event that reads A at
    the time another event changes A reads the value from before both (ablation: applied
    one after the other, k_use would read the fed A and differ)."""
    model = _features_model()
    model.events = [
        Event("feed", 10.0, {"A_med": "A_med + 1"}),
        Event("boost", 10.0, {"k_use": "k_use * (1 + A_med)"}),
    ]
    times = np.linspace(0.0, 12.0, 13)
    ds = compile_model(model).simulate({}, times=times, outputs=["A_med", "k_use"])
    ref = REFERENCE.simulate(to_sbml(model), times, ["A_med", "k_use"]).table
    np.testing.assert_allclose(ds["A_med"].values[0], ref["A_med"], rtol=1e-5)
    np.testing.assert_allclose(ds["k_use"].values[0], ref["k_use"], rtol=1e-6)
    before = ds["A_med"].values[0, 9]  # 9 h; A changes little in the hour before the events
    assert ds["k_use"].values[0, -1] < 0.1 * (1 + before + 0.5)  # not 0.1 * (1 + fed A)


def test_two_events_at_one_time_setting_one_variable_are_refused():
    model = _features_model()
    model.events = [
        Event("one", 10.0, {"A_med": "A_med + 1"}),
        Event("two", 10.0, {"A_med": "A_med + 2"}),
    ]
    with pytest.raises(DataError, match="both set A_med; SBML leaves their order undefined"):
        compile_model(model)


def test_models_differing_only_in_event_times_share_code_but_not_schedules():
    """The generated code is keyed by structure without event times, repeats or dose
    amounts, so a regimen given a week earlier, or a longer course or other doses of one
    formulation, reuses the first one's compiled kernel — and runs on its own schedule
    (review finding: it once ran on the first regimen's), as libroadrunner on its SBML."""
    from asnflux.models.patient import build_patient_model
    from asnflux.therapy import regimen_from_options, sample_population, simulate, typical_patient

    late = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14")
    early = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,7")
    pop, _ = sample_population(2, 1, early, immunogenicity=False)
    simulate(pop, late, 20, keep_traces=False)
    a = simulate(pop, early, 20, keep_traces=False)
    t = np.array([0.0, 7 * 24.0, 8 * 24.0])
    ref = RoadRunnerEngine().simulate(to_sbml(build_patient_model(pop, early, 1)), t, ["SAA"])
    assert a.daily["saa_IU_per_mL"][1, 8] == pytest.approx(ref.table["SAA"].iloc[-1], rel=1e-5)
    one, two = (
        compile_model(build_patient_model(pop, r, 0)).kernel(["SAA"]) for r in (late, early)
    )
    assert one.module is two.module  # one compiled kernel
    # and a course of six doses shares the kernel of a course of four (same amounts)
    courses = [
        regimen_from_options("native-ecoli", dose, "im", every="3d", doses=k)
        for dose, k in (("10000 IU/m**2", 4), ("10000 IU/m**2", 6), ("6000 IU/m**2", 4))
    ]
    four, six, smaller = (
        compile_model(build_patient_model(typical_patient(1.0), r, 0)).kernel(["SAA"])
        for r in courses
    )
    assert four.module is six.module is smaller.module  # dose amounts are run-time data
    low, high = (simulate(typical_patient(1.0), r, 14, keep_traces=False) for r in courses[::-2])
    ratio = low.daily["saa_IU_per_mL"][0, 1:10] / high.daily["saa_IU_per_mL"][0, 1:10]
    np.testing.assert_allclose(ratio, 0.6, rtol=1e-4)  # linear PK: each run its own amount
    # ablation: on the late regimen's schedule the day-8 level is a single dose's
    b = simulate(pop, late, 20, keep_traces=False)
    assert b.daily["saa_IU_per_mL"][1, 8] < 0.7 * a.daily["saa_IU_per_mL"][1, 8]


@pytest.mark.parametrize(
    ("values", "times", "message"),
    [
        ({}, [0.0, float("nan")], "simulation times must be increasing"),
        ({"k_up": ["a"]}, [0.0, 1.0], "k_up must be a number or one number per member"),
        ({"k_up": [[1.0, 2.0]]}, [0.0, 1.0], "k_up must be a number or one number per member"),
    ],
)
def test_bad_times_and_values_are_one_line_errors(features, values, times, message):
    _, compiled, _ = features
    with pytest.raises(DataError, match=message):
        compiled.simulate(values, times=times, outputs=["A_med"])


def _oscillator(duration_read: bool = False) -> Model:
    """x = sin(t) as x' = v, v' = -x, with the time x ≥ 0.5 as a duration state (or, with
    ``duration_read``, one that a rate reads, which makes it an ordinary state)."""
    rate = "-x * (1 + 1e-12 * t_up)" if duration_read else "-x"
    return Model(
        "osc",
        "oscillator",
        [Compartment("c", "c", 1.0)],
        [],
        [
            Parameter("x", 0.0, "dimensionless", rate_rule="v"),
            Parameter("v", 1.0, "dimensionless", rate_rule=rate),
            Parameter("t_up", 0.0, "h", rate_rule="piecewise(1, x >= 0.5, 0)"),
        ],
    )


def test_durations_are_measured_on_the_dense_output_not_integrated():
    """A state whose rate is piecewise(1, condition, 0) is the time the condition holds:
    measured between steps on the interpolant, exact to the solver's accuracy. sin t ≥ 0.5
    for 2π/3 of every 2π; over five periods, read at every output time. Ablation: read
    by a rate, the same state is integrated — its switches cost steps."""
    times = np.linspace(0.0, 10 * np.pi, 41)
    compiled = compile_model(_oscillator())
    assert compiled.system.n_ode == 2  # x, v integrated; t_up measured
    ds = compiled.simulate({}, times=times, outputs=["t_up", "x"], rtol=1e-8, atol=1e-10)
    phase = np.mod(times, 2 * np.pi)
    exact = (times // (2 * np.pi)) * 2 * np.pi / 3 + np.clip(phase - np.pi / 6, 0, 2 * np.pi / 3)
    np.testing.assert_allclose(ds["t_up"].values[0], exact, atol=1e-6)
    integrated = compile_model(_oscillator(duration_read=True))
    assert integrated.system.n_ode == 3
    ref = integrated.simulate({}, times=times, outputs=["t_up"], rtol=1e-8, atol=1e-10)
    assert ref["steps"].values[0] > 1.2 * ds["steps"].values[0]


def test_the_code_cache_drops_what_has_not_been_used_for_a_month(tmp_path, monkeypatch):
    """Modules unused for 30 days go, with numba's files for them; a recent one stays, and
    beyond the size limit the least recently used goes first (but not one used within the
    hour). Ablation: with a 60-day limit the old module stays."""
    import os
    import time

    from asnflux.engine import _kernel

    now = time.time()
    cache = tmp_path / "__pycache__"
    cache.mkdir()

    def module(name: str, days_ago: float) -> None:
        path = tmp_path / f"asnflux_model_{name}.py"
        path.write_text("x = 1\n" * 100)
        (cache / f"asnflux_model_{name}.rhs-3.py311.nbi").write_bytes(b"0" * 1000)
        os.utime(path, (now - 90 * 86400, now - 90 * 86400))  # written long ago
        used = path.with_suffix(".used")  # last loaded
        used.touch()
        os.utime(used, (now - days_ago * 86400, now - days_ago * 86400))

    module("old", 40)
    module("recent", 2)
    module("now", 0.001)
    monkeypatch.setattr(_kernel, "CACHE_MAX_AGE_S", 60 * 86400.0)
    assert _kernel.prune_cache(tmp_path, now=now) == []  # ablation: nothing is old enough
    monkeypatch.setattr(_kernel, "CACHE_MAX_AGE_S", 30 * 86400.0)
    assert _kernel.prune_cache(tmp_path, now=now) == ["asnflux_model_old"]
    assert not any(p.name.startswith("asnflux_model_old") for p in cache.iterdir())
    assert not (tmp_path / "asnflux_model_old.used").exists()
    assert (tmp_path / "asnflux_model_recent.py").exists()
    monkeypatch.setattr(_kernel, "CACHE_MAX_BYTES", 100)
    assert _kernel.prune_cache(tmp_path, now=now) == ["asnflux_model_recent"]
    assert (tmp_path / "asnflux_model_now.py").exists()


def _target_model(target: str) -> Model:
    """D' = piecewise(1, X >= 0.5, 0), X' = -X; an event at 1 h zeroes ``target``."""
    return Model(
        "m",
        "m",
        [Compartment("c", "c", 1.0)],
        [],
        [
            Parameter("D", 0.0, "h", assumption="x", rate_rule="piecewise(1, X >= 0.5, 0)"),
            Parameter("X", 1.0, "dimensionless", assumption="x", rate_rule="-X * kx"),
            Parameter("kx", 1.0, "1/h", assumption="x"),
        ],
        events=[Event("e", 1.0, {target: f"0 * {target}"})],
    )


def test_models_whose_events_set_different_states_do_not_share_code():
    """Review finding: with the event targets out of the key, the model whose event zeroes
    X (so D is a duration and the states reorder) ran on the code of the one whose event
    zeroes D, and returned X = 0 from the start. Each now runs its own code."""
    t = np.array([0.0, 1.0, 2.0, 3.0])
    for target, d_end in (("D", 0.0), ("X", np.log(2.0))):
        ds = compile_model(_target_model(target)).simulate({}, times=t, outputs=["X", "D"])
        ref = REFERENCE.simulate(to_sbml(_target_model(target)), t, ["X", "D"]).table
        np.testing.assert_allclose(ds["X"].values[0], ref["X"], atol=1e-6)
        assert ds["D"].values[0, -1] == pytest.approx(d_end, abs=1e-6)


def test_strict_and_all_duration_conditions():
    """``x > 0`` does not hold while x is exactly 0 (review finding: counted as ≥); a model
    whose only state is a duration is integrated as an ordinary state."""
    model = Model(
        "s",
        "strict",
        [Compartment("c", "c", 1.0)],
        [],
        [
            Parameter(
                "x", 0.0, "dimensionless", assumption="x", rate_rule="-0.1 * x", variable=True
            ),
            Parameter("pos", 0.0, "h", assumption="x", rate_rule="piecewise(1, x > 0, 0)"),
            Parameter("nonneg", 0.0, "h", assumption="x", rate_rule="piecewise(1, x >= 0, 0)"),
        ],
        events=[Event("on", 5.0, {"x": "1"})],
    )
    ds = compile_model(model).simulate({}, times=[0.0, 2.0, 5.0, 10.0], outputs=["pos", "nonneg"])
    np.testing.assert_allclose(ds["pos"].values[0], [0, 0, 0, 5], atol=1e-9)
    np.testing.assert_allclose(ds["nonneg"].values[0], [0, 2, 5, 10], atol=1e-9)
    lone = Model(
        "l",
        "lone",
        [Compartment("c", "c", 1.0)],
        [],
        [
            Parameter("k", 2.0, "dimensionless", assumption="x"),
            Parameter("t_up", 0.0, "h", assumption="x", rate_rule="piecewise(1, k > 1, 0)"),
        ],
    )
    out = compile_model(lone).simulate({}, times=[0.0, 1.0, 5.0], outputs=["t_up"])
    np.testing.assert_allclose(out["t_up"].values[0], [0, 1, 5], atol=1e-9)


def test_an_ensemble_is_written_as_netcdf_or_a_zarr_store(features, tmp_path):
    """``path=`` writes the Dataset as NetCDF or Zarr (the same values); another suffix is
    refused before any work (issue #10: "written to NetCDF/Zarr")."""
    import xarray as xr

    _, compiled, _ = features
    opts = {"times": [0.0, 10.0, 30.0], "outputs": ["A_cyt", "S"]}
    values = {"k_up": np.array([0.2, 0.4])}
    ds = compiled.simulate(values, path=str(tmp_path / "e.zarr"), **opts)
    back = xr.open_zarr(tmp_path / "e.zarr").load()
    np.testing.assert_array_equal(back["A_cyt"].values, ds["A_cyt"].values)
    np.testing.assert_array_equal(back["status"].values, ds["status"].values)
    assert back["A_cyt"].attrs["units"] == "mM"
    nc = compiled.simulate(values, path=str(tmp_path / "e.nc"), **opts)
    np.testing.assert_array_equal(xr.open_dataset(tmp_path / "e.nc")["S"].values, nc["S"].values)
    with pytest.raises(DataError, match=r"path .*e\.csv: an ensemble is written as NetCDF"):
        compiled.simulate(values, path=str(tmp_path / "e.csv"), **opts)
