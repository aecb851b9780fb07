"""LC-MS/MS QC rules: pooled QCs without a nominal value, zero standards, QC nominal 0."""

from __future__ import annotations

import json
from pathlib import Path

EX = Path(__file__).parents[1] / "examples" / "assays" / "lcms_skyline_report.csv"


def with_rows(tmp_path: Path, extra: list[str], edit=lambda line: line) -> Path:
    lines = [edit(line) for line in EX.read_text(encoding="utf-8").splitlines()]
    path = tmp_path / "run.csv"
    path.write_text("\n".join(lines + extra) + "\n", encoding="utf-8")
    return path


def run(cli, path: Path) -> dict:
    r = cli("assay", "lcms", str(path), "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)


def test_pooled_qcs_are_kept_for_precision_only(cli, tmp_path):
    base = run(cli, EX)
    pooled = with_rows(
        tmp_path,
        ["PoolQC_1,Asn,Quality Control,,300000,1900000,", "PoolQC_2,Asn,Quality Control,,330000,"
         "1950000,"],
    )  # fmt: skip
    out = run(cli, pooled)
    pool = out["verdicts"]["qcs"]["pooled"]["PoolQC"]
    assert pool["n"] == 2
    assert 0 < pool["cv_pct"] < 15
    # Precision only: the accuracy verdict and the QC counts are those of the nominal QCs.
    assert out["verdicts"]["qcs"]["n"] == base["verdicts"]["qcs"]["n"]
    assert out["verdicts"]["run_accepted"] == base["verdicts"]["run_accepted"]
    assert any("precision only" in f for f in out["findings"])


def test_imprecise_pool_is_reported(cli, tmp_path):
    pooled = with_rows(
        tmp_path,
        ["PoolQC_1,Asn,Quality Control,,200000,1900000,", "PoolQC_2,Asn,Quality Control,,400000,"
         "1950000,"],
    )  # fmt: skip
    out = run(cli, pooled)
    assert out["verdicts"]["qcs"]["pooled"]["PoolQC"]["precise"] is False
    assert any("PoolQC: CV" in f for f in out["findings"])


def test_a_standard_at_zero_is_a_zero_sample(cli, tmp_path):
    zero = with_rows(tmp_path, ["Cal_0_1,Asn,Standard,0,900,1950000,"])
    out = run(cli, zero)
    assert any("treated as zero samples" in f for f in out["findings"])
    assert out["verdicts"]["standards"]["n"] == run(cli, EX)["verdicts"]["standards"]["n"]
