"""Fuzzing: every input is either refused with one clear line or answered right.

For each loader the strategies mutate the shipped example files and generate option
strings; the property is the same everywhere:

* exit 0 and output that is finite (``--json`` parses as strict JSON), or
* exit 1 (``error: …``) or 2 (``usage error: …``) with exactly one line on stderr,

never exit 3 (an internal error), a traceback, or a Python warning ahead of the message.
``make test`` runs a bounded number of examples (the ``ci`` profile); ``make fuzz`` runs the
``fuzz`` profile (thousands per strategy). Minimal reproducers found here are kept as
regression tests in ``test_hardening.py``.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from asnflux import AsnfluxError
from asnflux._tables import read_table
from asnflux.cli import main
from asnflux.network import from_sbml
from asnflux.units import as_quantity, parse_quantity

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples"
NESSLER = EX / "assays" / "asparaginase_nessler.csv"
LCMS = EX / "assays" / "lcms_skyline_report.csv"
PUROMYCIN = EX / "fit" / "puromycin.csv"
PEG = ["--formulation", "peg", "--dose", "2500 IU/m**2"]

# The tokens adversarial inputs are made of: each has broken some loader before.
TOKENS = [
    "",
    " ",
    "0",
    "-1",
    "1e-300",
    "1e308",
    "1e400",
    "9" * 400,
    "inf",
    "-inf",
    "nan",
    "NaN",
    "Infinity",
    "1:5",
    "5x",
    "1/5",
    "x",
    "#",
    "# note",
    "#N/A",
    '"',
    "'",
    ";",
    ",",
    "\t",
    "µ",
    "1-2 mL",
    "2 ± 1 mL",
    "~5 mL",
    "1 m2",
    "1.2.3",
    "a" * 200,
    "\u00a0",
    "\ufeff",
    "<0.02",
    "0x10",
    "1,5",
    "true",
]
token = st.one_of(st.sampled_from(TOKENS), st.text(max_size=12))


class Outcome:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


def run_cli(*args: str) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return Outcome(code, out.getvalue(), err.getvalue())


def _finite_json(value: object) -> None:
    if isinstance(value, float):
        assert math.isfinite(value), value
    elif isinstance(value, dict):
        for v in value.values():
            _finite_json(v)
    elif isinstance(value, list):
        for v in value:
            _finite_json(v)


def assert_clean(r: Outcome, *, json_out: bool = False) -> None:
    """The fuzz property (see the module docstring)."""
    assert "Traceback" not in r.err + r.out, r.err
    assert r.code in (0, 1, 2), (r.code, r.err)
    if r.code == 0:
        if json_out:
            _finite_json(json.loads(r.out, parse_constant=_refuse_constant))
        return
    lines = [line for line in r.err.splitlines() if line.strip()]
    assert len(lines) == 1, r.err
    assert lines[0].startswith(("error:", "usage error:")), r.err
    assert "np.float64(" not in lines[0], lines[0]
    assert "np.int64(" not in lines[0], lines[0]


def attempt(fn, *args, **kwargs):
    """``(result, None)``, or ``(None, message)`` when ``fn`` raises an AsnfluxError."""
    try:
        return fn(*args, **kwargs), None
    except AsnfluxError as exc:
        return None, str(exc)


def _refuse_constant(name: str) -> float:
    raise AssertionError(f"non-strict JSON constant {name}")


def mutate_csv(text: str, data: st.DataObject) -> str:
    """A mutation of a CSV text: change cells, drop or repeat rows, add blank or BOM lines."""
    lines = text.splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        kind = data.draw(st.sampled_from(["cell", "drop", "dup", "blank", "bom", "header", "cut"]))
        i = data.draw(st.integers(0, max(0, len(lines) - 1)))
        if not lines:
            break
        if kind == "cell":
            cells = lines[i].split(",")
            j = data.draw(st.integers(0, len(cells) - 1))
            cells[j] = data.draw(token)
            lines[i] = ",".join(cells)
        elif kind == "drop":
            del lines[i]
        elif kind == "dup":
            lines.insert(i, lines[i])
        elif kind == "blank":
            lines.insert(i, "")
        elif kind == "bom":
            lines[0] = "\ufeff" + lines[0]
        elif kind == "header":
            head = next((k for k, line in enumerate(lines) if line and line[0] != "#"), 0)
            cells = lines[head].split(",")
            cells[data.draw(st.integers(0, len(cells) - 1))] = data.draw(token)
            lines[head] = ",".join(cells)
        elif kind == "cut":
            lines = lines[: i + 1]
    return "\n".join(lines) + "\n"


def _tmp(name: str, text: str | bytes) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="asnflux-fuzz-"))
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


FUZZ = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)


@FUZZ
@given(text=st.one_of(token, st.text(max_size=300)))
@example(text="1" * 32000)
def test_quantity_text_is_read_or_refused(text):
    q, message = attempt(as_quantity, text, "[length] ** 3", name="--reaction-volume")
    if message is not None:
        assert "\n" not in message
        return
    assert math.isfinite(float(q.magnitude))
    parsed, _ = attempt(parse_quantity, text, context="x")
    assert parsed is None or parsed.quantity is None or math.isfinite(parsed.quantity.magnitude)


@FUZZ
@given(data=st.binary(max_size=400))
def test_any_bytes_are_a_table_or_a_clear_error(data):
    path = _tmp("t.csv", data)
    df, message = attempt(read_table, path)
    if message is not None:
        assert str(path) in message
        assert "\n" not in message
        return
    for col in df.columns:
        if df[col].dtype.kind == "f":
            values = df[col].to_numpy()
            assert np.all(np.isfinite(values[~np.isnan(values)]))


@FUZZ
@given(data=st.data())
def test_nessler_file_mutations(data):
    path = _tmp("n.csv", mutate_csv(NESSLER.read_text(encoding="utf-8"), data))
    r = run_cli(
        "assay",
        "asparaginase",
        str(path),
        "--reaction-volume",
        "1.0 mL",
        "--sample-volume",
        "0.1 mL",
        "--time",
        "10 min",
        "--json",
    )
    assert_clean(r, json_out=True)


@FUZZ
@given(vol=token, smp=token, time=token)
def test_nessler_quantity_options(vol, smp, time):
    r = run_cli(
        "assay",
        "asparaginase",
        str(NESSLER),
        "--reaction-volume",
        vol,
        "--sample-volume",
        smp,
        "--time",
        time,
        "--json",
    )
    assert_clean(r, json_out=True)


@FUZZ
@given(data=st.data())
def test_lcms_report_mutations(data):
    source = data.draw(st.sampled_from([LCMS, LCMS.with_name("lcms_skyline_transitions.csv")]))
    path = _tmp("l.csv", mutate_csv(source.read_text(encoding="utf-8"), data))
    mode = data.draw(st.sampled_from(["sum", "quantifier"]))
    r = run_cli("assay", "lcms", str(path), "--transitions", mode, "--json")
    assert_clean(r, json_out=True)


@FUZZ
@given(data=st.data())
def test_fit_file_mutations(data):
    path = _tmp("f.csv", mutate_csv(PUROMYCIN.read_text(encoding="utf-8"), data))
    assert_clean(run_cli("fit", str(path), "--model", "michaelis-menten", "--json"), json_out=True)


@FUZZ
@given(dose=token, at=token, every=token, doses=token, days=token)
def test_regimen_options(dose, at, every, doses, days):
    args = ["therapy", "simulate", "--formulation", "erwinia", "--dose", dose, "--days", days]
    if at:
        args += ["--at", at]
    else:
        args += ["--every", every, "--doses", doses]
    r = run_cli(*args, "--json")
    assert_clean(r, json_out=True)


yaml_value = st.recursive(
    st.one_of(token, st.integers(-5, 10**30), st.floats(allow_nan=True), st.booleans()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["day", "dose", "x"]), inner)
    ),
    max_leaves=6,
)


@FUZZ
@given(
    entry=st.dictionaries(
        st.sampled_from(["day", "formulation", "dose", "route", "every", "count", "rout"]),
        yaml_value,
        max_size=6,
    )
)
@example(entry={"day": 0, "formulation": "erwinia", "dose": "25000 IU/m**2", "count": math.inf})
def test_regimen_yaml(entry):
    import yaml

    path = _tmp("r.yaml", yaml.safe_dump({"doses": [entry]}))
    r = run_cli("therapy", "simulate", "--regimen", str(path), "--days", "3", "--json")
    assert_clean(r, json_out=True)


@FUZZ
@given(data=st.data())
def test_tdm_level_mutations(data):
    base = "day,saa_IU_per_mL,lloq\n7,1.1,0.02\n14,0.55,0.02\n"
    path = _tmp("levels.csv", mutate_csv(base, data))
    target = data.draw(st.one_of(st.just("0.1"), token))
    r = run_cli(
        "therapy", "tdm", "--levels", str(path), *PEG, "--at", "0,14,28",
        "--target-trough", target, "--json",
    )  # fmt: skip
    assert_clean(r, json_out=True)


@FUZZ
@given(threshold=token, bsa=token, seed=token, n=token)
def test_cohort_options(threshold, bsa, seed, n):
    r = run_cli(
        "therapy", "cohort", *PEG, "--days", "2", "--n", n, "--seed", seed,
        "--threshold", threshold, "--bsa", bsa, "--json",
    )  # fmt: skip
    assert_clean(r, json_out=True)


@FUZZ
@given(output=st.sampled_from(["x.csv", "x.parquet", "x.foo", "x", "", "dir/", "a" * 300]))
def test_output_paths(output):
    folder = Path(tempfile.mkdtemp(prefix="asnflux-fuzz-"))
    r = run_cli("therapy", "simulate", *PEG, "--days", "2", "--output", str(folder / output))
    assert_clean(r)


@FUZZ
@given(data=st.data())
def test_sbml_mutations(data, patient_sbml):
    text = patient_sbml
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(text) - 1))
        j = data.draw(st.integers(i, min(len(text), i + 40)))
        text = text[:i] + data.draw(st.sampled_from(["", "<", ">", "x", '"', "0"])) + text[j:]
    _, message = attempt(from_sbml, text)
    assert message is None or "\n" not in message


@pytest.fixture(scope="module")
def patient_sbml() -> str:
    from asnflux.models.cell import CellConfig, build_cell_model
    from asnflux.network import to_sbml

    return to_sbml(build_cell_model(CellConfig()))


def _asns_with_mutated(mutated: str, data: st.DataObject) -> None:
    """``assay asns`` on the plate example with one of its three files mutated."""
    folder = Path(tempfile.mkdtemp(prefix="asnflux-fuzz-"))
    assays = EX / "assays"
    for name in ("asns_luminescence.csv", "asns_bradford.csv", "asns_layout.csv"):
        text = (assays / name).read_text(encoding="utf-8")
        (folder / name).write_text(
            mutate_csv(text, data) if name == mutated else text, encoding="utf-8"
        )
    r = run_cli(
        "assay", "asns", str(folder / "asns_luminescence.csv"), str(folder / "asns_bradford.csv"),
        "--layout", str(folder / "asns_layout.csv"), "--reaction-volume", "50 uL",
        "--lysate-volume", "10 uL", "--json",
    )  # fmt: skip
    assert_clean(r, json_out=True)


@FUZZ
@given(data=st.data())
def test_plate_export_mutations(data):
    _asns_with_mutated("asns_bradford.csv", data)


# Options of fit, cell, isotopes and params; the layout file of plate assays.
EQUATION_PARTS = [
    "y",
    "=",
    "x",
    "x2",
    "a",
    "b",
    "*",
    "/",
    "^",
    "**",
    "(",
    ")",
    "exp(",
    "ln(",
    "log(",
    "sqrt(",
    "-",
    "+",
    "1",
    "0",
    "1e308",
    "inf",
    "nan",
    "pi",
    ";",
    "==",
]
equation = st.one_of(
    st.lists(st.sampled_from(EQUATION_PARTS), max_size=12).map(" ".join),
    st.sampled_from(["y = a*x/(b+x)", "y = a*exp(-b*x)", "y = a", "y = x", "a*x/(b+x)"]),
    token,
)


@FUZZ
@given(eq=equation, start=token, bounds=token, fix=token)
@example(eq="y = a*x/(b+x)", start="a=200,b=0.1", bounds="a=0:inf", fix="")
@example(eq="y = a*x/(b+x)", start="a=nan,b=0.1", bounds="", fix="")
@example(eq="y = a*x/(b+x)", start="a=200,b=0.1", bounds="b=1:0", fix="a=1e400")
def test_fit_equation_options(eq, start, bounds, fix):
    args = ["fit", str(PUROMYCIN), "--equation", eq, "--json"]
    for opt, value in (("--start", start), ("--bounds", bounds), ("--fix", fix)):
        if value:
            args += [opt, value]
    assert_clean(run_cli(*args), json_out=True)


@FUZZ
@given(
    model=st.sampled_from(["michaelis-menten", "hill", "logistic4", "substrate-inhibition"]),
    weight=token,
    interpolate=token,
    rout=token,
    compare=st.one_of(token, st.sampled_from(["michaelis-menten", "hill", "logistic4"])),
)
def test_fit_model_options(model, weight, interpolate, rout, compare):
    args = ["fit", str(PUROMYCIN), "--model", model, "--json"]
    for opt, value in (
        ("--weight", weight),
        ("--interpolate", interpolate),
        ("--rout", rout),
        ("--compare", compare),
    ):
        if value:
            args += [opt, value]
    assert_clean(run_cli(*args), json_out=True)


CELL_NAMES = [
    "Km_ASNS_Asp",
    "f_Asn",
    "knockdown_all_blast",
    "er_stress",
    "rapamycin",
    "Vcell_all_blast",
    "cells_all_blast",
    "bogus",
    "residues",
    "Asn_med",
]


@settings(FUZZ, max_examples=max(10, settings.default.max_examples // 10))
@given(name=st.one_of(st.sampled_from(CELL_NAMES), token), value=token, hours=token)
@example(name="Km_ASNS_Asp", value="-1", hours="2")
@example(name="knockdown_all_blast", value="5", hours="2")
def test_cell_set_and_hours(name, value, hours):
    # a cell build costs about a second, so the CI profile runs ten of these
    r = run_cli("cell", "simulate", "--hours", hours or "2", "--set", f"{name}={value}", "--json")
    assert_clean(r, json_out=True)


@FUZZ
@given(
    label=st.one_of(
        token,
        st.lists(
            st.sampled_from(
                ["13C4", "15N2", "d8", "13C", "15N", "d3", "18O2", "C4", "13C99", "d-1", "x", ""]
            ),
            max_size=4,
        ).map(",".join),
    ),
    analyte=st.one_of(st.sampled_from(["Asn", "Asp", "Gln", "Glu"]), token),
    purity=token,
)
def test_isotope_options(label, analyte, purity):
    args = ["assay", "isotopes", "--analyte", analyte, "--json"]
    if label:
        args += ["--label", label]
    if purity:
        args += ["--purity", purity]
    assert_clean(run_cli(*args), json_out=True)


@FUZZ
@given(
    field=st.sampled_from(
        ["--entity", "--quantity", "--organism", "--source", "--topic", "--flag"]
    ),
    value=token,
    record=token,
)
def test_params_options(field, value, record):
    assert_clean(run_cli("params", "list", field, value, "--json"), json_out=True)
    assert_clean(run_cli("params", "show", record or "x", "--json"), json_out=True)


@FUZZ
@given(data=st.data())
def test_plate_layout_mutations(data):
    _asns_with_mutated("asns_layout.csv", data)


EDITS = st.lists(
    st.tuples(
        st.integers(0, 10**6), st.integers(0, 40), st.sampled_from(["", "<", ">", "x", '"', "0"])
    ),
    max_size=3,
)


@FUZZ
@given(edits=EDITS, end=token, points=token)
def test_sbml_commands_on_mutated_models(edits, end, points, patient_sbml):
    text = patient_sbml
    for start, width, new in edits:
        k = start % len(text)
        text = text[:k] + new + text[k + width :]
    path = _tmp("m.xml", text)
    assert_clean(run_cli("sbml", "check", str(path), "--json"), json_out=True)
    args = ["sbml", "simulate", str(path), "--end", end or "1", "--points", points or "5"]
    assert_clean(run_cli(*args))
