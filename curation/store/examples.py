"""The examples aggregate: imports, listings and reads of a project's examples.

`ExampleRepository` runs on a unit of work's connection; `Store` wraps it one unit per call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select

from curation.errors import NotFoundError
from curation.records import Example, Message
from curation.store import schema as s
from curation.store.metadata_index import MetadataField, add_to_index, read_index
from curation.store.rows import BATCH, example_row, now

if TYPE_CHECKING:
    from curation.store.session import UnitOfWork
    from curation.store.store import ExampleFilter


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
    `ExampleRepository.add_import` and `plan_imports` both decide with this, so the plan shown before
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


def stored(row: Any) -> StoredExample:
    """A `StoredExample` from a full `examples` row."""
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


def earlier_import(conn: Any, pid: int, sha256: str) -> dict[str, Any] | None:
    row = conn.execute(
        select(s.imports)
        .where(s.imports.c.project_id == pid, s.imports.c.sha256 == sha256)
        .order_by(s.imports.c.id)
        .limit(1)
    ).first()
    return dict(row._mapping) if row else None


class ExampleRepository:
    """The project's examples and imports, read and written on the unit's transaction."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    def _where(self, flt: ExampleFilter | None) -> list[Any]:
        return self.uow.store._where(self.uow.pid, flt)

    # ---- reads ---------------------------------------------------------------------------

    def count(self, flt: ExampleFilter | None = None) -> int:
        query = select(func.count()).select_from(s.examples).where(*self._where(flt))
        return int(self.uow.conn.scalar(query) or 0)

    def page(
        self,
        flt: ExampleFilter | None = None,
        *,
        offset: int = 0,
        limit: int | None = 50,
        after_position: int | None = None,
    ) -> list[StoredExample]:
        """Examples in import order, filtered and paged (by offset, or after a position)."""
        where = self._where(flt)
        if after_position is not None:
            where.append(s.examples.c.position > after_position)
        query = select(s.examples).where(*where).offset(offset).order_by(s.examples.c.position)
        if limit is not None:
            query = query.limit(limit)
        return [stored(r) for r in self.uow.conn.execute(query)]

    def get_many(self, example_ids: Sequence[str]) -> dict[str, StoredExample]:
        """The named examples by id (ids not in the project are absent), fetched in batches."""
        from curation.store.store import ExampleFilter

        ids = list(dict.fromkeys(example_ids))
        found: dict[str, StoredExample] = {}
        for start in range(0, len(ids), BATCH):
            flt = ExampleFilter(example_ids=ids[start : start + BATCH])
            found.update((e.id, e) for e in self.page(flt, limit=None))
        return found

    def get(self, example_id: str) -> StoredExample:
        from curation.store.store import ExampleFilter

        found = self.page(ExampleFilter(example_ids=[example_id]), limit=1)
        if not found:
            raise NotFoundError(f"No example {example_id!r} in project {self.uow.project!r}.")
        return found[0]

    def sources(self) -> list[str]:
        c = s.examples.c
        query = select(c.source).where(c.project_id == self.uow.pid).distinct().order_by(c.source)
        return list(self.uow.conn.scalars(query))

    def metadata_fields(self) -> list[MetadataField]:
        return read_index(self.uow.conn, self.uow.pid)

    def stats(self) -> dict[str, Any]:
        """Counts per status and source, imports, revisions and the step runs done."""
        conn, pid = self.uow.conn, self.uow.pid
        c = s.examples.c
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
            "project": self.uow.project,
            "total": int(sum(by_status.values())),
            "by_status": {k: int(v) for k, v in by_status.items()},
            "by_source": {k: int(v) for k, v in by_source.items()},
            "edited": int(edited or 0),
            "with_preference": int(preference or 0),
            "imports": int(n_imports or 0),
            "steps_run": sorted(steps),
        }

    # ---- imports -------------------------------------------------------------------------

    def find_import(self, sha256: str) -> dict[str, Any] | None:
        """The earlier import of the same bytes into this project, if any."""
        return earlier_import(self.uow.conn, self.uow.pid, sha256)

    def imports(self) -> list[dict[str, Any]]:
        rows = self.uow.conn.execute(
            select(s.imports).where(s.imports.c.project_id == self.uow.pid).order_by(s.imports.c.id)
        )
        return [dict(r._mapping) for r in rows]

    def plan_imports(
        self, results: Sequence[Any], *, allow_reimport: bool = False
    ) -> list[ImportPlan]:
        """What `add_import` would do with each `ImportResult`, in order (see `Store`)."""
        conn, pid = self.uow.conn, self.uow.pid
        shas = list(dict.fromkeys(r.sha256 for r in results))
        ids = list(dict.fromkeys(ex.id for r in results for ex in r.examples))
        c = s.examples.c
        earlier: dict[str, dict[str, Any]] = {}
        in_project: set[str] = set()
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
        for start in range(0, len(ids), BATCH):
            in_project.update(
                conn.scalars(
                    select(c.example_id).where(
                        c.project_id == pid, c.example_id.in_(ids[start : start + BATCH])
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

    def add_import(
        self,
        result: Any,
        *,
        allow_reimport: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportSummary:
        """Store an `ImportResult` on the unit's transaction (see `Store.add_import`).

        Takes the project's row lock, so two imports at once neither store the same file twice
        nor hand out the same positions. Notes ``import_id``, ``count`` and ``sha256`` for the
        unit's event; an import skipped as already imported notes nothing.
        """
        uow = self.uow
        uow.require_write()
        conn, author = uow.conn, uow.author
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
        at = now()
        uow.lock_project()
        pid = uow.pid
        if not allow_reimport and earlier_import(conn, pid, result.sha256) is not None:
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
            rows.append(example_row(pid, ex, position, at))
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
                created_at=at,
                created_by=author,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        for row in rows:
            row["import_id"] = import_id
        for start in range(0, len(rows), BATCH):
            conn.execute(insert(s.examples), rows[start : start + BATCH])
            if progress:
                progress(min(start + BATCH, len(rows)), len(rows))
        add_to_index(conn, pid, (row["meta"] for row in rows))
        if already:
            reasons["already in project"] = reasons.get("already in project", 0) + already
        uow.note(import_id=import_id, count=len(rows), sha256=result.sha256)
        summary.import_id = int(import_id)
        summary.imported = len(rows)
        summary.skipped = result.skipped + already
        summary.skipped_reasons = reasons
        return summary
