"""A bounded load test on loopback: concurrent users on the TDM and assay paths.

``asnflux serve`` runs as its own process on an SQLite file; ``USERS`` users (each with
its own session) sign in and, for ``SECONDS``, alternate the TDM path (add a level, view
the patient) and the assay path (upload an LC-MS export, view the run). Every response
must be the expected one (zero errors), and afterwards every write a user was told had
succeeded must be in the database: no lost writes. ``ASNFLUX_LOAD_REPORT=FILE`` writes the
latencies (p50/p95 per path) as JSON; ``docs/web.md`` quotes a run of it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import func, select

from asnflux.web._auth import add_user
from asnflux.web._store import AssayRun, Level, Patient, Store
from web_support import PASSWORD, ROOT

USERS = int(os.environ.get("ASNFLUX_LOAD_USERS", "20"))
SECONDS = float(os.environ.get("ASNFLUX_LOAD_SECONDS", "30"))
WORKERS = os.cpu_count() or 1
LCMS = (ROOT / "examples" / "assays" / "lcms_skyline_report.csv").read_bytes()
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("load")
    url = f"sqlite:///{folder / 'load.db'}"
    exe = [sys.executable, "-m", "asnflux"]
    subprocess.run(  # the CLI path once; the other accounts in-process (argon2 is slow)
        [*exe, "users", "add", "user0", "--role", "analyst", "--password-stdin", "--database", url],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    store = Store(url)
    for k in range(1, USERS):
        add_user(store, f"user{k}", PASSWORD, "analyst")
    store.dispose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (folder / "server.log").open("w")
    proc = subprocess.Popen(
        [*exe, "serve", "--port", str(port), "--database", url, "--workers", str(WORKERS)],
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    end = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/login").status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert proc.poll() is None, (folder / "server.log").read_text()
        assert time.monotonic() < end, "server did not start in 60 s"
        time.sleep(0.2)
    yield base, url
    proc.terminate()
    proc.wait(30)
    log.close()


async def _user(base: str, k: int, stop: float, out: dict) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=300) as c:
        token = _TOKEN.search((await c.get("/login")).text).group(1)
        r = await c.post(
            "/login", data={"username": f"user{k}", "password": PASSWORD, "csrf_token": token}
        )
        assert r.status_code == 303
        token = _TOKEN.search((await c.get("/tdm")).text).group(1)
        r = await c.post(
            "/tdm/patients",
            data={
                "pseudonym": f"LOAD-{k}",
                "formulation": "peg",
                "dose": "2500 IU/m**2",
                "at": "0,14",
                "bsa": "1.1",
                "csrf_token": token,
            },
        )
        assert r.status_code == 303
        patient = r.headers["location"]
        i = 0
        while time.monotonic() < stop:
            i += 1
            if i % 2:
                t = time.perf_counter()
                r = await c.post(
                    f"{patient}/levels",
                    data={"day": f"{i / 100:.2f}", "saa": "0.3", "csrf_token": token},
                )
                out["tdm_write"].append(time.perf_counter() - t)
                ok = r.status_code == 303
                out["levels"][k] += ok
                t = time.perf_counter()
                ok &= (await c.get(patient)).status_code == 200
                out["tdm_read"].append(time.perf_counter() - t)
            else:
                t = time.perf_counter()
                r = await c.post(
                    "/assays/runs",
                    data={"protocol": "lcms", "csrf_token": token},
                    files={"files": ("load.csv", LCMS, "text/csv")},
                )
                out["assay_write"].append(time.perf_counter() - t)
                ok = r.status_code == 303
                out["runs"][k] += ok
                if ok:
                    t = time.perf_counter()
                    ok &= (await c.get(r.headers["location"])).status_code == 200
                    out["assay_read"].append(time.perf_counter() - t)
            out["errors"] += not ok


def test_concurrent_users_lose_no_writes(server):
    base, url = server
    out: dict = {
        "levels": [0] * USERS,
        "runs": [0] * USERS,
        "errors": 0,
        **{k: [] for k in ("tdm_write", "tdm_read", "assay_write", "assay_read")},
    }

    async def main() -> None:
        stop = time.monotonic() + SECONDS
        await asyncio.gather(*(_user(base, k, stop, out) for k in range(USERS)))

    started = time.monotonic()
    asyncio.run(main())
    wall = time.monotonic() - started
    assert out["errors"] == 0
    store = Store(url)
    with store.session() as s:
        for k in range(USERS):
            stored = s.scalar(
                select(func.count(Level.id)).join(Patient).where(Patient.pseudonym == f"LOAD-{k}")
            )
            assert stored == out["levels"][k], (
                f"user{k}: {out['levels'][k]} levels sent, {stored} stored"
            )
        for k in range(USERS):
            runs = s.scalar(select(func.count(AssayRun.id)).where(AssayRun.username == f"user{k}"))
            assert runs == out["runs"][k]
    store.dispose()
    assert sum(out["levels"]) >= USERS
    assert sum(out["runs"]) >= USERS
    report = {
        "users": USERS,
        "server_processes": WORKERS,
        "seconds": SECONDS,
        "wall_s": round(wall, 1),
        "errors": out["errors"],
        "levels_written": sum(out["levels"]),
        "assay_runs_written": sum(out["runs"]),
        **{
            k: {
                "n": len(v),
                "p50_s": round(float(np.median(v)), 3),
                "p95_s": round(float(np.percentile(v, 95)), 3),
            }
            for k in ("tdm_write", "tdm_read", "assay_write", "assay_read")
            if (v := out[k])
        },
    }
    if os.environ.get("ASNFLUX_LOAD_REPORT"):
        Path(os.environ["ASNFLUX_LOAD_REPORT"]).write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report))
