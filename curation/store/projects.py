"""Projects and their settings: the settings repository of a unit of work.

A setting change records its before and after value, so undo puts the earlier one back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from curation.store import schema as s

if TYPE_CHECKING:
    from curation.store.session import UnitOfWork


class SettingsRepository:
    """The project's saved settings (step configurations by key)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    def all(self, *, lock: bool = False) -> dict[str, Any]:
        """Every setting; with `lock`, the project row stays locked until commit."""
        query = select(s.projects.c.settings).where(s.projects.c.id == self.uow.pid)
        if lock:  # FOR NO KEY UPDATE, as `project_id(lock=True)`
            query = query.with_for_update(key_share=True)
        return dict(self.uow.conn.scalar(query) or {})

    def set(self, key: str, value: Any) -> Any:
        """Save one setting (None removes it); returns the value it had.

        The project row is locked from the read to the write, so the before-value the unit's
        event records is the one the previous change left.
        """
        self.uow.require_write()
        current = self.all(lock=True)
        before = current.get(key)
        if value is None:
            current.pop(key, None)
        else:
            current[key] = value
        self.uow.conn.execute(
            update(s.projects).where(s.projects.c.id == self.uow.pid).values(settings=current)
        )
        self.uow.note(key=key, before=before, after=value)
        return before

    def replace(self, settings: dict[str, Any]) -> None:
        """Write the whole settings mapping back (undo's restore; records nothing itself)."""
        self.uow.require_write()
        self.uow.conn.execute(
            update(s.projects).where(s.projects.c.id == self.uow.pid).values(settings=settings)
        )
