"""Regression tests for the hardening issue: one per class of defect, each failing before.

Classes: tracebacks, silent wrong answers, non-strict JSON, messages, writes, limits, and
the habits users expect (version, verbosity, formats, reprs). Minimal reproducers from the
fuzz suite (test_fuzz.py) live here too.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from asnflux import AsnfluxError, DataError, FitError, SolverError
from asnflux._io import atomic_write_text
from asnflux._tables import read_table
from asnflux.units import as_quantity

ROOT = Path(__file__).resolve().parents[1]
NESSLER = ROOT / "examples" / "assays" / "asparaginase_nessler.csv"
LCMS = ROOT / "examples" / "assays" / "lcms_skyline_report.csv"
NESSLER_ARGS = ["--reaction-volume", "1.0 mL", "--sample-volume", "0.1 mL", "--time", "10 min"]
PEG = ["--formulation", "peg", "--dose", "2500 IU/m**2"]


def one_error_line(r, *needles: str, code: int = 1) -> str:
    """The run failed with exit ``code`` and one message line holding every needle."""
    assert r.code == code, (r.code, r.out, r.err)
    lines = [line for line in r.err.splitlines() if line.strip()]
    assert len(lines) == 1, r.err
    assert "Traceback" not in r.err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def nessler_with(tmp_path: Path, edit) -> Path:
    lines = NESSLER.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "nessler.csv"
    path.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")
    return path


def nessler_json(cli, path: Path) -> dict:
    r = cli("assay", "asparaginase", str(path), *NESSLER_ARGS, "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)


def sample(payload: dict, name: str) -> dict:
    return next(s for s in payload["samples"] if s["sample"] == name)


def set_dilution(lines: list[str], name: str, text: str) -> list[str]:
    return [line.rsplit(",", 1)[0] + "," + text if line.startswith(name + ",") else line
            for line in lines]  # fmt: skip


# --- tracebacks ------------------------------------------------------------------------


def test_quantity_range_where_one_value_is_needed(cli):
    r = cli("assay", "asparaginase", str(NESSLER), "--reaction-volume", "1-2 mL",
            "--sample-volume", "0.1 mL", "--time", "10 min")  # fmt: skip
    one_error_line(r, "--reaction-volume", "range", "one value", code=2)


def test_empty_csv_and_blank_lines_before_the_header(cli, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    one_error_line(cli("assay", "asparaginase", str(empty), *NESSLER_ARGS), "empty")
    plain = nessler_json(cli, NESSLER)
    padded = tmp_path / "padded.csv"
    padded.write_text("\n\n" + NESSLER.read_text(encoding="utf-8"), encoding="utf-8")
    assert nessler_json(cli, padded)["samples"] == plain["samples"]


def test_huge_integer_and_huge_cell(cli, tmp_path):
    path = nessler_with(tmp_path, lambda ls: [ls[0], *ls[1:5], "STD_X,standard,1," + "9" * 400])
    one_error_line(cli("assay", "asparaginase", str(path), *NESSLER_ARGS), "too large", "row")
    long_cell = nessler_with(tmp_path, lambda ls: [*ls, "x" * 200_000 + ",sample,,0.1,"])
    one_error_line(cli("assay", "asparaginase", str(long_cell), *NESSLER_ARGS), "characters")


def test_empty_molecule_cell_is_named(cli, tmp_path):
    lines = LCMS.read_text(encoding="utf-8").splitlines()
    head = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    cells = lines[head + 1].split(",")
    cells[1] = ""
    lines[head + 1] = ",".join(cells)
    path = tmp_path / "l.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one_error_line(cli("assay", "lcms", str(path)), "Molecule Name", f"row {head + 2}", "empty")


@pytest.mark.parametrize("value", ["1e308", "1e-300"])
def test_extreme_standards_fail_cleanly(cli, tmp_path, value):
    # The top standard's concentration replaced by an extreme value.
    path = nessler_with(
        tmp_path,
        lambda ls: [ln.replace("STD_6,standard,1.0", f"STD_6,standard,{value}") for ln in ls],
    )
    r = cli("assay", "asparaginase", str(path), *NESSLER_ARGS, "--json")
    assert r.code in (0, 1), r.err
    if r.code == 1:
        one_error_line(r)
    else:
        json.loads(r.out, parse_constant=lambda c: pytest.fail(f"non-strict JSON {c}"))


def test_regimen_option_and_yaml_values(cli, tmp_path):
    one_error_line(cli("therapy", "simulate", *PEG, "--at", "0,nan"), "--at", "nan")
    one_error_line(cli("therapy", "simulate", *PEG, "--every", "1.2.3d", "--doses", "2"), "1.2.3d")
    reg = tmp_path / "r.yaml"
    reg.write_text(
        "doses:\n  - {day: 0, formulation: erwinia, dose: 25000 IU/m**2, every: 2d, count: .inf}\n",
        encoding="utf-8",
    )
    one_error_line(cli("therapy", "simulate", "--regimen", str(reg)), "count", "whole number")


def _mzml(path: Path, *, compressed_flag: bool = False, width: int = 8, n: int = 50) -> Path:
    t = np.linspace(0, 5, n)
    y = np.exp(-0.5 * ((t - 2.3) / 0.05) ** 2) * 1e5

    def arr(v, acc, name, unit):
        raw = np.asarray(v, "<f8").tobytes()[: len(v) * width] if n else b""
        data = base64.b64encode(raw).decode()
        comp = (
            ("MS:1000574", "zlib compression")
            if compressed_flag
            else ("MS:1000576", "no compression")
        )
        bits = ("MS:1000523", "64-bit float") if width == 8 else ("MS:1000521", "32-bit float")
        return (
            f'<binaryDataArray encodedLength="{len(data)}">'
            f'<cvParam cvRef="MS" accession="{bits[0]}" name="{bits[1]}"/>'
            f'<cvParam cvRef="MS" accession="{comp[0]}" name="{comp[1]}"/>'
            f'<cvParam cvRef="MS" accession="{acc}" name="{name}" {unit}/>'
            f"<binary>{data}</binary></binaryDataArray>"
        )

    minute = 'unitCvRef="UO" unitAccession="UO:0000031" unitName="minute"'
    chrom = (
        f'<chromatogram index="0" id="SRM SIC Q1=133.1 Q3=74.0" defaultArrayLength="{n}">'
        '<binaryDataArrayList count="2">'
        f"{arr(t, 'MS:1000595', 'time array', minute)}"
        f"{arr(y, 'MS:1000515', 'intensity array', '')}"
        "</binaryDataArrayList></chromatogram>"
    )
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<mzML xmlns="http://psi.hupo.org/ms/mzml" '
        'version="1.1.0"><cvList count="1"><cv id="MS" fullName="PSI-MS" URI="x"/></cvList>'
        f'<run id="r"><chromatogramList count="1">{chrom}</chromatogramList></run></mzML>',
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    "kwargs", [{"compressed_flag": True}, {"width": 4}, {"n": 0}], ids=["zlib", "f32", "empty"]
)
def test_corrupt_mzml_is_refused(tmp_path, kwargs):
    from asnflux.assays._mzml import read_chromatograms

    with pytest.raises(DataError, match=r"a\.mzML"):
        read_chromatograms(_mzml(tmp_path / "a.mzML", **kwargs))
    assert zlib  # the zlib flag case: data not compressed although the file says so


def test_unwritable_and_overlong_output(cli, tmp_path):
    one_error_line(
        cli("therapy", "simulate", *PEG, "--output", str(tmp_path / "no" / "x.csv")),
        "--output",
        "does not exist",
    )
    one_error_line(
        cli("therapy", "simulate", *PEG, "--output", str(tmp_path / ("a" * 300 + ".csv"))),
        "--output",
        "longer",
    )


def test_negative_seed_and_negative_parameter(cli):
    one_error_line(cli("therapy", "cohort", *PEG, "--seed", "-1"), "--seed", code=2)
    one_error_line(cli("cell", "simulate", "--set", "n_ISR=-2"), "n_ISR", "≥ 0")


def test_duplicate_headers(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x,y,y\n1,2,3\n", encoding="utf-8")
    with pytest.raises(DataError, match="'y' appear twice"):
        read_table(path)
    path.write_text("x,y ,y\n1,2,3\n", encoding="utf-8")  # equal once stripped
    with pytest.raises(DataError, match="'y' appear twice"):
        read_table(path)


def test_qc_with_nominal_zero(cli, tmp_path):
    text = LCMS.read_text(encoding="utf-8")
    lines = text.splitlines()
    i = next(k for k, line in enumerate(lines) if ",Quality Control," in line)
    cells = lines[i].split(",")
    cells[3] = "0"
    lines[i] = ",".join(cells)
    path = tmp_path / "l.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one_error_line(cli("assay", "lcms", str(path)), "nominal", "positive", str(path))


def test_foreign_sbml_is_a_clear_error():
    from asnflux.network import from_sbml

    foreign = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
 <model id="m"><listOfCompartments><compartment id="c" size="1" constant="true"/>
 </listOfCompartments><listOfSpecies><species id="A" compartment="c" initialConcentration="1"
 hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>
 <listOfParameters><parameter id="k" value="0.1" constant="true"/></listOfParameters>
 <listOfReactions><reaction id="r" reversible="false"><listOfReactants>
 <speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
 <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>k</ci>
 <ci>A</ci></apply></math></kineticLaw></reaction></listOfReactions></model></sbml>"""
    with pytest.raises(DataError) as info:
        from_sbml(foreign)
    assert "\n" not in str(info.value)
    with pytest.raises(DataError, match="not a readable SBML document"):
        from_sbml("<sbml>")


def test_cohort_where_every_member_fails():
    from asnflux.therapy import regimen_from_options, run_cohort

    res = run_cohort(regimen_from_options("peg", "2500 IU/m**2"), 3, 1, days=1)
    res.patients["status"] = "non-finite values"
    with pytest.raises(SolverError, match="all 3 patients"):
        res.summary()
    assert "all 3 patients" in res._repr_html_()


# --- silent wrong answers ----------------------------------------------------------------


@pytest.mark.parametrize("written", ["1:5", "5x", "1/5", "x5", " 5 "])
def test_dilution_spellings_equal_the_plain_factor(cli, tmp_path, written):
    plain = sample(nessler_json(cli, nessler_with(tmp_path, lambda ls: ls)), "P03_day3")
    assert plain["dilution"] == 5
    spelled = nessler_with(tmp_path, lambda ls: set_dilution(ls, "P03_day3", written))
    got = sample(nessler_json(cli, spelled), "P03_day3")
    assert got["activity_IU_per_mL"] == pytest.approx(plain["activity_IU_per_mL"], rel=1e-12)


def test_dilution_note_is_refused_not_read_as_one(cli, tmp_path):
    path = nessler_with(tmp_path, lambda ls: set_dilution(ls, "P03_day3", "5 # tube 2"))
    one_error_line(cli("assay", "asparaginase", str(path), *NESSLER_ARGS), "dilution", "factor")


def test_hash_inside_a_cell_is_data(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("# comment line\nsample,note,value\na,tube #2,1.5\n", encoding="utf-8")
    df = read_table(path)
    assert df["note"].iloc[0] == "tube #2"
    assert df["value"].iloc[0] == 1.5


def test_inf_in_a_numeric_column_is_refused(cli, tmp_path):
    lines = LCMS.read_text(encoding="utf-8").splitlines()
    i = next(k for k, line in enumerate(lines) if ",Unknown," in line)
    cells = lines[i].split(",")
    cells[5] = "inf"  # IS Area
    lines[i] = ",".join(cells)
    path = tmp_path / "l.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one_error_line(cli("assay", "lcms", str(path)), "'IS Area'", "'inf'", f"row {i + 1}")


def _levels(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "levels.csv"
    path.write_text(body, encoding="utf-8")
    return path


def test_tdm_refuses_what_it_used_to_ignore(cli, tmp_path):
    base = ["therapy", "tdm", *PEG, "--at", "7,21"]
    early = _levels(tmp_path, "day,saa_IU_per_mL\n2,0.5\n14,0.6\n")
    one_error_line(cli(*base, "--levels", str(early)), "row 2", "precedes the first dose")
    lloq = _levels(tmp_path, "day,saa_IU_per_mL,lloq\n14,0.6,abc\n")
    one_error_line(cli(*base, "--levels", str(lloq)), "'lloq'", "abc")
    unit_slip = _levels(tmp_path, "day,saa_IU_per_mL\n14,400\n")
    one_error_line(cli(*base, "--levels", str(unit_slip)), "IU/L")


def test_tdm_never_advises_a_zero_dose(cli, tmp_path):
    # A level far above what the dose can give (e.g. a mistimed peak): no dose advice.
    high = _levels(tmp_path, "day,saa_IU_per_mL\n14,30\n")
    r = cli("therapy", "tdm", *PEG, "--at", "0,14", "--levels", str(high), "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["recommended_dose"] is None
    assert "far above" in out["recommendation"]
    assert out["notice"] == "For research use; not a medical device."


@pytest.mark.parametrize(
    ("option", "value"),
    [("--threshold", "nan"), ("--threshold", "-1"), ("--days", "inf"), ("--bsa", "0")],
)
def test_therapy_numbers_out_of_range(cli, option, value):
    one_error_line(cli("therapy", "simulate", *PEG, option, value), option, code=2)


def test_target_trough_inf(cli, tmp_path):
    lv = _levels(tmp_path, "day,saa_IU_per_mL\n14,0.2\n")
    r = cli("therapy", "tdm", *PEG, "--at", "0,14", "--levels", str(lv), "--target-trough", "inf")
    one_error_line(r, "--target-trough", code=2)


def test_cell_ranges_cannot_be_bypassed(cli):
    one_error_line(cli("cell", "simulate", "--set", "knockdown_all_blast=5"), "between 0 and 1")
    one_error_line(cli("cell", "simulate", "--set", "er_stress=7"), "between 0 and 1")
    one_error_line(cli("cell", "simulate", "--er-stress", "7"), "--er-stress", code=2)


def test_doses_after_the_end_and_every_without_doses(cli):
    one_error_line(cli("therapy", "simulate", *PEG, "--at", "0,40"), "after the simulated 35")
    one_error_line(cli("therapy", "simulate", *PEG, "--every", "14d"), "--every needs --doses")


def test_unknown_yaml_key(cli, tmp_path):
    reg = tmp_path / "r.yaml"
    reg.write_text("doses:\n  - {day: 0, formulation: peg, dose: 2500 IU/m**2, rout: im}\n")
    one_error_line(cli("therapy", "simulate", "--regimen", str(reg)), "unknown key(s) rout")


def test_fit_with_sd_column_and_ambiguous_files(cli, tmp_path):
    path = tmp_path / "mm.csv"
    x = np.array([0.5, 1, 2, 4, 8, 16])
    y = 10 * x / (2 + x)
    sd = 0.05 * y
    pd.DataFrame({"S": x, "v": y * (1 + 0.01 * np.sin(x)), "sd": sd}).to_csv(path, index=False)
    r = cli("fit", str(path), "--model", "michaelis-menten", "--json")
    assert r.code == 0, r.err
    vmax = json.loads(r.out)["parameters"]["Vmax"]["value"]
    assert vmax == pytest.approx(10, rel=0.05)  # fitting the sd column would give ~0.5
    other = tmp_path / "three.csv"
    pd.DataFrame({"S": x, "v": y, "temp": 37.0}).to_csv(other, index=False)
    one_error_line(cli("fit", str(other), "--model", "michaelis-menten"), "--y", "S, v, temp")


def test_fit_errors_name_the_users_columns(cli, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("conc,rate\n1,2\n1,3\n1,4\n1,5\n", encoding="utf-8")
    one_error_line(cli("fit", str(path), "--model", "michaelis-menten"), "all conc values")


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".nc", ".xlsx", ".json"])
def test_output_suffix_selects_the_format(cli, tmp_path, suffix):
    out = tmp_path / f"t{suffix}"
    r = cli("therapy", "simulate", *PEG, "--days", "3", "--output", str(out))
    assert r.code == 0, r.err
    if suffix == ".csv":
        df = pd.read_csv(out)
    elif suffix == ".parquet":
        df = pd.read_parquet(out)
        assert df.attrs["units"]["saa_IU_per_mL"] == "IU/mL"
    elif suffix == ".xlsx":
        df = pd.read_excel(out, sheet_name="data")
    elif suffix == ".json":
        payload = json.loads(out.read_text(encoding="utf-8"))
        assert payload["units"]["asn_plasma_uM"] == "µM"
        df = pd.DataFrame(payload["data"])
    else:
        import xarray as xr

        ds = xr.open_dataset(out, engine="scipy")
        assert ds["saa_IU_per_mL"].attrs["units"] == "IU/mL"
        df = ds.to_dataframe().reset_index()
        ds.close()
    assert {"day", "saa_IU_per_mL"} <= set(df.columns)
    assert np.isfinite(df["saa_IU_per_mL"].to_numpy(float)).all()


def test_unknown_output_suffix_is_refused(cli, tmp_path):
    one_error_line(cli("therapy", "simulate", *PEG, "--output", str(tmp_path / "t.txt")), ".txt")


# --- strict JSON ---------------------------------------------------------------------------


def test_assay_json_is_strict(cli):
    r = cli("assay", "asparaginase", str(NESSLER), *NESSLER_ARGS, "--json")
    assert r.code == 0
    assert "NaN" not in r.out
    json.loads(r.out, parse_constant=lambda c: pytest.fail(f"non-strict JSON {c}"))


# --- messages ------------------------------------------------------------------------------


def test_bom_file_reads_like_the_plain_one(cli, tmp_path):
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + NESSLER.read_bytes())
    assert nessler_json(cli, bom)["samples"] == nessler_json(cli, NESSLER)["samples"]


def test_unit_hint_follows_the_dimension():
    with pytest.raises(AsnfluxError, match=r"e\.g\. '5 h'"):
        as_quantity("5", "[time]", name="--time")
    with pytest.raises(AsnfluxError, match=r"e\.g\. '5 IU/m\*\*2'"):
        as_quantity("5", "IU/m**2", name="--dose")


def test_no_numpy_reprs_in_messages(cli, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("x,y\n1,2\n2,nan\n3,4\n", encoding="utf-8")
    line = one_error_line(cli("fit", str(path), "--model", "linear"))
    assert "np." not in line


def test_iu_per_m2_spellings():
    assert as_quantity("2500 IU/m2", "IU/m**2") == as_quantity("2500 IU/m**2", "IU/m**2")
    assert as_quantity("2500 IU/m²", "IU/m**2") == as_quantity("2500 IU/m**2", "IU/m**2")


# --- writes --------------------------------------------------------------------------------


def test_new_files_honour_the_umask_and_replacements_keep_their_mode(tmp_path):
    old = os.umask(0o022)
    try:
        p = atomic_write_text(tmp_path / "a.txt", "x")
        assert stat.S_IMODE(p.stat().st_mode) == 0o644
        p.chmod(0o640)
        atomic_write_text(p, "y")
        assert stat.S_IMODE(p.stat().st_mode) == 0o640
    finally:
        os.umask(old)


def test_failing_plot_option_leaves_the_old_output(cli, tmp_path):
    out = tmp_path / "t.csv"
    out.write_text("old\n", encoding="utf-8")
    r = cli("therapy", "simulate", *PEG, "--output", str(out), "--plot", str(tmp_path / "f.xyz"))
    one_error_line(r, "--plot")
    assert out.read_text(encoding="utf-8") == "old\n"


def test_stale_temporaries_are_cleaned(tmp_path):
    stale = tmp_path / ".t.csv.asnflux-999999999.tmp"  # no such PID
    stale.write_text("half", encoding="utf-8")
    atomic_write_text(tmp_path / "t.csv", "x")
    assert not stale.exists()


def test_special_files_at_the_output_path_are_refused(tmp_path):
    target = tmp_path / "real.txt"
    target.write_text("keep", encoding="utf-8")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    with pytest.raises(DataError, match="symbolic link"):
        atomic_write_text(link, "x")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match="FIFO"):
        atomic_write_text(fifo, "x")
    assert target.read_text(encoding="utf-8") == "keep"


# --- limits --------------------------------------------------------------------------------


def test_limits_are_named(cli, tmp_path, monkeypatch):
    one_error_line(
        cli("therapy", "simulate", *PEG, "--every", "1d", "--doses", "100000000000000000000"),
        "--doses",
        code=2,
    )
    one_error_line(cli("therapy", "cohort", *PEG, "--n", "1000000000"), "--n", code=2)
    from asnflux import _tables

    monkeypatch.setattr(_tables, "MAX_ROWS", 3)
    path = tmp_path / "rows.csv"
    path.write_text("a\n1\n2\n3\n4\n", encoding="utf-8")
    with pytest.raises(DataError, match="more than 3 data rows"):
        read_table(path)


def test_long_quantity_text_is_refused_fast():
    import time

    start = time.perf_counter()
    with pytest.raises(AsnfluxError, match="200 characters"):
        as_quantity("1" * 32000 + " mL", "mL")
    assert time.perf_counter() - start < 0.1


# --- habits --------------------------------------------------------------------------------


def test_version_and_verbosity(cli):
    from asnflux import __version__

    r = cli("--version")
    assert r.code == 0
    assert r.out.strip() == f"asnflux {__version__}"
    one_error_line(cli("-q", "-v", "params", "list"), "not both", code=2)
    assert cli("-q", "params", "list").code == 0


def test_internal_errors_are_one_line_exit_3(cli, monkeypatch):
    import asnflux.cli._params as params

    def boom(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(params, "load_knowledge_base", boom)
    one_error_line(cli("params", "list"), "internal error", "ZeroDivisionError", code=3)


def test_project_files_users_expect():
    for name in ("LICENSE", "CITATION.cff", "src/asnflux/py.typed"):
        assert (ROOT / name).is_file(), name


def test_reprs_are_compact(kb):
    from asnflux.therapy import regimen_from_options, run_cohort

    res = run_cohort(regimen_from_options("peg", "2500 IU/m**2"), 20, 1, days=2)
    for obj in (kb, res, res.sim):
        assert len(repr(obj)) < 1000, type(obj)
        assert "<table" in obj._repr_html_() or "<p>" in obj._repr_html_()
    long = regimen_from_options("erwinia", "25000 IU/m**2", "im", "2d", 1000, None)
    assert len(repr(long)) < 300
    assert "… 996 more" in repr(long)
    assert "<table" in long._repr_html_()
    ds = res.to_xarray()
    assert ds.sizes["patient"] == 20
    assert ds["daily_saa_IU_per_mL"].attrs["units"] == "IU/mL"


def test_fit_error_not_a_traceback_for_extreme_scales():
    from asnflux.fitting import fit_curve

    x = np.array([1e-300, 2e-300, 3e-300, 4e-300])
    with pytest.raises((FitError, DataError)):
        fit_curve("michaelis-menten", x, np.array([1e308, 1.2e308, 1.3e308, 1.35e308]))


def test_empty_items_in_dose_lists_are_refused(cli):
    one_error_line(cli("therapy", "simulate", *PEG, "--at", "0,,14"), "an empty day")
    one_error_line(
        cli("therapy", "simulate", "--formulation", "peg", "--dose", "2500 IU/m**2,"),
        "an empty amount",
    )


def test_yaml_bombs_huge_numbers_and_deep_nesting(cli, tmp_path):
    bomb = tmp_path / "bomb.yaml"
    levels = ["&a0 [x, x, x, x, x, x, x, x, x]"] + [
        f"&a{k} [" + ", ".join([f"*a{k - 1}"] * 9) + "]" for k in range(1, 9)
    ]
    bomb.write_text(
        "doses:\n  - {day: 0, formulation: peg, dose: [" + ", ".join(levels) + "]}\n",
        encoding="utf-8",
    )
    one_error_line(cli("therapy", "simulate", "--regimen", str(bomb)), "aliases")
    huge = tmp_path / "huge.yaml"
    huge.write_text("doses:\n  - {day: " + "9" * 400 + ", formulation: peg, dose: 1 IU/m**2}\n")
    one_error_line(cli("therapy", "simulate", "--regimen", str(huge)), "'day'")
    deep = tmp_path / "deep.yaml"
    deep.write_text("doses: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    one_error_line(cli("therapy", "simulate", "--regimen", str(deep)), str(deep))


def test_too_many_levels_for_one_patient(cli, tmp_path):
    rows = "".join(f"{7 + k * 0.01:.2f},0.5\n" for k in range(600))
    lv = _levels(tmp_path, "day,saa_IU_per_mL\n" + rows)
    one_error_line(cli("therapy", "tdm", *PEG, "--at", "0,21", "--levels", str(lv)), "at most 500")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{day: 0, day: 5, formulation: peg, dose: 2500 IU/m**2}", "'day' appears twice"),
        ("{day: 0, formulation: peg, dose: 2500 IU/m**2, route: false}", "'route' must be"),
        ("{day: 0, formulation: peg, dose: 2500 IU/m**2, route: ''}", "'route' must be"),
    ],
)
def test_yaml_duplicate_keys_and_empty_routes(cli, tmp_path, entry, message):
    reg = tmp_path / "r.yaml"
    reg.write_text(f"doses:\n  - {entry}\n", encoding="utf-8")
    one_error_line(cli("therapy", "simulate", "--regimen", str(reg), "--days", "7"), message)


def test_second_review_reproducers(cli, tmp_path):
    # An undefined user equation is a clear error, not an internal one.
    one_error_line(
        cli("fit", str(ROOT / "examples" / "fit" / "puromycin.csv"), "--equation",
            "y = b1/(x-x)", "--start", "b1=1"),
        "undefined or infinite",
    )  # fmt: skip
    # Cell counts and volumes must be positive.
    one_error_line(cli("cell", "simulate", "--set", "cells_all_blast=0"), "must be positive")
    # Dilution errors name the file line of the sample, not a group position.
    path = nessler_with(tmp_path, lambda ls: set_dilution(ls, "P03_day3", "5 (note)"))
    row = next(
        i + 1 for i, ln in enumerate(path.read_text().splitlines()) if ln.startswith("P03_day3,")
    )
    one_error_line(cli("assay", "asparaginase", str(path), *NESSLER_ARGS), f"row {row},")
    # Absurdly wide tables and runs that cannot finish are refused with the limit named.
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{k}" for k in range(5000)) + "\n" + "1," * 4999 + "1\n")
    one_error_line(cli("fit", str(wide), "--model", "linear"), "more than 1,000 columns")
    one_error_line(
        cli("therapy", "cohort", *PEG, "--n", "1000000", "--days", "200"),
        "more than the 100,000,000 one run accepts",
    )
    # cell export takes the format from the suffix.
    one_error_line(cli("cell", "export", str(tmp_path / "m.json")), "unknown file type")
    one_error_line(
        cli("cell", "export", str(tmp_path / "m.xml"), "--format", "antimony"), "does not match"
    )


def test_native_solver_output_never_precedes_the_error(tmp_path):
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-m", "asnflux", "cell", "simulate", "--hours", "2", "--set",
         "Asn_med=1e300"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode in (0, 1), r.stderr
    if r.returncode == 1:
        assert len(lines) == 1, r.stderr
        assert lines[0].startswith("error:")
        assert "rr::" not in lines[0]
    assert "[ERROR]" not in r.stderr + r.stdout


def test_demo_checks_every_target_before_writing(cli, tmp_path):
    out = tmp_path / "d"
    out.mkdir()
    os.mkfifo(out / "therapy_cohort.png")
    one_error_line(cli("demo", "--out", str(out)), "FIFO")
    assert sorted(p.name for p in out.iterdir()) == ["therapy_cohort.png"]


def test_second_review_silent_answers(cli, tmp_path):
    one_error_line(
        cli("assay", "asparaginase", str(NESSLER), "--reaction-volume", "1 mL",
            "--sample-volume", "2 mL", "--time", "10 min"),
        "exceeds reaction_volume",
    )  # fmt: skip
    huge = nessler_with(tmp_path, lambda ls: set_dilution(ls, "P03_day3", "1e300"))
    one_error_line(cli("assay", "asparaginase", str(huge), *NESSLER_ARGS), "from 1 to")
    one_error_line(cli("assay", "lcms", str(LCMS), "--unit", "mM"), "states 'uM'")
    one_error_line(cli("assay", "lcms", str(LCMS), "--unit", "kg"), "--unit", code=2)
    one_error_line(cli("therapy", "simulate", *PEG, "--at", "0,0"), "two doses at day 0")
    one_error_line(cli("cell", "simulate", "--set", "Asn_med=1_0"), "not a finite number")
    puro = str(ROOT / "examples" / "fit" / "puromycin.csv")
    one_error_line(
        cli("fit", puro, "--model", "linear", "--x", "conc_ppm", "--y", "conc_ppm"),
        "also the x column",
    )


def test_second_review_yaml_levels_and_sheet(cli, tmp_path):
    for text, message in (("1:30", "'1:30'"), ("1_0", "'1_0'")):
        reg = tmp_path / "r.yaml"
        reg.write_text(f"doses:\n  - {{day: {text}, formulation: peg, dose: 2500 IU/m**2}}\n")
        one_error_line(cli("therapy", "simulate", "--regimen", str(reg)), message)
    lv = _levels(tmp_path, "day,saa_IU_per_mL,note\n14,0.2,trough\n")
    one_error_line(
        cli("therapy", "tdm", *PEG, "--at", "0,21", "--levels", str(lv)), "unknown column(s)"
    )
    r = cli("therapy", "cohort", "--help")
    assert "--no-no-immunogenicity" not in r.out


def test_mzml_sheet_row_without_its_file_is_refused(tmp_path):
    from asnflux.assays._mzml import peak_table_from_mzml
    from helpers import write_mzml

    t = np.linspace(0, 5, 1501)
    y = 1e5 * np.exp(-0.5 * ((t - 2.3) / 0.04) ** 2)
    traces = {"SRM SIC Q1=133.1": (t, y), "SRM SIC Q1=139.1": (t, y)}
    a = write_mzml(tmp_path / "a.mzML", traces)
    sheet = pd.DataFrame({"File": ["a", "b"], "Sample Type": ["Unknown", "Unknown"]})
    with pytest.raises(DataError, match="the sheet lists 'b'"):
        peak_table_from_mzml(
            [a], sheet, analyte_trace="Q1=133.1", is_trace="Q1=139.1", rt=2.3, half_window=0.3
        )


def test_compare_reports_progress_over_all_regimens():
    from asnflux.therapy import compare_regimens, regimen_from_options

    calls: list[tuple[int, int]] = []
    regs = {
        "a": regimen_from_options("peg", "2500 IU/m**2"),
        "b": regimen_from_options("peg", "1000 IU/m**2"),
    }
    out = compare_regimens(regs, 5, 1, days=2, progress=lambda d, t: calls.append((d, t)))
    assert set(out) == {"a", "b"}
    done = [d for d, _ in calls]
    assert done == sorted(done)
    assert calls[-1][0] == calls[-1][1]
    assert len({t for _, t in calls}) == 1
