"""PEG's alternative population model (Würthwein 2021's transit chain as PKPDsim codes it):
the engine against an independent closed form, its covariates, the late decline that the
chain causes (with the chain removed as the ablation), and ``--pk-model`` on the CLI."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from asnflux import DataError
from asnflux.knowledge import load_knowledge_base
from asnflux.models import _formulations
from asnflux.therapy import simulate
from asnflux.therapy._cohort import typical_patient
from asnflux.therapy._regimen import regimen_from_options, with_pk_model

KB = load_knowledge_base()
MODEL = "peg/wurthwein2021-pkpdsim"
DAYS = (1.0, 4.0, 11.0, 18.0, 25.0, 28.0)


def _closed_form(t_days: np.ndarray, bsa: float, age: float, female: bool) -> np.ndarray:
    """Activity (IU/mL) after 2,500 IU/m² IV from the file's equations solved by hand: a bolus
    into the first of n identical compartments, each losing at (CL + Q)/V and passing Q/V
    to the next, leaves D·e^(−(k + k_tr)t)·Σ_{j<n} (k_tr t)^j / j! in the chain."""
    v = lambda rid, unit: KB.value(f"pk.peg.{rid}.wurthwein_pkpdsim", unit)  # noqa: E731
    ref = v("reference_bsa", "m**2")
    cl = v("cl", "L/day") * (1 + v("bsa_slope_cl", "1/m**2") * (bsa - ref))
    q = v("q", "L/day") * (1 + v("bsa_slope_cl", "1/m**2") * (bsa - ref))
    vol = v("v", "L") * (1 + v("bsa_slope_v", "1/m**2") * (bsa - ref))
    if age > v("age_cl_from", "year"):
        cl *= 1 + v("age_cl_slope", "1/year") * (age - v("age_cl_from", "year"))
    if female:
        cl *= v("female_cl", "dimensionless")
    n = round(v("transit_n", "dimensionless"))
    k, k_tr = cl / vol, q / vol
    total = sum((k_tr * t_days) ** j / math.factorial(j) for j in range(n))
    return 2500.0 * bsa * np.exp(-(k + k_tr) * t_days) * total / vol / 1000.0


def _engine(bsa: float, age: float | None, sex: str | None, name: str = MODEL) -> np.ndarray:
    reg = regimen_from_options(name, "2500 IU/m**2", "iv", at="0")
    pop = typical_patient(bsa, age=age, sex=sex)
    res = simulate(pop, reg, 30, sample_times_h=[24 * d for d in DAYS])
    return res.samples[0]


@pytest.mark.parametrize(("bsa", "age", "sex"), [(0.79, 5.0, "m"), (1.3, 12.0, "f")])
def test_the_engine_is_the_models_closed_form(bsa, age, sex):
    np.testing.assert_allclose(
        _engine(bsa, age, sex), _closed_form(np.array(DAYS), bsa, age, sex == "f"), rtol=1e-5
    )  # the solver's tolerance (rtol 1e-6 per step)


def test_age_and_sex_are_covariates_of_this_model_only():
    boy, girl = _engine(1.3, 12.0, "m"), _engine(1.3, 12.0, "f")
    assert np.all(girl[1:] > boy[1:])  # lower clearance
    young = _engine(1.3, 6.0, "m")
    assert np.all(young[1:] > boy[1:])  # clearance rises above 8 years
    # the reference patient: no age or sex given
    np.testing.assert_allclose(_engine(1.3, None, None), _engine(1.3, 8.0, "m"), rtol=1e-12)
    # Kloos 2021 has neither covariate
    np.testing.assert_allclose(
        _engine(1.3, 12.0, "f", "peg"), _engine(1.3, 6.0, "m", "peg"), rtol=1e-12
    )


def _late_fall(name: str) -> float:
    c = _engine(1.0, None, None, name)
    return float(c[DAYS.index(25.0)] / c[DAYS.index(18.0)])


def test_the_chain_makes_the_late_decline_steep(monkeypatch):
    assert _late_fall(MODEL) < 0.5  # 0.34: the chain empties after about three weeks
    # ablation: the same model without the chain (elimination at CL/V only) declines at
    # its slow elimination rate, 0.82 over the week
    f = _formulations.formulation(MODEL)
    flat = dataclasses.replace(f, transit_n=0, q=0.0)
    monkeypatch.setitem(_formulations._build(), MODEL, flat)
    assert _late_fall(MODEL) > 0.75


def test_a_bsa_outside_the_linear_size_relation_is_refused():
    with pytest.raises(DataError, match="linear size relation"):
        _engine(0.1, None, None)


def test_pk_model_names_and_regimens():
    assert _formulations.pk_models("peg") == ("kloos2021", "wurthwein2021-pkpdsim")
    assert _formulations.formulation_name("peg", "kloos2021") == "peg"
    assert _formulations.formulation_name("peg", None) == "peg"
    with pytest.raises(DataError, match="--pk-model 'nope' is not a model of peg"):
        _formulations.formulation_name("peg", "nope")
    reg = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14")
    assert {d.formulation for d in with_pk_model(reg, "wurthwein2021-pkpdsim").doses} == {MODEL}
    with pytest.raises(DataError, match="not a model of the regimen's formulations"):
        with_pk_model(regimen_from_options("erwinia", "25000 IU/m**2", "im", at="0"), "kloos2021")


def _day(cli, *extra: str) -> float:
    r = cli("therapy", "simulate", "--formulation", "peg", "--dose", "2500 IU/m**2", "--route",
            "iv", "--at", "0,21", "--days", "22", *extra, "--json")  # fmt: skip
    assert r.code == 0, r.err
    return float(json.loads(r.out)["troughs"][0]["saa_IU_per_mL"])


def test_cli_pk_model(cli):
    default = _day(cli)
    assert _day(cli, "--pk-model", "kloos2021") == default
    alternative = _day(cli, "--pk-model", "wurthwein2021-pkpdsim")
    assert alternative != pytest.approx(default, rel=0.05)
    assert _day(cli, "--pk-model", "wurthwein2021-pkpdsim", "--age", "14") < alternative
    r = cli("therapy", "simulate", "--formulation", "peg", "--dose", "2500 IU/m**2",
            "--pk-model", "nope")  # fmt: skip
    assert r.code != 0
    assert r.err.strip().count("\n") == 0
    assert "--pk-model 'nope'" in r.err


def _cohort_day21(cli, *extra: str) -> float:
    r = cli("therapy", "cohort", "--formulation", "peg", "--dose", "2500 IU/m**2", "--route",
            "iv", "--at", "0", "--days", "22", "--n", "60", "--no-immunogenicity",
            "--pk-model", "wurthwein2021-pkpdsim", *extra, "--json")  # fmt: skip
    assert r.code == 0, r.err
    quantiles = json.loads(r.out)["saa_IU_per_mL"]
    return float(quantiles["p50"][21] if isinstance(quantiles, dict) else quantiles[21]["p50"])


def test_cohort_age_and_sex_are_every_patients_covariates(cli):
    """Before, `cohort --age/--sex` were checked and then ignored (the cohort's own sampled
    ages and sexes were used): older patients clear PEG faster in Würthwein's model (CL ×
    1.21 at 18 y, none below 8 y), so a cohort of 18-year-olds has a lower day-21 median
    than one of 5-year-olds, the sampled ages lying between; girls (CL × 0.923) a higher
    one than boys."""
    young, old = _cohort_day21(cli, "--age", "5"), _cohort_day21(cli, "--age", "18")
    assert old < 0.95 * young
    assert old < _cohort_day21(cli) < young
    assert _cohort_day21(cli, "--sex", "f") > _cohort_day21(cli, "--sex", "m")
    r = cli("therapy", "cohort", "--formulation", "peg", "--dose", "2500 IU/m**2", "--sex", "x")
    assert r.code != 0
    assert "--sex must be f or m" in r.err


def test_kloos_treatment_phase_and_infection_scale_clearance():
    """Kloos 2021's final model: CL x 0.81 in medium-risk maintenance and x 1.38 during an
    infection, relative to induction. Before the clearance split (12.7 d) its one
    compartment declines as exp(-CL t / V), so the day-7 activity ratio is exact (ablation:
    the infection factor moves it the other way)."""
    import math

    from asnflux.knowledge import load_knowledge_base
    from asnflux.models._formulations import formulation
    from asnflux.therapy import regimen_from_options, simulate, typical_patient

    kb = load_knowledge_base()
    reg = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0")
    base = simulate(typical_patient(1.0), reg, 8).daily["saa_IU_per_mL"][0, 7]
    f = formulation("peg")
    k = f.cl / f.v1  # per h, BSA 1 m²: CL and V scale alike
    for phase, infection, factor in (
        (
            "mrg-maintenance",
            False,
            kb.value("pk.peg.cl_phase.mrg_maintenance.kloos", "dimensionless"),
        ),
        (None, True, kb.value("pk.peg.cl_infection.kloos", "dimensionless")),
    ):
        pop = typical_patient(1.0, phase=phase, infection=infection)
        saa = simulate(pop, reg, 8).daily["saa_IU_per_mL"][0, 7]
        assert math.log(saa / base) == pytest.approx(-(factor - 1) * k * 168.0, rel=1e-3)


def test_a_phase_is_refused_where_the_model_has_none():
    from asnflux import DataError
    from asnflux.therapy import regimen_from_options, simulate, typical_patient

    erw = regimen_from_options("erwinia", "25000 IU/m**2", "im", at="0")
    with pytest.raises(DataError, match="--phase induction: no formulation of the regimen"):
        simulate(typical_patient(1.0, phase="induction"), erw, 3)
    with pytest.raises(DataError, match="--infection: no formulation"):
        simulate(typical_patient(1.0, infection=True), erw, 3)
    peg = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0")
    with pytest.raises(DataError, match="phase 'consolidation': peg \\(kloos2021\\) knows"):
        simulate(typical_patient(1.0, phase="consolidation"), peg, 3)
