"""Plate-reader exports as labs get them: German locale, Excel, several reads in one file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from asnflux import DataError
from asnflux.assays import read_plate

EX = Path(__file__).parents[1] / "examples" / "assays"
ARGS = ["--reaction-volume", "50 uL", "--lysate-volume", "10 uL", "--json"]


def run_asns(cli, bradford: Path, *extra: str) -> dict:
    r = cli(
        "assay", "asns", str(EX / "asns_luminescence.csv"), str(bradford),
        "--layout", str(bradford.parent / "asns_layout.csv"), *ARGS, *extra,
    )  # fmt: skip
    assert r.code == 0, r.err
    return json.loads(r.out)


@pytest.fixture
def folder(tmp_path):
    for name in ("asns_luminescence.csv", "asns_layout.csv"):
        shutil.copy(EX / name, tmp_path / name)
    return tmp_path


def _as(folder: Path, source: str) -> Path:
    # The layout names plates by file stem: give each variant the Bradford plate's name.
    target = folder / "asns_bradford.csv"
    shutil.copy(EX / source, target)
    return target


def test_german_locale_export_reads_like_the_plain_one(cli, folder):
    plain = run_asns(cli, _as(folder, "asns_bradford.csv"))
    german = run_asns(cli, _as(folder, "asns_bradford_de.csv"))
    assert german["samples"] == plain["samples"]
    de = read_plate(EX / "asns_bradford_de.csv")
    assert de.readings["A1"] == "0.449"


def test_decimal_comma_is_not_applied_to_a_mixed_file(tmp_path):
    text = (EX / "asns_bradford_de.csv").read_text(encoding="utf-8").replace("0,449", "0.449")
    mixed = tmp_path / "m.csv"
    mixed.write_text(text, encoding="utf-8")
    assert read_plate(mixed).readings["A2"] == "1,007"  # left as read: refused downstream


def test_xlsx_export(cli, folder):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for line in (EX / "asns_bradford.csv").read_text(encoding="utf-8").splitlines():
        cells = line.split(",")
        sheet.append([_cell(c) for c in cells])
    target = folder / "asns_bradford.xlsx"
    book.save(target)
    plain = read_plate(EX / "asns_bradford.csv")
    excel = read_plate(target)
    assert {w: float(v) for w, v in excel.readings.items() if v} == {
        w: float(v) for w, v in plain.readings.items() if v
    }
    (folder / "asns_bradford.csv").unlink(missing_ok=True)
    layout = (folder / "asns_layout.csv").read_text(encoding="utf-8")
    assert "asns_bradford," in layout
    out = run_asns(cli, target)
    assert out["samples"] == run_asns(cli, _as(folder, "asns_bradford.csv"))["samples"]


def _cell(text: str):
    try:
        return float(text)
    except ValueError:
        return text or None


def test_several_grids_need_a_choice(cli, folder):
    path = _as(folder, "asns_bradford_two_reads.csv")
    with pytest.raises(DataError, match=r"holds 2 plate grids \(headers on lines 4, 16\)"):
        read_plate(path)
    assert read_plate(path, grid=2).readings["A1"] == "0.453"
    r = cli(
        "assay", "asns", str(folder / "asns_luminescence.csv"), str(path),
        "--layout", str(folder / "asns_layout.csv"), *ARGS,
    )  # fmt: skip
    assert r.code == 1
    assert "--grid" in r.err
    first = run_asns(cli, path, "--grid", "1")
    assert first["samples"] == run_asns(cli, _as(folder, "asns_bradford.csv"))["samples"]


def test_softmax_pro_export_reads_like_the_plain_one(cli, folder):
    # End to end: the Bradford plate as SoftMax Pro writes it (UTF-16, PlateFormat block)
    plain = run_asns(cli, _as(folder, "asns_bradford.csv"))
    target = folder / "asns_bradford.csv"
    target.unlink()
    shutil.copy(EX / "asns_bradford_softmax.txt", folder / "asns_bradford.txt")
    softmax = run_asns(cli, folder / "asns_bradford.txt")
    assert softmax["samples"] == plain["samples"]
    assert read_plate(EX / "asns_bradford_softmax.txt").label == "plate Plate1 data"


def test_bmg_mars_export_reads_like_the_plain_one(cli, folder):
    plain = run_asns(cli, _as(folder, "asns_bradford.csv"))
    bmg = run_asns(cli, _as(folder, "asns_bradford_bmg.csv"))
    assert bmg["samples"] == plain["samples"]
