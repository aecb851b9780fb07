"""Shared set-up of the web app's tests: apps on fresh databases, users, signed-in clients.

PostgreSQL tests use the server named by ``ASNFLUX_TEST_POSTGRES_URL`` (``.ci/run`` starts
one on loopback); browser tests use Debian's Chromium at ``/usr/bin/chromium``. Where either
is missing the tests skip, unless ``ASNFLUX_REQUIRE_SERVICES=1`` (set by ``.ci/run``), which
turns the skip into a failure, so CI can never pass without them.
"""

from __future__ import annotations

import os
import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest

from asnflux.web._auth import add_user
from asnflux.web._store import Store

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"
CHROMIUM = os.environ.get("ASNFLUX_CHROMIUM", "/usr/bin/chromium")


def need(available: bool, what: str) -> None:
    """Skip without ``what``; fail instead when CI requires the services."""
    if available:
        return
    if os.environ.get("ASNFLUX_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what} is required here (ASNFLUX_REQUIRE_SERVICES=1) but missing")
    pytest.skip(f"{what} not available")


def postgres_url() -> str:
    url = os.environ.get("ASNFLUX_TEST_POSTGRES_URL", "")
    need(bool(url), "a PostgreSQL server (ASNFLUX_TEST_POSTGRES_URL)")
    return url


def chromium() -> str:
    need(shutil.which(CHROMIUM) is not None or Path(CHROMIUM).is_file(), f"Chromium ({CHROMIUM})")
    return CHROMIUM


def make_users(url: str) -> None:
    store = Store(url)
    for role in ("viewer", "analyst", "admin"):
        add_user(store, role, PASSWORD, role)
    store.dispose()


def http_client(app: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient
    return TestClient(app, follow_redirects=False)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def sign_in(client: Any, role: str) -> str:
    """Sign ``client`` in as the user of ``role``; return the session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    r = client.post(
        "/login", data={"username": role, "password": PASSWORD, "csrf_token": token, "next": "/tdm"}
    )
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/tdm").text)


def alert(html: str) -> str:
    """The page's error message, as text."""
    import html as h

    m = re.search(r'role="alert">(.*?)</p>', html, re.S)
    assert m, "no error message on the page"
    return h.unescape(m.group(1)).strip()


def wait_for_run(client: Any, location: str, timeout: float = 120) -> dict[str, Any]:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        status = client.get(f"{location}/status").json()
        if status["status"] in ("done", "failed"):
            return status
        time.sleep(0.2)
    raise AssertionError(f"{location} did not finish in {timeout} s")
