"""Kloos 2021's infection as a time-varying covariate (the therapy issue): clearance
carries the model's infection factor (x 1.38) inside each infection episode and not
outside, in the patient network model (simulator and exported SBML) and in TDM's exact PK.
Each behaviour with its ablation."""

from __future__ import annotations

import numpy as np
import pytest

from asnflux import DataError
from asnflux.engine import compile_model
from asnflux.models._formulations import formulation, weight_from_bsa
from asnflux.models._patient_inputs import Population
from asnflux.models.patient import build_patient_model
from asnflux.network import RoadRunnerEngine, to_sbml
from asnflux.therapy import regimen_from_options, simulate, typical_patient
from asnflux.therapy._tdm_model import Predictor

PEG = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0")
FACTOR = formulation("peg").infection_cl  # Kloos 2021, KB pk.peg.cl_infection.kloos


def _rate(res, day: float) -> float:
    """Elimination rate constant (1/h) of SAA at ``day``: -d ln SAA / dt over ±2 h."""
    t = res.times_h * 24.0  # SimResult.times_h is in days
    saa = res.traces["saa_IU_per_mL"][0]
    lo, hi = np.searchsorted(t, [day * 24 - 2, day * 24 + 2])
    return float(-(np.log(saa[hi]) - np.log(saa[lo])) / (t[hi] - t[lo]))


def test_an_episode_raises_clearance_inside_it_and_only_there():
    none = simulate(typical_patient(), PEG, 28)
    ill = simulate(typical_patient(infection_days=[(7, 14)]), PEG, 28)
    throughout = simulate(typical_patient(infection=True), PEG, 28)
    # before the episode, the patient without one
    i7 = int(np.searchsorted(none.times_h, 6.9))
    np.testing.assert_allclose(
        ill.traces["saa_IU_per_mL"][0, :i7], none.traces["saa_IU_per_mL"][0, :i7], rtol=1e-7
    )
    # inside it, elimination x the factor (clearance multiplies: Kloos' ramp is shared)
    assert _rate(ill, 10.0) / _rate(none, 10.0) == pytest.approx(FACTOR, rel=0.01)
    # after it, the patient's own rate again, from a lower level
    assert _rate(ill, 20.0) / _rate(none, 20.0) == pytest.approx(1.0, rel=0.01)
    days = "days_saa_at_or_above_threshold"
    assert throughout.endpoints[days][0] < ill.endpoints[days][0] < none.endpoints[days][0]
    # ablation: an episode later in the course leaves day 10 alone, so the rate ratio is 1
    late = simulate(typical_patient(infection_days=[(20, 25)]), PEG, 28)
    assert _rate(late, 10.0) / _rate(none, 10.0) == pytest.approx(1.0, rel=1e-6)
    with pytest.raises(DataError, match="starts after the simulated 28 days"):
        simulate(typical_patient(infection_days=[(40, 45)]), PEG, 28)


def test_a_one_hour_episode_is_not_stepped_over():
    """Review finding: as a piecewise factor of time, a short episode in the washout fell
    between two long steps; as events it bounds them. The simulator against TDM's exact PK
    (which splits at the edges) after a 1-h episode on day 25 (ablation: without the episode
    the level differs by more than the agreement)."""
    f = formulation("peg")
    pop = typical_patient(infection_days=[(25.0, 25.0 + 1 / 24)])
    times = np.array([700.0])
    sim = simulate(pop, PEG, 30, sample_times_h=times, keep_traces=False).samples
    exact = Predictor(f, None, PEG.doses, times, population=pop)(
        np.zeros(1), np.zeros(1), np.zeros((1, 1))
    )
    np.testing.assert_allclose(sim, exact, rtol=2e-5)
    plain = simulate(typical_patient(), PEG, 30, sample_times_h=times, keep_traces=False).samples
    assert abs(plain[0, 0] / sim[0, 0] - 1) > 1e-3


def test_the_exported_sbml_carries_the_episodes():
    """The patient model with two episodes, exported, run by libroadrunner: the same
    activity as the compiled model (ablation: the model without them differs)."""
    reg = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14")
    pop = typical_patient(infection_days=[(5, 9), (16, 20)])
    model = build_patient_model(pop, reg)
    times = np.linspace(0.0, 24 * 24.0, 193)
    ds = compile_model(model).simulate({}, times=times, outputs=["SAA"])
    ref = (
        RoadRunnerEngine(relative_tolerance=1e-10, absolute_tolerance=1e-14)
        .simulate(to_sbml(model), times, ["SAA"])
        .table
    )
    a, b = ds["SAA"].values[0], ref["SAA"].to_numpy()
    assert np.max(np.abs(a - b)) < 1e-5 * b.max()
    plain = compile_model(build_patient_model(typical_patient(), reg)).simulate(
        {}, times=times, outputs=["SAA"]
    )
    assert np.max(np.abs(plain["SAA"].values[0] - b)) > 0.05 * b.max()


def test_tdms_exact_pk_follows_the_episodes():
    """The population predictor (TDM's exact PK) equals the simulator with an episode;
    ablation: the same patients without it are far off."""
    f = formulation("peg")
    reg = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14")
    rng = np.random.default_rng(5)
    z = rng.standard_normal((4, 2))
    bsa = np.full(4, 1.1)
    pop = Population(bsa, weight_from_bsa(bsa), z[:, 0], z[:, 1], infection_h=((150.0, 400.0),))
    times = np.array([100.0, 200.0, 335.9, 390.0, 500.0, 600.0])
    engine = simulate(pop, reg, 30, sample_times_h=times, keep_traces=False).samples
    mine = Predictor(f, None, reg.doses, times, population=pop)(z[:, 0], z[:, 1], np.zeros((4, 2)))
    np.testing.assert_allclose(mine, engine, rtol=2e-5, atol=1e-9)
    healthy = Population(bsa, weight_from_bsa(bsa), z[:, 0], z[:, 1])
    plain = Predictor(f, None, reg.doses, times, population=healthy)(
        z[:, 0], z[:, 1], np.zeros((4, 2))
    )
    assert not np.allclose(plain, engine, rtol=0.05)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--infection-days", "14-7"], "--infection-days '14-7': expected START-END in days"),
        (["--infection-days", "7"], "--infection-days '7': expected START-END in days"),
        (["--infection-days", "7-14,10-20"], "infection episodes overlap, touch or are out"),
        (["--infection-days", "7-14,14-20"], "infection episodes overlap, touch or are out"),
        (["--infection-days", "7-14", "--infection"], "throughout the course or episodes, not"),
    ],
)
def test_bad_episodes_are_one_line_errors(cli, args, message):
    res = cli("therapy", "simulate", "--formulation", "peg", "--dose", "2500 IU/m**2",
              "--at", "0", *args)  # fmt: skip
    assert res.code != 0
    lines = res.err.strip().splitlines()
    assert len(lines) == 1
    assert message in lines[0]


def test_episodes_need_a_model_with_the_covariate_and_are_recorded(cli):
    res = cli("therapy", "simulate", "--formulation", "erwinia", "--dose", "25000 IU/m**2",
              "--route", "im", "--at", "0", "--infection-days", "7-14")  # fmt: skip
    assert res.code != 0
    assert res.err.strip() == (
        "error: --infection-days: no formulation of the regimen has an infection covariate "
        "(peg with its default kloos2021 model has)"
    )
    import json

    out = cli("therapy", "cohort", "--formulation", "peg", "--dose", "2500 IU/m**2",
              "--at", "0", "--n", "4", "--days", "21", "--infection-days", "7-14,16-18",
              "--json")  # fmt: skip
    assert out.code == 0, out.err
    assert json.loads(out.out)["covariates"]["infection_days"] == "7-14,16-18"
    with pytest.raises(DataError, match="expected \\(start, end\\) day pairs"):
        typical_patient(infection_days=[7, 14])


def test_tdm_of_one_patient_takes_episodes(cli, tmp_path):
    """One patient's TDM: the predictor with the patient's episodes is the simulator with
    them (ablation: without them it is far off); the CLI passes them on, and refuses them
    with a NONMEM dataset, whose patients each have their own."""
    from asnflux.therapy._tdm_model import Covariates

    f = formulation("peg")
    reg = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14")
    times = np.array([100.0, 200.0, 335.9, 390.0, 500.0])
    sick = typical_patient(infection_days=[(6, 16)])
    engine = simulate(sick, reg, 25, sample_times_h=times, keep_traces=False).samples
    w = float(weight_from_bsa(np.ones(1))[0])
    who = Covariates(1.0, w, infection_h=((144.0, 384.0),))
    zero = (np.zeros(1), np.zeros(1), np.zeros((1, 2)))
    np.testing.assert_allclose(Predictor(f, who, reg.doses, times)(*zero), engine, rtol=2e-5)
    plain = Predictor(f, Covariates(1.0, w), reg.doses, times)(*zero)
    assert not np.allclose(plain, engine, rtol=0.05)
    levels = tmp_path / "levels.csv"
    levels.write_text("day,saa_IU_per_mL\n7,0.9\n13.9,0.35\n", encoding="utf-8")
    args = ["therapy", "tdm", "--levels", str(levels), "--formulation", "peg", "--dose",
            "2500 IU/m**2", "--at", "0,14", "--json"]  # fmt: skip
    base, ill = cli(*args), cli(*args, "--infection-days", "6-16")
    assert base.code == 0, base.err
    assert ill.code == 0, ill.err
    assert ill.out != base.out  # the episode moves the fit and the forecast
    bad = cli("therapy", "tdm", "--dataset", str(levels), "--formulation", "peg",
              "--infection-days", "6-16")  # fmt: skip
    assert bad.code != 0
    assert "--infection-days: a NONMEM dataset has no infection column" in bad.err


def test_population_take_keeps_every_per_patient_field():
    """``Population.take`` picks every per-patient array (a field added later must be
    added there too: this loops over the dataclass's fields) and accepts a mask."""
    import dataclasses

    from asnflux.therapy import sample_population

    reg = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14")
    pop, _ = sample_population(6, 2, reg, infection_days=[(3, 5)])
    pop.z_occ = np.arange(12.0).reshape(6, 2)
    rows = np.array([4, 1])
    part = pop.take(rows)
    for fld in dataclasses.fields(Population):
        whole, picked = getattr(pop, fld.name), getattr(part, fld.name)
        if isinstance(whole, np.ndarray):
            np.testing.assert_array_equal(picked, whole[rows], err_msg=fld.name)
        elif isinstance(whole, dict):
            for key, arr in whole.items():
                np.testing.assert_array_equal(picked[key], arr[rows], err_msg=fld.name)
        else:  # the course's covariates
            assert picked == whole, fld.name
    mask = np.zeros(6, bool)
    mask[[1, 4]] = True
    np.testing.assert_array_equal(pop.take(mask).bsa, pop.bsa[[1, 4]])
    assert pop.take(3).n == 1
