"""``asnflux therapy …`` end to end."""

from __future__ import annotations

import json

import pandas as pd

PEG = ["--formulation", "peg", "--dose", "2500 IU/m**2", "--route", "iv", "--at", "0,14,28"]


def test_simulate_csv_with_pre_dose_rows(cli, tmp_path):
    out = tmp_path / "peg.csv"
    r = cli(
        "therapy",
        "simulate",
        *PEG,
        "--bsa",
        "1.2",
        "--age",
        "8",
        "--sex",
        "f",
        "--days",
        "35",
        "--output",
        str(out),
        "--plot",
        str(tmp_path / "p.png"),
        "--json",
    )
    assert r.code == 0, r.err
    table = pd.read_csv(out)
    assert list(table.columns[:5]) == [
        "day",
        "saa_IU_per_mL",
        "asn_plasma_uM",
        "gln_plasma_uM",
        "asn_csf_uM",
    ]
    at14 = table[table["day"] == 14]
    assert len(at14) == 2  # pre-dose row first, then post-dose
    assert at14["saa_IU_per_mL"].iloc[0] < at14["saa_IU_per_mL"].iloc[1]
    assert (table["day"].diff().dropna() <= 1 / 24 + 1e-6).all()  # at least hourly
    payload = json.loads(r.out)
    assert payload["troughs"][0]["day"] == 14
    assert payload["endpoints"]["days_saa_at_or_above_threshold"] > 30


def test_cohort_json_schema(cli):
    r = cli("therapy", "cohort", *PEG, "--n", "100", "--seed", "1", "--threshold", "0.1", "--json")
    assert r.code == 0, r.err
    s = json.loads(r.out)
    assert s["days"] == list(range(36))
    assert set(s["saa_IU_per_mL"]) == {"p5", "p25", "p50", "p75", "p95"}
    assert all(len(v) == 36 for v in s["saa_IU_per_mL"].values())
    assert len(s["fraction_saa_at_or_above_threshold"]) == 36
    assert s["threshold_IU_per_mL"] == 0.1
    assert "blast_log_kill" in s["endpoints"]


def test_tdm_and_formulations(cli, tmp_path):
    levels = tmp_path / "levels.csv"
    levels.write_text("day,saa_IU_per_mL\n7,1.1\n14,0.55\n", encoding="utf-8")
    r = cli(
        "therapy",
        "tdm",
        "--levels",
        str(levels),
        *PEG,
        "--target-trough",
        "0.1",
        "--json",
        "--plot",
        str(tmp_path / "t.png"),
    )
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["inactivation_suspected"] is False
    assert out["next_dose_day"] == 28
    r = cli("therapy", "formulations", "--json")
    names = [f["name"] for f in json.loads(r.out)]
    assert names == [
        "native-ecoli",
        "peg",
        "calaspargase",
        "erwinia",
        "erwinia-recombinant",
        "ecoli-recombinant",
    ]


def test_regimen_file_and_errors(cli, tmp_path):
    reg = tmp_path / "switch.yaml"
    reg.write_text(
        "doses:\n  - {day: 0, formulation: peg, dose: '2500 IU/m**2', route: iv}\n"
        "  - {day: 14, formulation: erwinia, dose: '25000 IU/m**2', route: im, "
        "every: 2d, count: 6}\n",
        encoding="utf-8",
    )
    r = cli("therapy", "simulate", "--regimen", str(reg), "--days", "28", "--json")
    assert r.code == 0, r.err
    assert len(json.loads(r.out)["regimen"]) == 7
    for args, match in [
        (["--formulation", "pegx", "--dose", "1 IU/m**2"], "unknown formulation"),
        (["--formulation", "peg", "--dose", "2500 mg/m**2"], "IU/m"),
        (["--formulation", "peg", "--dose", "2500 IU/m**2", "--at", "14,0"], "increasing"),
        (["--formulation", "peg", "--dose", "2500 IU/m**2", "--sex", "x"], "--sex"),
        (["--formulation", "peg"], "give --formulation and --dose"),
    ]:
        r = cli("therapy", "simulate", *args)
        assert r.code == 1, args
        assert match in r.err, (args, r.err)
    # Out-of-range option values are usage errors (exit 2) naming the option.
    r = cli("therapy", "simulate", "--formulation", "peg", "--dose", "2500 IU/m**2", "--bsa", "-1")
    assert r.code == 2
    assert "'--bsa'" in r.err
    assert "0.1" in r.err


def test_compare_regimens_on_the_same_patients(cli, tmp_path):
    a = tmp_path / "peg.yaml"
    b = tmp_path / "erwinia.yaml"
    a.write_text(
        "doses:\n  - {day: 0, formulation: peg, dose: '2500 IU/m**2', route: iv}\n",
        encoding="utf-8",
    )
    b.write_text(
        "doses:\n  - {day: 0, formulation: erwinia, dose: '25000 IU/m**2', route: im, "
        "every: 2d, count: 6}\n",
        encoding="utf-8",
    )
    r = cli(
        "therapy",
        "compare",
        "--regimen",
        str(a),
        "--regimen",
        str(b),
        "--n",
        "100",
        "--days",
        "14",
        "--json",
    )
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert set(out) == {"peg", "erwinia"}
    peg = out["peg"]["endpoints"]["days_saa_at_or_above_threshold"]["p50"]
    erw = out["erwinia"]["endpoints"]["days_saa_at_or_above_threshold"]["p50"]
    assert peg > erw
    r = cli("therapy", "compare", "--regimen", str(a))
    assert r.code == 1
    assert "at least two" in r.err


def test_cli_phase_and_infection(cli):
    import json

    args = ["therapy", "simulate", "--formulation", "peg", "--dose", "2500 IU/m**2", "--route",
            "iv", "--at", "0", "--days", "42", "--json"]  # fmt: skip
    plain = json.loads(cli(*args).out)
    late = json.loads(cli(*args, "--phase", "mrg-maintenance").out)
    key = "days_saa_at_or_above_threshold"
    assert late["endpoints"][key] > plain["endpoints"][key]  # lower clearance
    r = cli(*args, "--phase", "consolidation")
    assert r.code == 1
    assert "phase 'consolidation': peg (kloos2021) knows induction" in r.err
    r = cli("therapy", "simulate", "--formulation", "erwinia", "--dose", "25000 IU/m**2",
            "--at", "0", "--days", "3", "--infection")  # fmt: skip
    assert r.code == 1
    assert "--infection: no formulation of the regimen has an infection covariate" in r.err


def test_cohort_outputs_record_the_course_covariates(cli, tmp_path):
    import json

    import pandas as pd

    out = tmp_path / "c.csv"
    args = ["therapy", "cohort", "--formulation", "peg", "--dose", "2500 IU/m**2", "--at",
            "0", "--days", "14", "--n", "20", "--json"]  # fmt: skip
    r = cli(*args, "--phase", "protocol-m", "--infection", "--output", str(out))
    assert r.code == 0, r.err
    assert json.loads(r.out)["covariates"] == {
        "phase": "protocol-m", "infection": True, "infection_days": None,
    }  # fmt: skip
    table = pd.read_csv(out)
    assert set(table["phase"]) == {"protocol-m"}
    assert table["infection"].all()
    plain = json.loads(cli(*args).out)  # ablation: an induction run says so
    assert plain["covariates"] == {"phase": None, "infection": False, "infection_days": None}
