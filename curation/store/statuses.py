"""The statuses aggregate: a removal is a status with a reason, never a deleted row.

One batch of status changes records every example's before and after state, for undo.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, select, update

from curation.errors import NotFoundError, StoreError
from curation.store import schema as s
from curation.store.rows import BATCH, lock_examples, now, row_needs_answer

if TYPE_CHECKING:
    from curation.store.session import UnitOfWork

STATUSES = ("active", "needs_answer", "duplicate", "rejected", "filtered", "removed")


@dataclass(frozen=True, slots=True)
class StatusChange:
    """The status an example should get, why, and (for duplicates) which example was kept."""

    status: str
    reason: str
    duplicate_of: str | None = None


class StatusRepository:
    """Status, reason and kept example of the project's examples."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    def current(self, example_ids: Sequence[str]) -> dict[str, str]:
        """Current status by example id, without loading the examples (batched)."""
        ids = list(dict.fromkeys(example_ids))
        c = s.examples.c
        out: dict[str, str] = {}
        for start in range(0, len(ids), BATCH):
            out.update(
                self.uow.conn.execute(
                    select(c.example_id, c.status).where(
                        c.project_id == self.uow.pid, c.example_id.in_(ids[start : start + BATCH])
                    )
                ).all()
            )
        return out

    def apply(
        self, changes: Mapping[str, StatusChange], *, only_from: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """Apply per-example status changes; returns (and records) those that changed.

        The examples are locked before their current state is read, so every before-state
        recorded is the state the previous committed change left (what undo restores). With
        `only_from`, an example whose current status (read under the lock) is not one of those
        is left as it is, so a bulk action never overrides what someone decided meanwhile.
        """
        self.uow.require_write()
        for change in changes.values():
            if change.status not in STATUSES:
                raise StoreError(
                    f"Unknown status {change.status!r}; use one of {', '.join(STATUSES)}."
                )
        c = s.examples.c
        ids = list(changes)
        columns = [c.pk, c.example_id, c.status, c.status_reason, c.duplicate_of]
        if any(ch.status == "active" for ch in changes.values()):
            columns += [c.messages, c.preference]  # an example without an answer needs one
        rows = lock_examples(self.uow.conn, self.uow.pid, ids, columns=columns)
        missing = set(ids) - {r.example_id for r in rows}
        if missing:
            raise NotFoundError(
                f"No example(s) {', '.join(sorted(missing)[:5])} in project {self.uow.project!r}."
            )
        done = []
        for r in rows:
            change = changes[r.example_id]
            status = change.status
            if status == "active" and row_needs_answer(r):
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
        self.write([(d["pk"], d["after"]) for d in done])
        self.uow.record(done)
        return done

    def write(self, states: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """Set status, reason and kept example per pk of locked rows; records nothing."""
        self.uow.require_write()
        write_statuses(self.uow.conn, states, now())


def write_statuses(
    conn: Connection, states: Sequence[tuple[int, dict[str, Any]]], at: datetime
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
            updated_at=at,
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
