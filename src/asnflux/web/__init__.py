"""The web app: AsnFlux for the clinician-scientist and the lab scientist, in a browser.

Thin over the library (no science here): server-rendered pages (FastAPI, Jinja2) at
``/tdm``, ``/assays``, ``/therapy``, ``/cell`` and ``/kb``, accounts with roles, an audit
log, and an SQLAlchemy store (SQLite by default, PostgreSQL by URL) changed only by Alembic
migrations. Start it with ``asnflux serve``.
"""

from ._app import create_app as create_app
from ._store import downgrade as downgrade
from ._store import migrate as migrate

__all__ = ["create_app", "downgrade", "migrate"]
