"""The revisions aggregate: every edit of an example is a new revision; nothing is overwritten.

Edits are compare-and-set on the revision under the example's row lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, select, update

from curation.errors import ConflictError, NotFoundError
from curation.records import Example, Message, messages_hash
from curation.store import schema as s
from curation.store.rows import (
    BATCH,
    LOCKED_COLUMNS,
    check_storable,
    lock_examples,
    now,
    search_text,
)

if TYPE_CHECKING:
    from curation.store.session import UnitOfWork

KEEP: Any = object()  # "leave as it is" for optional keyword arguments that accept None
# an example is `needs_answer` while it has neither a final answer nor candidates; writing one
# makes it `active` (and an edit that removes the answer makes it `needs_answer` again)
COMPLETENESS = ("active", "needs_answer")

Edit = tuple[list[Message], int] | tuple[list[Message], int, Any]


class RevisionRepository:
    """New revisions of the project's examples, and their history."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    def history(self, example_id: str) -> list[dict[str, Any]]:
        """Every kept revision of the example, oldest first."""
        pk = self.uow.examples.get(example_id).pk
        rows = self.uow.conn.execute(
            select(s.revisions)
            .where(s.revisions.c.example_pk == pk)
            .order_by(s.revisions.c.revision)
        )
        return [dict(r._mapping) for r in rows]

    def edit(
        self,
        example_id: str,
        messages: list[Message],
        reason: str,
        *,
        expected_revision: int | None = None,
        preference: dict[str, Any] | None = KEEP,
    ) -> int:
        """A new revision of one example (see `Store.edit_messages`); returns its number."""
        self.uow.require_write()
        check_storable(messages)
        if preference is not KEEP and preference:
            for cand in preference.get("candidates") or []:
                check_storable(cand.get("messages") or [])
        conn = self.uow.conn
        row = conn.execute(
            select(*LOCKED_COLUMNS)
            .where(s.examples.c.project_id == self.uow.pid, s.examples.c.example_id == example_id)
            .with_for_update()
        ).first()
        if row is None:
            raise NotFoundError(f"No example {example_id!r} in project {self.uow.project!r}.")
        if expected_revision is not None and row.revision != expected_revision:
            raise ConflictError(
                f"Example {example_id} was changed by someone else since you opened it "
                f"(it is now at revision {row.revision}, you edited revision "
                f"{expected_revision}). Reload it and edit again."
            )
        new_rev = self.write(row, messages, row.tools, reason, preference=preference)
        self.uow.record([{"pk": row.pk, "from": row.revision, "to": new_rev}])
        return new_rev

    def edit_many(self, edits: Mapping[str, Edit], reason: str) -> list[dict[str, Any]]:
        """New revisions of many examples, all or none (see `Store.edit_many`).

        Every example is locked before its revision is checked; returns the changes recorded.
        """
        self.uow.require_write()
        for edit in edits.values():
            check_storable(edit[0])
            for cand in ((edit[2] or {}).get("candidates") or []) if len(edit) > 2 else []:
                check_storable(cand.get("messages") or [])
        rows = lock_examples(self.uow.conn, self.uow.pid, list(edits), columns=LOCKED_COLUMNS)
        missing = set(edits) - {r.example_id for r in rows}
        if missing:
            raise NotFoundError(
                f"No example(s) {', '.join(sorted(missing)[:5])} in project {self.uow.project!r}."
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
            new_rev = self.write(
                r,
                edit[0],
                r.tools,
                reason,
                preference=edit[2] if len(edit) > 2 else KEEP,  # type: ignore[misc]
            )
            changes.append({"pk": r.pk, "from": r.revision, "to": new_rev})
        self.uow.record(changes)
        return changes

    def write(
        self,
        row: Any,
        messages: list[Message] | list[dict[str, Any]],
        tools: str | None,
        reason: str,
        *,
        preference: Any = KEEP,
    ) -> int:
        """Write the next revision of a locked example row; returns its number.

        Records nothing in the unit's event (`edit` and `edit_many` do; undo's restore does
        not). ``preference`` (an `Example.preference_payload`, None for none) defaults to the
        row's own. A write that completes an example needing an answer makes it active; one
        that takes the only answer away makes it need one again (other statuses are left alone).
        """
        self.uow.require_write()
        return write_revision(
            self.uow.conn, row, messages, tools, self.uow.author, reason, preference=preference
        )

    def texts(self, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], Any]:
        """(messages, tools, preference) of the given (example pk, revision) pairs that exist."""
        return revision_texts(self.uow.conn, wanted)


def write_revision(
    conn: Connection,
    row: Any,
    messages: list[Message] | list[dict[str, Any]],
    tools: str | None,
    author: str,
    reason: str,
    *,
    preference: Any = KEEP,
) -> int:
    """The next revision of a locked example row (see `RevisionRepository.write`)."""
    msg_dicts = [m.to_dict() if isinstance(m, Message) else dict(m) for m in messages]
    if preference is KEEP:
        preference = row.preference
    at = now()
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
                    created_at=at,
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
            "created_at": at,
        },
    )
    ex = Example(id=row.example_id, messages=[Message.from_dict(m) for m in msg_dicts])
    ex.set_preference(preference)
    values: dict[str, Any] = {
        "messages": msg_dicts,
        "preference": preference,
        "revision": new_rev,
        "content_hash": messages_hash(ex.messages, tools, preference),
        "search_text": search_text(ex),
        "answer_chars": len(ex.response),
        "updated_at": at,
    }
    if row.status in COMPLETENESS:
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


def revision_texts(conn: Connection, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], Any]:
    """(messages, tools, preference) of the given (example pk, revision) pairs that exist."""
    r = s.revisions.c
    out: dict[tuple[int, int], Any] = {}
    pks = sorted({pk for pk, _ in wanted})
    for start in range(0, len(pks), BATCH):
        rows = conn.execute(
            select(r.example_pk, r.revision, r.messages, r.tools, r.preference).where(
                r.example_pk.in_(pks[start : start + BATCH])
            )
        )
        for row in rows:
            if (row.example_pk, row.revision) in wanted:
                out[(row.example_pk, row.revision)] = (row.messages, row.tools, row.preference)
    return out
