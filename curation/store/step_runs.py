"""The step-run aggregate: a saved run of a step and its per-example results.

A run changes no example, so its ``step_run`` event has nothing to undo.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from curation.store import schema as s
from curation.store.rows import now, plural
from curation.store.step_results import (
    StepResult,
    count_by_code,
    count_examples,
    ids_with_code,
    insert_results,
    read_results,
)

if TYPE_CHECKING:
    from curation.store.session import UnitOfWork


class StepResultRepository:
    """Runs of the project's steps and their per-example results."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    # ---- writes ----------------------------------------------------------------------------

    def save_run(
        self, step: str, params: dict[str, Any], result: dict[str, Any], stats: dict[str, Any]
    ) -> int:
        """Keep a step's result (e.g. dedup clusters); notes ``run_id`` and ``params``."""
        self.uow.require_write()
        run_id = conn_insert_run(self.uow, step, params, result, stats)
        self.uow.note(run_id=run_id, params=params)
        return run_id

    def save(
        self,
        step: str,
        params: dict[str, Any],
        stats: dict[str, Any],
        results: Iterable[StepResult],
        *,
        result: dict[str, Any] | None = None,
    ) -> tuple[int, int]:
        """A run and its per-example results; returns (run id, number of results).

        Every result must name an example of the project (`NotFoundError` otherwise).
        """
        run_id = self.save_run(step, params, result or {}, stats)
        n = insert_results(self.uow.conn, self.uow.pid, run_id, step, results)
        self.uow.note(n_results=n)
        return run_id, n

    # ---- reads -----------------------------------------------------------------------------

    def run_or_latest(self, step: str, run_id: int | None = None) -> int | None:
        t = s.step_runs.c
        query = select(t.id).where(t.project_id == self.uow.pid, t.step == step)
        if run_id is not None:
            return self.uow.conn.scalar(query.where(t.id == run_id))
        return self.uow.conn.scalar(query.order_by(t.id.desc()).limit(1))

    def results(
        self,
        step: str,
        *,
        run_id: int | None = None,
        code: str | None = None,
        statuses: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[StepResult]:
        found = self.run_or_latest(step, run_id)
        if found is None:
            return []
        return read_results(self.uow.conn, found, code=code, statuses=statuses, limit=limit)

    def counts(
        self, step: str, *, run_id: int | None = None, statuses: Sequence[str] | None = None
    ) -> dict[str, int]:
        found = self.run_or_latest(step, run_id)
        return {} if found is None else count_by_code(self.uow.conn, found, statuses=statuses)

    def total(
        self,
        step: str,
        *,
        run_id: int | None = None,
        code: str | None = None,
        statuses: Sequence[str] | None = None,
    ) -> int:
        found = self.run_or_latest(step, run_id)
        if found is None:
            return 0
        return count_examples(self.uow.conn, found, code=code, statuses=statuses)

    def ids(
        self,
        step: str,
        code: str,
        *,
        run_id: int | None = None,
        statuses: Sequence[str] | None = None,
    ) -> list[str]:
        found = self.run_or_latest(step, run_id)
        if found is None:
            return []
        return ids_with_code(self.uow.conn, found, code, statuses=statuses)

    def run(self, run_id: int) -> dict[str, Any] | None:
        row = self.uow.conn.execute(
            select(s.step_runs).where(
                s.step_runs.c.project_id == self.uow.pid, s.step_runs.c.id == run_id
            )
        ).first()
        return dict(row._mapping) if row else None

    def runs(self, step: str, *, limit: int = 200) -> list[dict[str, Any]]:
        """Saved runs of a step, newest first, without their (possibly large) results."""
        t = s.step_runs.c
        rows = self.uow.conn.execute(
            select(t.id, t.step, t.params, t.stats, t.author, t.created_at)
            .where(t.project_id == self.uow.pid, t.step == step)
            .order_by(t.id.desc())
            .limit(limit)
        )
        return [dict(r._mapping) for r in rows]

    def latest(self, step: str) -> dict[str, Any] | None:
        row = self.uow.conn.execute(
            select(s.step_runs)
            .where(s.step_runs.c.project_id == self.uow.pid, s.step_runs.c.step == step)
            .order_by(s.step_runs.c.id.desc())
            .limit(1)
        ).first()
        return dict(row._mapping) if row else None


def conn_insert_run(
    uow: UnitOfWork,
    step: str,
    params: dict[str, Any],
    result: dict[str, Any],
    stats: dict[str, Any],
) -> int:
    run_id = uow.conn.execute(
        insert(s.step_runs).values(
            project_id=uow.pid,
            step=step,
            params=params,
            result=result,
            stats=stats,
            author=uow.author,
            created_at=now(),
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    return int(run_id)


def run_summary(step: str, n_results: int | None = None) -> str:
    """The summary of a ``step_run`` event."""
    return f"ran {step}" if n_results is None else f"ran {step}: {plural(n_results, 'result')}"
