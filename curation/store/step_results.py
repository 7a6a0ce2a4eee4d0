"""Per-example results of step runs (quality flags now): written with their run, read per flag.

Rows are keyed by the example's pk, so `ExampleFilter` finds the examples behind a flag in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, insert, select

from curation.errors import NotFoundError
from curation.store import schema as s

QUALITY_STEP = "quality"  # the step whose latest run `ExampleFilter.quality_flag` reads
ANY_FLAG = "*"  # as a flag code: any flag of the run
_BATCH = 2000


@dataclass(frozen=True, slots=True)
class StepResult:
    """One flag of a step run on one example, as the store keeps it.

    Attributes
    ----------
    example_id:
        The flagged example (its id in the project).
    code:
        The flag's code (``"refusal"``), what listings filter on.
    score:
        In [0, 1], low = bad; None when the step gives none.
    reason, suggestion:
        The sentence shown to annotators; what the step proposes instead.
    detail:
        JSON the step adds (sub-kind, location in the text...).
    """

    example_id: str
    code: str
    score: float | None = None
    reason: str | None = None
    suggestion: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def latest_run_id(pid: int, step: str) -> Any:
    """A scalar subquery: the id of the project's newest run of `step` (NULL when none)."""
    r = s.step_runs.c
    return select(func.max(r.id)).where(r.project_id == pid, r.step == step).scalar_subquery()


def flag_clause(pid: int, step: str, code: str) -> Any:
    """Examples with a result of `code` (or `ANY_FLAG`) in the latest run of `step`: an EXISTS
    correlated on the example's pk, the same SQL on SQLite and PostgreSQL."""
    r = s.step_results.c
    query = select(r.id).where(
        r.example_pk == s.examples.c.pk, r.run_id == latest_run_id(pid, step)
    )
    if code != ANY_FLAG:
        query = query.where(r.code == code)
    return query.exists()


def insert_results(
    conn: Connection, pid: int, run_id: int, step: str, results: Iterable[StepResult]
) -> int:
    """Write a run's results (ids resolved to pks in batches); returns the rows written.

    Raises
    ------
    NotFoundError
        When a result names an example the project does not hold (nothing is written: the
        caller's transaction rolls back).
    """
    rows = list(results)
    ids = list(dict.fromkeys(r.example_id for r in rows))
    c = s.examples.c
    pks: dict[str, int] = {}
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        query = select(c.example_id, c.pk).where(c.project_id == pid, c.example_id.in_(batch))
        pks.update((row.example_id, int(row.pk)) for row in conn.execute(query))
    missing = [i for i in ids if i not in pks]
    if missing:
        raise NotFoundError(
            f"Step results name {len(missing)} example(s) not in the project "
            f"({', '.join(missing[:5])}); nothing was saved."
        )
    values = [
        {
            "project_id": pid,
            "run_id": run_id,
            "step": step,
            "example_pk": pks[r.example_id],
            "example_id": r.example_id,
            "code": r.code,
            "score": r.score,
            "reason": r.reason,
            "suggestion": r.suggestion,
            "detail": r.detail,
        }
        for r in rows
    ]
    for start in range(0, len(values), _BATCH):
        conn.execute(insert(s.step_results), values[start : start + _BATCH])
    return len(values)


def _filtered(query: Any, run_id: int, code: str | None, statuses: Sequence[str] | None) -> Any:
    r = s.step_results.c
    query = query.where(r.run_id == run_id)
    if code is not None and code != ANY_FLAG:
        query = query.where(r.code == code)
    if statuses:
        query = query.where(s.examples.c.status.in_(list(statuses)))
    return query


def read_results(
    conn: Connection,
    run_id: int,
    *,
    code: str | None = None,
    statuses: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[StepResult]:
    """A run's results (of one code, of examples in `statuses`), in the examples' import order."""
    r = s.step_results.c
    query = select(r.example_id, r.code, r.score, r.reason, r.suggestion, r.detail).join_from(
        s.step_results, s.examples, r.example_pk == s.examples.c.pk
    )
    query = _filtered(query, run_id, code, statuses).order_by(s.examples.c.position, r.id)
    if limit is not None:
        query = query.limit(limit)
    return [
        StepResult(
            row.example_id, row.code, row.score, row.reason, row.suggestion, row.detail or {}
        )
        for row in conn.execute(query)
    ]


def count_by_code(
    conn: Connection, run_id: int, *, statuses: Sequence[str] | None = None
) -> dict[str, int]:
    """Examples per code in a run (of examples in `statuses`), most first, then by code."""
    r = s.step_results.c
    query = (
        select(r.code, func.count(func.distinct(r.example_pk)))
        .join_from(s.step_results, s.examples, r.example_pk == s.examples.c.pk)
        .group_by(r.code)
    )
    counts = {str(k): int(n) for k, n in conn.execute(_filtered(query, run_id, None, statuses))}
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def count_examples(
    conn: Connection, run_id: int, *, code: str | None = None, statuses: Sequence[str] | None = None
) -> int:
    """Distinct examples with a result (of `code`) in a run, of examples in `statuses`."""
    r = s.step_results.c
    query = select(func.count(func.distinct(r.example_pk))).join_from(
        s.step_results, s.examples, r.example_pk == s.examples.c.pk
    )
    return int(conn.scalar(_filtered(query, run_id, code, statuses)) or 0)


def ids_with_code(
    conn: Connection, run_id: int, code: str, *, statuses: Sequence[str] | None = None
) -> list[str]:
    """Ids of the examples with a result of `code` (or `ANY_FLAG`) in a run, in import order."""
    r = s.step_results.c
    query = (
        select(s.examples.c.example_id, s.examples.c.position)
        .join_from(s.step_results, s.examples, r.example_pk == s.examples.c.pk)
        .distinct()
    )
    rows = conn.execute(_filtered(query, run_id, code, statuses).order_by(s.examples.c.position))
    return [row.example_id for row in rows]
