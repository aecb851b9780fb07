"""``asnflux serve``, ``asnflux users`` and ``asnflux db``: the web app and its database."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .._errors import DataError

Database = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="SQLAlchemy URL: sqlite:///FILE (default ./asnflux.db) or "
        "postgresql+psycopg://USER:PASSWORD@HOST/DB.",
    ),
]

users_app = typer.Typer(help="Web app accounts.", no_args_is_help=True)
db_app = typer.Typer(
    help="The web app's database schema (Alembic migrations).", no_args_is_help=True
)


def _url(database: str | None) -> str:
    from ..web._store import default_database_url

    return database or default_database_url()


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    database: Database = None,
    secure_cookies: Annotated[
        bool,
        typer.Option(help="Mark the session cookie Secure and send HSTS (behind HTTPS)."),
    ] = False,
    workers: Annotated[
        int, typer.Option(help="Server processes (one per core for many users).", min=1, max=64)
    ] = 1,
) -> None:
    """Start the web app (migrating the database to the newest schema first)."""
    import os

    import uvicorn

    from ..web import create_app, migrate

    url = _url(database)
    typer.echo(f"AsnFlux web app on http://{host}:{port} (database {url})", err=True)
    if workers == 1:
        app = create_app(url, secure_cookies=secure_cookies)
        uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
        return
    migrate(url)  # once, before the workers start
    os.environ["ASNFLUX_DATABASE_URL"] = url
    os.environ["ASNFLUX_SECURE_COOKIES"] = "1" if secure_cookies else "0"
    uvicorn.run(
        "asnflux.web._app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=False,
    )


@users_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="User name (letters, digits, . _ @ -).")],
    role: Annotated[str, typer.Option(help="viewer, analyst or admin.")] = "viewer",
    database: Database = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create an account (the first admin is made this way)."""
    from ..web._auth import add_user
    from ..web._store import Store, migrate

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    url = _url(database)
    migrate(url)
    store = Store(url)
    try:
        add_user(store, username, password, role)
    finally:
        store.dispose()
    typer.echo(f"created {role} {username!r}")


@db_app.command("upgrade")
def upgrade(
    database: Database = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Migrate the database up (to the newest schema by default)."""
    from ..web import migrate

    migrate(_url(database), revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def downgrade(
    database: Database = None,
    revision: Annotated[str, typer.Option(help="Target revision ('base': no tables).")] = "base",
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this deletes data.")] = False,
) -> None:
    """Migrate the database down; ``base`` removes every table (and its data)."""
    from ..web import downgrade as down

    if not yes:
        raise DataError("downgrading deletes data; add --yes to confirm")
    down(_url(database), revision)
    typer.echo(f"database at {revision}")
