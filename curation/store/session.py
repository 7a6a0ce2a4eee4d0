"""The unit of work: one project, one author, one transaction and ONE audit event for it all.

`Store.session(project, author)` opens it; repositories per aggregate do the reads and writes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from curation.errors import StoreError
from curation.store.db import reading, writing
from curation.store.rows import check_author, project_id

if TYPE_CHECKING:
    from curation.store.store import Store


class UnitOfWork:
    """Everything one change to a project does, committed together with one audit event.

    Attributes
    ----------
    project, pid, author:
        The project (resolved once, when the unit opens) and who makes the change.
    examples, revisions, statuses, events, step_results, jobs, settings:
        The repositories, one per aggregate, all on this unit's transaction.
    event_id:
        The id of the unit's audit event once the unit has closed (None when it wrote none).

    Notes
    -----
    Repositories report what they changed: example changes (status before/after, revision
    from/to) go to the event's ``changes`` list, other facts (an import's id, a run's id) to its
    payload. `describe` names the event's kind and summary. On a clean exit the event is written
    inside the transaction, then everything commits; on an exception everything rolls back and
    no event is written.
    """

    def __init__(
        self,
        store: Store,
        conn: Connection,
        project: str,
        pid: int,
        author: str | None,
        *,
        writable: bool,
    ) -> None:
        from curation.store.events import EventRepository
        from curation.store.examples import ExampleRepository
        from curation.store.jobs import JobRepository
        from curation.store.projects import SettingsRepository
        from curation.store.revisions import RevisionRepository
        from curation.store.statuses import StatusRepository
        from curation.store.step_runs import StepResultRepository

        self.store = store
        self.project = project
        self.pid = pid
        self.author = author or ""
        self.writable = writable
        self.event_id: int | None = None
        self.kind: str | None = None
        self.summary = ""
        self.changes: list[dict[str, Any]] = []
        self.payload: dict[str, Any] = {}
        self._records_changes = False
        self._conn: Connection | None = conn
        self._on_event: list[Callable[[int], None]] = []
        self.examples = ExampleRepository(self)
        self.revisions = RevisionRepository(self)
        self.statuses = StatusRepository(self)
        self.events = EventRepository(self)
        self.step_results = StepResultRepository(self)
        self.jobs = JobRepository(self)
        self.settings = SettingsRepository(self)

    def __repr__(self) -> str:
        mode = "write" if self.writable else "read"
        return f"UnitOfWork({self.project!r}, {mode}, author={self.author!r})"

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise StoreError(
                f"The unit of work on project {self.project!r} is closed; open a new one with "
                "store.session(project, author)."
            )
        return self._conn

    def require_write(self) -> None:
        """Refuse a write in a read-only unit (`Store.read_session`)."""
        if not self.writable:
            raise StoreError(
                f"This unit of work on project {self.project!r} only reads; open "
                "store.session(project, author) to change anything."
            )
        self.conn  # noqa: B018  (raises when closed)

    def lock_project(self) -> None:
        """Hold the project's row lock until commit (imports and their undo serialise on it)."""
        project_id(self.conn, self.project, lock=True)

    # ---- what the unit's event records -----------------------------------------------------

    def describe(self, kind: str, summary: str, /, **payload: Any) -> None:
        """Name the unit's audit event: its kind, its summary and extra payload fields.

        ``{n}`` in `summary` becomes the number of example changes recorded by the time the
        unit closes.
        """
        self.require_write()
        self.kind = kind
        self.summary = summary
        self.payload.update(payload)

    def record(self, changes: Iterable[dict[str, Any]]) -> None:
        """Add example changes to the event's ``changes`` (what undo reverses)."""
        self.require_write()
        self._records_changes = True
        self.changes.extend(changes)

    def note(self, **facts: Any) -> None:
        """Add facts to the event's payload; a fact already noted cannot change within a unit."""
        self.require_write()
        for key, value in facts.items():
            if key in self.payload and self.payload[key] != value:
                raise StoreError(
                    f"One unit of work records one {key} (it has {self.payload[key]!r}, and "
                    f"{value!r} was added); make the second change in its own unit of work."
                )
            self.payload[key] = value

    def on_event(self, callback: Callable[[int], None]) -> None:
        """Run `callback(event_id)` once the event is written, inside the same transaction."""
        self.require_write()
        self._on_event.append(callback)

    def _finish(self) -> None:
        """Write the unit's event (if it changed anything) before the transaction commits."""
        if self.kind is None:
            if self._records_changes or self.payload or self._on_event:
                raise StoreError(
                    f"A change to project {self.project!r} was made without saying what it was; "
                    "call describe(kind, summary) in the unit of work. Nothing was saved."
                )
            return
        payload = dict(self.payload)
        if self._records_changes:
            payload = {"changes": self.changes, **payload}
        summary = self.summary.replace("{n}", str(len(self.changes)))
        self.event_id = self.events.insert(self.kind, self.author, summary, payload)
        for callback in self._on_event:
            callback(self.event_id)

    def _close(self) -> None:
        self._conn = None


_open = threading.local()  # the write unit open in this thread, per store


def _open_units() -> dict[int, str]:
    units: dict[int, str] | None = getattr(_open, "units", None)
    if units is None:
        units = _open.units = {}
    return units


@contextmanager
def open_session(
    store: Store, project: str, author: str, *, lock_project: bool = False
) -> Iterator[UnitOfWork]:
    """One write transaction on `project` by `author`; see `UnitOfWork`.

    Refuses to open inside another write unit of the same store in the same thread: the
    inner one would be a second transaction waiting on the outer one's lock.
    """
    author = check_author(author)
    units = _open_units()
    if id(store) in units:
        raise StoreError(
            f"A change to project {units[id(store)]!r} is already open in this unit of work; "
            "units of work do not nest. Make this change inside the open one (its "
            "repositories), or after it closes."
        )
    units[id(store)] = project
    try:
        with writing(store.engine) as conn:
            uow = UnitOfWork(
                store,
                conn,
                project,
                project_id(conn, project, lock=lock_project),
                author,
                writable=True,
            )
            try:
                yield uow
                uow._finish()
            finally:
                uow._close()
    finally:
        units.pop(id(store), None)


@contextmanager
def open_read_session(store: Store, project: str) -> Iterator[UnitOfWork]:
    """A read-only unit on `project`: repositories for reads, no lock taken, nothing written."""
    with reading(store.engine) as conn:
        uow = UnitOfWork(store, conn, project, project_id(conn, project), None, writable=False)
        try:
            yield uow
        finally:
            uow._close()
