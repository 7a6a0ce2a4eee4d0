"""The app's job worker (one thread per server process, outliving every script run and tab) and
the panel a page shows while its job runs: progress, a Cancel button, refreshed every second.
"""

from __future__ import annotations

import os
from typing import Any

import streamlit as st

from curation.errors import CurationError
from curation.jobs import Job, Worker, active_job, get_job, request_cancel, submit
from curation.store import default_db_url
from ui import state
from ui.progress import describe
from ui.safe import esc, md

APP_WORKER_ENV = "CURATION_APP_WORKER"  # "0": no worker thread in the app (a CLI worker runs jobs)
REFRESH_SECONDS = 1.0  # how often a job's panel reads its progress again


@st.cache_resource(show_spinner=False)
def _worker(url: str) -> Worker:
    # cache_resource: one worker per process and database, not per session or script run, so a
    # job goes on when its page is left, reloaded or closed. Clearing the cache starts a second
    # thread beside the first; claims are atomic, so they never run one job twice.
    return Worker(state.get_store(), label="app").start()


def app_worker() -> Worker | None:
    """The app's worker thread, started on first use; None when `CURATION_APP_WORKER=0`."""
    if os.environ.get(APP_WORKER_ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    return _worker(default_db_url())


def submit_job(project: str, step: str, params: dict[str, Any], author: str) -> Job:
    """Queue a job and wake the app's worker; `CurationError` when refused (one is running)."""
    job = submit(state.get_store(), project, step, params, author=author)
    worker = app_worker()
    if worker is not None:
        worker.wake()
    return job


def watch_job(project: str, step: str, key: str) -> tuple[Job | None, Job | None]:
    """The project's active job of `step` (every session sees it), and the job this session
    started (its id under `key` in session state) once it has ended, else None; an ended job's
    id is cleared, so a page shows its result once."""
    store = state.get_store()
    active = active_job(store, project, step)
    watched = st.session_state.get(key)
    if watched is None or (active is not None and active.id == watched):
        return active, None
    st.session_state[key] = None
    try:
        return active, get_job(store, watched)
    except CurationError:  # gone with its project: nothing to show
        return active, None


def _describe(job: Job) -> str:
    p = job.progress
    if job.state == "queued":
        waiting = "" if app_worker() else " (start one with `curation jobs worker`)"
        return "Queued: waiting for a worker" + waiting
    return describe(p)


@st.fragment(run_every=REFRESH_SECONDS)
def job_progress(job_id: int, *, key: str) -> None:
    """A running job's progress bar and Cancel button; reruns the page once the job ends."""
    job = get_job(state.get_store(), job_id)
    if not job.active:
        st.rerun()  # the whole page: it shows the result
    st.progress(job.progress.fraction or 0.0, text=_describe(job))
    if job.cancel_requested:
        st.caption("Cancelling: the job stops at its next progress report.")
        return
    st.caption(
        md(
            "Job {} by {}: it keeps running if you switch page, reload or close the tab.",
            job.id,
            job.author,
        )
    )
    if st.button("Cancel", key=f"{key}_cancel", icon=":material/cancel:"):
        try:
            request_cancel(state.get_store(), job_id)
        except CurationError as exc:
            st.error(esc(exc))
        st.rerun(scope="fragment")


def finished_message(job: Job, what: str, *, kept: str = "nothing was saved") -> None:
    """What became of a finished job the user started: an error, or a note that it was cancelled
    (`kept` says what a cancel leaves: most steps save once at the end, so nothing)."""
    if job.state == "failed":
        st.error(md("The {} job {} failed: {}", what, job.id, job.error or "unknown error"))
    elif job.state == "cancelled":
        st.info(md("The {} job {} was cancelled; {}.", what, job.id, kept))
