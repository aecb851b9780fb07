"""The ASGI application: middleware, sign-in, administration and the pages' routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._errors import AsnfluxError
from . import _assays, _cell, _kb, _tdm, _therapy
from ._auth import LoginRequired, add_user, authenticate, check_csrf, list_users, require
from ._jobs import Jobs
from ._pages import render, store_of, user_message
from ._store import ROLES, AuditEntry, Store, User, default_database_url, migrate

__all__ = ["create_app"]

log = logging.getLogger("asnflux.web")

MAX_UPLOAD_BYTES = 10 * 2**20
_SESSION_HOURS = 8
_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; "
        b"style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; "
        b"base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class _Guard:
    """Security headers on every response; a request body over the upload limit is
    refused with 413 before it is read (by its Content-Length, or as it streams in)."""

    def __init__(self, app: ASGIApp, limit: int, hsts: bool) -> None:
        self.app, self.limit = app, limit
        self.headers = [*_HEADERS]
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit + 64 * 1024  # room for the form's other fields
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _too_large(send, self.limit, self.headers)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, "request body over the upload limit")
            return message

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, counted, with_headers)


async def _too_large(send: Send, limit: int, headers: list[tuple[bytes, bytes]]) -> None:
    body = f"413: request larger than the {limit // 2**20} MiB upload limit".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


def create_app(
    database_url: str | None = None,
    *,
    secure_cookies: bool = False,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    upgrade: bool = True,
) -> FastAPI:
    """The web app over the database at ``database_url`` (default: ``./asnflux.db``).

    ``secure_cookies`` marks the session cookie Secure and sends HSTS (set it behind
    HTTPS). ``upgrade`` brings the database to the newest migration first.
    """
    url = database_url or default_database_url()
    if upgrade:
        migrate(url)
    store = Store(url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.jobs = Jobs(store)
        yield
        app.state.jobs.shutdown()
        store.dispose()

    app = FastAPI(
        title="AsnFlux",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
        dependencies=[Depends(check_csrf)],
    )
    app.state.store = store
    app.state.max_upload_bytes = max_upload_bytes
    app.add_middleware(
        SessionMiddleware,
        secret_key=store.secret_key(),
        session_cookie="asnflux_session",
        max_age=_SESSION_HOURS * 3600,
        same_site="lax",
        https_only=secure_cookies,
    )
    app.add_middleware(_Guard, limit=max_upload_bytes, hsts=secure_cookies)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).with_name("static"))), "static")
    _handlers(app)
    _core_routes(app)
    for module in (_tdm, _assays, _therapy, _cell, _kb):
        app.include_router(module.router)
    return app


def app_from_environment() -> FastAPI:
    """The app of one ``asnflux serve --workers N`` process: the database and cookie
    settings come from ``ASNFLUX_DATABASE_URL`` and ``ASNFLUX_SECURE_COOKIES``; the parent
    process has already migrated the database."""
    import os

    return create_app(
        os.environ["ASNFLUX_DATABASE_URL"],
        secure_cookies=os.environ.get("ASNFLUX_SECURE_COOKIES") == "1",
        upgrade=False,
    )


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return _error_page(request, exc.status_code, str(exc.detail))

    @app.exception_handler(AsnfluxError)
    async def library_error(request: Request, exc: AsnfluxError) -> Response:
        return _error_page(request, 400, user_message(str(exc)))

    @app.exception_handler(404)
    async def not_found(request: Request, _exc: Any) -> Response:
        return _error_page(request, 404, "no such page")


def _error_page(request: Request, status: int, message: str) -> Response:
    user = None
    name = request.session.get("user") if "session" in request.scope else None
    if isinstance(name, str):
        user = store_of(request).user(name)
    return render(request, "error.html", user, status_code=status, status=status, message=message)


def _core_routes(app: FastAPI) -> None:
    @app.get("/", response_class=HTMLResponse)
    def home(user: Annotated[User, Depends(require("viewer"))]) -> Response:
        return RedirectResponse("/tdm", status_code=303)

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/tdm") -> Response:
        return render(request, "login.html", None, next=_local(next), error=None)

    @app.post("/login", response_class=HTMLResponse)
    def login(
        request: Request,
        username: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "/tdm",
    ) -> Response:
        store = store_of(request)
        user = authenticate(store, username, password)
        if user is None:
            store.audit(username[:64] or "(empty)", "login failed")
            return render(
                request,
                "login.html",
                None,
                status_code=401,
                next=_local(next),
                error="wrong user name or password",
            )
        request.session.clear()  # a fresh session (and CSRF token) at every sign-in
        request.session["user"] = user.username
        store.audit(user.username, "login")
        return RedirectResponse(_local(next), status_code=303)

    @app.post("/logout")
    def logout(request: Request) -> Response:
        name = request.session.get("user")
        request.session.clear()
        if isinstance(name, str):
            store_of(request).audit(name, "logout")
        return RedirectResponse("/login", status_code=303)

    @app.get("/admin", response_class=HTMLResponse)
    def admin(request: Request, user: Annotated[User, Depends(require("admin"))]) -> Response:
        store = store_of(request)
        with store.session() as s:
            audit = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(200)))
        return render(
            request, "admin.html", user, users=list_users(store), audit=audit, roles=ROLES
        )

    @app.post("/admin/users")
    def create_user(
        request: Request,
        user: Annotated[User, Depends(require("admin"))],
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        role: Annotated[str, Form()],
    ) -> Response:
        store = store_of(request)
        add_user(store, username, password, role)
        store.audit(user.username, "admin: user created", f"{username} ({role})")
        return RedirectResponse("/admin", status_code=303)


def _local(target: str) -> str:
    """Only a path on this site may follow a sign-in (no open redirect)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/tdm"
    return target
