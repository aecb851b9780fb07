"""``asnflux cell …`` end to end; exported SBML run by libroadrunner matches the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import roadrunner

OPTS = [
    "--cell-type",
    "all-blast",
    "--cell-type",
    "msc",
    "--asparaginase",
    "0.1 IU/mL",
    "--knockdown",
    "asns=0.2",
    "--set",
    "Km_ASNase=0.02",
]


def test_exported_sbml_matches_simulate(cli, tmp_path):
    csv = tmp_path / "run.csv"
    sbml = tmp_path / "model.xml"
    r = cli("cell", "simulate", *OPTS, "--hours", "48", "--output", str(csv), "--json")
    assert r.code == 0, r.err
    r = cli("cell", "export", str(sbml), *OPTS)
    assert r.code == 0, r.err
    table = pd.read_csv(csv)
    assert table.columns[0] == "time_h"
    assert "Asn_cyt_all_blast [mM]" in table.columns
    rr = roadrunner.RoadRunner(str(sbml))
    rr.integrator.relative_tolerance = 1e-9
    rr.integrator.absolute_tolerance = 1e-12
    species = ["Asn_med", "Asn_cyt_all_blast", "Gln_cyt_msc", "Asp_cyt_all_blast"]
    out = rr.simulate(
        times=list(table["time_h"]), selections=["time"] + [f"[{s}]" for s in species]
    )
    for k, s in enumerate(species, start=1):
        np.testing.assert_allclose(np.asarray(out)[:, k], table[f"{s} [mM]"], rtol=1e-6, atol=1e-12)


def test_simulate_json_and_table(cli, tmp_path):
    r = cli(
        "cell",
        "simulate",
        "--cell-type",
        "solid-asns-high",
        "--asparaginase",
        "0.1 IU/mL",
        "--hours",
        "24",
        "--json",
        "--plot",
        str(tmp_path / "f.png"),
    )
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["cell_types"][0]["viability"] > 0.9
    assert out["config"]["asparaginase"] == "0.1 IU/mL"
    assert (tmp_path / "f.png").stat().st_size > 1000
    r = cli("cell", "simulate", "--hours", "12")
    assert "viability" in r.out


def test_antimony_export_and_diagram(cli, tmp_path):
    r = cli("cell", "export", str(tmp_path / "m.txt"), "--format", "antimony", "--medium", "dmem")
    assert r.code == 0
    assert "model asnflux_cell()" in (tmp_path / "m.txt").read_text(encoding="utf-8")
    r = cli("cell", "diagram", str(tmp_path / "d.gv"), "--cell-type", "hela")
    assert r.code == 0
    assert (tmp_path / "d.gv").read_text(encoding="utf-8").startswith("digraph asnflux {")
    r = cli("cell", "export", str(tmp_path / "m.x"), "--format", "cellml")
    assert r.code == 1
    assert "unknown file type" in r.err


def test_scenarios_commands(cli, tmp_path):
    r = cli("cell", "scenarios", "--json")
    names = {s["name"] for s in json.loads(r.out)}
    assert {"msc-protection", "mtorc1-arf1", "asn-exchange"} <= names
    r = cli("cell", "scenario", "asns-knockdown", "--json", "--plot", str(tmp_path / "s.png"))
    assert r.code == 0, r.err
    assert json.loads(r.out)["passed"] is True
    r = cli("cell", "scenario", "nope")
    assert r.code == 1
    assert "no scenario 'nope'" in r.err


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--cell-type", "b-cell"], "unknown cell type 'b-cell'"),
        (["--knockdown", "asns"], "expected NAME=VALUE"),
        (["--set", "Km_ASNase=abc"], "is not a finite number"),
        (["--asparaginase", "1 mg"], "asparaginase"),
        (["--knockout", "tor"], "unknown knockout"),
    ],
)
def test_simulate_bad_options(cli, args, match):
    r = cli("cell", "simulate", *args, "--hours", "1")
    assert r.code == 1
    assert match in r.err
