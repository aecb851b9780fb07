"""Immunogenicity driven by dose events (therapy defect 6), each behaviour with its ablation."""

import dataclasses

import numpy as np
import pytest

from asnflux._errors import DataError
from asnflux.knowledge import load_knowledge_base
from asnflux.therapy import regimen_from_options, run_cohort, sample_population, simulate
from asnflux.therapy._imm_fit import fit_immunogenicity
from asnflux.therapy._immunogenicity import ImmunogenicityModel, draw_reactions
from asnflux.therapy._validation import (
    _ALL10,
    _ALL11_CONTINUOUS,
    _ALL11_NONCONTINUOUS,
    _course,
    _days,
    _reactions,
)

N = 20000


def _share(regimen, statistic="any", from_dose=0, group="ecoli"):
    value, _ = _reactions(regimen, statistic, group, from_dose)()
    return value


def test_the_fitted_rates_are_the_recorded_ones():
    kb = load_knowledge_base()
    for key, value in fit_immunogenicity().items():
        assert kb.value(key, "dimensionless") == pytest.approx(value, rel=1e-3, abs=1e-12), key
        assert kb.get(key).source == "asnflux_fit_immunogenicity"


def test_reactions_happen_at_doses_of_their_group_not_on_a_clock():
    # Defect 6: the old model started a clock 7-28 days after a group's first dose, so
    # onsets fell between doses and after the last one. Now each lands on a dose.
    reg = _course(
        ("native-ecoli", "25000 IU/m**2", "im", "0,7,14,21"),
        ("erwinia", "25000 IU/m**2", "im", "28,30,32,35,37,39"),
    )
    pop, table = sample_population(N, 3, reg, p_allergy=0.3, p_silent=0.2)
    times = {g: {d.time_h for d in reg.doses if (d.formulation == "erwinia") == (g == "erwinia")}
             for g in ("ecoli", "erwinia")}  # fmt: skip
    for g, doses in times.items():
        for onsets in (pop.allergy_onset_h[g], pop.silent_onset_h[g]):
            hit = onsets[np.isfinite(onsets)]
            assert len(hit) > 100
            assert np.isin(np.round(hit - 0.05, 6), np.round(sorted(doses), 6)).all()
    # the dose number column names the dose of the reaction
    row = table.dropna(subset=["allergy_dose_erwinia"]).iloc[0]
    assert reg.doses[int(row["allergy_dose_erwinia"]) - 1].formulation == "erwinia"


def test_a_single_first_dose_carries_only_the_first_exposure_rate():
    kb = load_knowledge_base()
    one = _course(("peg", "2500 IU/m**2", "iv", "0"))
    first = kb.value("imm.peg.first.fit", "dimensionless")
    assert _share(one) == pytest.approx(first, abs=0.005)
    # ablation: with a first-exposure rate of zero (antibodies need priming) nobody reacts
    model = ImmunogenicityModel.from_kb()
    zero = dataclasses.replace(
        model, rates=model.rates | {"peg": dataclasses.replace(model.rates["peg"], first=0.0)}
    )
    r = draw_reactions(one, N, np.random.default_rng(1), model=zero)
    assert not np.isfinite(r.allergy_onset_h["ecoli"]).any()


def test_an_asparaginase_free_interval_raises_reactions(monkeypatch):
    # DCOG ALL-11: 10.8 % after the interval against 2.6 % without (the fit's data).
    gap = _share(_ALL11_NONCONTINUOUS, from_dose=3)
    cont = _share(_ALL11_CONTINUOUS, from_dose=3)
    assert gap > 3 * cont
    # ablation: an interval threshold longer than any gap removes the difference
    real = ImmunogenicityModel.from_kb

    def no_gap():
        return dataclasses.replace(real(), gap_h=1e9)

    monkeypatch.setattr(ImmunogenicityModel, "from_kb", staticmethod(no_gap))
    assert _share(_ALL11_NONCONTINUOUS, from_dose=3) < 1.5 * cont


def test_native_priming_raises_reactions_to_peg(monkeypatch):
    # PEG after native E. coli (DCOG ALL-10) reacts far more than PEG from the start.
    after_native = _share(_ALL10, from_dose=8)
    alone = _share(_course(("peg", "2500 IU/m**2", "iv", _days(140, 15, 14))), from_dose=0)
    assert after_native > 3 * alone
    # ablation: the cross-reaction rate set to the later-dose rate
    real = ImmunogenicityModel.from_kb

    def no_cross():
        m = real()
        peg = dataclasses.replace(m.rates["peg"], cross=m.rates["peg"].late)
        return dataclasses.replace(m, rates=m.rates | {"peg": peg})

    monkeypatch.setattr(ImmunogenicityModel, "from_kb", staticmethod(no_cross))
    assert _share(_ALL10, from_dose=8) < 0.5 * after_native


def _drawn_share(regimen, from_dose, n=200000, model=None):
    r = draw_reactions(regimen, n, np.random.default_rng(7), model=model)
    first = np.fmin(
        np.where(r.allergy_dose["ecoli"] >= 0, r.allergy_dose["ecoli"], np.nan),
        np.where(r.silent_dose["ecoli"] >= 0, r.silent_dose["ecoli"], np.nan),
    )
    followed = ~(first < from_dose)
    return float(((first >= from_dose) & followed).sum() / followed.sum())


def test_im_peg_reacts_about_twice_as_often_as_iv():
    iv = _drawn_share(_course(("peg", "2500 IU/m**2", "iv", "0,14,28")), 1)
    im = _drawn_share(_course(("peg", "2500 IU/m**2", "im", "0,14,28")), 1)
    assert im / iv == pytest.approx(2.02, rel=0.08)


def test_an_interval_late_in_the_course_does_not_raise_reactions():
    # NOPHO ALL2008: 6-week intervals after five doses did not raise hypersensitivity; the
    # interval counts only with at most imm.gap.max_prior_doses (3) earlier doses.
    kb = load_knowledge_base()
    late = kb.value("imm.peg.late.fit", "dimensionless")
    reg = _course(("peg", "2500 IU/m**2", "iv", "0,14,28,42,84"))  # 6 weeks before dose 5
    assert _drawn_share(reg, 4) == pytest.approx(late, rel=0.3)
    # ablation: a window wide enough to include the fifth dose gives the interval's rate
    wide = dataclasses.replace(ImmunogenicityModel.from_kb(), max_gap_doses=10)
    gap = kb.value("imm.peg.gap.fit", "dimensionless")
    assert _drawn_share(reg, 4, model=wide) == pytest.approx(gap, rel=0.1)


def test_allergy_stops_its_group_only_and_the_cohort_reports_fractions():
    reg = _course(
        ("peg", "2500 IU/m**2", "iv", "0,14"),
        ("erwinia", "25000 IU/m**2", "im", "28,30,32"),
    )
    res = run_cohort(reg, 400, 2, days=35, p_allergy=0.5, p_silent=0.0)
    allergic = res.patients["allergy_dose_ecoli"].notna().to_numpy()
    skipped = res.patients["doses_skipped_after_allergy"].to_numpy()
    # reacting at dose 1 skips PEG dose 2 only; Erwinia doses are still given
    at_first = res.patients["allergy_dose_ecoli"].to_numpy() == 1
    assert (skipped[at_first & ~res.patients["allergy_dose_erwinia"].notna()] == 1).all()
    assert (skipped[~allergic & ~res.patients["allergy_dose_erwinia"].notna()] == 0).all()
    summary = res.summary()
    expected = (allergic | res.patients["allergy_dose_erwinia"].notna()).mean()
    assert summary["fraction_allergy"] == pytest.approx(expected)
    assert summary["fraction_silent_inactivation"] == 0.0
    none = run_cohort(reg, 50, 2, days=35, immunogenicity=False).summary()
    assert none["fraction_allergy"] == 0.0


def test_a_silent_reaction_clears_the_dose_it_happens_at():
    reg = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14")
    pop, table = sample_population(2000, 4, reg, p_allergy=0.0, p_silent=0.6)
    sim = simulate(pop, reg, 28, keep_traces=False)
    at_second = table["silent_dose_ecoli"].to_numpy() == 2
    clean = table["silent_dose_ecoli"].isna().to_numpy()
    trough = sim.daily["saa_IU_per_mL"][:, 21]
    assert np.median(trough[at_second]) < 0.2 * np.median(trough[clean])


def test_override_probabilities_hold_over_the_whole_regimen():
    reg = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14,28,42")
    _, table = sample_population(N, 5, reg, p_allergy=0.2, p_silent=0.1)
    assert table["allergy_dose_ecoli"].notna().mean() == pytest.approx(0.2, abs=0.01)
    assert table["silent_dose_ecoli"].notna().mean() == pytest.approx(0.1, abs=0.01)
    # one alone: the other in the class's silent share (PEG 40 %)
    _, alone = sample_population(N, 5, reg, p_allergy=0.3)
    assert alone["silent_dose_ecoli"].notna().mean() == pytest.approx(0.2, abs=0.01)
    with pytest.raises(DataError, match=r"p_allergy 0\.7 plus p_silent 0\.467"):
        sample_population(10, 5, reg, p_allergy=0.7)


# --- Switching after an allergy (defect 6: "allergy at a dose: stop or switch") -----------


def test_a_switch_gives_erwinia_only_to_the_allergic_patient():
    """PEG days 0, 14, 28 with the label's Erwinia replacement: an allergy at the first dose
    brings Erwinia from day 14 on (six Mon/Wed/Fri doses per PEG dose), none without one.
    Ablation: the same doses unconditional give Erwinia to every patient."""
    from asnflux.therapy import Population, typical_patient, weight_from_bsa
    from asnflux.therapy._regimen import Regimen, with_switch

    base = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14,28")
    reg = with_switch(base)
    extra = [d for d in reg.doses if d.if_allergy == "ecoli"]
    assert [d.time_h / 24 for d in extra] == [14, 16, 18, 21, 23, 25, 28, 30, 32, 35, 37, 39]
    allergic = typical_patient(1.0)
    allergic.allergy_onset_h["ecoli"] = np.array([0.05])  # at the first dose
    well = typical_patient(1.0)
    a = simulate(allergic, reg, 42)
    w = simulate(well, reg, 42)
    assert a.endpoints["doses_skipped_after_allergy"][0] == 2  # the two later PEG doses
    assert w.endpoints["doses_skipped_after_allergy"][0] == 0
    # the allergic patient's activity after day 14 is Erwinia's (short-lived, re-dosed)
    assert a.daily["saa_IU_per_mL"][0, 20] > 0.05
    w_only_peg = simulate(typical_patient(1.0), base, 42)
    np.testing.assert_allclose(  # to the solver's tolerance (two integrations)
        w.daily["saa_IU_per_mL"], w_only_peg.daily["saa_IU_per_mL"], rtol=1e-5
    )
    # ablation: the first block of replacement doses given unconditionally
    first_block = [d for d in extra if d.time_h < 28 * 24]
    forced = Regimen(
        tuple(
            sorted(
                [*base.doses, *(dataclasses.replace(d, time_h=d.time_h + 0.05, if_allergy=None)
                                for d in first_block)],
                key=lambda d: d.time_h,
            )
        )
    )  # fmt: skip
    f = simulate(Population(well.bsa, weight_from_bsa(well.bsa), well.z_cl, well.z_v), forced, 42)
    assert f.daily["saa_IU_per_mL"][0, 20] > w.daily["saa_IU_per_mL"][0, 20] + 0.05


def test_a_switched_course_matches_the_exported_sbml():
    from asnflux.models.patient import build_patient_model
    from asnflux.network import RoadRunnerEngine, to_sbml
    from asnflux.therapy import typical_patient
    from asnflux.therapy._regimen import with_switch

    reg = with_switch(regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14"))
    pop = typical_patient(1.0)
    pop.allergy_onset_h["ecoli"] = np.array([0.05])
    res = simulate(pop, reg, 30)
    t = np.unique(res.times_h * 24)
    idx = [np.nonzero(res.times_h * 24 == x)[0][-1] for x in t]
    rr = RoadRunnerEngine().simulate(to_sbml(build_patient_model(pop, reg)), t, ["SAA"])
    saa = res.traces["saa_IU_per_mL"][0][idx]
    np.testing.assert_allclose(saa, rr.table["SAA"], rtol=1e-5, atol=1e-9)
    assert saa[t == 20 * 24][0] > 0.05  # the Erwinia doses were given (and exported)


def test_replacement_doses_count_as_exposure_only_when_given():
    """Erwinia reactions after a switch happen only in patients who had the E. coli allergy
    (ablation: with no E. coli allergies there are no Erwinia doses, so no reactions)."""
    from asnflux.therapy._regimen import with_switch

    reg = with_switch(regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14,28,42"))
    rng = np.random.default_rng(5)
    r = draw_reactions(reg, N, rng, p_allergy=0.3)
    switched = np.isfinite(r.allergy_onset_h["ecoli"])
    erw = np.isfinite(r.allergy_onset_h["erwinia"]) | np.isfinite(r.silent_onset_h["erwinia"])
    assert erw.any()
    assert not (erw & ~switched).any()
    none = draw_reactions(reg, N, np.random.default_rng(5), p_allergy=0.0, p_silent=0.0)
    assert not np.isfinite(none.allergy_onset_h["erwinia"]).any()


def test_replacement_doses_in_regimen_files(tmp_path):
    from asnflux.therapy import Regimen, read_regimen

    p = tmp_path / "r.yaml"
    p.write_text(
        "doses:\n"
        "  - {day: 0, formulation: peg, dose: '2500 IU/m**2', route: iv}\n"
        "  - {day: 14, formulation: peg, dose: '2500 IU/m**2', route: iv}\n"
        "  - {day: 14, formulation: erwinia, dose: '25000 IU/m**2', route: im, every: 2d, "
        "count: 3, if_allergy_to: ecoli}\n",
        encoding="utf-8",
    )
    reg = read_regimen(p)
    assert [d.if_allergy for d in reg.doses] == [None, None, "ecoli", "ecoli", "ecoli"]
    assert Regimen.from_dict(reg.to_dict()) == reg


@pytest.mark.parametrize(
    ("doses", "message"),
    [
        (
            ["{day: 0, formulation: erwinia, dose: '25000 IU/m**2', if_allergy_to: ecoli}"],
            "no earlier ecoli dose it could replace",
        ),
        (
            ["{day: 0, formulation: peg, dose: '2500 IU/m**2'}",
             "{day: 7, formulation: peg, dose: '2500 IU/m**2', if_allergy_to: ecoli}"],
            "cannot be of the same antibody group",
        ),
        (
            ["{day: 0, formulation: peg, dose: '2500 IU/m**2'}",
             "{day: 7, formulation: erwinia, dose: '25000 IU/m**2', if_allergy_to: pegs}"],
            "'if_allergy_to' must be ecoli or erwinia",
        ),
    ],
)  # fmt: skip
def test_replacement_doses_that_are_refused(tmp_path, doses, message):
    from asnflux.therapy import read_regimen

    p = tmp_path / "r.yaml"
    p.write_text("doses:\n" + "".join(f"  - {d}\n" for d in doses), encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_regimen(p)


def test_cli_on_allergy_switches_the_allergic(cli):
    import json

    args = ["therapy", "cohort", "--formulation", "peg", "--dose", "2500 IU/m**2", "--at",
            "0,14,28", "--days", "42", "--n", "400", "--p-allergy", "0.5", "--json"]  # fmt: skip
    plain = json.loads(cli(*args).out)
    switched = cli(*args, "--on-allergy", "erwinia")
    assert switched.code == 0, switched.err
    out = json.loads(switched.out)
    # Erwinia covers the allergic patients: more days above 0.1 IU/mL than stopping
    key = "days_saa_at_or_above_threshold"
    assert out["endpoints"][key]["mean"] > plain["endpoints"][key]["mean"] + 1
    bad = cli(*args, "--on-allergy", "rylaze")
    assert bad.code == 1
    assert "expected one of erwinia, erwinia-recombinant, erwinia-recombinant-mwf" in bad.err
    rylaze = cli(*args, "--on-allergy", "erwinia-recombinant")
    assert rylaze.code == 0, rylaze.err
    out = json.loads(rylaze.out)
    assert out["endpoints"][key]["mean"] > plain["endpoints"][key]["mean"] + 1


@pytest.mark.parametrize(
    ("to", "days", "amounts"),
    [
        ("erwinia-recombinant", [14 + 2 * k for k in range(7)], [25.0] * 7),
        ("erwinia-recombinant-mwf", [14, 16, 18.3125, 21, 23, 25.3125], [25.0, 25, 50] * 2),
    ],
)
def test_a_switch_to_rylaze_follows_its_label(to, days, amounts):
    """The Rylaze label's Table 1: a PEG dose is replaced by 7 doses every 48 h or 6 on the
    25/25/50 Mon/Wed/Fri regimen, a calaspargase dose by 11 or 9; only for the allergic
    patient (ablation below: a patient without the allergy gets none)."""
    from asnflux.therapy import typical_patient
    from asnflux.therapy._regimen import with_switch

    reg = with_switch(regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14,42"), to)
    extra = [d for d in reg.doses if d.if_allergy == "ecoli" and d.time_h < 42 * 24]
    assert [d.time_h / 24 for d in extra] == days
    assert [d.amount for d in extra] == amounts
    assert {d.formulation for d in extra} == {"erwinia-recombinant"}
    cal = with_switch(regimen_from_options("calaspargase", "2500 IU/m**2", "iv", at="0,21"), to)
    assert len([d for d in cal.doses if d.if_allergy]) == (11 if to.endswith("t") else 9)
    allergic = typical_patient(1.0)
    allergic.allergy_onset_h["ecoli"] = np.array([0.05])
    a = simulate(allergic, reg, 60, truncate=True)
    w = simulate(typical_patient(1.0), reg, 60, truncate=True)
    assert a.daily["saa_IU_per_mL"][0, 20] > 0.1  # Rylaze covers the allergic patient
    plain = regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14,42")
    assert w.daily["saa_IU_per_mL"][0, 20] == pytest.approx(
        simulate(typical_patient(1.0), plain, 60).daily["saa_IU_per_mL"][0, 20], rel=1e-5
    )


def test_rylaze_does_not_replace_native_e_coli():
    from asnflux.therapy._regimen import with_switch

    reg = regimen_from_options("native-ecoli", "25000 IU/m**2", "im", at="0,7")
    with pytest.raises(DataError, match="replaces long-acting products"):
        with_switch(reg, "erwinia-recombinant")
