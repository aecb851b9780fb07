"""The web app's database: SQLAlchemy 2 tables, sessions and Alembic migrations.

An SQLite file by default (nothing to install), PostgreSQL by URL
(``postgresql+psycopg://user:password@host/db``). The schema is created and changed only by
the migrations in ``web/migrations`` (``asnflux db upgrade``; ``asnflux serve`` upgrades on
start), never by ``create_all``, so SQLite and PostgreSQL always hold the same schema.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    sessionmaker,
)

from .._errors import DataError

__all__ = ["Store", "default_database_url"]

ROLES = ("viewer", "analyst", "admin")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Setting(Base):
    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now, index=True)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")


class AssayRun(Base):
    __tablename__ = "assay_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    username: Mapped[str] = mapped_column(String(64))
    protocol: Mapped[str] = mapped_column(String(32), index=True)
    assay: Mapped[str] = mapped_column(String(128), index=True)  # molecule or protocol name
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    results: Mapped[dict[str, Any]] = mapped_column(JSON)
    accepted: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    version: Mapped[str] = mapped_column(String(32))


class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    created_by: Mapped[str] = mapped_column(String(64))
    bsa_m2: Mapped[float] = mapped_column(Float)
    weight_kg: Mapped[float | None] = mapped_column(Float, nullable=True)
    age_y: Mapped[float | None] = mapped_column(Float, nullable=True)
    sex: Mapped[str | None] = mapped_column(String(1), nullable=True)  # "f" or "m"
    phase: Mapped[str | None] = mapped_column(String(32), nullable=True)  # Kloos' phases
    infection: Mapped[bool] = mapped_column(Boolean, default=False)
    regimen: Mapped[list[Any]] = mapped_column(JSON)  # Regimen.to_dict()
    levels: Mapped[list[Level]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="Level.day"
    )
    forecasts: Mapped[list[Forecast]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="Forecast.id"
    )


class Level(Base):
    __tablename__ = "levels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    day: Mapped[float] = mapped_column(Float)
    saa: Mapped[str] = mapped_column(String(32))  # IU/mL, or "<0.02" below the LLOQ
    entered_by: Mapped[str] = mapped_column(String(64))
    patient: Mapped[Patient] = relationship(back_populates="levels")


class Forecast(Base):
    __tablename__ = "forecasts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    username: Mapped[str] = mapped_column(String(64))
    target_trough: Mapped[float] = mapped_column(Float)
    results: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[str] = mapped_column(String(32))
    patient: Mapped[Patient] = relationship(back_populates="forecasts")


class Simulation(Base):
    __tablename__ = "simulations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    username: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))  # typical, cohort, compare, scenario
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # queued, running, done, failed
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    results: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(128))  # host:pid of the process that runs it


def plain_json(value: Any) -> Any:
    """``value`` as plain JSON types for a JSON column: numpy scalars and arrays become
    numbers and lists, and NaN or infinity become ``null`` (PostgreSQL's JSON has neither)."""
    import math

    import numpy as np

    if isinstance(value, dict):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return [plain_json(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def default_database_url() -> str:
    """An SQLite file in the working folder: ``asnflux.db``."""
    return f"sqlite:///{Path('asnflux.db').resolve()}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers go on while one writer writes; the busy timeout makes concurrent
    # writers wait for the lock instead of failing with "database is locked".
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; a malformed URL or an unknown driver is a :class:`DataError`."""
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise DataError(
            f"--database {url!r}: not a database URL SQLAlchemy can use ({exc})"
        ) from None
    return engine


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision`` (the newest by default)."""
    from alembic import command

    try:
        command.upgrade(_alembic_config(url), revision)
    except OperationalError as exc:
        raise DataError(f"--database: cannot open the database ({exc.orig})") from None


def downgrade(url: str, revision: str = "base") -> None:
    """Downgrade the database at ``url`` to ``revision`` (``base``: no tables)."""
    from alembic import command

    try:
        command.downgrade(_alembic_config(url), revision)
    except OperationalError as exc:
        raise DataError(f"--database: cannot open the database ({exc.orig})") from None


class Store:
    """The app's handle on its database: an engine and a session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        with self._sessions() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    def secret_key(self) -> str:
        """The key that signs session cookies, made once and kept in the database, so
        every worker process of one deployment shares it and restarts keep users signed in."""
        with self.session() as s:
            row = s.get(Setting, "secret_key")
            if row is None:
                row = Setting(key="secret_key", value=secrets.token_urlsafe(48))
                s.add(row)
            return row.value

    def audit(self, username: str, action: str, detail: str = "") -> None:
        with self.session() as s:
            s.add(AuditEntry(username=username, action=action, detail=detail[:2000]))

    def user(self, username: str) -> User | None:
        with self.session() as s:
            return s.scalars(select(User).where(User.username == username)).first()

    def dispose(self) -> None:
        self.engine.dispose()
