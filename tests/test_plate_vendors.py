"""Real SoftMax Pro and BMG MARS exports, checked against allotropy's converter.

The fixtures in ``tests/data/plates`` are instrument exports from allotropy's test data
(MIT); ``softmax_expected.csv`` is allotropy's reading of every well. See that folder's
README.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from asnflux import DataError
from asnflux.assays import read_plate
from asnflux.assays._softmax import decode, softmax_grids

DATA = Path(__file__).parent / "data" / "plates"


def raw_grids(name: str) -> dict[str, list[dict[str, str]]]:
    """Our raw (or only) tables of a SoftMax file, per plate, in wavelength order."""
    p = DATA / name
    out: dict[str, list[dict[str, str]]] = {}
    for _, label, readings in softmax_grids(decode(p.read_bytes(), p), p):
        if " reduced" in label:
            continue
        plate = label.removeprefix("plate ").split(" raw")[0].split(" data")[0]
        out.setdefault(plate, []).append(readings)
    return out


@pytest.mark.parametrize(
    "name",
    [
        "MD_SMP_absorbance_endpoint_example01.txt",
        "MD_SMP_luminescence_endpoint_example03.txt",
        "MD_SMP_absorbance_endpoint_partial_plate_example01.txt",
    ],
)
def test_softmax_values_match_allotropy(name):
    expected = pd.read_csv(DATA / "softmax_expected.csv")
    expected = expected[expected["file"] == name]
    ours = raw_grids(name)
    compared = 0
    for (plate, wl), grp in expected.groupby(["plate", "wavelength_nm"], sort=False):
        same_plate = expected.loc[expected["plate"] == plate, "wavelength_nm"]
        wavelengths = list(dict.fromkeys(same_plate))
        grid = ours[plate][wavelengths.index(wl)]
        for well, value in zip(grp["well"], grp["value"], strict=True):
            if grid.get(well, "") == "":
                assert value == 0.0, (plate, wl, well)  # allotropy's -0.0 for an empty well
                continue
            assert math.isclose(float(grid[well]), value, rel_tol=1e-12), (plate, wl, well)
            compared += 1
    assert compared == int((expected["value"] != 0).sum()) > 40  # every read well compared


def test_softmax_file_with_several_grids_asks_which():
    p = DATA / "MD_SMP_absorbance_endpoint_example01.txt"
    with pytest.raises(DataError, match=r"holds 4 plate grids \(1: plate Plate01 raw"):
        read_plate(p)
    plate = read_plate(p, grid=3)
    assert plate.label == "plate Plate02 raw"
    assert plate.size == 96
    assert plate.name == p.stem  # layouts name plates by file stem
    assert float(plate.readings["A1"]) == pytest.approx(3.43082333333333)


def test_softmax_partial_plate_leaves_unread_wells_empty():
    p = DATA / "MD_SMP_absorbance_endpoint_partial_plate_example01.txt"
    plate = read_plate(p, grid=1)
    assert plate.readings["A1"] == ""  # column 1 was not read
    assert float(plate.readings["A2"]) == pytest.approx(3.084)


def test_softmax_kinetic_read_is_refused():
    with pytest.raises(DataError, match=r"'Kinetic' read; AsnFlux reads endpoint plates"):
        read_plate(DATA / "fl_kinetic_plates.txt")


def test_bmg_mars_grids():
    plate = read_plate(DATA / "BMG Labtech format.CSV")
    assert plate.size == 96
    assert plate.readings["A1"] == "0.073"
    assert plate.readings["H12"] == "0.207"
    big = read_plate(DATA / "16-03-03 16-54-03 472 ABS 384 QC.csv")
    assert big.size == 384
    assert big.readings["C1"] == "2.368"
    assert big.readings["J1"] == ""


def test_utf16_without_softmax_structure_is_read_as_text(tmp_path):
    # UTF-16 decoding is by BOM, not by vendor: a UTF-16 grid CSV reads like its UTF-8 twin
    text = (DATA / "BMG Labtech format.CSV").read_text(encoding="utf-8")
    f = tmp_path / "u16.csv"
    f.write_bytes(text.encode("utf-16"))
    assert read_plate(f).readings == read_plate(DATA / "BMG Labtech format.CSV").readings


def test_8bit_text_is_accepted_only_for_softmax(tmp_path):
    f = tmp_path / "latin.csv"
    f.write_bytes("Temperature \xb0C\n,1,2\n".encode("cp1252"))
    with pytest.raises(DataError, match="cannot read as text"):
        read_plate(f)


def test_bmg_mars_table_view_matches_tidy_bmg():
    # A MARS "table view" workbook: wells across, one row per channel and kinetic cycle.
    p = DATA / "bmg_lumistar_omega.xlsx"
    with pytest.raises(DataError, match=r"holds 42 plate grids \(1: Raw Data \(535 A\)"):
        read_plate(p)
    expected = pd.read_csv(DATA / "bmg_lumistar_omega_expected.csv")
    grids = {1: ("A535", 0), 2: ("A535", 65), 22: ("B475", 0), 23: ("B475", 65)}
    for grid, (channel, t) in grids.items():
        plate = read_plate(p, grid=grid)
        assert f"(Time [s] {t})" in plate.label
        ref = expected[expected["time_s"] == t]
        for well, value in zip(ref["well"], ref[channel], strict=True):
            name = f"{well[0]}{int(well[1:])}"
            assert float(plate.readings[name]) == value, (grid, well)
    assert read_plate(p, grid=1).size == 96
