"""NONMEM-style TDM datasets: doses and levels per patient, and each refusal's message."""

from __future__ import annotations

import pandas as pd
import pytest

from asnflux import DataError
from asnflux.therapy import read_nonmem, regimen_from_options


def _table(text: str) -> pd.DataFrame:
    rows = [line.split(",") for line in text.strip().splitlines()]
    df = pd.DataFrame(rows[1:], columns=rows[0]).replace("", None)
    df.attrs["path"] = "study.csv"
    return df


TWO = """ID,TIME,AMT,DV,EVID,MDV,CMT,BLQ
A,0,2500,,1,1,1,0
A,168,,0.61,0,0,1,0
A,336,2500,,1,1,1,0
A,504,,0.02,0,0,1,1
B,0,25000,,1,1,1,0
B,48,25000,,1,1,1,0
B,72,,120,0,0,1,0
B,80,,,0,1,1,0
"""


def test_two_patients_doses_levels_and_blq():
    out = read_nonmem(_table(TWO), "peg", "iv")
    reg, lv = out["A"]
    assert reg == regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14")
    assert lv["day"].tolist() == [7, 21]
    assert lv["saa_IU_per_mL"].tolist() == ["0.61", "<0.02"]
    assert out["B"][1]["saa_IU_per_mL"].tolist() == ["120"]  # MDV 1 record skipped


def test_iu_per_litre_is_converted():
    out = read_nonmem(_table(TWO), "peg", "iv", dv_unit="IU/L")
    assert out["B"][1]["saa_IU_per_mL"].tolist() == ["0.12"]
    assert out["A"][1]["saa_IU_per_mL"].tolist() == ["0.00061", "<2e-05"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("ID,TIME", "ID,TIMEX"), "missing column(s) TIME of a NONMEM dataset"),
        ((",CMT,BLQ", ",CMT,FOO"), "unknown column(s) FOO"),
        (("A,336,2500", "A,336,"), "row 4, column AMT: a dose record (EVID 1) needs a dose > 0"),
        (("A,168,,0.61,0", "A,168,,0.61,2"), "row 3, column EVID: '2'; expected 0"),
        (("A,168,,0.61", "A,168,,-1"), "row 3, column DV: '-1' is not an activity ≥ 0 (IU/mL)"),
        (("A,504", "A,100"), "row 5: TIME goes backwards for ID A"),
        (("A,168", "A,-5"), "row 3, column TIME: '-5' is not hours ≥ 0"),
        (("A,168,,0.61,0,0", "A,168,,0.61,0,5"), "row 3, column MDV: expected 0 or 1"),
        (("A,168,,0.61,0,0,1,0\n", "A,168,,0.61,0,1,1,0\n"), None),
    ],
)
def test_refusals_name_file_row_and_column(edit, message):
    text = TWO.replace(*edit)
    if message is None:  # control: a patient left with one level still reads
        assert len(read_nonmem(_table(text), "peg")["A"][1]) == 1
        return
    with pytest.raises(
        DataError, match="^study.csv: " + message.replace("(", r"\(").replace(")", r"\)")
    ):
        read_nonmem(_table(text), "peg")


def test_patient_without_doses_or_levels():
    only_levels = "ID,TIME,AMT,DV,EVID\nC,5,,0.3,0\n"
    with pytest.raises(DataError, match="ID C has no dose record"):
        read_nonmem(_table(only_levels), "peg")
    only_doses = "ID,TIME,AMT,DV,EVID\nC,0,2500,,1\n"
    with pytest.raises(DataError, match="ID C has no level"):
        read_nonmem(_table(only_doses), "peg")
    with pytest.raises(DataError, match="DV unit 'mg' is not one of IU/mL, IU/L"):
        read_nonmem(_table(TWO), "peg", dv_unit="mg")
