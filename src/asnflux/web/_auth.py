"""Accounts, roles, sessions and CSRF for the web app.

Passwords are hashed with Argon2id (argon2-cffi, its default parameters). A signed session
cookie (Starlette's SessionMiddleware, itsdangerous) carries the user's name and a CSRF
token; the user's role is read from the database on every request, so a changed role or a
removed account takes effect at once. Every POST must carry the session's CSRF token in a
form field ``csrf_token`` or an ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import HTTPException, Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .._errors import DataError
from ._store import ROLES, Store, User

__all__ = ["add_user", "authenticate", "check_csrf", "csrf_token", "current_user", "require"]

_HASHER = PasswordHasher()
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD = 10
_RANK = {role: i for i, role in enumerate(ROLES)}


class LoginRequired(Exception):
    """No signed-in user: the app answers with a redirect to the login page."""


def add_user(store: Store, username: str, password: str, role: str) -> None:
    """Create an account; the name, the password's length and the role are checked."""
    if not _NAME.match(username):
        raise DataError(f"user name {username!r}: 1-64 letters, digits or . _ @ - (no spaces)")
    if role not in ROLES:
        raise DataError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise DataError(f"the password must have at least {MIN_PASSWORD} characters")
    try:
        with store.session() as s:
            s.add(User(username=username, password_hash=_HASHER.hash(password), role=role))
    except IntegrityError:
        raise DataError(f"user {username!r} exists already") from None
    store.audit(username, "user created", f"role {role}")


def authenticate(store: Store, username: str, password: str) -> User | None:
    """The user, if the password is right; ``None`` otherwise (the same for an unknown
    name, so a failed login does not tell which names exist)."""
    user = store.user(username) if _NAME.match(username or "") else None
    if user is None:
        _HASHER.hash(password or "x")  # same work as a real check: no timing oracle
        return None
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


async def check_csrf(request: Request) -> None:
    """A dependency: every state-changing request carries the session's token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = request.session.get("csrf")
    given = request.headers.get("x-csrf-token")
    if given is None:
        form = await request.form()  # Starlette caches it for the endpoint's own fields
        value = form.get("csrf_token")
        given = value if isinstance(value, str) else None
    if not expected or not given or not secrets.compare_digest(str(expected), given):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")


def current_user(request: Request) -> User:
    """The signed-in user, read from the database; none → a redirect to the login page."""
    name = request.session.get("user")
    store: Store = request.app.state.store
    user = store.user(name) if isinstance(name, str) else None
    if user is None:
        request.session.pop("user", None)
        raise LoginRequired()
    return user


def require(role: str) -> Any:
    """A dependency: the signed-in user, who must hold ``role`` or a higher one."""

    def dependency(request: Request) -> User:
        user = current_user(request)
        if _RANK[user.role] < _RANK[role]:
            raise HTTPException(403, f"this needs the {role} role; you are {user.role}")
        return user

    return dependency


def list_users(store: Store) -> list[User]:
    with store.session() as s:
        return list(s.scalars(select(User).order_by(User.username)))
