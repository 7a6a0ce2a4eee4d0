"""The worker: claims queued jobs one at a time, runs their step, records progress and outcome.

One loop, in a thread of the app's process (`ui/jobs.py`) or in `curation jobs worker`. At start
(and every `recover_every` seconds) it marks failed the jobs whose worker died mid-run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.exc import DBAPIError, StatementError

from curation.errors import Cancelled, CurationError
from curation.jobs.registry import JobRegistry, registry
from curation.progress import ProgressUpdate
from curation.store import Store
from curation.store.db import describe_db_error
from curation.store.jobs import STALE_AFTER, Job, JobStore, WorkerIdentity

log = logging.getLogger(__name__)

PROGRESS_EVERY = 0.5  # seconds between progress writes of one job (a stage change always writes)
HEARTBEAT_EVERY = 10.0  # seconds between heartbeats while a step runs without reporting
POLL_EVERY = 2.0  # seconds an idle worker waits before looking for queued jobs again
RECOVER_EVERY = 60.0  # seconds between two looks for jobs whose worker died


def describe_failure(exc: BaseException, store: Store) -> str:
    """The message a failed job keeps: what went wrong, never SQL parameters or passwords."""
    if isinstance(exc, CurationError):
        return str(exc)
    if isinstance(exc, DBAPIError):
        return str(describe_db_error(exc, store.url))
    if isinstance(exc, StatementError):
        return "The database could not store a value; nothing was saved."
    first = (str(exc).strip().splitlines() or [""])[0][:500]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class JobProgress:
    """The `ProgressFn` a running job's step reports to.

    Writes the job's progress at most every `every` seconds (and whenever a stage starts or
    ends), reads
    back whether a cancel was asked for, and raises `Cancelled` at the first report after that.
    """

    def __init__(self, jobs: JobStore, job_id: int, *, every: float = PROGRESS_EVERY) -> None:
        self.jobs = jobs
        self.job_id = job_id
        self.every = every
        self.stop_asked = False
        self._stage: str | None = None
        self._written = 0.0

    def __call__(self, update: ProgressUpdate) -> None:
        now = time.monotonic()
        ends_stage = update.total is not None and update.done >= update.total
        if update.stage != self._stage or ends_stage or now - self._written >= self.every:
            self._stage = update.stage
            self._written = now
            if self.jobs.report_progress(self.job_id, update):
                self.stop_asked = True
        if self.stop_asked:
            raise Cancelled(f"job {self.job_id} was cancelled")

    def should_cancel(self) -> bool:
        """For steps that poll: whether a cancel was seen (by a report or a heartbeat)."""
        return self.stop_asked


class Worker:
    """Runs queued jobs of the registered steps against one store.

    Parameters
    ----------
    store:
        The store whose jobs table is worked.
    label:
        Names the worker in the jobs table beside host and process id (``app``, ``cli``).
    steps:
        The registry of job steps; jobs of steps it does not know are left queued (another
        worker, started with them registered, may run them).
    """

    def __init__(
        self,
        store: Store,
        *,
        label: str = "worker",
        steps: JobRegistry = registry,
        poll_every: float = POLL_EVERY,
        progress_every: float = PROGRESS_EVERY,
        heartbeat_every: float = HEARTBEAT_EVERY,
        stale_after: timedelta = STALE_AFTER,
        recover_every: float = RECOVER_EVERY,
    ) -> None:
        self.store = store
        self.jobs = JobStore(store)
        self.steps = steps
        self.identity = WorkerIdentity.this_process(label)
        self.poll_every = poll_every
        self.progress_every = progress_every
        self.heartbeat_every = heartbeat_every
        self.stale_after = stale_after
        self.recover_every = recover_every
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # ---- one job ------------------------------------------------------------------------

    def recover(self) -> list[int]:
        """Mark failed the running jobs whose worker is gone (see `JobStore.recover_stale`)."""
        failed = self.jobs.recover_stale(stale_after=self.stale_after)
        for job_id in failed:
            log.warning("job %s: its worker stopped; marked failed", job_id)
        return failed

    def run_once(self) -> Job | None:
        """Claim the oldest queued job and run it; the job as it finished, None when idle."""
        job = self.jobs.claim_next(self.identity, self.steps.names())
        if job is None:
            return None
        self.run_claimed(job)
        return self.jobs.get(job.id)

    def run_pending(self) -> int:
        """Run queued jobs until none is left (or `stop` was called); how many ran."""
        n = 0
        while not self._stop.is_set() and self.run_once() is not None:
            n += 1
        return n

    def run_claimed(self, job: Job) -> None:
        """Run a job this worker claimed, and record how it ended."""
        step = self.steps.get(job.step)
        reporter = JobProgress(self.jobs, job.id, every=self.progress_every)
        beating = threading.Event()
        beat = threading.Thread(
            target=self._heartbeat,
            args=(job.id, reporter, beating),
            name=f"curation-job-{job.id}-heartbeat",
            daemon=True,
        )
        beat.start()
        state, result, error = "done", None, None
        log.info("job %s: %s on %s by %s started", job.id, job.step, job.project, job.author)
        try:
            reporter(ProgressUpdate("starting", 0, None))
            result = step.run(
                self.store,
                job.project,
                dict(job.params),
                reporter,
                reporter.should_cancel,
                author=job.author,
            )
        except Cancelled:
            state = "cancelled"
        except KeyboardInterrupt:  # `curation jobs worker` stopped by Ctrl-C mid-job
            self.jobs.finish(job.id, "failed", error="worker stopped: interrupted; run it again.")
            raise
        except Exception as exc:  # the job fails; the worker goes on with the next one
            log.exception("job %s (%s on %s) failed", job.id, job.step, job.project)
            state, error = "failed", describe_failure(exc, self.store)
        finally:
            beating.set()
            beat.join(timeout=5)
        if self.jobs.finish(job.id, state, result=result, error=error):
            log.info("job %s: %s", job.id, state if error is None else f"{state}: {error}")
        else:
            log.warning("job %s was no longer running when it ended %s", job.id, state)

    def _heartbeat(self, job_id: int, reporter: JobProgress, done: threading.Event) -> None:
        # a step may go long without reporting (a model load): keep the job looking alive
        while not done.wait(self.heartbeat_every):
            try:
                if self.jobs.heartbeat(job_id):
                    reporter.stop_asked = True
            except CurationError:
                log.warning("job %s: heartbeat failed", job_id, exc_info=True)

    # ---- the loop -----------------------------------------------------------------------

    def serve(self, *, until: Callable[[], bool] | None = None) -> None:
        """Recover, then run jobs as they are queued until `stop` (or `until()` is true)."""
        last_recovery = float("-inf")
        while not self._stop.is_set() and not (until and until()):
            try:
                if time.monotonic() - last_recovery >= self.recover_every:
                    self.recover()
                    last_recovery = time.monotonic()
                self.run_pending()
            except Exception:  # the database is away for a moment, or a bug: keep serving
                log.exception("job worker: looking for or recording jobs failed; retrying")
            self._wake.wait(self.poll_every)
            self._wake.clear()

    def start(self) -> Worker:
        """Serve in a daemon thread (once; later calls do nothing while it runs)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self.serve, name=f"curation-jobs-{self.identity.label}", daemon=True
                )
                self._thread.start()
        return self

    def wake(self) -> None:
        """Look for queued jobs now rather than at the next poll (after a submit)."""
        self._wake.set()

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop after the current job; wait up to `timeout` seconds for the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __repr__(self) -> str:
        return f"Worker({self.identity.name!r}, {self.store!r})"


__all__ = ["JobProgress", "Worker", "describe_failure"]
