"""The CLI end to end: params list/show/conflicts/export, demo, errors and exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from asnflux import DataError
from asnflux._io import atomic_write_text


def test_params_list_json_filtered(cli):
    res = cli("params", "list", "--quantity", "Km", "--entity", "ASNS", "--json")
    assert res.code == 0, res.err
    records = json.loads(res.out)
    assert {r["substrate"] for r in records} == {"L-aspartate", "L-glutamine", "ammonium"}
    assert all(r["unit"] == "mM" for r in records)


def test_params_list_table(cli):
    res = cli("params", "list", "--organism", "Fusarium")
    assert res.code == 0
    assert "seed.t1.asnase_fusarium.km" in res.out
    assert "31 mM" in res.out


def test_params_show_json(cli):
    res = cli("params", "show", "pk.peg.cl.kloos", "--json")
    assert res.code == 0, res.err
    payload = json.loads(res.out)
    assert payload["value"] == pytest.approx(0.084 / 24)
    assert payload["unit"] == "L/h/m**2"
    assert payload["citation"].startswith("Kloos RQH")


def test_params_show_table(cli):
    res = cli("params", "show", "seed.t1.asnase_fusarium.km")
    assert res.code == 0
    assert "0.031 M" in res.out
    assert "implausible_magnitude" in res.out


def test_params_show_unknown_is_one_red_line(cli):
    res = cli("params", "show", "seed.t1.asnase_fusarium.kn")
    assert res.code == 1
    assert res.err.startswith("error: no knowledge-base record 'seed.t1.asnase_fusarium.kn'")
    assert "Traceback" not in res.err


def test_params_conflicts_json(cli):
    res = cli("params", "conflicts", "--json")
    assert res.code == 0
    groups = json.loads(res.out)
    assert any(g["fold_range"] == pytest.approx(620.0) for g in groups)


def test_params_export_csv_file(cli, tmp_path):
    target = tmp_path / "kb.csv"
    res = cli(
        "params", "export", "--format", "csv", "--topic", "thresholds", "--output", str(target)
    )
    assert res.code == 0, res.err
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert {r["topic"] for r in rows} == {"thresholds"}


@pytest.mark.parametrize("fmt", ["json", "bibtex"])
def test_params_export_stdout(cli, fmt):
    res = cli("params", "export", "--format", fmt, "--source", "asselin1993")
    assert res.code == 0
    assert "asselin1993" in res.out


def test_params_export_bad_format(cli):
    res = cli("params", "export", "--format", "xml")
    assert res.code == 1
    assert "unknown export format 'xml'" in res.err


def test_params_export_missing_folder(cli, tmp_path):
    res = cli("params", "export", "--output", str(tmp_path / "nope" / "kb.csv"))
    assert res.code == 1
    assert "does not exist" in res.err


def test_usage_error_exit_2(cli):
    res = cli("params", "list", "--bogus")
    assert res.code == 2


def test_demo_writes_report(cli, tmp_path):
    out = tmp_path / "out"
    res = cli("demo", "--out", str(out))
    assert res.code == 0, res.err
    assert "Flagged seed oddities" in res.out
    assert "seed.t1.asnase_fusarium.km" in res.out
    report = (out / "knowledge_base.md").read_text()
    assert "## Records by topic" in report
    assert "implausible_magnitude" in report
    assert (out / "references.bib").read_text().count("@") >= 10
    json.loads((out / "knowledge_base.json").read_text())


def test_console_script_runs(tmp_path):
    # The installed entry point, in a fresh process: what a user types.
    exe = Path(sys.executable).with_name("asnflux")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "asnflux"]
    proc = subprocess.run(
        [*cmd, "params", "show", "lit.saa.csf_depletion_min", "--json"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["value"] == pytest.approx(0.1)


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "result.txt"
    target.write_text("earlier result")

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(DataError, match=r"cannot write .*result\.txt: No space left"):
        atomic_write_text(target, "new result")
    assert target.read_text() == "earlier result"
    assert [p.name for p in tmp_path.iterdir()] == ["result.txt"]  # no temp file left
