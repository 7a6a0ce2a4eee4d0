"""The jobs table's repository: submit, read, claim, report progress, finish and recover jobs.

Every state change is one short write transaction whose WHERE names the state it expects, so a
job is claimed by exactly one worker and a job that was cancelled or recovered is never marked done.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from curation.errors import JobError, NotFoundError
from curation.progress import ProgressUpdate
from curation.store import schema as s
from curation.store.db import reading, writing

if TYPE_CHECKING:
    from curation.store.session import UnitOfWork
    from curation.store.store import Store

STALE_AFTER = timedelta(seconds=120)  # a running job whose heartbeat is older is presumed dead
MAX_ERROR_CHARS = 4000  # an error text longer than this is cut (a traceback belongs in the log)
FINISHED = ("done", "failed", "cancelled")


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every time this module writes is UTC
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class WorkerIdentity:
    """Who runs a job: the machine, the process and a label (thread or command) within it."""

    host: str
    pid: int
    label: str

    @classmethod
    def this_process(cls, label: str) -> WorkerIdentity:
        return cls(socket.gethostname(), os.getpid(), label)

    @property
    def name(self) -> str:
        return f"{self.host}:{self.pid}:{self.label}"


@dataclass(frozen=True, slots=True)
class Job:
    """One row of the jobs table, with its project's name.

    ``state`` is one of queued, running, done, failed, cancelled; ``result`` is what the step
    returned (JSON; e.g. ``{"run_id": 7}`` for dedup), ``error`` why it failed.
    """

    id: int
    project: str
    step: str
    params: dict[str, Any]
    state: str
    stage: str
    done: int
    total: int | None
    message: str
    author: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    worker: str | None
    worker_host: str | None
    worker_pid: int | None
    cancel_requested: bool
    error: str | None
    result: dict[str, Any] | None

    @property
    def active(self) -> bool:
        """Queued or running: the step is not finished yet."""
        return self.state in s.ACTIVE_JOB_STATES

    @property
    def progress(self) -> ProgressUpdate:
        return ProgressUpdate(self.stage, self.done, self.total, self.message)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (times as ISO strings), for `curation jobs list --json`."""
        out: dict[str, Any] = {}
        for name in self.__slots__:  # type: ignore[attr-defined]
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        return out


_JOB_COLUMNS = (s.jobs, s.projects.c.name.label("project_name"))


def _job(row: Any) -> Job:
    m = row._mapping
    return Job(
        id=int(m["id"]),
        project=str(m["project_name"]),
        step=m["step"],
        params=dict(m["params"] or {}),
        state=m["state"],
        stage=m["progress_stage"] or "",
        done=int(m["progress_done"] or 0),
        total=m["progress_total"],
        message=m["progress_message"] or "",
        author=m["author"],
        created_at=_aware(m["created_at"]),  # type: ignore[arg-type]
        started_at=_aware(m["started_at"]),
        finished_at=_aware(m["finished_at"]),
        heartbeat_at=_aware(m["heartbeat_at"]),
        worker=m["worker"],
        worker_host=m["worker_host"],
        worker_pid=m["worker_pid"],
        cancel_requested=bool(m["cancel_requested"]),
        error=m["error"],
        result=m["result"],
    )


def _select_jobs() -> Any:
    return select(*_JOB_COLUMNS).join(s.projects, s.projects.c.id == s.jobs.c.project_id)


def _one(conn: Connection, job_id: int) -> Job:
    row = conn.execute(_select_jobs().where(s.jobs.c.id == job_id)).first()
    if row is None:
        raise NotFoundError(f"No job {job_id}; `curation jobs list` shows the jobs there are.")
    return _job(row)


def process_alive(pid: int) -> bool:
    """Whether process `pid` on this machine still runs (a zombie counts as stopped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, alive
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            # "pid (comm) S ...": the state letter follows the last ')'
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _find(
    conn: Connection,
    pid: int | None,
    *,
    step: str | None,
    states: Sequence[str] | None,
    limit: int,
) -> list[Job]:
    c = s.jobs.c
    query = _select_jobs()
    if pid is not None:
        query = query.where(c.project_id == pid)
    if step is not None:
        query = query.where(c.step == step)
    if states:
        query = query.where(c.state.in_(list(states)))
    return [_job(r) for r in conn.execute(query.order_by(c.id.desc()).limit(limit)).all()]


class JobRepository:
    """The jobs of a unit of work's project, on its transaction (submitting writes no event)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    def submit(self, step: str, params: Mapping[str, Any]) -> Job:
        """Queue a job; refuses when a job of `step` is queued or running for the project.

        The refusal comes from the partial unique index on (project, step) over active jobs, so
        two submits at the same moment cannot both pass: the loser gets a `JobError`.
        """
        self.uow.require_write()
        conn = self.uow.conn
        try:
            job_id = conn.execute(
                insert(s.jobs).values(
                    project_id=self.uow.pid,
                    step=step,
                    params=dict(params),
                    state="queued",
                    progress_stage="",
                    progress_done=0,
                    progress_message="",
                    author=self.uow.author,
                    created_at=_now(),
                    cancel_requested=False,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        except IntegrityError:
            raise JobError(
                f"A {step} job is already running for {self.uow.project}; wait for it to finish "
                "or cancel it first."
            ) from None
        return _one(conn, int(job_id))

    def find(
        self, *, step: str | None = None, states: Sequence[str] | None = None, limit: int = 100
    ) -> list[Job]:
        """The project's jobs newest first, optionally of one step and set of states."""
        return _find(self.uow.conn, self.uow.pid, step=step, states=states, limit=limit)

    def active(self, step: str) -> Job | None:
        """The queued or running job of `step`, if there is one."""
        found = self.find(step=step, states=s.ACTIVE_JOB_STATES, limit=1)
        return found[0] if found else None


class JobStore:
    """The jobs of one `Store`; see `curation.jobs` for submitting and running them."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine

    # ---- submit and read ----------------------------------------------------------------

    def submit(self, project: str, step: str, params: Mapping[str, Any], author: str) -> Job:
        """Queue a job; refuses when a job of `step` is queued or running for the project.

        The refusal comes from the partial unique index on (project, step) over active jobs, so
        two submits at the same moment cannot both pass: the loser gets a `JobError`.
        """
        with self.store.session(project, author) as uow:
            return uow.jobs.submit(step, params)

    def get(self, job_id: int) -> Job:
        with reading(self.engine) as conn:
            return _one(conn, job_id)

    def find(
        self,
        project: str | None = None,
        *,
        step: str | None = None,
        states: Sequence[str] | None = None,
        limit: int = 100,
    ) -> list[Job]:
        """Jobs newest first, optionally of one project, step and set of states."""
        if project is not None:
            with self.store.read_session(project) as uow:
                return uow.jobs.find(step=step, states=states, limit=limit)
        with reading(self.engine) as conn:
            return _find(conn, None, step=step, states=states, limit=limit)

    def active(self, project: str, step: str) -> Job | None:
        """The queued or running job of `step` for the project, if there is one."""
        found = self.find(project, step=step, states=s.ACTIVE_JOB_STATES, limit=1)
        return found[0] if found else None

    def request_cancel(self, job_id: int) -> Job:
        """Cancel a queued job at once; ask a running one to stop at its next progress report.

        Raises `JobError` for a job that has already finished.
        """
        c = s.jobs.c
        with writing(self.engine) as conn:
            job = _one(conn, job_id)
            if job.state == "queued":
                changed = conn.execute(
                    update(s.jobs)
                    .where(c.id == job_id, c.state == "queued")
                    .values(state="cancelled", cancel_requested=True, finished_at=_now())
                ).rowcount
            elif job.state == "running":
                changed = conn.execute(
                    update(s.jobs)
                    .where(c.id == job_id, c.state == "running")
                    .values(cancel_requested=True)
                ).rowcount
            else:
                changed = 0
            if not changed:
                raise JobError(
                    f"Job {job_id} has already finished ({job.state}); nothing to cancel."
                )
            return _one(conn, job_id)

    # ---- what a worker does -------------------------------------------------------------

    def claim_next(self, worker: WorkerIdentity, steps: Sequence[str]) -> Job | None:
        """Take the oldest queued job of one of `steps` for `worker`; None when there is none.

        The claim is ``UPDATE ... WHERE state = 'queued'`` with a row-count check, so when two
        workers pick the same job only one of them gets it; the other tries the next.
        """
        c = s.jobs.c
        if not steps:
            return None
        with reading(self.engine) as conn:
            candidates = list(
                conn.scalars(
                    select(c.id)
                    .where(c.state == "queued", c.step.in_(list(steps)))
                    .order_by(c.id)
                    .limit(20)
                )
            )
        for job_id in candidates:
            now = _now()
            with writing(self.engine) as conn:
                claimed = conn.execute(
                    update(s.jobs)
                    .where(c.id == job_id, c.state == "queued")
                    .values(
                        state="running",
                        started_at=now,
                        heartbeat_at=now,
                        worker=worker.name,
                        worker_host=worker.host,
                        worker_pid=worker.pid,
                    )
                ).rowcount
                if claimed == 1:
                    return _one(conn, job_id)
        return None

    def report_progress(self, job_id: int, update_: ProgressUpdate) -> bool:
        """Write a running job's progress and heartbeat; True when it should stop.

        It should stop when a cancel was asked for, or when the job is no longer running (a
        recovery marked it failed): either way its result would not be kept.
        """
        c = s.jobs.c
        with writing(self.engine) as conn:
            row = conn.execute(
                update(s.jobs)
                .where(c.id == job_id, c.state == "running")
                .values(
                    progress_stage=update_.stage[:200],
                    progress_done=int(update_.done),
                    progress_total=None if update_.total is None else int(update_.total),
                    progress_message=update_.message,
                    heartbeat_at=_now(),
                )
                .returning(c.cancel_requested)
            ).first()
        return row is None or bool(row[0])

    def heartbeat(self, job_id: int) -> bool:
        """Mark a running job alive; True when it should stop (as `report_progress`)."""
        c = s.jobs.c
        with writing(self.engine) as conn:
            row = conn.execute(
                update(s.jobs)
                .where(c.id == job_id, c.state == "running")
                .values(heartbeat_at=_now())
                .returning(c.cancel_requested)
            ).first()
        return row is None or bool(row[0])

    def finish(
        self, job_id: int, state: str, *, result: Any = None, error: str | None = None
    ) -> bool:
        """Move a running job to done, failed or cancelled; False when it was not running."""
        if state not in FINISHED:
            raise JobError(f"A job finishes as one of {', '.join(FINISHED)}, not {state!r}.")
        c = s.jobs.c
        with writing(self.engine) as conn:
            return (
                conn.execute(
                    update(s.jobs)
                    .where(c.id == job_id, c.state == "running")
                    .values(
                        state=state,
                        finished_at=_now(),
                        result=result,
                        error=None if error is None else error[:MAX_ERROR_CHARS],
                    )
                ).rowcount
                == 1
            )

    def recover_stale(
        self,
        *,
        stale_after: timedelta = STALE_AFTER,
        alive: Callable[[int], bool] = process_alive,
        now: datetime | None = None,
    ) -> list[int]:
        """Mark failed ("worker stopped") the running jobs whose worker is gone; their ids.

        A worker is gone when its heartbeat is older than `stale_after`, or when it ran on this
        machine and its process no longer exists. A reused process id looks alive: such a job
        is caught by its heartbeat instead. Each job is failed with a compare-and-set on the
        worker and heartbeat seen, so a job that reported in the meantime is left running.
        """
        c = s.jobs.c
        now = now or _now()
        here = socket.gethostname()
        with reading(self.engine) as conn:
            running = conn.execute(
                select(c.id, c.worker, c.worker_host, c.worker_pid, c.heartbeat_at).where(
                    c.state == "running"
                )
            ).all()
        failed: list[int] = []
        for r in running:
            beat = _aware(r.heartbeat_at)
            why = None
            if r.worker_host == here and r.worker_pid is not None and not alive(int(r.worker_pid)):
                why = f"worker stopped: process {r.worker_pid} on {here} is gone"
            elif beat is None or now - beat > stale_after:
                seen = "never" if beat is None else f"at {beat:%Y-%m-%d %H:%M:%S} UTC"
                why = f"worker stopped: no heartbeat since {seen} (worker {r.worker})"
            if why is None:
                continue
            with writing(self.engine) as conn:
                changed = conn.execute(
                    update(s.jobs)
                    .where(
                        c.id == r.id,
                        c.state == "running",
                        c.worker == r.worker,
                        c.heartbeat_at == r.heartbeat_at
                        if r.heartbeat_at is not None
                        else c.heartbeat_at.is_(None),
                    )
                    .values(
                        state="failed",
                        finished_at=now,
                        error=why + "; the job's result was not recorded, run it again.",
                    )
                ).rowcount
            if changed:
                failed.append(int(r.id))
        return failed
