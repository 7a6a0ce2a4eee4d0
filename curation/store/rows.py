"""Row-level helpers every repository of the store shares: authors, clocks, locks, row shapes.

Locks are always taken in primary-key order, so two writers never wait on each other in a cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from curation.errors import NotFoundError, StoreError
from curation.records import Example, Message, messages_hash
from curation.store import schema as s

BATCH = 2000  # ids per IN (...) list and rows per executemany


def now() -> datetime:
    return datetime.now(UTC)


def check_author(author: str) -> str:
    author = (author or "").strip()
    if not author:
        raise StoreError("An author name is required for every change; set your name first.")
    return author


def project_id(conn: Connection, name: str, *, lock: bool = False) -> int:
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


def insert_unless_exists(conn: Connection, table: Table, column: str) -> Any:
    """INSERT that does nothing when `column`'s unique value exists (one atomic statement)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=[column])


LOCKED_COLUMNS = (
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


def lock_rows(
    conn: Connection, where: Any, *, pks: Sequence[int] | None = None, columns: Any = None
) -> list[Any]:
    """Rows of examples matching `where` (and `pks`), locked FOR UPDATE in primary-key order.

    Every writer locks examples in ascending pk order, so two writers never wait on each other
    in a cycle (no deadlock) even across batches. SQLite ignores FOR UPDATE: its write lock,
    taken at BEGIN IMMEDIATE, already covers the whole database.
    """
    c = s.examples.c
    query = select(*(columns or LOCKED_COLUMNS)).where(where).order_by(c.pk).with_for_update()
    if pks is None:
        return list(conn.execute(query).all())
    ordered = sorted(set(pks))
    rows: list[Any] = []
    for start in range(0, len(ordered), BATCH):
        rows += conn.execute(query.where(c.pk.in_(ordered[start : start + BATCH]))).all()
    return rows


def lock_examples(
    conn: Connection, pid: int, example_ids: Sequence[str], *, columns: Any = None
) -> list[Any]:
    """The project's examples named by id, locked in primary-key order (see `lock_rows`)."""
    c = s.examples.c
    ids = list(dict.fromkeys(example_ids))
    if len(ids) <= BATCH:  # one statement finds and locks them, ordered by pk
        return lock_rows(conn, (c.project_id == pid) & c.example_id.in_(ids), columns=columns)
    pks: list[int] = []
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        pks += conn.scalars(select(c.pk).where(c.project_id == pid, c.example_id.in_(batch)))
    return lock_rows(conn, c.project_id == pid, pks=pks, columns=columns)


def check_storable(messages: Sequence[Message | dict[str, Any]]) -> None:
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


def row_needs_answer(row: Any) -> bool:
    ex = Example(id=row.example_id, messages=[Message.from_dict(m) for m in row.messages])
    ex.set_preference(row.preference)
    return ex.needs_answer


def search_text(ex: Example) -> str:
    return ex.text("all").casefold()


def example_row(pid: int, ex: Example, position: int, at: datetime) -> dict[str, Any]:
    """The `examples` row of a newly imported example."""
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
        "search_text": search_text(ex),
        "answer_chars": len(ex.response),
        "updated_at": at,
        "import_id": None,
    }


def status_of(row: Any) -> dict[str, Any]:
    return {
        "status": row.status,
        "status_reason": row.status_reason,
        "duplicate_of": row.duplicate_of,
    }


def text_of(row: Any) -> tuple[Any, Any, Any]:
    return row.messages, row.tools, row.preference


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def some(names: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
