"""End to end in headless Chromium (Playwright driving Debian's ``chromium``): each page's
main path and its main failure path, as a user clicks through them.

Screenshots go to ``$ASNFLUX_SCREENSHOTS`` when set (``make screenshots`` writes the ones
``docs/web.md`` shows), else to a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from asnflux.web import create_app
from web_support import PASSWORD, ROOT, chromium, make_users, need

LCMS = ROOT / "examples" / "assays" / "lcms_skyline_report.csv"
NESSLER = ROOT / "examples" / "assays" / "asparaginase_nessler.csv"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    import uvicorn

    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'app.db'}"
    app = create_app(url)
    make_users(url)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    end = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < end, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    exe = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("ASNFLUX_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("shots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _page(browser, server: str, role: str | None):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # the failure paths answer 4xx on purpose; any other console error is a fault
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("response", lambda r: errors.append(f"404 {r.url}") if r.status == 404 else None)
    page.errors = errors
    if role:
        page.goto(f"{server}/login")
        page.fill("input[name=username]", role)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server}/tdm")
    return page


def test_login_page_and_wrong_password(browser, server, shots):
    page = _page(browser, server, None)
    page.goto(f"{server}/assays")
    assert page.url.startswith(f"{server}/login?next=")
    page.screenshot(path=str(shots / "login.png"))
    page.fill("input[name=username]", "analyst")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "wrong user name or password"
    page.fill("input[name=username]", "analyst")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/assays")  # back where the user was going
    assert page.errors == []


def test_tdm_page_patient_levels_forecast(browser, server, shots):
    page = _page(browser, server, "analyst")
    page.fill("#new-patient input[name=pseudonym]", "BR-001")
    page.select_option("#new-patient select[name=formulation]", "peg")
    page.select_option("#new-patient select[name=route]", "iv")
    page.fill("#new-patient input[name=bsa]", "1.2")
    page.click("#new-patient button[type=submit]")
    page.wait_for_url("**/tdm/patients/*")
    for day, saa in (("7", "0.45"), ("14", "0.2")):
        page.fill("#add-level input[name=day]", day)
        page.fill("#add-level input[name=saa]", saa)
        page.click("#add-level button[type=submit]")
        page.wait_for_load_state()
    page.click("#forecast-form button[type=submit]")
    page.wait_for_selector("#forecast svg", timeout=60_000)
    assert "For research use; not a medical device" in page.locator("#forecast").inner_text()
    assert page.locator("#advice").inner_text().strip()
    page.screenshot(path=str(shots / "tdm.png"), full_page=True)
    # failure path: a level in IU/L
    page.fill("#add-level input[name=day]", "15")
    page.fill("#add-level input[name=saa]", "500")
    page.click("#add-level button[type=submit]")
    assert "is it in IU/L?" in page.locator("[role=alert]").inner_text()
    assert page.errors == []


def test_assays_page_upload_and_bad_upload(browser, server, shots, tmp_path):
    page = _page(browser, server, "analyst")
    page.goto(f"{server}/assays")
    page.set_input_files("#upload input[name=files]", str(LCMS))
    page.fill("#upload input[name=analyst]", "A. Analyst")
    page.click("#upload button[type=submit]")
    page.wait_for_url("**/assays/runs/*")
    assert page.locator("#verdict").inner_text() == "Run ACCEPTED"
    page.screenshot(path=str(shots / "assays.png"), full_page=False)
    bad = tmp_path / "garbage.csv"
    bad.write_text("Replicate Name,Area\nx,1\n")
    page.goto(f"{server}/assays")
    page.set_input_files("#upload input[name=files]", str(bad))
    page.click("#upload button[type=submit]")
    assert page.locator("[role=alert]").inner_text().startswith("garbage.csv")
    page.goto(f"{server}/assays")  # a missing field: Nessler without its volumes
    page.select_option("#upload select[name=protocol]", "asparaginase")
    page.set_input_files("#upload input[name=files]", str(NESSLER))
    page.click("#upload button[type=submit]")
    assert (
        "needs: reaction volume, sample volume, time" in page.locator("[role=alert]").inner_text()
    )
    assert page.errors == []


def test_admin_page_creates_an_account_and_refuses_a_short_password(browser, server, shots):
    page = _page(browser, server, "admin")
    page.goto(f"{server}/admin")
    page.fill("form[action='/admin/users'] input[name=username]", "newcomer")
    page.fill("form[action='/admin/users'] input[name=password]", PASSWORD)
    page.select_option("form[action='/admin/users'] select[name=role]", "viewer")
    page.click("form[action='/admin/users'] button[type=submit]")
    page.wait_for_url(f"{server}/admin")
    assert "newcomer" in page.locator("table").first.inner_text()
    assert "admin: user created" in page.content()  # in the audit log
    page.screenshot(path=str(shots / "admin.png"), full_page=False)
    page.fill("form[action='/admin/users'] input[name=username]", "shorty")
    page.fill("form[action='/admin/users'] input[name=password]", "x" * 10)
    page.evaluate("document.querySelector('input[name=password]').minLength = 0")
    page.fill("form[action='/admin/users'] input[name=password]", "short")
    page.click("form[action='/admin/users'] button[type=submit]")
    assert "at least 10 characters" in page.locator("[role=alert]").inner_text()
    newcomer = _page(browser, server, None)
    newcomer.goto(f"{server}/login")
    newcomer.fill("input[name=username]", "newcomer")
    newcomer.fill("input[name=password]", PASSWORD)
    newcomer.click("button[type=submit]")
    newcomer.wait_for_url(f"{server}/tdm")
    assert "newcomer (viewer)" in newcomer.locator(".who").inner_text()


def test_viewer_cannot_start_runs(browser, server):
    page = _page(browser, server, "viewer")
    page.goto(f"{server}/therapy")
    assert page.locator("#therapy-form").count() == 0
    response = page.goto(f"{server}/admin")
    assert response is not None
    assert response.status == 403
    assert "needs the admin role" in page.locator("[role=alert]").inner_text()


def test_therapy_page_cohort_with_progress(browser, server, shots):
    page = _page(browser, server, "analyst")
    page.goto(f"{server}/therapy")
    page.fill("input[name=n]", "300")
    page.click("button[value=cohort]")
    page.wait_for_url("**/runs/*")
    page.wait_for_selector("#results svg", timeout=120_000)  # the page polls, then reloads
    page.screenshot(path=str(shots / "therapy.png"), full_page=False)
    page.goto(f"{server}/therapy")
    page.fill("input[name=adose0]", "2500")  # failure path: no unit
    page.click("button[value=typical]")
    assert "has no unit" in page.locator("[role=alert]").inner_text()
    assert page.errors == []


def test_cell_page_scenario_and_diagram(browser, server, shots):
    need(shutil.which("dot") is not None, "Graphviz dot")
    page = _page(browser, server, "analyst")
    page.goto(f"{server}/cell")
    assert page.evaluate("document.querySelector('img.diagram').naturalWidth") > 0
    page.screenshot(path=str(shots / "cell.png"), full_page=False)
    page.click("button[data-scenario=homeostasis]")
    page.wait_for_url("**/runs/*")
    page.wait_for_selector("#results svg", timeout=120_000)
    assert "holds" in page.locator("#results").inner_text()
    bad = page.goto(f"{server}/cell/model.xml?cell_type=neuron")
    assert bad is not None
    assert bad.status == 400
    assert page.errors == []


def test_kb_page_search(browser, server, shots):
    page = _page(browser, server, "viewer")
    page.goto(f"{server}/kb")
    page.fill("#kb-search input[name=q]", "km asns")
    page.click("#kb-search button[type=submit]")
    page.wait_for_url("**/kb?q=*")
    assert page.locator("#records tr").count() > 1
    page.screenshot(path=str(shots / "kb.png"), full_page=False)
    page.fill("#kb-search input[name=q]", "no-such-thing-anywhere")
    page.click("#kb-search button[type=submit]")
    page.wait_for_url("**q=no-such-thing-anywhere*")
    assert "no record matches" in page.locator("#records").inner_text()
