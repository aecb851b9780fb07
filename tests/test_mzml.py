"""mzML chromatograms: the integration rule, the sheet join and errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from asnflux import DataError
from asnflux.assays import lcms_quantify
from asnflux.assays._mzml import integrate_peak, peak_table_from_mzml, read_chromatograms
from helpers import write_mzml

ASN = "SRM SIC Q1=133.1 Q3=74.0"
IS = "SRM SIC Q1=139.1 Q3=78.0"
T = np.linspace(0.0, 5.0, 1501)


def gauss(height: float, rt: float = 2.3, sigma: float = 0.04, base: float = 0.0):
    return height * np.exp(-0.5 * ((T - rt) / sigma) ** 2) + base


def test_integration_of_gaussian_on_sloped_baseline():
    # Area of h·exp(-(t-rt)²/2σ²) is h·σ·√(2π); a linear baseline is removed by the rule.
    y = gauss(1e5) + 200 + 50 * T
    area = integrate_peak(T, y, 2.3, 0.3)
    assert area == pytest.approx(1e5 * 0.04 * math.sqrt(2 * math.pi), rel=1e-4)


@pytest.mark.parametrize(
    ("rt", "half", "match"),
    [(4.9, 0.3, "outside the trace"), (2.3, 0.0, "must be positive"), (2.3, 0.002, "fewer than 3")],
)
def test_integration_errors(rt, half, match):
    with pytest.raises(DataError, match=match):
        integrate_peak(T, gauss(1.0), rt, half)


def test_mzml_injections_quantified_end_to_end(tmp_path):
    rows, files = [], []
    spec = [("DB", "Double Blank", None, 0.0, 0.0)]
    spec += [(f"S{c:g}", "Standard", c, c, 1.0) for c in (0.5, 1, 2.5, 5, 10, 25, 50, 100)]
    spec += [(f"QC{c:g}", "Quality Control", c, c, 1.0) for c in (1.5, 20, 80)]
    spec += [("U1", "Unknown", None, 7.0, 1.0)]
    for name, stype, nominal, conc, has_is in spec:
        traces = {ASN: (T, gauss(1e4 * conc, base=30)), IS: (T, gauss(9e4 * has_is + 5, base=30))}
        files.append(write_mzml(tmp_path / f"{name}.mzML", traces))
        rows.append(
            {"File": f"{name}.mzML", "Sample Type": stype, "Analyte Concentration": nominal}
        )
    sheet = pd.DataFrame(rows)
    table = peak_table_from_mzml(
        files, sheet, analyte_trace="Q1=133.1", is_trace="Q1=139.1", rt=2.3, half_window=0.3
    )
    assert list(table["Replicate Name"])[:2] == ["DB", "S0.5"]
    r = lcms_quantify(table)
    assert r.unknowns["concentration_uM"].iloc[0] == pytest.approx(7.0, rel=1e-6)
    assert r.verdicts["standards"]["pass"]


def test_mzml_errors(tmp_path):
    f = write_mzml(tmp_path / "a.mzML", {ASN: (T, gauss(1.0))})
    sheet = pd.DataFrame({"File": ["a"], "Sample Type": ["Unknown"]})
    with pytest.raises(DataError, match=r"no chromatogram with id containing 'Q1=139\.1'"):
        peak_table_from_mzml(
            [f], sheet, analyte_trace="Q1=133.1", is_trace="Q1=139.1", rt=2.3, half_window=0.3
        )
    g = write_mzml(tmp_path / "b.mzML", {ASN: (T, gauss(1.0))})
    with pytest.raises(DataError, match=r"no row for mzML file b\.mzML"):
        peak_table_from_mzml([g], sheet, analyte_trace="Q1", is_trace="Q1", rt=2.3, half_window=0.3)
    with pytest.raises(DataError, match="'File' column"):
        peak_table_from_mzml(
            [f],
            sheet.rename(columns={"File": "Name"}),
            analyte_trace="x",
            is_trace="y",
            rt=2.3,
            half_window=0.3,
        )
    bad = tmp_path / "bad.mzML"
    bad.write_text("<mzML><run>", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.mzML"):
        read_chromatograms(bad)
    with pytest.raises(DataError, match="no such file"):
        read_chromatograms(tmp_path / "missing.mzML")


def test_time_in_seconds_is_read_as_seconds(tmp_path):
    # pyteomics returns the time array bare; a file in seconds read as minutes put a peak
    # at 2.3 min at "138 min" and its area 60× too large.

    minutes = read_chromatograms(write_mzml(tmp_path / "m.mzML", {ASN: (T, gauss(1e4))}))
    seconds = read_chromatograms(
        write_mzml(tmp_path / "s.mzML", {ASN: (T * 60, gauss(1e4))}, time_unit="second")
    )
    np.testing.assert_allclose(seconds[ASN][0], minutes[ASN][0], rtol=1e-12)
    hours = read_chromatograms(
        write_mzml(tmp_path / "h.mzML", {ASN: (T / 60, gauss(1e4))}, time_unit="hour")
    )
    np.testing.assert_allclose(hours[ASN][0], minutes[ASN][0], rtol=1e-12)


def test_time_without_a_unit_is_refused(tmp_path):

    f = write_mzml(tmp_path / "n.mzML", {ASN: (T, gauss(1e4))}, time_unit="none")
    with pytest.raises(DataError, match=r"n\.mzML: chromatogram .*states no unit"):
        read_chromatograms(f)


def test_committed_mzml_example_quantifies_like_its_skyline_report(cli):
    # End to end on the committed example: 35 msconvert-style files (zlib, time in seconds)
    # given in glob (name) order; the sheet's order is the run order.
    ex = Path(__file__).parents[1] / "examples" / "assays"
    files = sorted(str(p) for p in (ex / "mzml").glob("*.mzML"))
    sheet = str(ex / "mzml" / "sample_sheet.csv")
    traces = ["--analyte-trace", "Q1=133.1", "--is-trace", "Q1=139.1", "--rt", "2.3"]
    r = cli("assay", "lcms", *files, "--sheet", sheet, *traces, "--json")
    assert r.code == 0, r.err
    ref = json.loads(cli("assay", "lcms", str(ex / "lcms_skyline_report.csv"), "--json").out)
    got = json.loads(r.out)
    assert got["verdicts"]["run_accepted"] is True
    assert got["verdicts"]["blanks"]["carry_over_assessed"] is True  # run order kept
    conc = {u["replicate"]: u["concentration_uM"] for u in got["unknowns"]}
    for u in ref["unknowns"]:
        if u["concentration_uM"] is None:
            assert conc[u["replicate"]] is None
        else:
            assert conc[u["replicate"]] == pytest.approx(u["concentration_uM"], rel=1e-4)
    assert [i["replicate"] for i in got["injections"]] == [
        i["replicate"] for i in ref["injections"]
    ]
