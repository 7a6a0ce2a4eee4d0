"""SQLAlchemy-backed store for projects and their examples, with revisions and an undoable log.

Every write is one short transaction attributed to an author; nothing is ever deleted by an edit.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import make_url

from curation.errors import NotFoundError, StoreError
from curation.formats.jsontext import has_long_digit_run
from curation.records import Example, Message, example_text, messages_hash
from curation.store import schema as s

STATUSES = ("active", "duplicate", "rejected", "filtered", "removed")
NOT_UNDOABLE = ("undo", "create_project", "step_run", "export")  # events that changed no example
_BATCH = 2000


def default_db_url() -> str:
    """`CURATION_DB_URL`, else a SQLite file under `CURATION_HOME` (default `./.curation`)."""
    url = os.environ.get("CURATION_DB_URL")
    if url:
        return url
    home = Path(os.environ.get("CURATION_HOME", ".curation"))
    return f"sqlite:///{(home / 'curation.db').resolve()}"


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


@dataclass(frozen=True, slots=True)
class StatusChange:
    """The status an example should get, why, and (for duplicates) which example was kept."""

    status: str
    reason: str
    duplicate_of: str | None = None


@dataclass(slots=True)
class ExampleFilter:
    """Which examples a listing shows. Empty fields do not filter."""

    statuses: Sequence[str] | None = None
    sources: Sequence[str] | None = None
    search: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    example_ids: Sequence[str] | None = None


class Store:
    """One database holding many projects.

    Parameters
    ----------
    url:
        SQLAlchemy URL; default `default_db_url()`. SQLite files get WAL mode, a busy timeout
        and foreign keys on every connection.
    """

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = url or default_db_url()
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(
            self.url,
            pool_pre_ping=True,
            json_serializer=_json_dumps,
            json_deserializer=_json_loads,
        )
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        if migrate:
            self.migrate()

    # ---- schema -------------------------------------------------------------------------

    def migrate(self) -> int:
        """Bring the database to the app's schema version; return the version it was at."""
        with self.engine.begin() as conn:
            version = s.current_version(conn)
            if version > s.SCHEMA_VERSION:
                raise StoreError(
                    f"The database at {self.url} has schema version {version}, newer than this "
                    f"app's {s.SCHEMA_VERSION}. Upgrade the app to open it."
                )
            for number in range(version + 1, s.SCHEMA_VERSION + 1):
                s.MIGRATIONS[number - 1](conn)
            if version < s.SCHEMA_VERSION:
                conn.execute(s.schema_version.delete())
                conn.execute(s.schema_version.insert().values(version=s.SCHEMA_VERSION))
        return version

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return s.current_version(conn)

    def dispose(self) -> None:
        self.engine.dispose()

    # ---- projects -----------------------------------------------------------------------

    def list_projects(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.scalars(select(s.projects.c.name).order_by(s.projects.c.name)))

    def create_project(self, name: str, author: str) -> int:
        name = (name or "").strip()
        if not name:
            raise StoreError("A project needs a name.")
        author = _check_author(author)
        with self.engine.begin() as conn:
            if conn.scalar(select(s.projects.c.id).where(s.projects.c.name == name)) is not None:
                raise StoreError(f"A project named {name!r} already exists.")
            pid = conn.execute(
                insert(s.projects).values(
                    name=name, created_at=_now(), created_by=author, settings={}
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            self._log(conn, pid, "create_project", author, f"created project {name}", {})
        return int(pid)

    def ensure_project(self, name: str, author: str) -> int:
        """The project's id, creating it when missing."""
        try:
            return self.project_id(name)
        except NotFoundError:
            return self.create_project(name, author)

    def project_id(self, name: str) -> int:
        with self.engine.connect() as conn:
            pid = conn.scalar(select(s.projects.c.id).where(s.projects.c.name == name))
        if pid is None:
            known = ", ".join(self.list_projects()) or "none yet"
            raise NotFoundError(f"No project named {name!r}. Known projects: {known}.")
        return int(pid)

    # ---- import -------------------------------------------------------------------------

    def find_import(self, project: str, sha256: str) -> dict[str, Any] | None:
        """The earlier import of the same bytes into this project, if any."""
        pid = self.project_id(project)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(s.imports)
                .where(s.imports.c.project_id == pid, s.imports.c.sha256 == sha256)
                .order_by(s.imports.c.id)
            ).first()
        return dict(row._mapping) if row else None

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
        nothing behind.
        """
        author = _check_author(author)
        pid = self.project_id(project)
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
        earlier = self.find_import(project, result.sha256)
        if earlier is not None and not allow_reimport:
            summary.already_imported = True
            summary.skipped = result.total_records
            summary.skipped_reasons = {"file already imported": result.total_records}
            return summary
        now = _now()
        with self.engine.begin() as conn:
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
            seen: set[str] = set()
            already = 0
            for ex in result.examples:
                if ex.id in existing or ex.id in seen:
                    already += 1
                    continue
                seen.add(ex.id)
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

    def list_imports(self, project: str) -> list[dict[str, Any]]:
        pid = self.project_id(project)
        with self.engine.connect() as conn:
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
            clauses.append(c.meta[key].as_string() == str(value))
        return clauses

    def count_examples(self, project: str, flt: ExampleFilter | None = None) -> int:
        pid = self.project_id(project)
        with self.engine.connect() as conn:
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
        with self.engine.connect() as conn:
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
        with self.engine.connect() as conn:
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
        with self.engine.connect() as conn:
            return list(
                conn.scalars(
                    select(s.examples.c.source)
                    .where(s.examples.c.project_id == pid)
                    .distinct()
                    .order_by(s.examples.c.source)
                )
            )

    def metadata_keys(self, project: str, sample: int = 500) -> dict[str, list[str]]:
        """Metadata keys seen in the first `sample` examples, each with up to 50 values."""
        values: dict[str, set[str]] = {}
        for ex in self.list_examples(project, limit=sample):
            for key, value in ex.example.metadata.items():
                if isinstance(value, str | int | float | bool):
                    values.setdefault(key, set()).add(str(value))
        return {k: sorted(v)[:50] for k, v in sorted(values.items()) if len(v) <= 50}

    def stats(self, project: str) -> dict[str, Any]:
        """Counts per status and source, imports, revisions and the step runs done."""
        pid = self.project_id(project)
        c = s.examples.c
        with self.engine.connect() as conn:
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
            "imports": int(n_imports or 0),
            "steps_run": sorted(steps),
        }

    def revisions(self, project: str, example_id: str) -> list[dict[str, Any]]:
        ex = self.get_example(project, example_id)
        with self.engine.connect() as conn:
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
    ) -> int:
        """Replace an example's messages with a new revision; returns the new revision number.

        The revision before the first edit is kept as revision 0, so every edit can be undone.
        `expected_revision` guards against overwriting someone else's edit.
        """
        author = _check_author(author)
        pid = self.project_id(project)
        with self.engine.begin() as conn:
            row = conn.execute(
                select(s.examples).where(
                    s.examples.c.project_id == pid, s.examples.c.example_id == example_id
                )
            ).first()
            if row is None:
                raise NotFoundError(f"No example {example_id!r} in project {project!r}.")
            if expected_revision is not None and row.revision != expected_revision:
                raise StoreError(
                    f"Example {example_id} was changed by someone else (revision {row.revision}, "
                    f"you edited revision {expected_revision}). Reload it and edit again."
                )
            new_rev = self._write_revision(conn, row, messages, row.tools, author, reason)
            self._log(
                conn,
                pid,
                event_kind,
                author,
                f"{reason} ({example_id})",
                {"changes": [{"pk": row.pk, "from": row.revision, "to": new_rev}]},
            )
        return new_rev

    def _write_revision(
        self,
        conn: Connection,
        row: Any,
        messages: list[Message] | list[dict[str, Any]],
        tools: str | None,
        author: str,
        reason: str,
    ) -> int:
        msg_dicts = [m.to_dict() if isinstance(m, Message) else dict(m) for m in messages]
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
                        author="import",
                        reason="as imported",
                        created_at=now,
                    )
                )
        new_rev = (
            int(
                conn.scalar(
                    select(func.coalesce(func.max(s.revisions.c.revision), 0)).where(
                        s.revisions.c.example_pk == row.pk
                    )
                )
                or 0
            )
            + 1
        )
        conn.execute(
            insert(s.revisions).values(
                example_pk=row.pk,
                revision=new_rev,
                messages=msg_dicts,
                tools=tools,
                author=author,
                reason=reason,
                created_at=now,
            )
        )
        objs = [Message.from_dict(m) for m in msg_dicts]
        conn.execute(
            update(s.examples)
            .where(s.examples.c.pk == row.pk)
            .values(
                messages=msg_dicts,
                revision=new_rev,
                content_hash=messages_hash(objs, tools),
                search_text=_search_text(objs),
                answer_chars=len(example_text(objs, "assistant")),
                updated_at=now,
            )
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
    ) -> int:
        """Apply per-example status changes as ONE audit event, so one undo reverses them all.

        `summary` may contain ``{n}``, replaced by the number of examples that changed.
        """
        for change in changes.values():
            if change.status not in STATUSES:
                raise StoreError(
                    f"Unknown status {change.status!r}; use one of {', '.join(STATUSES)}."
                )
        author = _check_author(author)
        pid = self.project_id(project)
        now = _now()
        with self.engine.begin() as conn:
            c = s.examples.c
            rows: list[Any] = []
            ids = list(changes)
            for start in range(0, len(ids), _BATCH):
                rows += conn.execute(
                    select(c.pk, c.example_id, c.status, c.status_reason, c.duplicate_of).where(
                        c.project_id == pid, c.example_id.in_(ids[start : start + _BATCH])
                    )
                ).all()
            missing = set(ids) - {r.example_id for r in rows}
            if missing:
                raise NotFoundError(
                    f"No example(s) {', '.join(sorted(missing)[:5])} in project {project!r}."
                )
            done = []
            for r in rows:
                change = changes[r.example_id]
                after = {
                    "status": change.status,
                    "status_reason": change.reason,
                    "duplicate_of": change.duplicate_of,
                }
                before = {
                    "status": r.status,
                    "status_reason": r.status_reason,
                    "duplicate_of": r.duplicate_of,
                }
                if before == after:
                    continue
                done.append({"pk": r.pk, "id": r.example_id, "before": before, "after": after})
            if done:  # one executemany, not a statement per example
                conn.execute(
                    update(s.examples)
                    .where(c.pk == bindparam("b_pk"))
                    .values(
                        status=bindparam("b_status"),
                        status_reason=bindparam("b_reason"),
                        duplicate_of=bindparam("b_dup"),
                        updated_at=now,
                    ),
                    [
                        {
                            "b_pk": d["pk"],
                            "b_status": d["after"]["status"],
                            "b_reason": d["after"]["status_reason"],
                            "b_dup": d["after"]["duplicate_of"],
                        }
                        for d in done
                    ],
                )
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

        Refuses when the examples changed since, naming them, so nobody's later work is lost.
        """
        author = _check_author(author)
        pid = self.project_id(project)
        with self.engine.begin() as conn:
            ev = conn.execute(
                select(s.events).where(s.events.c.project_id == pid, s.events.c.id == event_id)
            ).first()
            if ev is None:
                raise NotFoundError(f"No event {event_id} in project {project!r}.")
            if ev.undone_by is not None:
                raise StoreError(f"Event {event_id} was already undone by event {ev.undone_by}.")
            if ev.kind in NOT_UNDOABLE:
                raise StoreError(f"Events of kind {ev.kind!r} cannot be undone.")
            c = s.examples.c
            payload = ev.payload or {}
            if ev.kind == "import":
                import_id = payload["import_id"]
                edited = conn.scalar(
                    select(func.count()).where(c.import_id == import_id, c.revision > 0)
                )
                if edited:
                    raise StoreError(
                        f"{edited} example(s) of this import were edited since; undo those "
                        "edits first."
                    )
                conn.execute(s.examples.delete().where(c.import_id == import_id))
                conn.execute(s.imports.delete().where(s.imports.c.id == import_id))
            elif "changes" in payload and payload["changes"] and "before" in payload["changes"][0]:
                conflicts = []
                for ch in payload["changes"]:
                    row = conn.execute(
                        select(c.example_id, c.status, c.status_reason, c.duplicate_of).where(
                            c.pk == ch["pk"]
                        )
                    ).first()
                    now_state = (
                        {
                            "status": row.status,
                            "status_reason": row.status_reason,
                            "duplicate_of": row.duplicate_of,
                        }
                        if row
                        else None
                    )
                    if now_state != ch["after"]:
                        conflicts.append(ch["id"])
                if conflicts:
                    raise StoreError(
                        f"Cannot undo event {event_id}: example(s) {', '.join(conflicts[:5])} "
                        "changed since. Undo the later events first."
                    )
                for ch in payload["changes"]:
                    conn.execute(
                        update(s.examples)
                        .where(c.pk == ch["pk"])
                        .values(**ch["before"], updated_at=_now())
                    )
            elif "changes" in payload:
                for ch in payload["changes"]:
                    row = conn.execute(select(s.examples).where(c.pk == ch["pk"])).first()
                    if row is None or row.revision != ch["to"]:
                        raise StoreError(
                            f"Cannot undo event {event_id}: the example was edited again since."
                        )
                    old = conn.execute(
                        select(s.revisions).where(
                            s.revisions.c.example_pk == ch["pk"],
                            s.revisions.c.revision == ch["from"],
                        )
                    ).one()
                    self._write_revision(
                        conn, row, old.messages, old.tools, author, f"undo of event {event_id}"
                    )
            undo_id = self._log(
                conn,
                pid,
                "undo",
                author,
                f"undid event {event_id}: {ev.summary}",
                {"event": event_id},
            )
            conn.execute(
                update(s.events).where(s.events.c.id == event_id).values(undone_by=undo_id)
            )
        return undo_id

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
        return int(
            conn.execute(
                insert(s.events).values(
                    project_id=pid,
                    kind=kind,
                    author=author,
                    created_at=_now(),
                    summary=summary,
                    payload=payload,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        )

    def events(
        self, project: str, *, limit: int = 100, kinds: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """The newest audit events first."""
        pid = self.project_id(project)
        query = select(s.events).where(s.events.c.project_id == pid)
        if kinds:
            query = query.where(s.events.c.kind.in_(list(kinds)))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(s.events.c.id.desc()).limit(limit))
            return [dict(r._mapping) for r in rows]

    def log_event(
        self, project: str, kind: str, author: str, summary: str, payload: dict[str, Any]
    ) -> int:
        """Record something that changed no example (an export, say) in the audit log."""
        author = _check_author(author)
        pid = self.project_id(project)
        with self.engine.begin() as conn:
            return self._log(conn, pid, kind, author, summary, payload)

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
        pid = self.project_id(project)
        with self.engine.begin() as conn:
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
            self._log(
                conn, pid, "step_run", author, f"ran {step}", {"run_id": run_id, "params": params}
            )
        return int(run_id)

    def step_run(self, project: str, run_id: int) -> dict[str, Any] | None:
        pid = self.project_id(project)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(s.step_runs).where(
                    s.step_runs.c.project_id == pid, s.step_runs.c.id == run_id
                )
            ).first()
        return dict(row._mapping) if row else None

    def latest_step_run(self, project: str, step: str) -> dict[str, Any] | None:
        pid = self.project_id(project)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(s.step_runs)
                .where(s.step_runs.c.project_id == pid, s.step_runs.c.step == step)
                .order_by(s.step_runs.c.id.desc())
                .limit(1)
            ).first()
        return dict(row._mapping) if row else None


def _json_dumps(value: Any) -> str:
    # orjson is several times faster than json on the import hot path (raw + messages + meta).
    # It refuses integers beyond 64 bits and nesting beyond 254 levels, which records may hold
    # (`curation.formats` admits up to 400): the standard library writes both exactly.
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(
            value, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_json_default
        )


def _json_default(value: Any) -> Any:
    """What orjson writes natively and the standard library does not: dates and times."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _json_loads(data: str | bytes) -> Any:
    # orjson reads integers beyond 64 bits as floats: such text goes to the standard library.
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if has_long_digit_run(raw):
        return json.loads(raw)  # exact for integers of any size
    return orjson.loads(raw)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _search_text(messages: list[Message]) -> str:
    return example_text(messages, "all").casefold()


def _example_row(pid: int, ex: Example, position: int, now: datetime) -> dict[str, Any]:
    return {
        "project_id": pid,
        "example_id": ex.id,
        "position": position,
        "source": ex.source,
        "raw": ex.raw,
        "messages": [m.to_dict() for m in ex.messages],
        "tools": ex.tools,
        "meta": ex.metadata,
        "status": "active",
        "status_reason": None,
        "duplicate_of": None,
        "revision": 0,
        "content_hash": messages_hash(ex.messages, ex.tools),
        "search_text": _search_text(ex.messages),
        "answer_chars": len(example_text(ex.messages, "assistant")),
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
    "Store",
    "StatusChange",
    "StoredExample",
    "default_db_url",
]
