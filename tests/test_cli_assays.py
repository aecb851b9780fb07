"""``asnflux assay asns|lcms|isotopes`` and the HTML reports, end to end on the examples."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import write_mzml

EX = Path(__file__).parents[1] / "examples" / "assays"
LCMS = str(EX / "lcms_skyline_report.csv")
ASNS = (
    str(EX / "asns_luminescence.csv"),
    str(EX / "asns_bradford.csv"),
    "--layout",
    str(EX / "asns_layout.csv"),
    "--reaction-volume",
    "50 uL",
    "--lysate-volume",
    "10 uL",
)


def assert_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" in page
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", page)
    assert "<script" not in page


def test_lcms_json_and_report(cli, tmp_path):
    report = tmp_path / "run.html"
    r = cli(
        "assay",
        "lcms",
        LCMS,
        "--extract-volume",
        "0.2 mL",
        "--cell-volume",
        "cell.all_blast.volume",
        "--label",
        "13C4,15N2",
        "--json",
        "--report",
        str(report),
    )
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["verdicts"]["run_accepted"] is True
    assert out["isotopes"]["standard"]["mass_shift_observed"] == 6
    assert len(out["unknowns"]) == 6
    page = report.read_text(encoding="utf-8")
    assert_self_contained(page)
    for heading in (
        "Run acceptance (ICH M10)",
        "Back-calculated standards",
        "Quality controls",
        "Blanks and carry-over",
        "Results",
        "Isotope facts",
    ):
        assert heading in page


def test_lcms_table_output(cli):
    r = cli("assay", "lcms", LCMS, "--extract-volume", "0.2 mL", "--cell-volume", "0.6 pL")
    assert r.code == 0, r.err
    assert "ACCEPTED" in r.out
    assert "Cal_25uM_2" in r.out
    assert "intracellular_mM" in r.out


def test_asns_json_and_report(cli, tmp_path):
    report = tmp_path / "asns.html"
    r = cli("assay", "asns", *ASNS, "--json", "--report", str(report))
    assert r.code == 0, r.err
    out = json.loads(r.out)
    samples = {s["sample"]: s for s in out["samples"]}
    assert samples["ALL_blast"]["specific_activity_nmol_per_min_per_mg"] == pytest.approx(
        0.2, rel=0.05
    )
    page = report.read_text(encoding="utf-8")
    assert_self_contained(page)
    assert "Bradford protein standard curve" in page


def test_asns_table_output(cli):
    r = cli("assay", "asns", *ASNS)
    assert r.code == 0, r.err
    assert "MSC" in r.out
    assert "not linear" in r.out


def test_isotopes_command(cli):
    r = cli("assay", "isotopes", "--label", "15N2,d8")
    assert r.code == 0
    assert "observed in protic solvent C4H5[2H]3[15N]2O3" in r.out
    r = cli("assay", "isotopes", "--label", "15N2,d8", "--json")
    assert json.loads(r.out)["standard"]["deuterium_observed"] == 3
    r = cli("assay", "isotopes", "--label", "13C9")
    assert r.code == 1
    assert "cannot carry 9" in r.err


def test_aspartate_lcms_readout_for_asparaginase(cli, tmp_path):
    # Asp standards 1-200 µM; reactions 1.0 mL with 0.1 mL sample for 10 min, so
    # 1 IU/mL gives 1 µmol/mL·0.1 mL/10 min → 10 µM·… : activity = c·1e-3·1.0/(10·0.1).
    rows = [["DB", "Double Blank", None, 50.0, 200.0]]
    for rep in (1, 2):
        for c in (1, 2, 5, 10, 20, 50, 100, 200):
            rows.append([f"S{c}_{rep}", "Standard", c, c * 1e4, 1e5])
    rows.append(["DB2", "Double Blank", None, 60.0, 150.0])
    rows += [[f"QC{c}", "Quality Control", c, c * 1e4, 1e5] for c in (3, 30, 150)]
    rows += [["blank", "Unknown", None, 1.5 * 1e4, 1e5], ["P1", "Unknown", None, 41.5e4, 1e5]]
    df = pd.DataFrame(
        rows, columns=["Replicate Name", "Sample Type", "Analyte Concentration", "Area", "IS Area"]
    )
    path = tmp_path / "asp.csv"
    df.to_csv(path, index=False)
    r = cli(
        "assay",
        "asparaginase",
        str(path),
        "--readout",
        "aspartate-lcms",
        "--reaction-volume",
        "1.0 mL",
        "--sample-volume",
        "0.1 mL",
        "--time",
        "10 min",
        "--blank-sample",
        "blank",
        "--protein",
        "0.5 mg/mL",
        "--json",
        "--report",
        str(tmp_path / "asp.html"),
    )
    assert r.code == 0, r.err
    out = json.loads(r.out)
    p1 = out["samples"][0]
    # (41.5 − 1.5) µM × 1e-3 × 1.0 / (10 × 0.1) = 0.04 IU/mL; 0.08 IU/mg.
    assert p1["activity_IU_per_mL"] == pytest.approx(0.04, rel=1e-6)
    assert p1["specific_activity_IU_per_mg"] == pytest.approx(0.08, rel=1e-6)
    assert p1["at_or_above_threshold"] is False
    assert_self_contained((tmp_path / "asp.html").read_text(encoding="utf-8"))


def test_nessler_on_a_plate_with_protein(cli, tmp_path):
    plate = tmp_path / "nessler.csv"
    a480 = {"A1": 0.05, "A2": 0.25, "A3": 0.45, "A4": 0.85, "A5": 1.25, "B1": 0.65, "B2": 0.06}
    lines = ["," + ",".join(str(c) for c in range(1, 13))]
    for r in "ABCDEFGH":
        lines.append(r + "," + ",".join(str(a480.get(f"{r}{c}", "")) for c in range(1, 13)))
    plate.write_text("\n".join(lines), encoding="utf-8")
    lay = tmp_path / "layout.csv"
    lay.write_text(
        "well,type,sample,concentration,unit\nA1,standard,S0,0,mM\nA2,standard,S1,0.5,mM\n"
        "A3,standard,S2,1000,uM\nA4,standard,S3,2,mM\nA5,standard,S4,3,mM\nB1,sample,X,,\n"
        "B2,enzyme_blank,EB,,\n",
        encoding="utf-8",
    )
    r = cli(
        "assay",
        "asparaginase",
        str(plate),
        "--layout",
        str(lay),
        "--reaction-volume",
        "1.0 mL",
        "--sample-volume",
        "0.1 mL",
        "--time",
        "10 min",
        "--protein",
        "2 mg/mL",
        "--json",
    )
    assert r.code == 0, r.err
    x = json.loads(r.out)["samples"][0]
    # A = 0.05 + 0.4·c; net 0.65 − 0.01 → 1.475 mM → ×1.0/(10×0.1) = 1.475 IU/mL.
    assert x["activity_IU_per_mL"] == pytest.approx(1.475, rel=1e-6)
    assert x["specific_activity_IU_per_mg"] == pytest.approx(1.475 / 2, rel=1e-6)


def test_lcms_from_mzml_via_cli(cli, tmp_path):
    t = np.linspace(0, 4, 801)
    rows = []
    spec = [(f"S{c:g}", "Standard", c) for c in (0.5, 1, 2.5, 5, 10, 25, 50, 100)]
    spec += [(f"Q{c:g}", "Quality Control", c) for c in (1.5, 20, 80)] + [("U", "Unknown", 7.0)]
    files = []
    for name, stype, c in spec:
        peak = np.exp(-0.5 * ((t - 2.0) / 0.05) ** 2)
        files.append(
            str(
                write_mzml(
                    tmp_path / f"{name}.mzML", {"Asn": (t, 1e4 * c * peak), "IS": (t, 9e4 * peak)}
                )
            )
        )
        rows.append(f"{name}.mzML,{stype},{'' if stype == 'Unknown' else c}")
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("File,Sample Type,Analyte Concentration\n" + "\n".join(rows) + "\n")
    r = cli(
        "assay",
        "lcms",
        *files,
        "--sheet",
        str(sheet),
        "--analyte-trace",
        "Asn",
        "--is-trace",
        "IS",
        "--rt",
        "2.0",
        "--json",
    )
    assert r.code == 0, r.err
    assert json.loads(r.out)["unknowns"][0]["concentration_uM"] == pytest.approx(7.0, rel=1e-6)
    r = cli("assay", "lcms", *files, "--analyte-trace", "Asn")
    assert r.code == 1
    assert "needs --sheet" in r.err
    r = cli("assay", "lcms", files[0], LCMS)
    assert "not both" in r.err


def test_failed_run_leaves_an_earlier_report_intact(cli, tmp_path):
    report = tmp_path / "keep.html"
    report.write_text("earlier report", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("Replicate Name,Sample Type,Area,IS Area\nX,Unknown,1,0\n", encoding="utf-8")
    r = cli("assay", "lcms", str(bad), "--report", str(report))
    assert r.code == 1
    assert "internal-standard area must be a positive number" in r.err
    assert report.read_text(encoding="utf-8") == "earlier report"
    r = cli("assay", "lcms", LCMS, "--report", str(tmp_path / "no" / "dir" / "r.html"))
    assert r.code == 1
    assert "error:" in r.err
