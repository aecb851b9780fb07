"""The web app's security: sessions, roles, CSRF, upload limits, file names, SQL text.

Each refusal is paired with its control: the same request with the one thing changed (a
session, the right role, the token, a smaller file) succeeds, so the refusal is shown to
come from the mechanism the test names.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from asnflux.web import create_app
from asnflux.web._pages import safe_name
from asnflux.web._store import AssayRun, Patient, Store, User
from web_support import PASSWORD, ROOT, alert, csrf_of, http_client, make_users, sign_in

PAGES = ["/tdm", "/assays", "/therapy", "/cell", "/kb", "/admin", "/cell/model.xml", "/runs/1"]
LCMS = ROOT / "examples" / "assays" / "lcms_skyline_report.csv"
SQL = ["' OR '1'='1", "x'; DROP TABLE patients; --", '" OR ""="', "1; DELETE FROM users", "%' --"]


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    u = f"sqlite:///{tmp_path_factory.mktemp('websec') / 'app.db'}"
    create_app(u)
    make_users(u)
    return u


@pytest.fixture(scope="module")
def app(url: str):
    return create_app(url, max_upload_bytes=2**20)


def client_as(app, role: str | None):
    c = http_client(app)
    c.__enter__()
    c.token = sign_in(c, role) if role else csrf_of(c.get("/login").text)
    return c


@pytest.mark.parametrize("page", PAGES)
def test_no_session_redirects_to_login(app, page):
    c = http_client(app)
    r = c.get(page)
    assert r.status_code == 303
    assert r.headers["location"] == f"/login?next={page}"
    signed_in = client_as(app, "admin")  # control: with a session the page answers
    assert signed_in.get(page).status_code in (200, 404)


def test_wrong_role_is_403_right_role_passes(app):
    data = {"pseudonym": "R-1", "formulation": "peg", "dose": "2500 IU/m**2", "at": "0", "bsa": "1"}
    viewer = client_as(app, "viewer")
    r = viewer.post("/tdm/patients", data={**data, "csrf_token": viewer.token})
    assert r.status_code == 403
    assert "needs the analyst role" in alert(r.text)
    assert 'action="/tdm/patients"' not in viewer.get("/tdm").text  # no form offered
    analyst = client_as(app, "analyst")
    assert analyst.get("/admin").status_code == 403
    r = analyst.post(
        "/admin/users",
        data={
            "username": "eve",
            "password": "x" * 12,
            "role": "admin",
            "csrf_token": analyst.token,
        },
    )
    assert r.status_code == 403
    r = analyst.post("/tdm/patients", data={**data, "csrf_token": analyst.token})
    assert r.status_code == 303  # control


def test_missing_or_wrong_csrf_token_is_403(app):
    c = client_as(app, "analyst")
    data = {"pseudonym": "C-1", "formulation": "peg", "dose": "2500 IU/m**2", "at": "0", "bsa": "1"}
    assert c.post("/tdm/patients", data=data).status_code == 403
    assert c.post("/tdm/patients", data={**data, "csrf_token": "forged"}).status_code == 403
    other = client_as(app, "analyst")  # another session's token is no good either
    assert c.post("/tdm/patients", data={**data, "csrf_token": other.token}).status_code == 403
    assert c.post("/logout").status_code == 403
    assert c.post("/tdm/patients", data={**data, "csrf_token": c.token}).status_code == 303


def test_login_needs_the_csrf_token_too(app):
    c = http_client(app)
    r = c.post("/login", data={"username": "admin", "password": PASSWORD})
    assert r.status_code == 403


def test_upload_over_the_limit_is_413(app):
    c = client_as(app, "analyst")
    big = b"Replicate Name,Area\n" + b"x,1\n" * (2**20 // 4 + 10)
    r = c.post(
        "/assays/runs",
        data={"protocol": "lcms", "csrf_token": c.token},
        files={"files": ("big.csv", big, "text/csv")},
    )
    assert r.status_code == 413
    r = c.post(
        "/assays/runs",
        data={"protocol": "lcms", "csrf_token": c.token},
        files={"files": ("ok.csv", LCMS.read_bytes(), "text/csv")},
    )
    assert r.status_code == 303  # control: under the limit


def test_request_body_without_length_over_the_limit_is_refused(app):
    c = client_as(app, "analyst")

    def chunks():
        for _ in range(40):
            yield b"x" * 65536

    r = c.post(
        "/assays/runs",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413


def test_path_traversal_in_file_names(app, url, tmp_path: Path):
    assert safe_name("../../etc/passwd.csv") == "passwd.csv"
    assert safe_name("..\\..\\windows\\run.csv") == "run.csv"
    assert safe_name("/abs/.hidden.csv") == "hidden.csv"
    assert safe_name("a b;rm -rf.csv") == "a_b_rm_-rf.csv"
    c = client_as(app, "analyst")
    target = Path("/tmp/asnflux-escape-test.csv")
    target.unlink(missing_ok=True)
    r = c.post(
        "/assays/runs",
        data={"protocol": "lcms", "csrf_token": c.token},
        files={"files": ("../../../../tmp/asnflux-escape-test.csv", LCMS.read_bytes(), "text/csv")},
    )
    assert r.status_code == 303
    assert not target.exists()
    with Store(url).session() as s:
        run = s.get(AssayRun, int(r.headers["location"].rsplit("/", 1)[1]))
        assert run.filename == "asnflux-escape-test.csv"


@pytest.mark.parametrize("text", SQL)
def test_sql_metacharacters_in_every_text_field_are_data(app, url, text):
    c = client_as(app, "analyst")
    # patient id: refused by its rule, not by the database
    r = c.post(
        "/tdm/patients",
        data={
            "pseudonym": text,
            "formulation": "peg",
            "dose": "2500 IU/m**2",
            "at": "0",
            "bsa": "1",
            "csrf_token": c.token,
        },
    )
    assert r.status_code == 400
    assert "patient id" in alert(r.text)
    for field in ("formulation", "dose", "at", "route"):
        data = {
            "pseudonym": "S-1",
            "formulation": "peg",
            "dose": "2500 IU/m**2",
            "at": "0",
            "bsa": "1",
            "route": "",
            "csrf_token": c.token,
        }
        r = c.post("/tdm/patients", data={**data, field: text})
        assert r.status_code == 400, field
    r = c.get("/kb", params={"q": text, "topic": text, "flag": text})
    assert r.status_code == 200
    assert "0 record(s)" in r.text
    r = c.post(
        "/assays/runs",
        data={"protocol": "lcms", "molecule": text, "analyst": text, "csrf_token": c.token},
        files={"files": ("q.csv", LCMS.read_bytes(), "text/csv")},
    )
    assert r.status_code == 400
    anon = http_client(app)
    r = anon.post(
        "/login",
        data={"username": text, "password": text, "csrf_token": csrf_of(anon.get("/login").text)},
    )
    assert r.status_code == 401
    assert c.get(f"/assays/history/{text}").status_code == 404
    with Store(url).session() as s:
        assert {"patients", "users", "assay_runs"} <= set(inspect(s.get_bind()).get_table_names())
        assert s.scalar(select(func.count(User.id))) >= 3
        assert s.scalar(select(func.count(Patient.id)).where(Patient.pseudonym == text)) == 0


def test_security_headers_and_cookie_flags(app, url):
    c = http_client(app)
    r = c.get("/login")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    r = c.post(
        "/login", data={"username": "viewer", "password": PASSWORD, "csrf_token": csrf_of(r.text)}
    )
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie
    secure = http_client(create_app(url, secure_cookies=True))
    r = secure.get("/login")
    assert "secure" in r.headers["set-cookie"].lower()
    assert r.headers["strict-transport-security"].startswith("max-age=")


def test_passwords_are_argon2_hashes_and_login_does_not_tell_names(app, url):
    with Store(url).session() as s:
        hashes = list(s.scalars(select(User.password_hash)))
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)
    c = http_client(app)
    wrong_name = c.post(
        "/login",
        data={
            "username": "nobody",
            "password": PASSWORD,
            "csrf_token": csrf_of(c.get("/login").text),
        },
    )
    wrong_pass = c.post(
        "/login",
        data={
            "username": "admin",
            "password": "wrong password",
            "csrf_token": csrf_of(c.get("/login").text),
        },
    )
    assert wrong_name.status_code == wrong_pass.status_code == 401
    assert alert(wrong_name.text) == alert(wrong_pass.text) == "wrong user name or password"


def test_no_open_redirect_after_sign_in(app):
    c = http_client(app)
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        token = csrf_of(c.get("/login").text)
        r = c.post(
            "/login",
            data={"username": "viewer", "password": PASSWORD, "csrf_token": token, "next": target},
        )
        assert r.headers["location"] == "/tdm"
    token = csrf_of(c.get("/login").text)
    r = c.post(
        "/login",
        data={
            "username": "viewer",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/kb?q=asns",
        },
    )
    assert r.headers["location"] == "/kb?q=asns"  # control: a local target is kept


def test_a_removed_account_loses_its_session_at_once(app, url):
    from asnflux.web._auth import add_user

    store = Store(url)
    add_user(store, "temp", PASSWORD, "analyst")
    c = client_as(app, "temp")
    assert c.get("/tdm").status_code == 200
    with store.session() as s:
        s.delete(s.scalars(select(User).where(User.username == "temp")).one())
    assert c.get("/tdm").status_code == 303


def test_errors_never_show_a_traceback(app):
    c = client_as(app, "analyst")
    r = c.post(
        "/tdm/patients",
        data={
            "pseudonym": "E-1",
            "formulation": "peg",
            "dose": "2500 IU/m**2",
            "at": "0",
            "bsa": "not a number",
            "csrf_token": c.token,
        },
    )
    assert r.status_code in (400, 422)
    assert "Traceback" not in r.text
    assert not re.search(r'File "/', r.text)
