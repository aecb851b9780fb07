"""ICH M10 run acceptance, rule by rule (chromatography, §3.2.4, §3.3.1, §3.3.2).

Each test builds a run from the shipped Skyline example (or a small synthetic one) with one
defect and checks the verdict the guideline gives; ``test_rejection_order_ablation`` shows
that the rejection-order test fails when standards are judged on the curve that includes
them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from asnflux import load_knowledge_base
from asnflux._tables import read_table
from asnflux.assays import _lcms, lcms_quantify

EX = Path(__file__).parents[1] / "examples" / "assays" / "lcms_skyline_report.csv"
HEADER = "Replicate Name,Molecule Name,Sample Type,Analyte Concentration (uM),Area,IS Area"
LEVELS = [0.5, 1, 2.5, 5, 10, 25, 50, 100]
NOISE = [1.02, 0.97, 1.03, 0.98, 1.01, 0.99, 1.02, 0.98]


def single_replicate_run(tmp_path: Path, lloq_factor: float) -> Path:
    """Eight levels, one standard each, 1/x²-weighted linear response; the LLOQ standard
    mis-prepared by ``lloq_factor``; QCs in duplicate at three levels."""
    rows = [HEADER, "Blank_01,Asn,Blank,,500,2000000"]
    for c, e in zip(LEVELS, NOISE, strict=True):
        f = lloq_factor if c == LEVELS[0] else 1.0
        rows.append(f"Cal_{c:g}_1,Asn,Standard,{c},{round(c * 2e5 * e * f)},2000000")
    rows.append("DB_01,Asn,Double Blank,,100,500")
    for name, c in (("LQC", 1.5), ("MQC", 20), ("HQC", 80)):
        for k in (1, 2):
            area = round(c * 2e5 * (1 + 0.02 * (-1) ** k))
            rows.append(f"{name}_{k},Asn,Quality Control,{c},{area},2000000")
    rows.append("S1,Asn,Unknown,,600000,2000000")
    path = tmp_path / "run.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def edited(tmp_path: Path, edit=lambda line: line, extra=()) -> Path:
    lines = [edit(line) for line in EX.read_text(encoding="utf-8").splitlines()]
    lines = [ln for ln in lines if ln is not None]
    path = tmp_path / "run.csv"
    path.write_text("\n".join([*lines, *extra]) + "\n", encoding="utf-8")
    return path


def scale_area(prefix: str, factor: float):
    def edit(line: str) -> str:
        if not line.startswith(prefix):
            return line
        cells = line.split(",")
        cells[4] = str(round(float(cells[4]) * factor))
        return ",".join(cells)

    return edit


def quantify(path: Path):
    return lcms_quantify(read_table(path))


def test_mis_prepared_lloq_goes_first_under_1_over_x2(tmp_path):
    # Under 1/x² the LLOQ has the largest weight: judged on the curve it drags, it passed
    # and the good 1 µM standard failed (-33 %), and then the LQC failed with it.
    res = quantify(single_replicate_run(tmp_path, 1.6))
    std = res.standards.set_index("replicate")
    assert not std.loc["Cal_0.5_1", "accepted"]
    assert std["accepted"].sum() == 7
    assert res.verdicts["standards"]["range_truncated"]
    assert res.verdicts["standards"]["range_uM"] == [1.0, 100.0]
    assert res.verdicts["run_accepted"] is True
    assert std.loc["Cal_0.5_1", "limit_pct"] == 20  # judged as the LLOQ it was


def test_rejection_order_ablation(tmp_path, monkeypatch):
    # Ablation: judge each standard on the curve that includes it (the previous rule); the
    # good 1 µM standard is then rejected and the run fails, so the test above can fail.
    def on_current_curve(keep, x, fit, r):
        _, bias, tol = fit(keep)
        return int(np.argmax(np.where(keep, np.abs(bias) / tol, -np.inf)))

    monkeypatch.setattr(_lcms, "_most_deviant", on_current_curve)
    res = quantify(single_replicate_run(tmp_path, 1.6))
    std = res.standards.set_index("replicate")
    assert std.loc["Cal_0.5_1", "accepted"]
    assert not std.loc["Cal_1_1", "accepted"]
    assert res.verdicts["run_accepted"] is False


def test_a_good_run_keeps_every_good_standard(tmp_path):
    res = quantify(single_replicate_run(tmp_path, 1.0))
    assert res.standards["accepted"].all()
    assert not res.verdicts["standards"]["range_truncated"]


def test_half_of_each_replicated_level_must_pass(tmp_path):
    # Both 10 µM standards 40 % high: 14 of 16 pass (88 % ≥ 75 %) and 7 levels remain, but
    # an interior level with 0 of 2 fails §3.2.4's 50 %-per-level rule.
    res = quantify(edited(tmp_path, scale_area("Cal_10uM", 1.4)))
    assert res.verdicts["standards"]["per_level"]["10"] == 0.0
    assert res.verdicts["standards"]["pass"] is False
    assert res.verdicts["run_accepted"] is False
    assert any("level 10 µM: 0 of 2" in f for f in res.findings)


def test_qcs_need_three_levels(tmp_path):
    res = quantify(edited(tmp_path, lambda ln: None if ln.startswith("HQC") else ln))
    assert res.verdicts["qcs"]["design_ok"] is False
    assert res.verdicts["run_accepted"] is False
    assert any("≥ 3 (low, medium, high)" in f for f in res.findings)


def test_qcs_need_duplicates(tmp_path):
    drop = ("LQC_2", "LQC_3")
    res = quantify(edited(tmp_path, lambda ln: None if ln.startswith(drop) else ln))
    assert res.verdicts["qcs"]["design_ok"] is False
    assert any("fewer than 2 replicates" in f for f in res.findings)


def test_qcs_scale_with_the_number_of_study_samples(tmp_path):
    # 9 QCs cover up to 180 study samples; 200 need ten (5 %).
    extra = [f"S{i},Asn,Unknown,,453204,1903715,2e+06" for i in range(194)]
    res = quantify(edited(tmp_path, extra=extra))
    assert len(res.unknowns) == 200
    assert res.verdicts["qcs"]["design_ok"] is False
    assert any("requires ≥ 10" in f for f in res.findings)
    fewer = quantify(edited(tmp_path, extra=extra[:174]))  # 180 study samples
    assert fewer.verdicts["qcs"]["design_ok"] is True


def test_truncated_range_must_cover_the_qcs(tmp_path):
    # Both 100 µM standards 50 % high: the ULOQ becomes 50 µM and the 80 µM HQC lies outside.
    res = quantify(edited(tmp_path, scale_area("Cal_100uM", 1.5)))
    assert res.verdicts["standards"]["range_uM"] == [0.5, 50.0]
    assert res.verdicts["qcs"]["design_ok"] is False
    assert res.verdicts["run_accepted"] is False
    assert any("outside the run's calibrated range" in f for f in res.findings)


def test_unknowns_of_a_rejected_run_are_not_reported_ok(tmp_path, cli):
    path = edited(tmp_path, lambda ln: None if ln.startswith("HQC") else ln)
    out = json.loads(cli("assay", "lcms", str(path), "--json").out)
    assert out["verdicts"]["run_accepted"] is False
    assert all("run rejected" in u["status"] for u in out["unknowns"])
    good = json.loads(cli("assay", "lcms", str(EX), "--json").out)
    assert all("run rejected" not in u["status"] for u in good["unknowns"])


@pytest.mark.parametrize(
    ("record", "section"),
    [
        ("ich_m10.standards.max_bias", "3.2.4"),
        ("ich_m10.standards.min_pass_fraction_per_level", "3.2.4"),
        ("ich_m10.qc.min_pass_fraction", "3.3.2"),
        ("ich_m10.qc.min_count", "3.3.1"),
        ("ich_m10.blank.max_is_vs_is", "3.2.6 Carry-over"),
    ],
)
def test_rules_cite_the_guideline_sections(record, section):
    assert section in load_knowledge_base().get(record).locator


def with_column(name: str, cell) -> list[str]:
    """The example's lines with one more column: ``name``, and ``cell(k)`` in data row k."""
    out, k = [], 0
    for line in EX.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            out.append(line)
        elif line.startswith("Replicate Name"):
            out.append(f"{line},{name}")
        else:
            out.append(f"{line},{cell(k)}")
            k += 1
    return out


def dilution_run(tmp_path: Path, dqc_factor: float, unknown_dilution: int = 10) -> Path:
    """The example with a Sample Dilution Factor column, three dilution QCs at 400 µM
    diluted 10× (their areas ``dqc_factor`` × right) and one unknown diluted 10×."""
    out = with_column("Sample Dilution Factor", lambda k: "")
    area = round(40 * 190_000 * dqc_factor)  # 40 µM in the vial (slope ≈ 0.095 per µM)
    for k in (1, 2, 3):
        out.append(f"DQC_{k},Asn,Quality Control,400,{area},2000000,,10")
    out.append(f"ALL_hi_1,Asn,Unknown,,3000000,2000000,2e+06,{unknown_dilution}")
    path = tmp_path / "run.csv"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def test_dilution_qcs_are_judged_on_the_undiluted_value(tmp_path):
    res = quantify(dilution_run(tmp_path, 1.0))
    qcs = res.qcs.set_index("replicate")
    # found = read-back × 10, near the 400 µM nominal; without the factor it read -90 %
    assert abs(qcs.loc["DQC_1", "bias_pct"]) < 15
    assert res.verdicts["qcs"]["dilution"]["10"]["pass"] is True
    assert res.verdicts["qcs"]["n"] == 9  # the run's own QCs; dilution QCs are apart
    assert res.verdicts["run_accepted"] is True
    hi = res.unknowns.set_index("replicate").loc["ALL_hi_1"]
    assert hi["status"] == "ok"


def test_failed_dilution_qcs_make_diluted_unknowns_unreportable(tmp_path):
    res = quantify(dilution_run(tmp_path, 1.4))
    assert res.verdicts["qcs"]["dilution"]["10"]["pass"] is False
    assert res.verdicts["run_accepted"] is True  # the run itself stands
    unknowns = res.unknowns.set_index("replicate")
    assert "dilution QC failed" in unknowns.loc["ALL_hi_1", "status"]
    assert unknowns.loc["ALL_ctrl_1", "status"] == "ok"


def test_a_dilution_without_its_qc_is_reported(tmp_path):
    res = quantify(dilution_run(tmp_path, 1.0, unknown_dilution=5))
    assert any("diluted 5× have no dilution QC" in f for f in res.findings)


def test_report_shows_accuracy_is_response_qc_levels_and_metadata(cli, tmp_path):
    out = tmp_path / "run.html"
    r = cli("assay", "lcms", str(EX), "--report", str(out), "--analyst", "A. Lab",
            "--instrument", "QTRAP 6500+")  # fmt: skip
    assert r.code == 0, r.err
    page = out.read_text(encoding="utf-8")
    for heading in ("Accuracy of standards and QCs", "QC levels", "Internal-standard response"):
        assert f"<h2>{heading}</h2>" in page
    assert "A. Lab" in page
    assert "QTRAP 6500+" in page
    assert "modified" in page
    # 0.5-100 µM spans 200×: log–log axes keep the straight line straight (no symlog)
    assert "log–log axes" in page
    assert "symlog" not in page


def test_curve_axes_are_linear_for_a_narrow_range():
    from asnflux.report._html import _curve_figure

    wide = quantify(EX).calibration  # 0.5-100 µM
    assert wide is not None
    assert "log–log" in _curve_figure(wide, "x", "y")
    from asnflux.assays import calibrate

    lin = calibrate(np.array([1.0, 2, 4, 8, 16]), np.array([1.0, 2.1, 3.9, 8.2, 15.8]))
    assert "linear axes" in _curve_figure(lin, "x", "y")


def test_qc_levels_table(tmp_path):
    res = quantify(EX)
    levels = res.qc_levels().set_index("nominal_uM")
    assert list(levels.index) == [1.5, 20.0, 80.0]
    assert (levels["n"] == 3).all()
    found = res.qcs[res.qcs["nominal_uM"] == 80.0]["found_uM"].astype(float)
    assert levels.loc[80.0, "cv_pct"] == pytest.approx(100 * found.std() / found.mean())


def test_low_is_response_of_an_unknown_is_flagged(tmp_path):
    def low_is(line: str) -> str:
        if not line.startswith("ALL_ctrl_1,"):
            return line
        cells = line.split(",")
        cells[5] = str(round(float(cells[5]) * 0.3))  # 30 % of the usual IS area
        return ",".join(cells)

    res = quantify(edited(tmp_path, low_is))
    assert any("ALL_ctrl_1" in f and "IS response" in f for f in res.findings)
    assert not any("IS response" in f for f in quantify(EX).findings)
    inj = res.injections.set_index("replicate")
    assert inj.loc["ALL_ctrl_1", "is_pct_of_calibrators"] < 50


# --------------------------------------------------------------- Levey–Jennings / Westgard

HISTORY_FACTORS = [0.99, 1.01, 0.985, 1.015, 1.0, 0.995, 1.005]


def qc_scaled(factors: dict[str, float]):
    def edit(line: str) -> str:
        for prefix, f in factors.items():
            if line.startswith(prefix):
                cells = line.split(",")
                cells[4] = str(round(float(cells[4]) * f))
                return ",".join(cells)
        return line

    return edit


def history(tmp_path: Path, cli) -> list[str]:
    """Seven earlier runs: the example with every QC's area scaled by ±1.5 %."""
    files = []
    for k, f in enumerate(HISTORY_FACTORS):
        run_dir = tmp_path / f"h{k}"
        run_dir.mkdir()
        path = edited(run_dir, qc_scaled({"LQC": f, "MQC": f, "HQC": f}))
        out = cli("assay", "lcms", str(path), "--json")
        assert out.code == 0, out.err
        js = run_dir / "run.json"
        js.write_text(out.out, encoding="utf-8")
        files.append(str(js))
    return files


def test_levey_jennings_in_control(tmp_path, cli):
    past = history(tmp_path, cli)
    args = [a for f in past for a in ("--history", f)]
    out = json.loads(cli("assay", "lcms", str(EX), *args, "--json").out)
    lj = out["levey_jennings"]
    assert lj["history_runs"] == 7
    assert set(lj["levels"]) == {"1.5", "20", "80"}
    assert [v["rule"] for v in lj["violations"]] == []
    assert lj["reject"] is False
    assert any("Westgard's assume about 20" in f for f in out["findings"])


def test_levey_jennings_flags_a_shifted_qc(tmp_path, cli):
    past = history(tmp_path, cli)
    args = [a for f in past for a in ("--history", f)]
    shifted = edited(tmp_path, qc_scaled({"HQC": 1.10}))  # +10 % where the history spreads ±1 %
    out = json.loads(cli("assay", "lcms", str(shifted), *args, "--json").out)
    lj = out["levey_jennings"]
    rules = {(v["rule"], v["level_uM"]) for v in lj["violations"]}
    assert ("1_3s", 80.0) in rules
    assert lj["levels"]["80"]["z"] > 3
    assert abs(lj["levels"]["20"]["z"]) < 2  # the other levels stay in control
    assert lj["reject"] is True
    assert out["verdicts"]["run_accepted"] is True  # ICH M10 acceptance is separate
    assert any(f.startswith("Westgard 1_3s") for f in out["findings"])
    page = tmp_path / "r.html"
    cli("assay", "lcms", str(shifted), *args, "--report", str(page))
    assert "Levey–Jennings (QC levels across runs)" in page.read_text(encoding="utf-8")


def test_westgard_multirules_on_constructed_series():
    from asnflux.assays._levey import levey_jennings

    def run(values):  # one QC per level with the given found values
        return {"qcs": [{"nominal_uM": lvl, "found_uM": v, "dilution": 1.0}
                        for lvl, v in values.items()]}  # fmt: skip

    base = [run({1.0: 1.0 + d, 10.0: 10.0 + 10 * d}) for d in (-0.01, 0.01, -0.02, 0.02, 0.0)]
    hist = [(f"r{i}", r) for i, r in enumerate(base)]
    sd = float(np.std([1.0 + d for d in (-0.01, 0.01, -0.02, 0.02, 0.0)], ddof=1))
    # R_4s: one level above +2 SD, the other below -2 SD in this run
    lj = levey_jennings(run({1.0: 1.0 + 2.5 * sd, 10.0: 10.0 - 25 * sd})["qcs"], hist)
    assert "R_4s" in {v["rule"] for v in lj["violations"]}
    # 2_2s across levels: both levels beyond +2 SD (but within 3)
    lj = levey_jennings(run({1.0: 1.0 + 2.5 * sd, 10.0: 10.0 + 25 * sd})["qcs"], hist)
    assert "2_2s" in {v["rule"] for v in lj["violations"]}
    assert "1_3s" not in {v["rule"] for v in lj["violations"]}
    # 1_2s alone is a warning, not a rejection
    lj = levey_jennings(run({1.0: 1.0 + 2.5 * sd, 10.0: 10.0})["qcs"], hist)
    assert {v["rule"] for v in lj["violations"]} == {"1_2s"}
    assert lj["reject"] is False


def test_history_of_another_assay_is_refused(tmp_path, cli):
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"protocol": "lcms-isotope-dilution", "molecule": "Gln"}))
    r = cli("assay", "lcms", str(EX), "--history", str(other))
    assert r.code == 1
    assert "a run of 'Gln', not 'Asn'" in r.err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = cli("assay", "lcms", str(EX), "--history", str(bad))
    assert "bad.json: not JSON" in r.err


@pytest.mark.parametrize(
    ("dropped", "missing"),
    [("DoubleBlank", "no blank (Double Blank"), ("Blank_01", "no zero sample (Blank")],
)
def test_a_run_needs_a_blank_and_a_zero_sample(tmp_path, dropped, missing):
    res = quantify(edited(tmp_path, lambda ln: None if ln.startswith(dropped) else ln))
    assert res.verdicts["blanks"]["blank_and_zero_present"] is False
    assert res.verdicts["run_accepted"] is False
    assert any(missing in f for f in res.findings)
    assert quantify(EX).verdicts["blanks"]["blank_and_zero_present"] is True


def test_report_shows_the_acquisition_period(tmp_path, cli):
    out = with_column(
        "Acquired Time", lambda k: f"2024-03-14 {9 + 7 * k // 60:02d}:{7 * k % 60:02d}:00"
    )
    path = tmp_path / "timed.csv"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    res = quantify(path)
    assert res.acquired == ("2024-03-14 09:00:00", "2024-03-14 12:51:00")
    page = tmp_path / "r.html"
    assert cli("assay", "lcms", str(path), "--report", str(page)).code == 0
    assert "Acquired 2024-03-14 09:00:00 – 2024-03-14 12:51:00" in page.read_text("utf-8")
    assert quantify(EX).acquired is None
