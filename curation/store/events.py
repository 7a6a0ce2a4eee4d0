"""The audit log aggregate: one event per unit of work, read newest first, and undone by id.

Undo itself lives in `curation.store.undo` (one handler per event kind).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select

from curation.errors import NotFoundError
from curation.store import schema as s
from curation.store.rows import now

if TYPE_CHECKING:
    from curation.store.session import UnitOfWork
    from curation.store.undo import UndoPreview


def insert_event(
    conn: Connection, pid: int, kind: str, author: str, summary: str, payload: dict[str, Any]
) -> int:
    """Append one event to the project's audit log; returns its id."""
    # parameters passed beside a bare insert(): no per-call .values() construction
    row = {
        "project_id": pid,
        "kind": kind,
        "author": author,
        "created_at": now(),
        "summary": summary,
        "payload": payload,
    }
    return int(conn.execute(insert(s.events), row).inserted_primary_key[0])  # type: ignore[index]


class EventRepository:
    """The project's audit events: read them, and undo them (each undo is the unit's event)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    def insert(self, kind: str, author: str, summary: str, payload: dict[str, Any]) -> int:
        """Append an event as it is (the unit writes its own one event through this)."""
        self.uow.require_write()
        return insert_event(self.uow.conn, self.uow.pid, kind, author, summary, payload)

    def newest(
        self, *, limit: int = 100, kinds: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """The newest audit events first, optionally of some kinds only."""
        query = select(s.events).where(s.events.c.project_id == self.uow.pid)
        if kinds:
            query = query.where(s.events.c.kind.in_(list(kinds)))
        rows = self.uow.conn.execute(query.order_by(s.events.c.id.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]

    def get(self, event_id: int, *, lock: bool = False) -> Any:
        """The event's row; with `lock`, locked until commit. `NotFoundError` when absent."""
        e = s.events.c
        query = select(s.events).where(e.project_id == self.uow.pid, e.id == event_id)
        ev = self.uow.conn.execute(query.with_for_update() if lock else query).first()
        if ev is None:
            raise NotFoundError(f"No event {event_id} in project {self.uow.project!r}.")
        return ev

    def undo(self, event_ids: Sequence[int]) -> list[int]:
        """Undo these events, newest first, as this unit's one ``undo`` event.

        Returns the ids undone, newest first. See `curation.store.undo.undo_events`.
        """
        from curation.store.undo import undo_events

        return undo_events(self.uow, event_ids)

    def preview(self, event_id: int) -> UndoPreview:
        """What undoing the event would change, without changing anything."""
        from curation.store.undo import preview

        return preview(self.uow, event_id)
