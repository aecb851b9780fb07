"""The web app's database on real SQLite and a real PostgreSQL server: migrations up and
down, and the app's writes read back (JSON columns, binary uploads, foreign keys)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, select, text

from asnflux.web import create_app, downgrade, migrate
from asnflux.web._store import AssayRun, Level, Patient, Store, plain_json
from web_support import ROOT, alert, http_client, make_users, postgres_url, sign_in

TABLES = {
    "settings",
    "users",
    "audit_log",
    "assay_runs",
    "patients",
    "levels",
    "forecasts",
    "simulations",
}
LCMS = ROOT / "examples" / "assays" / "lcms_skyline_report.csv"


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as con:
        con.execute(text("DROP SCHEMA public CASCADE"))
        con.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite'}"
    u = postgres_url()
    _reset_postgres(u)
    return u


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_migrations_up_down_up(url):
    migrate(url)
    assert _tables(url) == TABLES
    downgrade(url, "base")
    assert _tables(url) == set()  # control: the same check sees tables come and go
    migrate(url)
    assert _tables(url) == TABLES


def test_the_app_writes_and_reads_back(url):
    migrate(url)
    make_users(url)
    app = create_app(url)
    with http_client(app) as c:
        token = sign_in(c, "analyst")
        r = c.post(
            "/tdm/patients",
            data={
                "pseudonym": "DB-1",
                "formulation": "peg",
                "dose": "2500 IU/m**2",
                "at": "0,14",
                "bsa": "1.3",
                "csrf_token": token,
            },
        )
        assert r.status_code == 303, alert(r.text)
        r = c.post(
            f"{r.headers['location']}/levels", data={"day": 7, "saa": "<0.02", "csrf_token": token}
        )
        assert r.status_code == 303
        r = c.post(
            "/assays/runs",
            data={"protocol": "lcms", "csrf_token": token},
            files={"files": (LCMS.name, LCMS.read_bytes(), "text/csv")},
        )
        assert r.status_code == 303, alert(r.text)
    store = Store(url)
    with store.session() as s:
        p = s.scalars(select(Patient).where(Patient.pseudonym == "DB-1")).one()
        assert p.regimen[1]["day"] == 14
        assert [lv.saa for lv in p.levels] == ["<0.02"]
        run = s.scalars(select(AssayRun)).one()
        assert run.accepted is True
        assert run.results["molecule"] == "Asn"
        assert LCMS.name.encode() in run.content
        s.delete(p)  # levels go with their patient
    with store.session() as s:
        assert s.scalars(select(Level)).all() == []
    store.dispose()


def test_json_columns_hold_no_nan():
    import numpy as np

    value = plain_json(
        {"a": np.float64("nan"), "b": [np.int64(2), float("inf")], "c": np.arange(2)}
    )
    assert value == {"a": None, "b": [2, None], "c": [0, 1]}
