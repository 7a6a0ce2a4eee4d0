"""Background jobs: long steps run by a worker outside the page that asked for them.

    job = submit(store, "demo", "dedup", {"method": "semantic"}, author="ada")
    get_job(store, job.id).progress      # stage, done, total, as the worker last wrote them
    request_cancel(store, job.id)        # a queued job stops at once, a running one at its next report
    Worker(store).serve()                # what `curation jobs worker` and the app's thread run

At most one queued-or-running job of a step per project, enforced by the store. Steps are
registered in `curation.jobs.builtin` (`registry`); dedup is the first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from curation.errors import Cancelled, JobError
from curation.jobs.registry import JobRegistry, JobRunner, JobStep, registry
from curation.jobs.worker import JobProgress, Worker, describe_failure
from curation.store import Store
from curation.store.jobs import STALE_AFTER, Job, JobStore, WorkerIdentity, process_alive


def submit(
    store: Store,
    project: str,
    step: str,
    params: Mapping[str, Any] | None = None,
    *,
    author: str,
    steps: JobRegistry = registry,
) -> Job:
    """Queue a job of a registered step, its parameters checked first.

    Raises `JobError` when the step is unknown or a job of it is already queued or running for
    the project, and the step's own `CurationError` for bad parameters.
    """
    checked = steps.get(step).check_params(params or {})
    return JobStore(store).submit(project, step, checked, author)


def get_job(store: Store, job_id: int) -> Job:
    """The job by id (`NotFoundError` when there is none)."""
    return JobStore(store).get(job_id)


def list_jobs(
    store: Store,
    project: str | None = None,
    *,
    step: str | None = None,
    states: Sequence[str] | None = None,
    limit: int = 100,
) -> list[Job]:
    """Jobs newest first, of one project (or all), one step and some states if given."""
    return JobStore(store).find(project, step=step, states=states, limit=limit)


def active_job(store: Store, project: str, step: str) -> Job | None:
    """The project's queued or running job of `step`, if any."""
    return JobStore(store).active(project, step)


def request_cancel(store: Store, job_id: int) -> Job:
    """Cancel a queued job, or ask a running one to stop; `JobError` once it has finished."""
    return JobStore(store).request_cancel(job_id)


def recover_stale_jobs(store: Store) -> list[int]:
    """Mark failed the running jobs whose worker stopped; their ids (see `JobStore.recover_stale`)."""
    return JobStore(store).recover_stale()


from curation.jobs import builtin  # noqa: E402,F401  - registers the shipped steps

__all__ = [
    "STALE_AFTER",
    "Cancelled",
    "Job",
    "JobError",
    "JobProgress",
    "JobRegistry",
    "JobRunner",
    "JobStep",
    "JobStore",
    "Worker",
    "WorkerIdentity",
    "active_job",
    "describe_failure",
    "get_job",
    "list_jobs",
    "process_alive",
    "recover_stale_jobs",
    "registry",
    "request_cancel",
    "submit",
]
