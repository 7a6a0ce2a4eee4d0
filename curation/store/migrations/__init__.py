"""Alembic migrations of the store, run programmatically (no alembic.ini) on any SQLAlchemy URL.

Each shipped schema version is one frozen revision file in `versions/` (``NNNN_name.py``, with
``revision = "NNNN"`` and ``down_revision`` the previous one). Databases made by the old
`schema_version`-only code are recognised and stamped at the matching revision first.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from curation.errors import StoreError

HERE = Path(__file__).resolve().parent


def _config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = conn
    return cfg


def head_revision() -> str:
    head = ScriptDirectory(str(HERE)).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    return {r.revision for r in ScriptDirectory(str(HERE)).walk_revisions()}


def current_revision(conn: Connection) -> str | None:
    """The revision a database is at: Alembic's, else the legacy `schema_version` number."""
    rev = MigrationContext.configure(conn).get_current_revision()
    if rev is not None:
        return rev
    legacy = _legacy_version(conn)
    return f"{legacy:04d}" if legacy else None


def _legacy_version(conn: Connection) -> int:
    if not inspect(conn).has_table("schema_version"):
        return 0
    value = conn.execute(text("SELECT max(version) FROM schema_version")).scalar()
    return int(value or 0)


def upgrade(conn: Connection, display_url: str) -> str | None:
    """Bring the database on `conn` (inside a locked write transaction) to head.

    Returns the revision it was at (None for an empty database); refuses a newer database.
    """
    before = current_revision(conn)
    legacy = _legacy_version(conn)
    if legacy > int(head_revision()):
        before = f"{legacy:04d}"
    if before is not None and before not in known_revisions():
        raise StoreError(
            f"The database at {display_url} has schema revision {before}, newer than this "
            f"app's {head_revision()}. Upgrade the app to open it."
        )
    cfg = _config(conn)
    if before is not None and MigrationContext.configure(conn).get_current_revision() is None:
        command.stamp(cfg, before)  # made by the pre-Alembic code: adopt it at its version
    if before != head_revision():
        command.upgrade(cfg, "head")
        # Keep the legacy number current, so an app from before Alembic refuses this database.
        conn.execute(text("DELETE FROM schema_version"))
        conn.execute(
            text("INSERT INTO schema_version (version) VALUES (:v)"), {"v": int(head_revision())}
        )
    return before


def db_current(url: str | None = None) -> dict[str, object]:
    """`curation db current`: the revision the store at `url` is at, and the app's head."""
    from curation.store import Store
    from curation.store.db import reading

    store = Store(url, migrate=False)
    try:
        with reading(store.engine) as conn:
            rev = current_revision(conn)
        return {"url": store.display_url, "current": rev, "head": head_revision()}
    finally:
        store.dispose()


def db_upgrade(url: str | None = None) -> dict[str, object]:
    """`curation db upgrade`: bring the store at `url` to head; report before and after."""
    from curation.store import Store

    store = Store(url, migrate=False)
    try:
        before = store.migrate()
        return {
            "url": store.display_url,
            "before": f"{before:04d}" if before else None,
            "current": head_revision(),
        }
    finally:
        store.dispose()
