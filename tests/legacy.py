"""Rows as an older database holds them, for tests of names that today's checks would refuse.

Project names are validated when created; databases made before that can hold any name, and
every path the app derives from a name must stay safe for those too.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert

from curation.store import Store
from curation.store import schema as s


def legacy_project(store: Store, name: str, author: str = "ada") -> None:
    """Insert a project named `name` as-is, without the name checks of `create_project`."""
    with store.engine.begin() as conn:
        conn.execute(
            insert(s.projects).values(
                name=name, created_at=datetime.now(UTC), created_by=author, settings={}
            )
        )
