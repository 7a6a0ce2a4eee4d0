"""SQLAlchemy-backed store for projects and their examples, with revisions and an undoable log.

Every write is one short locked transaction attributed to an author; an edit deletes nothing.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    cast,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from curation.errors import ConflictError, NotFoundError, StoreError
from curation.names import validate_project_name
from curation.records import Example, Message, messages_hash
from curation.store import schema as s
from curation.store.db import (
    create_store_engine,
    reading,
    safe_url,
    take_migration_lock,
    writing,
)
from curation.store.metadata_index import MetadataField, add_to_index, read_index, rebuild_index
from curation.store.step_results import (
    QUALITY_STEP,
    StepResult,
    count_by_code,
    count_examples,
    flag_clause,
    ids_with_code,
    insert_results,
    read_results,
)

STATUSES = ("active", "needs_answer", "duplicate", "rejected", "filtered", "removed")
# an example is `needs_answer` while it has neither a final answer nor candidates; writing one
# makes it `active` (and an edit that removes the answer makes it `needs_answer` again)
_COMPLETENESS = ("active", "needs_answer")
NOT_UNDOABLE = ("undo", "create_project", "step_run", "export")  # events that changed no example
CONFIRM_UNDO_ABOVE = 5  # undoing more examples than this (or any import) asks for confirmation
_BATCH = 2000


def default_db_url() -> str:
    """`CURATION_DB_URL`, else a SQLite file under `CURATION_HOME` (default `./.curation`)."""
    url = os.environ.get("CURATION_DB_URL")
    if url:
        return url
    home = Path(os.environ.get("CURATION_HOME", ".curation"))
    return f"sqlite:///{(home / 'curation.db').resolve()}"


_KEEP: Any = object()  # "leave as it is" for optional keyword arguments that accept None


def _now() -> datetime:
    return datetime.now(UTC)


def _check_author(author: str) -> str:
    author = (author or "").strip()
    if not author:
        raise StoreError("An author name is required for every change; set your name first.")
    return author


@dataclass(slots=True)
class StoredExample:
    """An example as the store holds it: the canonical record plus its curation state."""

    example: Example
    pk: int
    status: str
    status_reason: str | None
    duplicate_of: str | None
    revision: int
    import_id: int | None
    position: int
    updated_at: datetime

    @property
    def id(self) -> str:
        return self.example.id


@dataclass(slots=True)
class ImportSummary:
    """What one import did: counts, skipped records and why."""

    import_id: int | None
    file_name: str
    sha256: str
    detected_format: str
    imported: int
    skipped: int
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    issues: list[dict[str, Any]] = field(default_factory=list)
    already_imported: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "file_name": self.file_name,
            "sha256": self.sha256,
            "detected_format": self.detected_format,
            "imported": self.imported,
            "skipped": self.skipped,
            "skipped_reasons": self.skipped_reasons,
            "issues": self.issues,
            "already_imported": self.already_imported,
        }


@dataclass(slots=True)
class ImportPlan:
    """What importing one read file would add, told before anything is written.

    Attributes
    ----------
    file_name, sha256:
        The file, as `ImportResult` names it.
    records:
        Records found in the file.
    new:
        Examples the import would add.
    already_in_project:
        Examples whose id the project already holds (not added again).
    in_earlier_file:
        Examples whose id an earlier file of the same batch (or an earlier record of this
        file) adds first.
    skipped:
        Records the reader could not turn into examples (or a drop rule left out).
    skipped_reasons:
        Reason -> records, for ``skipped``.
    already_imported:
        This exact file (by sha256) is in the project already, or earlier in the batch, and
        importing it again was not asked for: nothing would be added.
    earlier_import:
        ``file_name``, ``created_at``, ``created_by`` of that earlier import, when stored.
    """

    file_name: str
    sha256: str
    records: int
    new: int
    already_in_project: int = 0
    in_earlier_file: int = 0
    skipped: int = 0
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    already_imported: bool = False
    earlier_import: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "file_name": self.file_name,
            "sha256": self.sha256,
            "records": self.records,
            "new": self.new,
            "already_in_project": self.already_in_project,
            "in_earlier_file": self.in_earlier_file,
            "skipped": self.skipped,
            "skipped_reasons": dict(self.skipped_reasons),
            "already_imported": self.already_imported,
            "earlier_import": self.earlier_import,
        }


def split_new_examples(
    examples: Iterable[Example], taken: set[str]
) -> tuple[list[Example], list[Example]]:
    """Examples whose id is not in ``taken`` (first of each id), and the others.

    ``taken`` grows with the new ids, so it can be passed on to the next file of a batch.
    `Store.add_import` and `Store.plan_imports` both decide with this, so the plan shown before
    an import counts what the import adds.
    """
    new: list[Example] = []
    repeated: list[Example] = []
    for ex in examples:
        if ex.id in taken:
            repeated.append(ex)
        else:
            taken.add(ex.id)
            new.append(ex)
    return new, repeated


@dataclass(frozen=True, slots=True)
class UndoPreview:
    """What undoing one event would do, in words, before anyone clicks.

    Attributes
    ----------
    event_id, kind:
        The event.
    n_examples:
        Examples the undo would change (or remove, for an import).
    effect:
        One sentence naming what goes: "removes the 2,000 examples imported from a.json ...".
    needs_confirmation:
        True for imports and for events touching more than `CONFIRM_UNDO_ABOVE` examples.
    """

    event_id: int
    kind: str
    n_examples: int
    effect: str
    needs_confirmation: bool


@dataclass(frozen=True, slots=True)
class StatusChange:
    """The status an example should get, why, and (for duplicates) which example was kept."""

    status: str
    reason: str
    duplicate_of: str | None = None


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

    def project_settings(self, project: str) -> dict[str, Any]:
        """The project's saved settings (step configurations by key)."""
        with reading(self.engine) as conn:
            value = conn.scalar(
                select(s.projects.c.settings).where(s.projects.c.id == _project_id(conn, project))
            )
        return dict(value or {})

    def set_project_setting(self, project: str, key: str, value: Any, author: str) -> int:
        """Save one setting (None removes it) as an attributed `settings` event; undo restores.

        The project row is locked from the read to the write, so the event's before-value is
        the one the previous change left.
        """
        author = _check_author(author)
        with writing(self.engine) as conn:
            pid = _project_id(conn, project, lock=True)
            current = dict(
                conn.scalar(select(s.projects.c.settings).where(s.projects.c.id == pid)) or {}
            )
            before = current.get(key)
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value
            conn.execute(update(s.projects).where(s.projects.c.id == pid).values(settings=current))
            return self._log(
                conn,
                pid,
                "settings",
                author,
                f"changed the {key} settings",
                {"key": key, "before": before, "after": value},
            )

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
        author = _check_author(author)
        with writing(self.engine) as conn:
            pid = conn.scalar(
                _insert_unless_exists(conn, s.projects, "name")
                .values(name=name, created_at=_now(), created_by=author, settings={})
                .returning(s.projects.c.id)
            )
            if pid is None:
                return None
            self._log(conn, pid, "create_project", author, f"created project {name}", {})
        return int(pid)

    def project_id(self, name: str) -> int:
        with reading(self.engine) as conn:
            return _project_id(conn, name)

    # ---- import -------------------------------------------------------------------------

    def find_import(self, project: str, sha256: str) -> dict[str, Any] | None:
        """The earlier import of the same bytes into this project, if any."""
        with reading(self.engine) as conn:
            return _earlier_import(conn, _project_id(conn, project), sha256)

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
        author = _check_author(author)
        issues = [
            {"line": e.line, "message": e.message, "record_id": getattr(e, "record_id", None)}
            for e in result.errors
        ]
        reasons: dict[str, int] = dict(result.skipped_reasons())
        summary = ImportSummary(
            import_id=None,
            file_name=result.source,
            sha256=result.sha256,
            detected_format=result.detected_format,
            imported=0,
            skipped=result.skipped,
            skipped_reasons=reasons,
            issues=issues,
        )
        now = _now()
        with writing(self.engine) as conn:
            pid = _project_id(conn, project, lock=True)
            if not allow_reimport and _earlier_import(conn, pid, result.sha256) is not None:
                summary.already_imported = True
                summary.skipped = result.total_records
                summary.skipped_reasons = {"file already imported": result.total_records}
                return summary
            existing = set(
                conn.scalars(select(s.examples.c.example_id).where(s.examples.c.project_id == pid))
            )
            position = int(
                conn.scalar(
                    select(func.coalesce(func.max(s.examples.c.position), -1)).where(
                        s.examples.c.project_id == pid
                    )
                )
                or 0
            )
            rows: list[dict[str, Any]] = []
            new, repeated = split_new_examples(result.examples, existing)
            already = len(repeated)
            for ex in new:
                position += 1
                rows.append(_example_row(pid, ex, position, now))
            import_id = conn.execute(
                insert(s.imports).values(
                    project_id=pid,
                    file_name=result.source,
                    sha256=result.sha256,
                    format=result.detected_format,
                    container=result.container,
                    n_records=result.total_records,
                    n_imported=len(rows),
                    n_skipped=result.skipped + already,
                    issues=issues,
                    created_at=now,
                    created_by=author,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            for row in rows:
                row["import_id"] = import_id
            for start in range(0, len(rows), _BATCH):
                conn.execute(insert(s.examples), rows[start : start + _BATCH])
                if progress:
                    progress(min(start + _BATCH, len(rows)), len(rows))
            add_to_index(conn, pid, (row["meta"] for row in rows))
            if already:
                reasons["already in project"] = reasons.get("already in project", 0) + already
            self._log(
                conn,
                pid,
                "import",
                author,
                f"imported {len(rows)} examples from {result.source}",
                {"import_id": import_id, "count": len(rows), "sha256": result.sha256},
            )
        summary.import_id = int(import_id)
        summary.imported = len(rows)
        summary.skipped = result.skipped + already
        summary.skipped_reasons = reasons
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
        pid = self.project_id(project)
        shas = list(dict.fromkeys(r.sha256 for r in results))
        ids = list(dict.fromkeys(ex.id for r in results for ex in r.examples))
        c = s.examples.c
        earlier: dict[str, dict[str, Any]] = {}
        in_project: set[str] = set()
        with reading(self.engine) as conn:
            for row in conn.execute(
                select(
                    s.imports.c.sha256,
                    s.imports.c.file_name,
                    s.imports.c.created_at,
                    s.imports.c.created_by,
                )
                .where(s.imports.c.project_id == pid, s.imports.c.sha256.in_(shas))
                .order_by(s.imports.c.id)
            ):
                earlier.setdefault(
                    row.sha256,
                    {
                        "file_name": row.file_name,
                        "created_at": row.created_at,
                        "created_by": row.created_by,
                    },
                )
            for start in range(0, len(ids), _BATCH):
                in_project.update(
                    conn.scalars(
                        select(c.example_id).where(
                            c.project_id == pid, c.example_id.in_(ids[start : start + _BATCH])
                        )
                    )
                )
        plans: list[ImportPlan] = []
        taken = set(in_project)
        batch_shas: set[str] = set()
        for result in results:
            plan = ImportPlan(
                file_name=result.source,
                sha256=result.sha256,
                records=result.total_records,
                new=0,
                skipped=result.skipped,
                skipped_reasons=dict(result.skipped_reasons()),
                earlier_import=earlier.get(result.sha256),
            )
            seen_before = result.sha256 in earlier or result.sha256 in batch_shas
            if seen_before and not allow_reimport:
                plan.already_imported = True
            else:
                batch_shas.add(result.sha256)
                new, repeated = split_new_examples(result.examples, taken)
                plan.new = len(new)
                plan.already_in_project = sum(1 for ex in repeated if ex.id in in_project)
                plan.in_earlier_file = len(repeated) - plan.already_in_project
            plans.append(plan)
        return plans

    def list_imports(self, project: str) -> list[dict[str, Any]]:
        pid = self.project_id(project)
        with reading(self.engine) as conn:
            rows = conn.execute(
                select(s.imports).where(s.imports.c.project_id == pid).order_by(s.imports.c.id)
            )
            return [dict(r._mapping) for r in rows]

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
        pid = self.project_id(project)
        with reading(self.engine) as conn:
            return int(
                conn.scalar(
                    select(func.count()).select_from(s.examples).where(*self._where(pid, flt))
                )
                or 0
            )

    def list_examples(
        self,
        project: str,
        flt: ExampleFilter | None = None,
        *,
        offset: int = 0,
        limit: int | None = 50,
    ) -> list[StoredExample]:
        """Examples in import order, filtered and paged."""
        pid = self.project_id(project)
        query = select(s.examples).where(*self._where(pid, flt)).offset(offset)
        return self._fetch(query, limit)

    def _fetch(self, query: Any, limit: int | None) -> list[StoredExample]:
        """Run an examples query in import order, optionally limited."""
        query = query.order_by(s.examples.c.position)
        if limit is not None:
            query = query.limit(limit)
        with reading(self.engine) as conn:
            return [_stored(r) for r in conn.execute(query)]

    def iter_examples(
        self, project: str, flt: ExampleFilter | None = None, *, batch: int = _BATCH
    ) -> Iterator[StoredExample]:
        """Every matching example, in import order, fetched in batches.

        Keyset paging (position > last seen) keeps each batch one index range scan, where
        OFFSET would rescan everything before it.
        """
        pid = self.project_id(project)
        last = -1
        while True:
            query = select(s.examples).where(*self._where(pid, flt), s.examples.c.position > last)
            page = self._fetch(query, batch)
            yield from page
            if len(page) < batch:
                return
            last = page[-1].position

    def get_examples(self, project: str, example_ids: Sequence[str]) -> dict[str, StoredExample]:
        """The named examples by id (ids not in the project are absent), fetched in batches."""
        ids = list(dict.fromkeys(example_ids))
        found: dict[str, StoredExample] = {}
        for start in range(0, len(ids), _BATCH):
            flt = ExampleFilter(example_ids=ids[start : start + _BATCH])
            found.update((e.id, e) for e in self.list_examples(project, flt, limit=None))
        return found

    def statuses(self, project: str, example_ids: Sequence[str]) -> dict[str, str]:
        """Current status by example id, without loading the examples (batched)."""
        pid = self.project_id(project)
        ids = list(dict.fromkeys(example_ids))
        c = s.examples.c
        out: dict[str, str] = {}
        with reading(self.engine) as conn:
            for start in range(0, len(ids), _BATCH):
                out.update(
                    conn.execute(
                        select(c.example_id, c.status).where(
                            c.project_id == pid, c.example_id.in_(ids[start : start + _BATCH])
                        )
                    ).all()
                )
        return out

    def get_example(self, project: str, example_id: str) -> StoredExample:
        found = self.list_examples(project, ExampleFilter(example_ids=[example_id]), limit=1)
        if not found:
            raise NotFoundError(f"No example {example_id!r} in project {project!r}.")
        return found[0]

    def sources(self, project: str) -> list[str]:
        pid = self.project_id(project)
        with reading(self.engine) as conn:
            return list(
                conn.scalars(
                    select(s.examples.c.source)
                    .where(s.examples.c.project_id == pid)
                    .distinct()
                    .order_by(s.examples.c.source)
                )
            )

    def metadata_fields(self, project: str) -> list[MetadataField]:
        """Every metadata field of the project's examples, by name, from the index that imports
        keep: JSON types, counts and up to `MAX_VALUES` typed values each."""
        pid = self.project_id(project)
        with reading(self.engine) as conn:
            return read_index(conn, pid)

    def metadata_keys(self, project: str) -> dict[str, list[Any]]:
        """Every metadata field with its typed values, most frequent first (see
        `metadata_fields` for types, counts and whether more values exist)."""
        return {f.name: [v for v, _ in f.values] for f in self.metadata_fields(project)}

    def stats(self, project: str) -> dict[str, Any]:
        """Counts per status and source, imports, revisions and the step runs done.

        ``with_preference`` counts the examples with candidate answers or a KTO label.
        """
        pid = self.project_id(project)
        c = s.examples.c
        with reading(self.engine) as conn:
            by_status: dict[str, int] = dict(
                conn.execute(
                    select(c.status, func.count()).where(c.project_id == pid).group_by(c.status)
                ).all()
            )
            by_source: dict[str, int] = dict(
                conn.execute(
                    select(c.source, func.count()).where(c.project_id == pid).group_by(c.source)
                ).all()
            )
            edited = conn.scalar(select(func.count()).where(c.project_id == pid, c.revision > 0))
            preference = conn.scalar(
                select(func.count()).where(c.project_id == pid, c.preference.is_not(None))
            )
            n_imports = conn.scalar(
                select(func.count()).select_from(s.imports).where(s.imports.c.project_id == pid)
            )
            steps = list(
                conn.scalars(
                    select(s.step_runs.c.step).where(s.step_runs.c.project_id == pid).distinct()
                )
            )
        return {
            "project": project,
            "total": int(sum(by_status.values())),
            "by_status": {k: int(v) for k, v in by_status.items()},
            "by_source": {k: int(v) for k, v in by_source.items()},
            "edited": int(edited or 0),
            "with_preference": int(preference or 0),
            "imports": int(n_imports or 0),
            "steps_run": sorted(steps),
        }

    def revisions(self, project: str, example_id: str) -> list[dict[str, Any]]:
        ex = self.get_example(project, example_id)
        with reading(self.engine) as conn:
            rows = conn.execute(
                select(s.revisions)
                .where(s.revisions.c.example_pk == ex.pk)
                .order_by(s.revisions.c.revision)
            )
            return [dict(r._mapping) for r in rows]

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
        preference: dict[str, Any] | None = _KEEP,
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
        author = _check_author(author)
        _check_storable(messages)
        if preference is not _KEEP and preference:
            for cand in preference.get("candidates") or []:
                _check_storable(cand.get("messages") or [])
        with writing(self.engine) as conn:
            pid = _project_id(conn, project)
            row = conn.execute(
                select(*_LOCKED_COLUMNS)
                .where(s.examples.c.project_id == pid, s.examples.c.example_id == example_id)
                .with_for_update()
            ).first()
            if row is None:
                raise NotFoundError(f"No example {example_id!r} in project {project!r}.")
            if expected_revision is not None and row.revision != expected_revision:
                raise ConflictError(
                    f"Example {example_id} was changed by someone else since you opened it "
                    f"(it is now at revision {row.revision}, you edited revision "
                    f"{expected_revision}). Reload it and edit again."
                )
            new_rev = self._write_revision(
                conn, row, messages, row.tools, author, reason, preference=preference
            )
            self._log(
                conn,
                pid,
                event_kind,
                author,
                f"{reason} ({example_id})",
                {"changes": [{"pk": row.pk, "from": row.revision, "to": new_rev}]},
            )
        return new_rev

    def edit_many(
        self,
        project: str,
        edits: Mapping[str, tuple[list[Message], int] | tuple[list[Message], int, Any]],
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
        author = _check_author(author)
        if not edits:
            return None
        for edit in edits.values():
            _check_storable(edit[0])
            for cand in ((edit[2] or {}).get("candidates") or []) if len(edit) > 2 else []:
                _check_storable(cand.get("messages") or [])
        with writing(self.engine) as conn:
            pid = _project_id(conn, project)
            rows = _lock_examples(conn, pid, list(edits), columns=_LOCKED_COLUMNS)
            missing = set(edits) - {r.example_id for r in rows}
            if missing:
                raise NotFoundError(
                    f"No example(s) {', '.join(sorted(missing)[:5])} in project {project!r}."
                )
            moved = sorted(r.example_id for r in rows if r.revision != edits[r.example_id][1])
            if moved:
                raise ConflictError(
                    f"{len(moved)} example(s) changed since they were read "
                    f"({', '.join(moved[:5])}); nothing was written. Run again on the new text."
                )
            changes = []
            for r in rows:
                edit = edits[r.example_id]
                new_rev = self._write_revision(
                    conn,
                    r,
                    edit[0],
                    r.tools,
                    author,
                    reason,
                    preference=edit[2] if len(edit) > 2 else _KEEP,  # type: ignore[misc]
                )
                changes.append({"pk": r.pk, "from": r.revision, "to": new_rev})
            return self._log(
                conn,
                pid,
                event_kind,
                author,
                f"{reason} ({len(changes)} examples)",
                {"changes": changes, **(extra or {})},
            )

    def _write_revision(
        self,
        conn: Connection,
        row: Any,
        messages: list[Message] | list[dict[str, Any]],
        tools: str | None,
        author: str,
        reason: str,
        *,
        preference: Any = _KEEP,
    ) -> int:
        """Write the next revision of a locked example row; returns its number.

        ``preference`` (an `Example.preference_payload`, None for none) defaults to the row's
        own. A write that completes an example needing an answer makes it active; one that
        takes the only answer away makes it need one again (other statuses are left alone).
        """
        msg_dicts = [m.to_dict() if isinstance(m, Message) else dict(m) for m in messages]
        if preference is _KEEP:
            preference = row.preference
        now = _now()
        if row.revision == 0:
            has_base = conn.scalar(
                select(func.count()).where(
                    s.revisions.c.example_pk == row.pk, s.revisions.c.revision == 0
                )
            )
            if not has_base:
                conn.execute(
                    insert(s.revisions).values(
                        example_pk=row.pk,
                        revision=0,
                        messages=row.messages,
                        tools=row.tools,
                        preference=row.preference,
                        author="import",
                        reason="as imported",
                        created_at=now,
                    )
                )
        # the row is locked and its revision is always the newest one kept in `revisions`
        new_rev = int(row.revision) + 1
        conn.execute(
            insert(s.revisions),
            {
                "example_pk": row.pk,
                "revision": new_rev,
                "messages": msg_dicts,
                "tools": tools,
                "preference": preference,
                "author": author,
                "reason": reason,
                "created_at": now,
            },
        )
        ex = Example(id=row.example_id, messages=[Message.from_dict(m) for m in msg_dicts])
        ex.set_preference(preference)
        values: dict[str, Any] = {
            "messages": msg_dicts,
            "preference": preference,
            "revision": new_rev,
            "content_hash": messages_hash(ex.messages, tools, preference),
            "search_text": _search_text(ex),
            "answer_chars": len(ex.response),
            "updated_at": now,
        }
        if row.status in _COMPLETENESS:
            values["status"] = "needs_answer" if ex.needs_answer else "active"
        written = conn.execute(
            update(s.examples)
            .where(s.examples.c.pk == row.pk, s.examples.c.revision == row.revision)
            .values(**values)
        )
        if written.rowcount != 1:  # compare-and-set: callers hold the row lock, so never seen
            raise ConflictError(
                f"Example {row.example_id} was changed by someone else since it was read; "
                "reload it and try again."
            )
        return new_rev

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
        for change in changes.values():
            if change.status not in STATUSES:
                raise StoreError(
                    f"Unknown status {change.status!r}; use one of {', '.join(STATUSES)}."
                )
        author = _check_author(author)
        now = _now()
        with writing(self.engine) as conn:
            c = s.examples.c
            pid = _project_id(conn, project)
            ids = list(changes)
            columns = [c.pk, c.example_id, c.status, c.status_reason, c.duplicate_of]
            to_active = any(ch.status == "active" for ch in changes.values())
            if to_active:  # an example without an answer is restored as needing one
                columns += [c.messages, c.preference]
            rows = _lock_examples(conn, pid, ids, columns=columns)
            missing = set(ids) - {r.example_id for r in rows}
            if missing:
                raise NotFoundError(
                    f"No example(s) {', '.join(sorted(missing)[:5])} in project {project!r}."
                )
            done = []
            for r in rows:
                change = changes[r.example_id]
                status = change.status
                if status == "active" and _row_needs_answer(r):
                    status = "needs_answer"
                after = {
                    "status": status,
                    "status_reason": change.reason,
                    "duplicate_of": change.duplicate_of,
                }
                before = {
                    "status": r.status,
                    "status_reason": r.status_reason,
                    "duplicate_of": r.duplicate_of,
                }
                if before == after or (only_from is not None and r.status not in only_from):
                    continue
                done.append({"pk": r.pk, "id": r.example_id, "before": before, "after": after})
            _write_statuses(conn, [(d["pk"], d["after"]) for d in done], now)
            return self._log(
                conn,
                pid,
                event_kind,
                author,
                summary.replace("{n}", str(len(done))),
                {"changes": done, **(extra or {})},
            )

    def undo(self, project: str, event_id: int, author: str) -> int:
        """Reverse an event (status change, edit, import); returns the undo event's id.

        The rule: an event can be undone when every later event that touched any of its
        examples has itself been undone (undo events do not count), and the examples are in the
        state the event left them. So undoing newest first always works, and nobody's later
        work is lost: a refusal (`ConflictError`) names how many examples and which later
        events to undo first. The event's and the examples' locks are held from the check to the
        write; of several people pressing Undo on one event, exactly one wins and the others are
        told it was already undone.
        """
        author = _check_author(author)
        with writing(self.engine) as conn:
            pid = _project_id(conn, project)
            e = s.events.c
            ev = conn.execute(
                select(s.events).where(e.project_id == pid, e.id == event_id).with_for_update()
            ).first()
            if ev is None:
                raise NotFoundError(f"No event {event_id} in project {project!r}.")
            if ev.undone_by is not None:
                raise StoreError(_already_undone(conn, ev))
            if ev.kind in NOT_UNDOABLE:
                raise StoreError(f"Events of kind {ev.kind!r} cannot be undone.")
            payload = ev.payload or {}
            shape = _event_shape(ev)
            if shape == "import":
                _project_id(conn, project, lock=True)  # no import into the project meanwhile
                rows = _lock_rows(conn, s.examples.c.import_id == payload["import_id"])
            else:
                pks = [ch["pk"] for ch in payload.get("changes", [])]
                rows = _lock_rows(conn, s.examples.c.project_id == pid, pks=pks)
            # later writers lock these rows before logging their event, so with the rows
            # locked every later event that touched them is committed and visible here
            blockers = _later_events_touching(conn, pid, event_id, {r.pk for r in rows})
            if blockers:
                raise ConflictError(_blocked_message(ev, blockers, rows))
            if shape == "import":
                _undo_import(conn, ev, rows)
                rebuild_index(conn, pid)
            elif shape == "status":
                _undo_status(conn, ev, rows)
            elif shape == "pii_review":
                from curation.store.pii_findings import undo_review

                undo_review(conn, ev)
            elif shape == "settings":
                _undo_setting(conn, pid, ev)
            elif shape == "labels":
                from curation.store.labels import undo_labels

                undo_labels(conn, ev)
            else:
                self._undo_revisions(conn, ev, rows, author)
            undo_id = self._log(
                conn,
                pid,
                "undo",
                author,
                f"undid event {event_id}: {ev.summary}",
                {"event": event_id},
            )
            marked = conn.execute(
                update(s.events)
                .where(e.id == event_id, e.undone_by.is_(None))
                .values(undone_by=undo_id)
            )
            if marked.rowcount != 1:  # compare-and-set on undone_by; the lock makes it moot
                raise StoreError(
                    f"Event #{event_id} was already undone by someone else at the same moment."
                )
        return undo_id

    def _undo_revisions(self, conn: Connection, ev: Any, rows: list[Any], author: str) -> None:
        """Undo an edit: check each example still holds the edit's text, then restore the old."""
        changes = ev.payload["changes"]
        by_pk = {r.pk: r for r in rows}
        wanted = {(ch["pk"], ch["to"]) for ch in changes} | {
            (ch["pk"], ch["from"]) for ch in changes
        }
        text = _revision_texts(conn, wanted)
        changed = [
            by_pk[ch["pk"]].example_id if ch["pk"] in by_pk else f"pk {ch['pk']}"
            for ch in changes
            if ch["pk"] not in by_pk
            or text.get((ch["pk"], ch["to"])) != _text_of(by_pk[ch["pk"]])
            or (ch["pk"], ch["from"]) not in text
        ]
        if changed:
            raise ConflictError(_changed_outside_the_log(ev, changed))
        for ch in changes:
            messages, tools, preference = text[(ch["pk"], ch["from"])]
            self._write_revision(
                conn,
                by_pk[ch["pk"]],
                messages,
                tools,
                author,
                f"undo of event {ev.id}",
                preference=preference,
            )

    def undo_preview(self, project: str, event_id: int) -> UndoPreview:
        """Describe what `undo` of this event would change, without changing anything.

        Raises
        ------
        NotFoundError
            When the project has no such event.
        StoreError
            When the event was undone already or is of a kind that cannot be undone.
        """
        pid = self.project_id(project)
        with reading(self.engine) as conn:
            ev = conn.execute(
                select(s.events).where(s.events.c.project_id == pid, s.events.c.id == event_id)
            ).first()
            if ev is None:
                raise NotFoundError(f"No event {event_id} in project {project!r}.")
            if ev.undone_by is not None:
                raise StoreError(_already_undone(conn, ev))
            if ev.kind in NOT_UNDOABLE:
                raise StoreError(f"Events of kind {ev.kind!r} cannot be undone.")
            payload = ev.payload or {}
            changes = payload.get("changes") or []
            # the same refusal `undo` gives, so nobody confirms an undo that cannot happen
            c = s.examples.c
            where = (
                c.import_id == payload.get("import_id")
                if _event_shape(ev) == "import"
                else c.pk.in_([ch["pk"] for ch in changes])
            )
            rows = list(conn.execute(select(c.pk, c.example_id).where(c.project_id == pid, where)))
            blockers = _later_events_touching(conn, pid, event_id, {r.pk for r in rows})
            if blockers:
                raise ConflictError(_blocked_message(ev, blockers, rows))
            if ev.kind == "import":
                import_id = payload.get("import_id")
                n = int(
                    conn.scalar(
                        select(func.count()).where(
                            s.examples.c.project_id == pid, s.examples.c.import_id == import_id
                        )
                    )
                    or 0
                )
                row = conn.execute(select(s.imports).where(s.imports.c.id == import_id)).first()
                source = f" from {row.file_name}" if row is not None else ""
                when = ev.created_at.strftime("%Y-%m-%d %H:%M")
                effect = (
                    f"removes the {n:,} example{'s' * (n != 1)} imported{source} by {ev.author} "
                    f"on {when}, and the import itself (the file can be imported again)"
                )
            elif changes and "before" in changes[0]:
                n = len(changes)
                moves = Counter((ch["after"]["status"], ch["before"]["status"]) for ch in changes)
                effect = "puts " + ", ".join(
                    f"{k:,} example{'s' * (k != 1)} back from {after!r} to {before!r}"
                    for (after, before), k in sorted(moves.items(), key=lambda m: -m[1])
                )
            elif changes:
                n = len(changes)
                effect = f"restores the previous text of {n:,} example{'s' * (n != 1)}"
            elif ev.kind == "pii_review":
                n = 0
                k = len(payload.get("findings") or [])
                effect = (
                    f"puts {k:,} PII finding{'s' * (k != 1)} back to their earlier review state"
                )
            else:
                n = 0
                effect = f"reverses event {event_id} ({ev.kind})"
        return UndoPreview(
            event_id=event_id,
            kind=ev.kind,
            n_examples=n,
            effect=effect,
            needs_confirmation=ev.kind == "import" or n > CONFIRM_UNDO_ABOVE,
        )

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
        # parameters passed beside a bare insert(): no per-call .values() construction
        row = {
            "project_id": pid,
            "kind": kind,
            "author": author,
            "created_at": _now(),
            "summary": summary,
            "payload": payload,
        }
        return int(conn.execute(insert(s.events), row).inserted_primary_key[0])  # type: ignore[index]

    def events(
        self, project: str, *, limit: int = 100, kinds: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """The newest audit events first."""
        pid = self.project_id(project)
        query = select(s.events).where(s.events.c.project_id == pid)
        if kinds:
            query = query.where(s.events.c.kind.in_(list(kinds)))
        with reading(self.engine) as conn:
            rows = conn.execute(query.order_by(s.events.c.id.desc()).limit(limit))
            return [dict(r._mapping) for r in rows]

    def log_event(
        self, project: str, kind: str, author: str, summary: str, payload: dict[str, Any]
    ) -> int:
        """Record something that changed no example (an export, say) in the audit log."""
        author = _check_author(author)
        with writing(self.engine) as conn:
            return self._log(conn, _project_id(conn, project), kind, author, summary, payload)

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
        author = _check_author(author)
        with writing(self.engine) as conn:
            pid = _project_id(conn, project)
            run_id = self._insert_run(conn, pid, step, params, result, stats, author)
            self._log(
                conn, pid, "step_run", author, f"ran {step}", {"run_id": run_id, "params": params}
            )
        return run_id

    def _insert_run(
        self,
        conn: Connection,
        pid: int,
        step: str,
        params: dict[str, Any],
        result: dict[str, Any],
        stats: dict[str, Any],
        author: str,
    ) -> int:
        run_id = conn.execute(
            insert(s.step_runs).values(
                project_id=pid,
                step=step,
                params=params,
                result=result,
                stats=stats,
                author=author,
                created_at=_now(),
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        return int(run_id)

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
        author = _check_author(author)
        with writing(self.engine) as conn:
            pid = _project_id(conn, project)
            run_id = self._insert_run(conn, pid, step, params, result or {}, stats, author)
            n = insert_results(conn, pid, run_id, step, results)
            self._log(
                conn,
                pid,
                "step_run",
                author,
                f"ran {step}: {_plural(n, 'result')}",
                {"run_id": run_id, "params": params, "n_results": n},
            )
        return run_id

    def _run_or_latest(
        self, conn: Connection, pid: int, step: str, run_id: int | None
    ) -> int | None:
        t = s.step_runs.c
        query = select(t.id).where(t.project_id == pid, t.step == step)
        if run_id is not None:
            return conn.scalar(query.where(t.id == run_id))
        return conn.scalar(query.order_by(t.id.desc()).limit(1))

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
        pid = self.project_id(project)
        with reading(self.engine) as conn:
            found = self._run_or_latest(conn, pid, step, run_id)
            if found is None:
                return []
            return read_results(conn, found, code=code, statuses=statuses, limit=limit)

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
        pid = self.project_id(project)
        with reading(self.engine) as conn:
            found = self._run_or_latest(conn, pid, step, run_id)
            return {} if found is None else count_by_code(conn, found, statuses=statuses)

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
        pid = self.project_id(project)
        with reading(self.engine) as conn:
            found = self._run_or_latest(conn, pid, step, run_id)
            return 0 if found is None else count_examples(conn, found, code=code, statuses=statuses)

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
        pid = self.project_id(project)
        with reading(self.engine) as conn:
            found = self._run_or_latest(conn, pid, step, run_id)
            return [] if found is None else ids_with_code(conn, found, code, statuses=statuses)

    def step_run(self, project: str, run_id: int) -> dict[str, Any] | None:
        pid = self.project_id(project)
        with reading(self.engine) as conn:
            row = conn.execute(
                select(s.step_runs).where(
                    s.step_runs.c.project_id == pid, s.step_runs.c.id == run_id
                )
            ).first()
        return dict(row._mapping) if row else None

    def step_runs(self, project: str, step: str, *, limit: int = 200) -> list[dict[str, Any]]:
        """Saved runs of a step, newest first, without their (possibly large) results."""
        pid = self.project_id(project)
        t = s.step_runs.c
        with reading(self.engine) as conn:
            rows = conn.execute(
                select(t.id, t.step, t.params, t.stats, t.author, t.created_at)
                .where(t.project_id == pid, t.step == step)
                .order_by(t.id.desc())
                .limit(limit)
            )
            return [dict(r._mapping) for r in rows]

    def latest_step_run(self, project: str, step: str) -> dict[str, Any] | None:
        pid = self.project_id(project)
        with reading(self.engine) as conn:
            row = conn.execute(
                select(s.step_runs)
                .where(s.step_runs.c.project_id == pid, s.step_runs.c.step == step)
                .order_by(s.step_runs.c.id.desc())
                .limit(1)
            ).first()
        return dict(row._mapping) if row else None


def _json_atom_is(json_type: Any, atom: Any, value: str | bool | int | float) -> Any:
    """SQLite `json_each` columns (type, atom) equal to a typed value."""
    if isinstance(value, bool):
        return json_type == ("true" if value else "false")
    if isinstance(value, int | float):
        return and_(json_type.in_(("integer", "real")), atom == value)
    return and_(json_type == "text", atom == value)


# ---- reads and locks inside a transaction --------------------------------------------------


def _project_id(conn: Connection, name: str, *, lock: bool = False) -> int:
    """The project's id; with `lock`, its row stays locked until the transaction ends."""
    query = select(s.projects.c.id).where(s.projects.c.name == name)
    # FOR NO KEY UPDATE: serialises writers that lock the project (imports, undo of an import)
    # without blocking the KEY SHARE locks that other writers' event rows take on it
    pid = conn.scalar(query.with_for_update(key_share=True) if lock else query)
    if pid is None:
        names = list(conn.scalars(select(s.projects.c.name).order_by(s.projects.c.name)))
        raise NotFoundError(
            f"No project named {name!r}. Known projects: {', '.join(names) or 'none yet'}."
        )
    return int(pid)


def _earlier_import(conn: Connection, pid: int, sha256: str) -> dict[str, Any] | None:
    row = conn.execute(
        select(s.imports)
        .where(s.imports.c.project_id == pid, s.imports.c.sha256 == sha256)
        .order_by(s.imports.c.id)
        .limit(1)
    ).first()
    return dict(row._mapping) if row else None


def _insert_unless_exists(conn: Connection, table: Table, column: str) -> Any:
    """INSERT that does nothing when `column`'s unique value exists (one atomic statement)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=[column])


_LOCKED_COLUMNS = (
    s.examples.c.pk,
    s.examples.c.example_id,
    s.examples.c.status,
    s.examples.c.status_reason,
    s.examples.c.duplicate_of,
    s.examples.c.revision,
    s.examples.c.messages,
    s.examples.c.tools,
    s.examples.c.preference,
)


def _lock_rows(
    conn: Connection, where: Any, *, pks: Sequence[int] | None = None, columns: Any = None
) -> list[Any]:
    """Rows of examples matching `where` (and `pks`), locked FOR UPDATE in primary-key order.

    Every writer locks examples in ascending pk order, so two writers never wait on each other
    in a cycle (no deadlock) even across batches. SQLite ignores FOR UPDATE: its write lock,
    taken at BEGIN IMMEDIATE, already covers the whole database.
    """
    c = s.examples.c
    query = select(*(columns or _LOCKED_COLUMNS)).where(where).order_by(c.pk).with_for_update()
    if pks is None:
        return list(conn.execute(query).all())
    ordered = sorted(set(pks))
    rows: list[Any] = []
    for start in range(0, len(ordered), _BATCH):
        rows += conn.execute(query.where(c.pk.in_(ordered[start : start + _BATCH]))).all()
    return rows


def _lock_examples(
    conn: Connection, pid: int, example_ids: Sequence[str], *, columns: Any = None
) -> list[Any]:
    """The project's examples named by id, locked in primary-key order (see `_lock_rows`)."""
    c = s.examples.c
    ids = list(dict.fromkeys(example_ids))
    if len(ids) <= _BATCH:  # one statement finds and locks them, ordered by pk
        return _lock_rows(conn, (c.project_id == pid) & c.example_id.in_(ids), columns=columns)
    pks: list[int] = []
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        pks += conn.scalars(select(c.pk).where(c.project_id == pid, c.example_id.in_(batch)))
    return _lock_rows(conn, c.project_id == pid, pks=pks, columns=columns)


def _write_statuses(
    conn: Connection, states: Sequence[tuple[int, dict[str, Any]]], now: datetime
) -> None:
    """Set status, reason and kept example per pk: one executemany, not one call per example."""
    if not states:
        return
    conn.execute(
        update(s.examples)
        .where(s.examples.c.pk == bindparam("b_pk"))
        .values(
            status=bindparam("b_status"),
            status_reason=bindparam("b_reason"),
            duplicate_of=bindparam("b_dup"),
            updated_at=now,
        ),
        [
            {
                "b_pk": pk,
                "b_status": state["status"],
                "b_reason": state["status_reason"],
                "b_dup": state["duplicate_of"],
            }
            for pk, state in states
        ],
    )


def _check_storable(messages: Sequence[Message | dict[str, Any]]) -> None:
    """Refuse text that the databases cannot store alike (NUL, unpaired surrogates)."""
    for i, m in enumerate(messages):
        role, content = (m.role, m.content) if isinstance(m, Message) else (m["role"], m["content"])
        where = f"The {role} turn {i + 1}"
        if "\x00" in content:
            raise StoreError(
                f"{where} contains a NUL character (U+0000), which cannot be stored; remove it."
            )
        try:
            content.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise StoreError(
                f"{where} contains an unpaired surrogate at character {exc.start + 1}, which is "
                "not valid text; remove it."
            ) from None


# ---- undo --------------------------------------------------------------------------------------


def _undo_setting(conn: Connection, pid: int, ev: Any) -> None:
    """Put a setting back to its value before the event, if nobody changed it since."""
    key, before, after = ev.payload["key"], ev.payload.get("before"), ev.payload.get("after")
    row = conn.execute(
        select(s.projects.c.settings)
        .where(s.projects.c.id == pid)
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE, as `_project_id(lock=True)`
    ).first()
    current = dict((row.settings if row else None) or {})
    if current.get(key) != after:
        raise ConflictError(
            f"Event #{ev.id}: the {key} settings were changed again since; undo that change first."
        )
    if before is None:
        current.pop(key, None)
    else:
        current[key] = before
    conn.execute(update(s.projects).where(s.projects.c.id == pid).values(settings=current))


def _event_shape(ev: Any) -> str:
    """How an event changed examples: "import", "status" (before/after) or "revision"."""
    if ev.kind == "import":
        return "import"
    if ev.kind in ("pii_review", "settings", "labels"):
        return str(ev.kind)
    changes = (ev.payload or {}).get("changes")
    if not isinstance(changes, list):
        raise StoreError(f"Event #{ev.id} ({ev.kind}) records no change to examples to undo.")
    if not changes or "before" in changes[0]:
        return "status"
    if "from" in changes[0]:
        return "revision"
    raise StoreError(f"Event #{ev.id} ({ev.kind}) records changes this app cannot undo.")


def _touched_pks(payload: Any) -> set[int]:
    """Primary keys of the examples an event changed (events list them in ``changes``)."""
    changes = payload.get("changes") if isinstance(payload, dict) else None
    if not isinstance(changes, list):
        return set()
    return {int(ch["pk"]) for ch in changes if isinstance(ch, dict) and "pk" in ch}


def _later_events_touching(
    conn: Connection, pid: int, event_id: int, pks: set[int]
) -> list[tuple[Any, set[int]]]:
    """Later events, not undone and not themselves undos, that changed any of `pks`."""
    if not pks:
        return []
    e = s.events.c
    later = conn.execute(
        select(e.id, e.kind, e.author, e.payload)
        .where(
            e.project_id == pid,
            e.id > event_id,
            e.undone_by.is_(None),
            e.kind.not_in(NOT_UNDOABLE),
        )
        .order_by(e.id)
    )
    found = []
    for row in later:
        hit = _touched_pks(row.payload) & pks
        if hit:
            found.append((row, hit))
    return found


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _some(names: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _blocked_message(ev: Any, blockers: list[tuple[Any, set[int]]], rows: list[Any]) -> str:
    ids = {r.pk: r.example_id for r in rows}
    affected = sorted({ids[pk] for _, hit in blockers for pk in hit})
    events = _some([f"#{b.id} ({b.kind} by {b.author})" for b, _ in blockers], limit=8)
    which = (
        f"import event #{ev.id}: {len(affected)} of its {len(rows)} examples"
        if ev.kind == "import"
        else f"event #{ev.id}: {_plural(len(affected), 'example')}"
    )
    first = "Undo it first" if len(blockers) == 1 else "Undo those first, newest first"
    return (
        f"Cannot undo {which} ({_some(affected)}) changed since, by "
        f"{_plural(len(blockers), 'later event')} not undone: {events}. {first}."
    )


def _changed_outside_the_log(ev: Any, changed: Sequence[str]) -> str:
    return (
        f"Cannot undo event #{ev.id}: {_plural(len(changed), 'example')} ({_some(changed)}) "
        "changed by someone else since, in a way no later event records; nothing was undone. "
        "Reload the page to see their current state."
    )


def _already_undone(conn: Connection, ev: Any) -> str:
    e = s.events.c
    undo = conn.execute(select(e.author, e.created_at).where(e.id == ev.undone_by)).first()
    by = f" ({undo.author}, {undo.created_at:%Y-%m-%d %H:%M})" if undo else ""
    return f"Event #{ev.id} was already undone by event #{ev.undone_by}{by}; nothing to do."


def _status_of(row: Any) -> dict[str, Any]:
    return {
        "status": row.status,
        "status_reason": row.status_reason,
        "duplicate_of": row.duplicate_of,
    }


def _text_of(row: Any) -> tuple[Any, Any, Any]:
    return row.messages, row.tools, row.preference


def _revision_texts(conn: Connection, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], Any]:
    """(messages, tools, preference) of the given (example pk, revision) pairs that exist."""
    r = s.revisions.c
    out: dict[tuple[int, int], Any] = {}
    pks = sorted({pk for pk, _ in wanted})
    for start in range(0, len(pks), _BATCH):
        rows = conn.execute(
            select(r.example_pk, r.revision, r.messages, r.tools, r.preference).where(
                r.example_pk.in_(pks[start : start + _BATCH])
            )
        )
        for row in rows:
            if (row.example_pk, row.revision) in wanted:
                out[(row.example_pk, row.revision)] = (row.messages, row.tools, row.preference)
    return out


_IMPORTED = {"status": "active", "status_reason": None, "duplicate_of": None}


def _undo_import(conn: Connection, ev: Any, rows: list[Any]) -> None:
    """Delete the import's examples once each is as imported (active, its imported text)."""
    edited = {r.pk for r in rows if r.revision > 0}
    base = _revision_texts(conn, {(pk, 0) for pk in edited})
    changed = [
        r.example_id
        for r in rows
        if _status_of(r) != _IMPORTED or (r.pk in edited and base.get((r.pk, 0)) != _text_of(r))
    ]
    if changed:
        raise ConflictError(_changed_outside_the_log(ev, changed))
    import_id = ev.payload["import_id"]
    conn.execute(s.examples.delete().where(s.examples.c.import_id == import_id))
    conn.execute(s.imports.delete().where(s.imports.c.id == import_id))


def _undo_status(conn: Connection, ev: Any, rows: list[Any]) -> None:
    """Restore each example's before-state once each is still in the event's after-state."""
    by_pk = {r.pk: r for r in rows}
    changes = ev.payload["changes"]
    changed = [
        str(ch.get("id", ch["pk"]))
        for ch in changes
        if (row := by_pk.get(ch["pk"])) is None
        or row.example_id != ch.get("id", row.example_id)
        or _status_of(row) != ch["after"]
    ]
    if changed:
        raise ConflictError(_changed_outside_the_log(ev, changed))
    _write_statuses(conn, [(ch["pk"], ch["before"]) for ch in changes], _now())


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


def _row_needs_answer(row: Any) -> bool:
    ex = Example(id=row.example_id, messages=[Message.from_dict(m) for m in row.messages])
    ex.set_preference(row.preference)
    return ex.needs_answer


def _search_text(ex: Example) -> str:
    return ex.text("all").casefold()


def _example_row(pid: int, ex: Example, position: int, now: datetime) -> dict[str, Any]:
    preference = ex.preference_payload()
    return {
        "project_id": pid,
        "example_id": ex.id,
        "position": position,
        "source": ex.source,
        "raw": ex.raw,
        "messages": [m.to_dict() for m in ex.messages],
        "tools": ex.tools,
        "preference": preference,
        "meta": ex.metadata,
        "status": "needs_answer" if ex.needs_answer else "active",
        "status_reason": None,
        "duplicate_of": None,
        "revision": 0,
        "content_hash": messages_hash(ex.messages, ex.tools, preference),
        "search_text": _search_text(ex),
        "answer_chars": len(ex.response),
        "updated_at": now,
        "import_id": None,
    }


def _stored(row: Any) -> StoredExample:
    ex = Example(
        id=row.example_id,
        messages=[Message.from_dict(m) for m in row.messages],
        metadata=dict(row.meta or {}),
        source=row.source,
        tools=row.tools,
        raw=dict(row.raw or {}),
    )
    ex.set_preference(row.preference)
    return StoredExample(
        example=ex,
        pk=row.pk,
        status=row.status,
        status_reason=row.status_reason,
        duplicate_of=row.duplicate_of,
        revision=row.revision,
        import_id=row.import_id,
        position=row.position,
        updated_at=row.updated_at,
    )


__all__ = [
    "STATUSES",
    "ExampleFilter",
    "ImportSummary",
    "MetadataField",
    "Store",
    "StatusChange",
    "StoredExample",
    "default_db_url",
]
