"""The web app's pages through its HTTP interface: each page's main path and failure path.

The library does the science; these tests check that the pages call it, store what it
returns, and show its messages (never a traceback or a server path).
"""

from __future__ import annotations

import hashlib
import html
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from asnflux.network import validate_sbml
from asnflux.web import create_app
from asnflux.web._store import AssayRun, AuditEntry, Level, Patient, Store
from web_support import ROOT, alert, http_client, make_users, need, sign_in, wait_for_run

LCMS = ROOT / "examples" / "assays" / "lcms_skyline_report.csv"
NESSLER = ROOT / "examples" / "assays" / "asparaginase_nessler.csv"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    u = f"sqlite:///{tmp_path_factory.mktemp('web') / 'app.db'}"
    create_app(u)  # migrates
    make_users(u)
    return u


@pytest.fixture(scope="module")
def app(url: str):
    return create_app(url)


@pytest.fixture
def analyst(app):
    with http_client(app) as c:
        c.token = sign_in(c, "analyst")
        yield c


def _patient(c, pseudonym: str, at: str = "0,14") -> str:
    r = c.post(
        "/tdm/patients",
        data={
            "pseudonym": pseudonym,
            "formulation": "peg",
            "dose": "2500 IU/m**2",
            "at": at,
            "bsa": "1.2",
            "csrf_token": c.token,
        },
    )
    assert r.status_code == 303, alert(r.text)
    return r.headers["location"]


def test_tdm_main_path_levels_forecast_advice(analyst, url):
    loc = _patient(analyst, "T-001")
    for day, saa in ((7, "0.9"), (14, "0.5")):
        r = analyst.post(
            f"{loc}/levels", data={"day": day, "saa": saa, "csrf_token": analyst.token}
        )
        assert r.status_code == 303
    r = analyst.post(f"{loc}/forecast", data={"target_trough": "0.1", "csrf_token": analyst.token})
    assert r.status_code == 303
    page = analyst.get(loc).text
    assert "Fit, forecast and advise" in page
    assert 'id="advice"' in page
    assert "For research use; not a medical device" in page
    assert "<svg" in page  # the forecast figure
    with Store(url).session() as s:
        p = s.scalars(select(Patient).where(Patient.pseudonym == "T-001")).one()
        assert [lv.day for lv in p.levels] == [7, 14]
        assert p.forecasts[-1].results["notice"].startswith("For research use")
    # the dosing rules (target range, rounding step), as the CLI's
    r = analyst.post(
        f"{loc}/forecast",
        data={"target_trough": "0.1", "target_high": "0.4", "dose_step": "100",
              "csrf_token": analyst.token},
    )  # fmt: skip
    assert r.status_code == 303
    page = analyst.get(loc).text
    assert "P(trough in 0.1-0.4 IU/mL)" in page
    assert "effective samples" in page
    r = analyst.post(
        f"{loc}/forecast",
        data={"target_trough": "0.1", "target_high": "lots", "csrf_token": analyst.token},
    )
    assert r.status_code == 400
    assert "target high: 'lots' is not a number" in alert(r.text)


def test_tdm_bad_level_is_refused_with_its_reason(analyst, url):
    loc = _patient(analyst, "T-002")
    r = analyst.post(f"{loc}/levels", data={"day": 3, "saa": "lots", "csrf_token": analyst.token})
    assert r.status_code == 400
    assert alert(r.text).startswith("level on day 3 ('lots'): level 'lots' is not an activity")
    r = analyst.post(f"{loc}/levels", data={"day": 3, "saa": "800", "csrf_token": analyst.token})
    assert "is it in IU/L?" in alert(r.text)
    with Store(url).session() as s:
        n = s.scalar(select(func.count(Level.id)).join(Patient).where(Patient.pseudonym == "T-002"))
    assert n == 0  # nothing stored


def test_tdm_forecast_needs_levels(analyst):
    loc = _patient(analyst, "T-003")
    r = analyst.post(f"{loc}/forecast", data={"csrf_token": analyst.token})
    assert r.status_code == 400
    assert "at least one level" in alert(r.text)


def test_tdm_patient_ids_are_pseudonyms(analyst):
    r = analyst.post(
        "/tdm/patients",
        data={
            "pseudonym": "Jane Doe 2015-03-02",
            "formulation": "peg",
            "dose": "2500 IU/m**2",
            "at": "0",
            "bsa": "1",
            "csrf_token": analyst.token,
        },
    )
    assert r.status_code == 400
    assert "never a name" in alert(r.text)


def test_tdm_patient_age_and_sex_are_checked(analyst):
    form = {"pseudonym": "T-AS", "formulation": "peg", "dose": "2500 IU/m**2", "at": "0",
            "bsa": "1", "csrf_token": analyst.token}  # fmt: skip
    r = analyst.post("/tdm/patients", data={**form, "sex": "x"})
    assert r.status_code == 400
    assert alert(r.text) == "sex 'x': write f or m, or leave it empty"
    r = analyst.post("/tdm/patients", data={**form, "age": "130"})
    assert alert(r.text) == "age 130 years is outside 0-120 years"
    r = analyst.post("/tdm/patients", data={**form, "age": "7", "sex": "m"})
    assert r.status_code == 303
    assert "7 years, male" in analyst.get(r.headers["location"]).text


def test_tdm_patient_phase_is_kept_and_checked(analyst):
    form = {"pseudonym": "T-PH", "formulation": "peg", "dose": "2500 IU/m**2", "at": "0",
            "bsa": "1", "phase": "mrg-maintenance", "infection": "on",
            "csrf_token": analyst.token}  # fmt: skip
    r = analyst.post("/tdm/patients", data=form)
    assert r.status_code == 303, alert(r.text)
    assert "mrg-maintenance, with an infection" in analyst.get(r.headers["location"]).text
    r = analyst.post("/tdm/patients", data={**form, "pseudonym": "T-PH2", "phase": "x"})
    assert r.status_code == 400
    assert alert(r.text).startswith("phase 'x': peg (kloos2021) knows induction")
    r = analyst.post(
        "/tdm/patients",
        data={**form, "pseudonym": "T-PH3", "formulation": "erwinia", "dose": "25000 IU/m**2"},
    )
    assert "no formulation of the regimen has a treatment-phase covariate" in alert(r.text)


NONMEM = """ID,TIME,AMT,DV,EVID,MDV,CMT
N1,0,2500,0,1,1,1
N1,168,0,0.61,0,0,1
N1,336,2500,0,1,1,1
N1,504,0,0.35,0,0,1
"""


def test_tdm_imports_a_nonmem_dataset(analyst, url, tmp_path: Path):
    r = analyst.post(
        "/tdm/import",
        data={"formulation": "peg", "bsa": "1.1", "route": "iv", "csrf_token": analyst.token},
        files={"file": ("study.csv", NONMEM.encode(), "text/csv")},
    )
    assert r.status_code == 303, alert(r.text)
    assert wait_for_run(analyst, r.headers["location"])["status"] == "done"
    page = html.unescape(analyst.get(r.headers["location"]).text)
    assert "not fitted (fit on import was off)" in page  # the form's box was not ticked
    with Store(url).session() as s:
        p = s.scalars(select(Patient).where(Patient.pseudonym == "N1")).one()
        assert [d["day"] for d in p.regimen] == [0, 14]
        assert [(lv.day, lv.saa) for lv in p.levels] == [(7, "0.61"), (21, "0.35")]
        assert p.bsa_m2 == 1.1
        assert p.forecasts == []


# Three patients: one with its covariates in the file, one without a level (cannot be
# filed), one whose id is already taken.
NONMEM_MANY = """ID,TIME,AMT,DV,EVID,MDV,CMT,BSA,WT,AGE,SEX
M1,0,2500,0,1,1,1,0.8,21,6,F
M1,168,0,0.61,0,0,1,0.8,21,6,F
M1,336,2500,0,1,1,1,0.8,21,6,F
M1,504,0,0.35,0,0,1,0.8,21,6,F
M2,0,2500,0,1,1,1,1.2,,,
M3,0,2500,0,1,1,1,1.2,,,
M3,168,0,0.5,0,0,1,1.2,,,
"""


def _import_and_fit(client, name: str, text: str) -> str:
    """Import a PEG IV dataset with fitting on; the finished run's page."""
    r = client.post(
        "/tdm/import",
        data={"formulation": "peg", "bsa": "1.0", "route": "iv", "fit": "on",
              "csrf_token": client.token},
        files={"file": (name, text.encode(), "text/csv")},
    )  # fmt: skip
    assert r.status_code == 303, alert(r.text)
    assert wait_for_run(client, r.headers["location"])["status"] == "done"
    return client.get(r.headers["location"]).text


def test_tdm_import_fits_each_patient_and_lists_every_status(analyst, url, monkeypatch):
    import asnflux.web._tdm as web_tdm

    seen = {}
    real = web_tdm.tdm

    def spy(levels, regimen, **kw):  # the covariates the fit was given
        seen[len(seen)] = kw
        return real(levels, regimen, **kw)

    monkeypatch.setattr(web_tdm, "tdm", spy)
    _patient(analyst, "M3")  # filed before this import
    page = _import_and_fit(analyst, "many.csv", NONMEM_MANY)
    rows = {}
    for row in re.findall(r"<tr class=[^>]*>(.*?)</tr>", page, re.S):
        cells = [html.unescape(re.sub("<[^>]+>", "", c)).strip()
                 for c in re.findall(r"<td>(.*?)</td>", row)]  # fmt: skip
        rows[cells[0]] = cells[1:]
    assert rows["M1"][0] == "fitted"  # fitted with the file's covariates (below)
    assert rows["M2"] == ["not imported", "many.csv: ID M2 has no level (EVID 0, MDV 0)"]
    assert rows["M3"] == ["not imported", "patient id 'M3' exists already"]
    assert "For research use; not a medical device." in page
    with Store(url).session() as s:
        m1 = s.scalars(select(Patient).where(Patient.pseudonym == "M1")).one()
        assert (m1.bsa_m2, m1.weight_kg, m1.age_y, m1.sex) == (0.8, 21.0, 6.0, "f")
        assert len(m1.forecasts) == 1  # stored: the patient's page shows it
        assert rows["M1"][1] == m1.forecasts[0].results["recommendation"]
        assert s.scalars(select(Patient).where(Patient.pseudonym == "M2")).first() is None
    assert 'id="advice"' in analyst.get(f"/tdm/patients/{m1.id}").text
    assert seen == {0: {"bsa": 0.8, "weight": 21.0, "age": 6.0, "sex": "f", "phase": None,
                        "infection": False}}  # fmt: skip


def test_tdm_import_keeps_going_past_a_failing_fit(analyst, monkeypatch):
    """A fit that fails for an unexpected reason marks that patient, not the run."""
    import asnflux.web._tdm as web_tdm

    real = web_tdm.tdm

    def flaky(levels, regimen, **kw):
        if kw["bsa"] == 0.9:
            raise RuntimeError("boom")
        return real(levels, regimen, **kw)

    monkeypatch.setattr(web_tdm, "tdm", flaky)
    two = NONMEM_MANY.replace("M1", "K1").replace("M2", "K2").replace("M3", "K3")
    two = two.replace("K3,0,2500,0,1,1,1,1.2", "K3,0,2500,0,1,1,1,0.9")
    two = two.replace("K3,168,0,0.5,0,0,1,1.2", "K3,168,0,0.5,0,0,1,0.9")
    page = html.unescape(_import_and_fit(analyst, "two.csv", two))
    assert "internal error; see the server log" in page
    assert ">fitted<" in page  # K1 was fitted all the same


def test_tdm_bad_nonmem_dataset_names_file_row_and_column(analyst):
    bad = NONMEM.replace("N1,336,2500,0,1,1,1", "N1,336,,0,1,1,1")
    r = analyst.post(
        "/tdm/import",
        data={"formulation": "peg", "bsa": "1.1", "csrf_token": analyst.token},
        files={"file": ("study.csv", bad.encode(), "text/csv")},
    )
    assert r.status_code == 400
    msg = alert(r.text)
    assert msg.startswith("study.csv: row 4, column AMT: a dose record (EVID 1) needs a dose")
    assert "asnflux-upload" not in msg
    assert "/tmp" not in msg


def _qc_scaled(factor: float) -> bytes:
    """The LC-MS example with every QC's analyte area scaled: another day's run."""
    lines = LCMS.read_text().splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("Replicate Name"))
    cols = lines[head].split(",")
    area = cols.index("Area")
    for i in range(head + 1, len(lines)):
        cells = lines[i].split(",")
        if cells[cols.index("Sample Type")] == "Quality Control":
            cells[area] = f"{float(cells[area]) * factor:.0f}"
            lines[i] = ",".join(cells)
    return ("\n".join(lines) + "\n").encode()


def test_assay_upload_verdict_report_and_history(analyst, url):
    runs = []
    for factor in (1.0, 1.03, 0.97, 1.01):
        r = analyst.post(
            "/assays/runs",
            data={"protocol": "lcms", "analyst": "A. Analyst", "csrf_token": analyst.token},
            files={"files": (LCMS.name, _qc_scaled(factor), "text/csv")},
        )
        assert r.status_code == 303, alert(r.text)
        runs.append(r.headers["location"])
    page = analyst.get(runs[-1]).text
    assert "Run ACCEPTED" in page
    assert "<svg" in page
    assert "Back-calculated" in html.unescape(page)
    report = analyst.get(f"{runs[-1]}/report")
    assert report.status_code == 200
    assert "attachment" in report.headers["content-disposition"]
    assert report.text.startswith("<!DOCTYPE html>")
    assert "A. Analyst" in report.text
    hist = analyst.get("/assays/history/Asn").text
    assert 'id="levey-jennings"' in hist
    assert "<svg" in hist
    with Store(url).session() as s:
        stored = s.get(AssayRun, int(runs[-1].rsplit("/", 1)[1]))
        assert stored.content
        assert stored.accepted is True
        assert stored.parameters["history_runs"]
        assert stored.sha256 == hashlib.sha256(_qc_scaled(1.01)).hexdigest()


def test_assay_nessler_needs_its_volumes_then_runs(analyst):
    files = {"files": (NESSLER.name, NESSLER.read_bytes(), "text/csv")}
    r = analyst.post(
        "/assays/runs", data={"protocol": "asparaginase", "csrf_token": analyst.token}, files=files
    )
    assert r.status_code == 400
    assert "needs: reaction volume, sample volume, time" in alert(r.text)
    data = {
        "protocol": "asparaginase",
        "reaction_volume": "1.0 mL",
        "sample_volume": "0.1 mL",
        "time": "10 min",
        "csrf_token": analyst.token,
    }
    r = analyst.post("/assays/runs", data=data, files=files)
    assert r.status_code == 303, alert(r.text)


def test_assay_bad_upload_names_the_users_file(analyst):
    r = analyst.post(
        "/assays/runs",
        data={"protocol": "lcms", "csrf_token": analyst.token},
        files={"files": ("run7.csv", b"Replicate Name,Area\nx,1\n", "text/csv")},
    )
    assert r.status_code == 400
    msg = alert(r.text)
    assert msg.startswith("run7.csv")
    assert "asnflux-upload" not in msg
    r = analyst.post(
        "/assays/runs",
        data={"protocol": "lcms", "csrf_token": analyst.token},
        files={"files": ("run7.exe", b"MZ", "application/octet-stream")},
    )
    assert r.status_code == 415
    assert "must be one of .csv" in alert(r.text)


def test_therapy_typical_cohort_and_compare_run_in_the_background(analyst):
    base = {
        "aday0": "0",
        "aformulation0": "peg",
        "adose0": "2500 IU/m**2",
        "csrf_token": analyst.token,
        "n": "50",
        "days": "21",
    }
    for action, extra in (
        ("typical", {}),
        ("cohort", {}),
        (
            "compare",
            {
                "bday0": "0",
                "bformulation0": "erwinia",
                "bdose0": "25000 IU/m**2",
                "broute0": "im",
                "bevery0": "2d",
                "bcount0": "6",
            },
        ),
    ):
        r = analyst.post("/therapy/runs", data={**base, **extra, "action": action})
        assert r.status_code == 303, alert(r.text)
        loc = r.headers["location"]
        assert wait_for_run(analyst, loc)["status"] == "done"
        page = analyst.get(loc).text
        assert 'id="results"' in page
        assert "<svg" in page
    assert "regimen B" in page  # the comparison's table


def test_therapy_bad_regimen_is_a_message(analyst):
    r = analyst.post(
        "/therapy/runs",
        data={
            "action": "typical",
            "aday0": "0",
            "aformulation0": "peg",
            "adose0": "2500",
            "csrf_token": analyst.token,
        },
    )
    assert r.status_code == 400
    assert alert(r.text).startswith("regimen A: dose 1: ")
    assert "has no unit" in alert(r.text)


def test_cell_scenario_diagram_and_sbml(analyst):
    r = analyst.post("/cell/scenarios", data={"name": "homeostasis", "csrf_token": analyst.token})
    assert r.status_code == 303
    assert wait_for_run(analyst, r.headers["location"])["status"] == "done"
    assert "holds" in analyst.get(r.headers["location"]).text
    need(shutil.which("dot") is not None, "Graphviz dot")
    assert analyst.get("/cell/diagram.svg").text.lstrip().startswith("<svg")
    sbml = analyst.get("/cell/model.xml?cell_type=all-blast&medium=rpmi-1640")
    assert sbml.status_code == 200
    assert validate_sbml(sbml.text) == []
    bad = analyst.get("/cell/model.xml?cell_type=neuron")
    assert bad.status_code == 400
    assert "is not one of" in alert(bad.text)


def test_kb_search_shows_values_with_citations(analyst):
    page = html.unescape(analyst.get("/kb?q=seed.t1.asns_human.km_asp").text)
    assert "0.53 ± 0.01 mM" in page
    assert "1 record(s)" in page
    page = html.unescape(analyst.get("/kb?q=cell.all_blast.volume").text)
    assert "assumption</em>: No measured volume" in page


def test_every_action_is_in_the_audit_log(analyst, url):
    with Store(url).session() as s:
        actions = set(s.scalars(select(AuditEntry.action)))
    assert {"login", "tdm: patient created", "assay: run uploaded"} <= actions


def test_cell_diagram_without_graphviz_says_so(analyst, monkeypatch):
    from asnflux.report import _diagram
    from asnflux.web import _cell

    _cell._diagram.cache_clear()
    monkeypatch.setattr(_diagram.shutil, "which", lambda name: None)
    r = analyst.get("/cell/diagram.svg")
    _cell._diagram.cache_clear()
    assert r.status_code == 503
    assert r.text.startswith("Graphviz is not installed")
