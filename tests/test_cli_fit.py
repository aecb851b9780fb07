"""``asnflux fit`` end to end on the shipped example and on broken files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[1] / "examples" / "fit" / "puromycin.csv"


def test_fit_json_schema(cli):
    res = cli("fit", str(EXAMPLE), "--model", "michaelis-menten", "--json")
    assert res.code == 0, res.err
    d = json.loads(res.out)
    assert d["model"] == "michaelis-menten"
    assert d["n"] == 12
    assert d["dof"] == 10
    assert d["converged"] is True
    km = d["parameters"]["Km"]
    assert km["value"] == pytest.approx(0.06412, rel=1e-3)
    assert km["ci95"][0] < km["value"] < km["ci95"][1]
    assert km["ci95_profile"][0] == pytest.approx(0.0469, abs=5e-5)


def test_fit_table_and_plot(cli, tmp_path):
    png = tmp_path / "fit.png"
    res = cli(
        "fit", str(EXAMPLE), "--model", "michaelis-menten", "--weight", "1/y", "--plot", str(png)
    )
    assert res.code == 0, res.err
    assert "Vmax" in res.out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fit_sd_column(cli, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("s,v,sd\n0.1,0.09,0.01\n0.3,0.23,0.01\n1,0.5,0.02\n3,0.75,0.02\n10,0.9,0.03\n")
    res = cli(
        "fit",
        str(data),
        "--model",
        "michaelis-menten",
        "--x",
        "s",
        "--y",
        "v",
        "--weight",
        "sd",
        "--json",
    )
    assert res.code == 0, res.err
    assert json.loads(res.out)["n"] == 5


@pytest.mark.parametrize(
    ("content", "args", "match"),
    [
        ("x,y\n1,2\n2,oops\n3,4\n", [], r"column 'y' is not a finite number in row 3 \('oops'\)"),
        ("x,y\n1,2\n2,3\n3,4\n", ["--x", "conc"], r"--x 'conc' is not a column; columns are x, y"),
        ("x,y\n", [], r"no data rows"),
        ("x,y\n1,2\n2,3\n3,4\n4,5\n", ["--model", "nope"], r"unknown model 'nope'"),
    ],
)
def test_fit_bad_input(cli, tmp_path, content, args, match):
    data = tmp_path / "bad.csv"
    data.write_text(content)
    argv = ["fit", str(data), *args]
    if "--model" not in args:
        argv += ["--model", "michaelis-menten"]
    res = cli(*argv)
    assert res.code == 1
    assert res.err.startswith("error:")
    import re

    assert re.search(match, res.err), res.err


def test_fit_missing_file(cli, tmp_path):
    res = cli("fit", str(tmp_path / "nope.csv"), "--model", "linear")
    assert res.code == 1
    assert "no such file" in res.err
