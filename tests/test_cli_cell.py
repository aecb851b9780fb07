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


def test_cell_ensemble_writes_members_that_match_simulate_cell(cli, tmp_path):
    """``cell ensemble`` (compiled backend) against ``simulate_cell`` (libroadrunner with
    the member's values as overrides) for each member, every column; ablation: a member
    against another member's run fails the same rule."""
    import xarray as xr

    from asnflux.models.cell import CellConfig, simulate_cell

    out = tmp_path / "ens.nc"
    r = cli(
        "cell", "ensemble", "--vary", "Km_ASNS_Asp=0.2:1", "--vary", "kd_max=0.01:0.05",
        "--n", "3", "--asparaginase", "0.1 IU/mL", "--hours", "24", "--output", str(out),
        "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    assert json.loads(r.out) == {"members": 3, "failed": 0, "hours": 24.0, "output": str(out)}
    ds = xr.open_dataset(out)
    assert ds["Asn_med"].attrs["units"] == "mM"
    assert ds["value_kd_max"].attrs["units"] == "1/h"
    runs = []
    for k in range(3):
        overrides = {p: float(ds[f"value_{p}"].values[k]) for p in ("Km_ASNS_Asp", "kd_max")}
        cfg = CellConfig(asparaginase="0.1 IU/mL", overrides=overrides)
        runs.append(simulate_cell(cfg, 24).table)
    cols = [c for c in runs[0].columns if c != "time_h"]

    def worst(k: int, table) -> float:
        return max(
            float(np.max(np.abs(ds[c].values[k] - table[c].to_numpy())))
            / max(float(np.abs(table[c]).max()), 1e-12)
            for c in cols
        )

    assert all(worst(k, runs[k]) < 1e-3 for k in range(3))
    assert worst(1, runs[0]) > 1e-2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--vary", "Km_ASNS_Asp=1:0.5"], "expected NAME=LOW:HIGH with 0 < LOW < HIGH"),
        (["--vary", "Km_ASNS_Asp"], "expected NAME=LOW:HIGH"),
        (["--vary", "nope=1:2"], "--vary nope: no such parameter or species"),
        (["--vary", "f_glutaminase=0.5:2"], "a fraction, must be between 0 and 1"),
    ],
)
def test_cell_ensemble_refuses_bad_ranges(cli, tmp_path, args, message):
    r = cli("cell", "ensemble", *args, "--n", "4", "--output", str(tmp_path / "e.nc"))
    assert r.code == 1
    assert message in r.err
    assert "Traceback" not in r.err


def test_cell_ensemble_output_must_be_netcdf(cli, tmp_path):
    r = cli("cell", "ensemble", "--vary", "kd_max=0.01:0.05", "--output", str(tmp_path / "e.csv"))
    assert r.code == 1
    assert "an ensemble is written as NetCDF (.nc) or Zarr (.zarr)" in r.err


def test_cell_ensemble_writes_a_zarr_store_atomically(cli, tmp_path):
    """Issue #10: an ensemble as a Zarr store, the same values as the NetCDF file; a second
    run replaces the store whole; a folder that is not a Zarr store is never replaced
    (ablation of the guard: the folder's file would be lost)."""
    import xarray as xr

    args = ["cell", "ensemble", "--vary", "kd_max=0.01:0.05", "--n", "3", "--hours", "6"]
    nc, store = tmp_path / "e.nc", tmp_path / "e.zarr"
    assert cli(*args, "--output", str(nc)).code == 0
    r = cli(*args, "--output", str(store))
    assert r.code == 0, r.err
    a, b = xr.open_dataset(nc).load(), xr.open_zarr(store).load()
    np.testing.assert_array_equal(b["Asn_med"].values, a["Asn_med"].values)
    assert b["Asn_med"].attrs["units"] == "mM"
    again = cli(*args, "--seed", "2", "--output", str(store))
    assert again.code == 0, again.err
    c = xr.open_zarr(store).load()
    assert not np.array_equal(c["value_kd_max"].values, b["value_kd_max"].values)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers
    other = tmp_path / "data.zarr"
    other.mkdir()
    (other / "notes.txt").write_text("mine", encoding="utf-8")
    bad = cli(*args, "--output", str(other))
    assert bad.code == 1
    assert bad.err.strip() == (
        f"error: --output {other}: something other than a Zarr store is there; not replaced"
    )
    assert (other / "notes.txt").read_text(encoding="utf-8") == "mine"
