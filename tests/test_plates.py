"""Plate exports and layouts: 96/384 grids, long form, and every bad-well report."""

from __future__ import annotations

import pytest

from asnflux import DataError
from asnflux.assays import apply_layout, read_layout, read_plate

TYPES = ("standard", "sample")


def grid(tmp_path, name, rows, cols, fill=lambda r, c: f"{r * 100 + c}", meta=True):
    lines = ["Reader XYZ export,,", "Plate 1", ""] if meta else []
    lines.append("," + ",".join(str(c) for c in range(1, cols + 1)))
    for r in range(rows):
        lines.append(chr(65 + r) + "," + ",".join(fill(r, c) for c in range(1, cols + 1)))
    lines.append("Read time,10:32")
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def layout(tmp_path, text, name="layout.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return read_layout(p)


def test_96_and_384_grids(tmp_path):
    p96 = read_plate(grid(tmp_path, "p96.csv", 8, 12))
    assert p96.size == 96
    assert p96.readings["H12"] == "712"
    p384 = read_plate(grid(tmp_path, "p384.csv", 16, 24, meta=False))
    assert p384.size == 384
    assert p384.readings["P24"] == "1524"


def test_semicolon_grid(tmp_path):
    p = tmp_path / "semi.csv"
    rows = [";" + ";".join(str(c) for c in range(1, 13))]
    rows += [chr(65 + r) + ";" + ";".join("0,5" for _ in range(12)) for r in range(8)]
    p.write_text("\n".join(rows), encoding="utf-8")
    assert read_plate(p).readings["A1"] == "0.5"  # a decimal-comma export, read as such


def test_long_form_and_layout_join(tmp_path):
    plate = tmp_path / "long.csv"
    plate.write_text("Well,A480\nA01,0.10\nA02,0.20\nB01,0.33\n", encoding="utf-8")
    lay = layout(
        tmp_path,
        "well,type,sample,concentration,unit\nA1,standard,S1,0,mM\nA2,standard,S2,1,mM\n"
        "B1,sample,X,,\n",
    )
    df = apply_layout([read_plate(plate)], lay, "absorbance", TYPES)
    assert df["absorbance"].tolist() == [0.10, 0.20, 0.33]
    assert df["well"].tolist() == ["A1", "A2", "B1"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("well,type\nA25,sample\n", "well A25 does not exist on a 384-well plate"),
        ("well,type\nA1,sample\nA01,standard\n", "well A1 is listed twice"),
        ("well,type\nZ,sample\n", "'Z' is not a well name"),
        ("type\nsample\n", "layout needs a 'well' column"),
    ],
)
def test_bad_layouts(tmp_path, text, match):
    with pytest.raises(DataError, match=match):
        layout(tmp_path, text)


def test_bad_wells_are_named_by_file_and_well(tmp_path):
    p = grid(tmp_path, "p.csv", 8, 12, fill=lambda r, c: "OVRFLW" if (r, c) == (1, 3) else "1")
    plate = read_plate(p)
    with pytest.raises(DataError, match=r"p\.csv, well B3: reading 'OVRFLW' is not a number"):
        apply_layout([plate], layout(tmp_path, "well,type\nB3,sample\n"), "x", TYPES)
    ok = apply_layout([plate], layout(tmp_path, "well,type\nB3,exclude\nB4,sample\n"), "x", TYPES)
    assert ok["well"].tolist() == ["B4"]
    with pytest.raises(DataError, match="type 'blank' is not one of"):
        apply_layout([plate], layout(tmp_path, "well,type\nB4,blank\n"), "x", TYPES)


def test_multiple_plates_need_a_plate_column(tmp_path):
    a = read_plate(grid(tmp_path, "a.csv", 8, 12))
    b = read_plate(grid(tmp_path, "b.csv", 8, 12, fill=lambda r, c: "2"))
    with pytest.raises(DataError, match="needs a 'plate' column"):
        apply_layout([a, b], layout(tmp_path, "well,type\nA1,sample\n"), "x", TYPES)
    lay = layout(tmp_path, "plate,well,type\na,A1,sample\n2,A1,sample\n")
    df = apply_layout([a, b], lay, "x", TYPES)
    assert df["x"].tolist() == [1.0, 2.0]
    with pytest.raises(DataError, match="plate 'c' is not one of the files"):
        apply_layout([a, b], layout(tmp_path, "plate,well,type\nc,A1,sample\n"), "x", TYPES)


def test_384_layout_well_on_a_96_plate(tmp_path):
    a = read_plate(grid(tmp_path, "a.csv", 8, 12))
    with pytest.raises(DataError, match="well P24 does not exist on a 96-well plate"):
        apply_layout([a], layout(tmp_path, "well,type\nP24,sample\n"), "x", TYPES)


def test_unreadable_plate_files(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_plate(tmp_path / "missing.csv")
    p = tmp_path / "odd.csv"
    p.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(DataError, match="neither a plate grid"):
        read_plate(p)
    p.write_text("," + ",".join(str(c) for c in range(1, 13)) + "\nA,1\nC,2\n", encoding="utf-8")
    with pytest.raises(DataError, match="labelled 'C'; expected B"):
        read_plate(p)
