"""The `Store`: one database of many projects, and its public methods over units of work.

Each write method opens `Store.session(project, author)`, calls a repository and commits with
one audit event; the repositories live in one module per aggregate next to this one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, and_, cast, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from curation.errors import NotFoundError, StoreError
from curation.names import validate_project_name
from curation.records import Message
from curation.store import schema as s
from curation.store.db import (
    create_store_engine,
    reading,
    safe_url,
    take_migration_lock,
    writing,
)
from curation.store.events import insert_event
from curation.store.examples import (
    ImportPlan,
    ImportSummary,
    StoredExample,
    earlier_import,
    split_new_examples,
)
from curation.store.metadata_index import MetadataField
from curation.store.revisions import COMPLETENESS, KEEP, Edit
from curation.store.rows import (
    BATCH,
    LOCKED_COLUMNS,
    check_author,
    check_storable,
    insert_unless_exists,
    lock_examples,
    lock_rows,
    now,
    project_id,
)
from curation.store.session import UnitOfWork, open_read_session, open_session
from curation.store.statuses import STATUSES, StatusChange, write_statuses
from curation.store.step_results import QUALITY_STEP, StepResult, flag_clause
from curation.store.step_runs import run_summary
from curation.store.undo import CONFIRM_UNDO_ABOVE, NOT_UNDOABLE, UndoPreview

# names other modules of the store imported from here before the split into repositories
_BATCH = BATCH
_KEEP = KEEP
_COMPLETENESS = COMPLETENESS
_LOCKED_COLUMNS = LOCKED_COLUMNS
_now = now
_check_author = check_author
_project_id = project_id
_lock_rows = lock_rows
_lock_examples = lock_examples
_check_storable = check_storable
_write_statuses = write_statuses
_earlier_import = earlier_import
_insert_unless_exists = insert_unless_exists


def default_db_url() -> str:
    """`CURATION_DB_URL`, else a SQLite file under `CURATION_HOME` (default `./.curation`)."""
    url = os.environ.get("CURATION_DB_URL")
    if url:
        return url
    home = Path(os.environ.get("CURATION_HOME", ".curation"))
    return f"sqlite:///{(home / 'curation.db').resolve()}"


@dataclass(slots=True)
class ExampleFilter:
    """Which examples a listing shows. Empty fields do not filter.

    `metadata` maps a field to a typed value: a boolean matches JSON true/false, a number
    matches numbers, a string matches strings; a field holding a list matches when the list
    contains the value. Several fields must all match.

    `step_flag` is ``(step, code)``: the examples with a result of that code (or ``"*"``, any
    code) in the project's latest run of `step` (`Store.save_step_results`), for any step that
    keeps per-example rows (``quality``, ``bias_audit``, ``label_issues`` or a plug-in step's
    name: `curation.steps.Step.results_step`); with no run it matches nothing.
    `quality_flag` is the same for the quality step: ``quality_flag="refusal"`` is
    ``step_flag=("quality", "refusal")``. Both may be given; both must match.

    `pii_state` keeps the examples with a PII finding in that review state (``pending``,
    ``accepted``, ``rejected``), or with any finding (``"*"``).
    """

    statuses: Sequence[str] | None = None
    sources: Sequence[str] | None = None
    search: str | None = None
    metadata: Mapping[str, str | bool | int | float] = field(default_factory=dict)
    example_ids: Sequence[str] | None = None
    quality_flag: str | None = None
    pii_state: str | None = None
    step_flag: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        flag = self.step_flag
        if flag is not None and (
            not isinstance(flag, tuple | list)
            or len(flag) != 2
            or not all(isinstance(part, str) and part for part in flag)
        ):
            raise StoreError(
                f"step_flag is a (step, code) pair of names, such as ('quality', 'refusal') "
                f"or ('quality', '*'), not {flag!r}"
            )

    def step_flags(self) -> list[tuple[str, str]]:
        """Every (step, code) the filter requires: `quality_flag` and `step_flag`."""
        out = [(QUALITY_STEP, self.quality_flag)] if self.quality_flag else []
        if self.step_flag is not None:
            out.append((self.step_flag[0], self.step_flag[1]))
        return out


class Store:
    """One database holding many projects.

    Parameters
    ----------
    url:
        SQLAlchemy URL; default `default_db_url()`. SQLite files get WAL mode, a busy timeout
        and foreign keys on every connection (see `curation.store.db`).

    Notes
    -----
    Every read-check-write runs in one write transaction that holds the lock on what it read:
    SQLite takes its write lock at ``BEGIN IMMEDIATE``; on PostgreSQL the rows read are locked
    with ``SELECT ... FOR UPDATE``, examples always in primary-key order so two writers never
    deadlock. A clash is a `ConflictError` ("changed by someone else since ... reload"), and
    any other database error a `StoreError` without SQL parameters or passwords.

    `session(project, author)` is the unit of work every write method below runs in; callers
    that make several changes as one (one transaction, one audit event, one undo) use it
    directly.
    """

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = url or default_db_url()
        try:
            self.is_sqlite = make_url(self.url).get_backend_name() == "sqlite"
            self.engine: Engine = create_store_engine(self.url)
        except ArgumentError as exc:
            raise StoreError(
                f"Cannot use the database URL {safe_url(self.url)}: {exc}. Give a URL such as "
                "sqlite:///path/to/curation.db or postgresql+psycopg://user@host/db."
            ) from None
        if migrate:
            self.migrate()

    @property
    def display_url(self) -> str:
        """The database URL with its password masked, for messages and logs."""
        return safe_url(self.url)

    def __repr__(self) -> str:
        return f"Store({self.display_url!r})"

    # ---- schema -------------------------------------------------------------------------

    def migrate(self) -> int:
        """Bring the database to the app's schema version; return the version it was at.

        Runs the Alembic revisions in `curation.store.migrations` inside one write transaction
        that holds the migration lock, so two processes opening a fresh database never both
        create tables.
        """
        from curation.store import migrations

        with writing(self.engine) as conn:
            take_migration_lock(conn)
            before = migrations.upgrade(conn, self.display_url)
        return int(before) if before and before.isdigit() else 0

    def schema_version(self) -> int:
        with reading(self.engine) as conn:
            from curation.store import migrations

            rev = migrations.current_revision(conn)
        return int(rev) if rev and rev.isdigit() else 0

    def dispose(self) -> None:
        self.engine.dispose()

    # ---- projects -----------------------------------------------------------------------

    def list_projects(self) -> list[str]:
        with reading(self.engine) as conn:
            return list(conn.scalars(select(s.projects.c.name).order_by(s.projects.c.name)))

    def create_project(self, name: str, author: str) -> int:
        """Create a project; its name must pass `curation.names.validate_project_name`.

        Raises `InputError` for a name the rule refuses (kept as typed, never stripped) and
        `StoreError` when the name is taken, also when two people create it at the same moment.
        """
        pid = self._insert_project(name, author)
        if pid is None:
            raise StoreError(f"A project named {name!r} already exists; pick another name.")
        return pid

    # ---- units of work ------------------------------------------------------------------

    def session(
        self, project: str, author: str, *, lock_project: bool = False
    ) -> AbstractContextManager[UnitOfWork]:
        """A unit of work on `project` by `author`: one transaction, ONE audit event.

        ``with store.session("p", "ada") as uow:`` resolves the project once and exposes the
        repositories (``uow.examples``, ``uow.revisions``, ``uow.statuses``, ``uow.events``,
        ``uow.step_results``, ``uow.jobs``, ``uow.settings``) on one write transaction (SQLite:
        ``BEGIN IMMEDIATE``; PostgreSQL: rows locked as they are read). Name the change with
        ``uow.describe(kind, summary)``; when the block ends without an error the unit writes
        one event recording every example change its repositories made, then commits. An
        exception rolls everything back and no event is written. A unit cannot be opened
        inside another one of this store in the same thread (`StoreError`).

        Parameters
        ----------
        project, author:
            The project (`NotFoundError` when there is none of that name) and who changes it.
        lock_project:
            Hold the project's row lock from the start (imports and their undo take it anyway).
        """
        return open_session(self, project, author, lock_project=lock_project)

    def read_session(self, project: str) -> AbstractContextManager[UnitOfWork]:
        """A read-only unit of work: the same repositories on one read snapshot, no lock."""
        return open_read_session(self, project)

    # ---- projects -----------------------------------------------------------------------

    def project_settings(self, project: str) -> dict[str, Any]:
        """The project's saved settings (step configurations by key)."""
        with self.read_session(project) as uow:
            return uow.settings.all()

    def set_project_setting(self, project: str, key: str, value: Any, author: str) -> int:
        """Save one setting (None removes it) as an attributed `settings` event; undo restores.

        The project row is locked from the read to the write, so the event's before-value is
        the one the previous change left.
        """
        with self.session(project, author) as uow:
            uow.settings.set(key, value)
            uow.describe("settings", f"changed the {key} settings")
        return _event_id(uow)

    def ensure_project(self, name: str, author: str) -> int:
        """The project's id, creating it when missing (safe when several callers race)."""
        try:
            return self.project_id(name)
        except NotFoundError:
            pass
        pid = self._insert_project(name, author)
        return pid if pid is not None else self.project_id(name)

    def _insert_project(self, name: str, author: str) -> int | None:
        """Insert the project in one statement; None when a project of that name exists."""
        validate_project_name(name)
        author = check_author(author)
        with writing(self.engine) as conn:
            pid = conn.scalar(
                insert_unless_exists(conn, s.projects, "name")
                .values(name=name, created_at=now(), created_by=author, settings={})
                .returning(s.projects.c.id)
            )
            if pid is None:
                return None
            insert_event(conn, pid, "create_project", author, f"created project {name}", {})
        return int(pid)

    def project_id(self, name: str) -> int:
        with reading(self.engine) as conn:
            return project_id(conn, name)

    # ---- import -------------------------------------------------------------------------

    def find_import(self, project: str, sha256: str) -> dict[str, Any] | None:
        """The earlier import of the same bytes into this project, if any."""
        with self.read_session(project) as uow:
            return uow.examples.find_import(sha256)

    def add_import(
        self,
        project: str,
        result: Any,
        author: str,
        *,
        allow_reimport: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportSummary:
        """Store an `ImportResult` in one transaction.

        The same file (by sha256) is not imported twice unless `allow_reimport`; examples whose
        id is already in the project are skipped as "already in project". A failure leaves
        nothing behind. Imports into one project take its row lock, so two at once neither store
        the same file twice nor hand out the same positions.
        """
        with self.session(project, author, lock_project=True) as uow:
            summary = uow.examples.add_import(
                result, allow_reimport=allow_reimport, progress=progress
            )
            if not summary.already_imported:
                uow.describe("import", f"imported {summary.imported} examples from {result.source}")
        return summary

    def plan_imports(
        self, project: str, results: Sequence[Any], *, allow_reimport: bool = False
    ) -> list[ImportPlan]:
        """What `add_import` would do with each `ImportResult`, in order, without writing.

        Files are taken as one batch imported in the given order: an id an earlier file adds
        counts as ``in_earlier_file`` for later ones, and a file whose bytes an earlier file of
        the batch already brings is ``already_imported`` (unless ``allow_reimport``).

        Parameters
        ----------
        project:
            The project to import into.
        results:
            What `read_examples` returned for each file.
        allow_reimport:
            As for `add_import`: files imported before still add their new ids.

        Returns
        -------
        list[ImportPlan]
            One per result; ``new`` is what the import would add.
        """
        with self.read_session(project) as uow:
            return uow.examples.plan_imports(results, allow_reimport=allow_reimport)

    def list_imports(self, project: str) -> list[dict[str, Any]]:
        with self.read_session(project) as uow:
            return uow.examples.imports()

    # ---- reading ------------------------------------------------------------------------

    def _where(self, pid: int, flt: ExampleFilter | None) -> list[Any]:
        c = s.examples.c
        clauses: list[Any] = [c.project_id == pid]
        if flt is None:
            return clauses
        if flt.statuses:
            clauses.append(c.status.in_(list(flt.statuses)))
        if flt.sources:
            clauses.append(c.source.in_(list(flt.sources)))
        if flt.example_ids is not None:
            clauses.append(c.example_id.in_(list(flt.example_ids)))
        if flt.search and flt.search.strip():
            needle = flt.search.strip().casefold()
            escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            clauses.append(c.search_text.like(f"%{escaped}%", escape="\\"))
        for key, value in flt.metadata.items():
            clauses.append(self._metadata_match(key, value))
        for step, code in flt.step_flags():
            clauses.append(flag_clause(pid, step, code))
        if flt.pii_state:
            clauses.append(_pii_clause(flt.pii_state))
        return clauses

    def _metadata_match(self, key: str, value: Any) -> Any:
        """Rows whose metadata field `key` equals `value` as typed JSON, or is a list holding it.

        Booleans match JSON true/false only, numbers match numbers (1 == 1.0), strings match
        strings; "True" never matches true, nor "5" the number 5.
        """
        if not isinstance(value, str | bool | int | float) or (
            isinstance(value, float) and value != value
        ):
            raise StoreError(
                f"Cannot filter metadata field {key!r} by {value!r} ({type(value).__name__}): "
                "use a string, a number or true/false."
            )
        c = s.examples.c
        if self.is_sqlite:
            # json_each matches the key by value, so keys with dots or quotes need no path syntax
            top = func.json_each(c.meta).table_valued("key", "value", "type", "atom").alias("mf")
            item = func.json_each(top.c.value).table_valued("type", "atom").alias("mi")
            in_list = (
                select(item.c.type).where(_json_atom_is(item.c.type, item.c.atom, value)).exists()
            )
            return (
                select(top.c.key)
                .where(
                    top.c.key == key,
                    or_(
                        _json_atom_is(top.c.type, top.c.atom, value),
                        and_(top.c.type == "array", in_list),
                    ),
                )
                .exists()
            )
        meta = cast(c.meta, JSONB)
        return or_(meta.contains({key: value}), meta.contains({key: [value]}))

    def count_examples(self, project: str, flt: ExampleFilter | None = None) -> int:
        with self.read_session(project) as uow:
            return uow.examples.count(flt)

    def list_examples(
        self,
        project: str,
        flt: ExampleFilter | None = None,
        *,
        offset: int = 0,
        limit: int | None = 50,
    ) -> list[StoredExample]:
        """Examples in import order, filtered and paged."""
        with self.read_session(project) as uow:
            return uow.examples.page(flt, offset=offset, limit=limit)

    def iter_examples(
        self, project: str, flt: ExampleFilter | None = None, *, batch: int = BATCH
    ) -> Iterator[StoredExample]:
        """Every matching example, in import order, fetched in batches.

        Keyset paging (position > last seen) keeps each batch one index range scan, where
        OFFSET would rescan everything before it. Each batch is its own short read, so the
        caller may write between batches.
        """
        last = -1
        while True:
            with self.read_session(project) as uow:
                page = uow.examples.page(flt, limit=batch, after_position=last)
            yield from page
            if len(page) < batch:
                return
            last = page[-1].position

    def get_examples(self, project: str, example_ids: Sequence[str]) -> dict[str, StoredExample]:
        """The named examples by id (ids not in the project are absent), fetched in batches."""
        with self.read_session(project) as uow:
            return uow.examples.get_many(example_ids)

    def statuses(self, project: str, example_ids: Sequence[str]) -> dict[str, str]:
        """Current status by example id, without loading the examples (batched)."""
        with self.read_session(project) as uow:
            return uow.statuses.current(example_ids)

    def get_example(self, project: str, example_id: str) -> StoredExample:
        with self.read_session(project) as uow:
            return uow.examples.get(example_id)

    def sources(self, project: str) -> list[str]:
        with self.read_session(project) as uow:
            return uow.examples.sources()

    def metadata_fields(self, project: str) -> list[MetadataField]:
        """Every metadata field of the project's examples, by name, from the index that imports
        keep: JSON types, counts and up to `MAX_VALUES` typed values each."""
        with self.read_session(project) as uow:
            return uow.examples.metadata_fields()

    def metadata_keys(self, project: str) -> dict[str, list[Any]]:
        """Every metadata field with its typed values, most frequent first (see
        `metadata_fields` for types, counts and whether more values exist)."""
        return {f.name: [v for v, _ in f.values] for f in self.metadata_fields(project)}

    def stats(self, project: str) -> dict[str, Any]:
        """Counts per status and source, imports, revisions and the step runs done.

        ``with_preference`` counts the examples with candidate answers or a KTO label.
        """
        with self.read_session(project) as uow:
            return uow.examples.stats()

    def revisions(self, project: str, example_id: str) -> list[dict[str, Any]]:
        with self.read_session(project) as uow:
            return uow.revisions.history(example_id)

    # ---- changes ------------------------------------------------------------------------

    def edit_messages(
        self,
        project: str,
        example_id: str,
        messages: list[Message],
        author: str,
        reason: str,
        *,
        expected_revision: int | None = None,
        event_kind: str = "edit",
        preference: dict[str, Any] | None = KEEP,
    ) -> int:
        """Replace an example's messages with a new revision; returns the new revision number.

        ``preference`` replaces the candidates and KTO label too (an
        `Example.preference_payload`; None removes them); by default they are kept.

        The revision before the first edit is kept as revision 0, so every edit can be undone.
        `expected_revision` is the revision the editor started from: the check and the write
        are one compare-and-set under the example's row lock, so of several people editing the
        same revision exactly one wins and the others get a `ConflictError` telling them to
        reload. Text with a NUL character or an unpaired surrogate is refused (no database
        stores it the same way).
        """
        with self.session(project, author) as uow:
            new_rev = uow.revisions.edit(
                example_id,
                messages,
                reason,
                expected_revision=expected_revision,
                preference=preference,
            )
            uow.describe(event_kind, f"{reason} ({example_id})")
        return new_rev

    def edit_many(
        self,
        project: str,
        edits: Mapping[str, Edit],
        author: str,
        reason: str,
        *,
        event_kind: str = "edit",
        extra: dict[str, Any] | None = None,
    ) -> int | None:
        """New revisions of many examples as ONE audit event (one undo reverses them all).

        `edits` maps example id -> (new messages, the revision they were made from), or
        (messages, revision, preference) to replace the candidates too. Every
        example is locked before its revision is checked; if any of them moved on since it was
        read, nothing is written and a `ConflictError` names them. Returns the event's id, or
        None when `edits` is empty.
        """
        author = check_author(author)
        if not edits:
            return None
        with self.session(project, author) as uow:
            changes = uow.revisions.edit_many(edits, reason)
            uow.describe(event_kind, f"{reason} ({len(changes)} examples)", **(extra or {}))
        return _event_id(uow)

    def set_status(
        self,
        project: str,
        example_ids: Iterable[str],
        status: str,
        author: str,
        reason: str,
        *,
        duplicate_of: dict[str, str] | str | None = None,
        event_kind: str = "status",
        extra: dict[str, Any] | None = None,
    ) -> int:
        """Set the status of examples (non-destructive); returns the audit event's id.

        `duplicate_of` names the kept example, one for all or per example id.
        """
        changes = {
            ex_id: StatusChange(
                status,
                reason,
                duplicate_of.get(ex_id) if isinstance(duplicate_of, dict) else duplicate_of,
            )
            for ex_id in example_ids
        }
        return self.apply_status_changes(
            project,
            changes,
            author,
            f"{reason}: {{n}} example(s) set to {status}",
            event_kind=event_kind,
            extra=extra,
        )

    def apply_status_changes(
        self,
        project: str,
        changes: dict[str, StatusChange],
        author: str,
        summary: str,
        *,
        event_kind: str = "status",
        extra: dict[str, Any] | None = None,
        only_from: Sequence[str] | None = None,
    ) -> int:
        """Apply per-example status changes as ONE audit event, so one undo reverses them all.

        `summary` may contain ``{n}``, replaced by the number of examples that changed. The
        examples are locked before their current state is read, so every before-state in the
        event is the state the previous committed change left (what undo restores). With
        `only_from`, an example whose current status (read under the lock) is not one of those
        is left as it is, so a bulk action never overrides what someone decided meanwhile.
        """
        for change in changes.values():  # before the author check, as always
            if change.status not in STATUSES:
                raise StoreError(
                    f"Unknown status {change.status!r}; use one of {', '.join(STATUSES)}."
                )
        with self.session(project, author) as uow:
            uow.statuses.apply(changes, only_from=only_from)
            uow.describe(event_kind, summary, **(extra or {}))
        return _event_id(uow)

    def undo(self, project: str, event_id: int, author: str) -> int:
        """Reverse an event (status change, edit, import...); returns the undo event's id.

        The rule: an event can be undone when every later event that touched any of its
        examples has itself been undone (undo events do not count), and the examples are in the
        state the event left them. So undoing newest first always works, and nobody's later
        work is lost: a refusal (`ConflictError`) names how many examples and which later
        events to undo first. The event's and the examples' locks are held from the check to the
        write; of several people pressing Undo on one event, exactly one wins and the others are
        told it was already undone. Each kind of event has its handler in
        `curation.store.undo.UNDO_HANDLERS`.
        """
        return self.undo_events(project, [event_id], author)

    def undo_events(self, project: str, event_ids: Sequence[int], author: str) -> int:
        """Reverse several events at once, newest first, as ONE ``undo`` event; returns its id.

        Events of the batch do not block each other (a later one is undone before an earlier
        one); any other later event that touched their examples refuses the whole batch, and
        nothing is undone.
        """
        with self.session(project, author) as uow:
            uow.events.undo(event_ids)
        return _event_id(uow)

    def undo_preview(self, project: str, event_id: int) -> UndoPreview:
        """Describe what `undo` of this event would change, without changing anything.

        Raises
        ------
        NotFoundError
            When the project has no such event.
        StoreError
            When the event was undone already or is of a kind that cannot be undone.
        """
        with self.read_session(project) as uow:
            return uow.events.preview(event_id)

    # ---- audit log and step runs ----------------------------------------------------------

    def _log(
        self,
        conn: Connection,
        pid: int,
        kind: str,
        author: str,
        summary: str,
        payload: dict[str, Any],
    ) -> int:
        """Append an event on a transaction opened outside a unit of work (labels, PII)."""
        return insert_event(conn, pid, kind, author, summary, payload)

    def events(
        self, project: str, *, limit: int = 100, kinds: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """The newest audit events first."""
        with self.read_session(project) as uow:
            return uow.events.newest(limit=limit, kinds=kinds)

    def log_event(
        self, project: str, kind: str, author: str, summary: str, payload: dict[str, Any]
    ) -> int:
        """Record something that changed no example (an export, say) in the audit log."""
        with self.session(project, author) as uow:
            uow.describe(kind, summary, **payload)
        return _event_id(uow)

    def save_step_run(
        self,
        project: str,
        step: str,
        params: dict[str, Any],
        result: dict[str, Any],
        stats: dict[str, Any],
        author: str,
    ) -> int:
        """Keep a step's result (e.g. dedup clusters) so pages read it instead of recomputing."""
        with self.session(project, author) as uow:
            run_id = uow.step_results.save_run(step, params, result, stats)
            uow.describe("step_run", run_summary(step))
        return run_id

    def save_step_results(
        self,
        project: str,
        step: str,
        params: dict[str, Any],
        stats: dict[str, Any],
        results: Iterable[StepResult],
        author: str,
        *,
        result: dict[str, Any] | None = None,
    ) -> int:
        """Save a step run and its per-example results in one transaction; returns the run id.

        One ``step_run`` audit event records it (a run changes no example, so there is nothing
        to undo). Every result must name an example of the project (`NotFoundError` otherwise,
        and nothing is saved). The newest run of a step is what listings filter by.
        """
        with self.session(project, author) as uow:
            run_id, n = uow.step_results.save(step, params, stats, results, result=result)
            uow.describe("step_run", run_summary(step, n))
        return run_id

    def step_results(
        self,
        project: str,
        step: str,
        *,
        run_id: int | None = None,
        code: str | None = None,
        statuses: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[StepResult]:
        """Results of a run of `step` (default its latest), optionally of one flag code and of
        examples in `statuses`, in import order; [] when the step never ran."""
        with self.read_session(project) as uow:
            return uow.step_results.results(
                step, run_id=run_id, code=code, statuses=statuses, limit=limit
            )

    def step_result_counts(
        self,
        project: str,
        step: str,
        *,
        run_id: int | None = None,
        statuses: Sequence[str] | None = None,
    ) -> dict[str, int]:
        """Examples per flag code in a run of `step` (default its latest), most first;
        with `statuses`, only examples now in one of them. {} when the step never ran."""
        with self.read_session(project) as uow:
            return uow.step_results.counts(step, run_id=run_id, statuses=statuses)

    def step_result_total(
        self,
        project: str,
        step: str,
        *,
        run_id: int | None = None,
        code: str | None = None,
        statuses: Sequence[str] | None = None,
    ) -> int:
        """Distinct examples with any result (or one of `code`) in a run of `step`."""
        with self.read_session(project) as uow:
            return uow.step_results.total(step, run_id=run_id, code=code, statuses=statuses)

    def step_result_ids(
        self,
        project: str,
        step: str,
        code: str,
        *,
        run_id: int | None = None,
        statuses: Sequence[str] | None = None,
    ) -> list[str]:
        """Ids of the examples behind flag `code` (or ``"*"``) in a run of `step` (default its
        latest), in import order; with `statuses`, only examples now in one of them."""
        with self.read_session(project) as uow:
            return uow.step_results.ids(step, code, run_id=run_id, statuses=statuses)

    def step_run(self, project: str, run_id: int) -> dict[str, Any] | None:
        with self.read_session(project) as uow:
            return uow.step_results.run(run_id)

    def step_runs(self, project: str, step: str, *, limit: int = 200) -> list[dict[str, Any]]:
        """Saved runs of a step, newest first, without their (possibly large) results."""
        with self.read_session(project) as uow:
            return uow.step_results.runs(step, limit=limit)

    def latest_step_run(self, project: str, step: str) -> dict[str, Any] | None:
        with self.read_session(project) as uow:
            return uow.step_results.latest(step)


def _event_id(uow: UnitOfWork) -> int:
    """The id of the event a closed unit wrote (every wrapper below describes its unit)."""
    if uow.event_id is None:  # pragma: no cover - each caller describes the unit
        raise StoreError("The change was saved without its audit event.")
    return uow.event_id


def _json_atom_is(json_type: Any, atom: Any, value: str | bool | int | float) -> Any:
    """SQLite `json_each` columns (type, atom) equal to a typed value."""
    if isinstance(value, bool):
        return json_type == ("true" if value else "false")
    if isinstance(value, int | float):
        return and_(json_type.in_(("integer", "real")), atom == value)
    return and_(json_type == "text", atom == value)


def _pii_clause(state: str) -> Any:
    """Examples with a PII finding in `state` (``"*"``: any): an EXISTS on the example's pk."""
    from curation.store.pii_findings import REVIEW_STATES

    f = s.pii_findings.c
    query = select(f.id).where(f.example_pk == s.examples.c.pk)
    if state != "*":
        if state not in REVIEW_STATES:
            raise StoreError(
                f"Unknown PII review state {state!r}; use one of {', '.join(REVIEW_STATES)} or *."
            )
        query = query.where(f.state == state)
    return query.exists()


__all__ = [
    "CONFIRM_UNDO_ABOVE",
    "NOT_UNDOABLE",
    "STATUSES",
    "ExampleFilter",
    "ImportPlan",
    "ImportSummary",
    "MetadataField",
    "StatusChange",
    "Store",
    "StoredExample",
    "UndoPreview",
    "UnitOfWork",
    "default_db_url",
    "split_new_examples",
]
