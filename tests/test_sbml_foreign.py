"""SBML written by other tools: `asnflux sbml check|simulate`.

The models are libroadrunner's bundled test models (written by other tools, SBML L2V1,
L2V4 and L3V1). `simulate` is checked against an independent integration of the same
model: the ODEs assembled here from the SBML with libsbml and sympy (species, compartments,
global and local parameters, stoichiometry, kinetic laws), integrated by scipy's LSODA at
tight tolerances.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import libsbml
import numpy as np
import pandas as pd
import pytest
import roadrunner
import sympy
from scipy.integrate import solve_ivp

MODELS = Path(os.path.dirname(roadrunner.__file__)) / "tests"
CASES = ["feedback.xml", "linearPathwayOpen.xml", "test_data/Test_1.xml"]


def independent(path: Path, end: float, points: int) -> pd.DataFrame:
    """Species concentrations by scipy from the SBML's own equations."""
    m = libsbml.readSBMLFromFile(str(path)).getModel()
    values = {m.getParameter(i).getId(): m.getParameter(i).getValue()
              for i in range(m.getNumParameters())}  # fmt: skip
    values |= {m.getCompartment(i).getId(): m.getCompartment(i).getSize()
               for i in range(m.getNumCompartments())}  # fmt: skip
    species = [m.getSpecies(i) for i in range(m.getNumSpecies())]
    ids = [s.getId() for s in species]
    vol = {s.getId(): values[s.getCompartment()] for s in species}
    amount0 = [
        s.getInitialAmount()
        if s.isSetInitialAmount()
        else s.getInitialConcentration() * vol[s.getId()]
        for s in species
    ]
    conc = {sid: sympy.Symbol(f"c_{sid}") for sid in ids}
    laws = []
    for i in range(m.getNumReactions()):
        r = m.getReaction(i)
        law = r.getKineticLaw()
        local = {law.getParameter(k).getId(): law.getParameter(k).getValue()
                 for k in range(law.getNumParameters())}  # fmt: skip
        if hasattr(law, "getNumLocalParameters"):
            local |= {law.getLocalParameter(k).getId(): law.getLocalParameter(k).getValue()
                      for k in range(law.getNumLocalParameters())}  # fmt: skip
        text = libsbml.formulaToL3String(law.getMath())
        names = {**{k: sympy.Float(v) for k, v in (values | local).items()},
                 **{k: conc[k] for k in ids}, "pow": lambda a, b: a**b}  # fmt: skip
        expr = sympy.sympify(text.replace("^", "**"), locals=names)
        stoich = {}
        for k in range(r.getNumReactants()):
            ref = r.getReactant(k)
            stoich[ref.getSpecies()] = stoich.get(ref.getSpecies(), 0) - ref.getStoichiometry()
        for k in range(r.getNumProducts()):
            ref = r.getProduct(k)
            stoich[ref.getSpecies()] = stoich.get(ref.getSpecies(), 0) + ref.getStoichiometry()
        laws.append((sympy.lambdify([list(conc.values())], expr, "math"), stoich))
    boundary = {s.getId() for s in species if s.getBoundaryCondition()}

    def rhs(_t, amounts):
        c = [a / vol[sid] for a, sid in zip(amounts, ids, strict=True)]
        d = np.zeros(len(ids))
        for f, stoich in laws:
            v = f(c)
            for sid, n in stoich.items():
                if sid not in boundary:
                    d[ids.index(sid)] += n * v
        return d

    t = np.linspace(0, end, points)
    sol = solve_ivp(rhs, (0, end), amount0, t_eval=t, method="LSODA", rtol=1e-10, atol=1e-14)
    assert sol.success
    data = {"time": t} | {sid: sol.y[k] / vol[sid] for k, sid in enumerate(ids)}
    return pd.DataFrame(data)


@pytest.mark.parametrize("name", CASES)
def test_simulate_matches_an_independent_integration(cli, tmp_path, name):
    out = tmp_path / "run.csv"
    r = cli("sbml", "simulate", str(MODELS / name), "--end", "10", "--points", "21",
            "--output", str(out))  # fmt: skip
    assert r.code == 0, r.err
    got = pd.read_csv(out)
    got.columns = [c.split(" [")[0] for c in got.columns]
    ref = independent(MODELS / name, 10.0, 21)
    assert got.columns[0] == "time"
    for sid in ref.columns[1:]:
        scale = max(float(np.abs(ref[sid]).max()), 1e-12)
        np.testing.assert_allclose(got[sid], ref[sid], atol=1e-5 * scale, err_msg=sid)


def test_csv_headers_carry_the_declared_units(cli, tmp_path):
    out = tmp_path / "fb.csv"
    assert cli("sbml", "simulate", str(MODELS / "feedback.xml"), "--end", "1", "--output",
               str(out)).code == 0  # fmt: skip
    header = out.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("time,S1 [mole/litre]")  # SBML L2's default units


def test_check_reports_and_exits(cli, tmp_path):
    r = cli("sbml", "check", str(MODELS / "feedback.xml"), "--json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert (report["level"], report["version"]) == (2, 1)
    assert report["species"] == 6
    assert report["runnable"] is True
    assert report["errors"] == []
    bad = tmp_path / "bad.xml"
    bad.write_text("<sbml><model></sbml>", encoding="utf-8")
    r = cli("sbml", "check", str(bad))
    assert r.code == 1
    assert "bad.xml: not a readable SBML document" in r.err


def test_exported_cell_model_checks_clean(cli, tmp_path):
    path = tmp_path / "cell.xml"
    assert cli("cell", "export", str(path)).code == 0
    r = cli("sbml", "check", str(path), "--json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert report["errors"] == []
    assert report["warnings"] == []  # units on every literal, unit checks on


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--end", "0"], "--end"),
        (["--end", "1", "--points", "1"], "--points"),
        (["--end", "1", "--output", "x.txt"], "--output"),
    ],
)
def test_simulate_refusals(cli, args, needle):
    r = cli("sbml", "simulate", str(MODELS / "feedback.xml"), *args)
    assert r.code in (1, 2)
    assert needle in r.err
    assert "Traceback" not in r.err


def crashing_document() -> str:
    """The exported cell model with one edit the fuzz suite found: a ``<plus/>`` removed and
    a stray quote left, so that ATF4's rate rule holds ``pow`` with three arguments.
    libroadrunner 2.x crashes the whole process (SIGSEGV) loading it."""
    import re

    from asnflux.models.cell import CellConfig, build_cell_model
    from asnflux.network import to_sbml

    text = to_sbml(build_cell_model(CellConfig()))
    pattern = r" {7}<plus/>\n {16}(?= {10}<apply>\n\s*<power/>\n\s*<ci> K_ATF4 </ci>)"
    m = re.search(pattern, text)
    assert m is not None, "the exported model changed; rebuild this reproducer"
    return text[: m.start()] + '"' + text[m.end() :]


@pytest.mark.parametrize("command", [["check"], ["simulate", "--end", "1"]])
def test_invalid_math_is_refused_before_libroadrunner_sees_it(tmp_path, command):
    # Found by the fuzz suite: libroadrunner crashed the process (SIGSEGV) on a pow with
    # three arguments; documents with SBML errors are now refused first. In a subprocess,
    # so that a regression fails this test instead of killing the suite.
    import subprocess
    import sys

    path = tmp_path / "pow3.xml"
    path.write_text(crashing_document(), encoding="utf-8")
    p = subprocess.run(
        [sys.executable, "-m", "asnflux", "sbml", command[0], str(path), *command[1:]],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert p.returncode == 1, (p.returncode, p.stderr[-500:])
    assert p.stderr.strip().splitlines()[-1].startswith("error:")
    assert "pow3.xml" in p.stderr
