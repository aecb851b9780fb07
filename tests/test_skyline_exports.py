"""Skyline exports as Skyline writes them: per-transition rows, label types, #N/A peaks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EX = Path(__file__).parents[1] / "examples" / "assays"
TRANSITIONS = EX / "lcms_skyline_transitions.csv"


def quantify(cli, path: Path, *extra: str) -> dict:
    r = cli("assay", "lcms", str(path), "--json", *extra)
    assert r.code == 0, r.err
    return json.loads(r.out)


def concentrations(out: dict) -> dict:
    return {u["replicate"]: u["concentration_uM"] for u in out["unknowns"]}


@pytest.mark.parametrize("mode", ["sum", "quantifier"])
def test_transition_report_quantifies_like_the_molecule_report(cli, mode):
    wide = concentrations(quantify(cli, EX / "lcms_skyline_report.csv"))
    out = quantify(cli, TRANSITIONS, "--transitions", mode)
    assert out["verdicts"]["run_accepted"]
    got = concentrations(out)
    for name, value in wide.items():
        if name == "ALL_ASNase_6":  # #N/A in the transition report: flagged, run goes on
            assert got[name] is None
            assert any("ALL_ASNase_6: no analyte peak" in f for f in out["findings"])
        elif value is not None:
            assert got[name] == pytest.approx(value, rel=1e-9)


def test_any_label_type_and_choosing_among_several(cli, tmp_path):
    text = TRANSITIONS.read_text(encoding="utf-8")
    renamed = tmp_path / "d5.csv"
    renamed.write_text(text.replace(",heavy,", ",heavyD5,"), encoding="utf-8")
    assert quantify(cli, renamed)["verdicts"]["run_accepted"]
    lines = text.splitlines()
    extra = [ln.replace(",heavy,", ",heavy15N,") for ln in lines[1:] if ",heavy," in ln]
    two = tmp_path / "two.csv"
    two.write_text("\n".join(lines + extra) + "\n", encoding="utf-8")
    r = cli("assay", "lcms", str(two))
    assert r.code == 1
    assert "--is-label" in r.err
    assert quantify(cli, two, "--is-label", "heavy")["verdicts"]["run_accepted"]
    r = cli("assay", "lcms", str(two), "--is-label", "heavyC13")
    assert r.code == 1
    assert "heavyc13" in r.err.lower()


def test_molecule_option_and_missing_standard_peak(cli, tmp_path):
    assert quantify(cli, TRANSITIONS, "--molecule", "Asn")["molecule"] == "Asn"
    lines = TRANSITIONS.read_text(encoding="utf-8").splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.startswith("Cal_5uM_1,") and ",light," in ln)
    cells = lines[i].split(",")
    cells[11] = "#N/A"
    lines[i] = ",".join(cells)
    path = tmp_path / "std.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = cli("assay", "lcms", str(path))
    assert r.code == 1
    assert "(standard): no analyte peak area" in r.err
