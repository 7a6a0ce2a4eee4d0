"""AppTest of dedup as a background job: it finishes while the user is on another page, shows
progress and a Cancel button meanwhile, and its result (or its failure) when the user returns.

The app's own worker thread runs the jobs; a gate holds the dedup step until the test opens it,
so "finished while the user was elsewhere" is what happens, not a race the test may win.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from curation.dedup.project import load_run
from curation.jobs import JobStep, JobStore, WorkerIdentity, active_job, get_job, registry, submit
from curation.progress import ProgressFn, ProgressUpdate
from curation.store import Store
from tests.app.markup import shown
from tests.app.test_dedup_page import PAGE, _project
from tests.app.waiting import wait_for_jobs

BROWSE = "pages/browse_page.py"


@pytest.fixture()
def gate() -> Iterator[threading.Event]:
    """Holds every dedup job at a "waiting" stage (reporting progress) until set."""
    real = registry.get("dedup")
    opened = threading.Event()

    def gated(
        store: Store,
        project: str,
        params: dict[str, Any],
        progress: ProgressFn,
        should_cancel: Callable[[], bool],
        *,
        author: str,
    ) -> dict[str, Any] | None:
        while not opened.wait(0.02):
            progress(ProgressUpdate("waiting for the test", 0, None))
        return real.run(store, project, params, progress, should_cancel, author=author)

    registry.register(JobStep("dedup", gated, real.check_params, real.title), replace=True)
    yield opened
    opened.set()
    registry.register(real, replace=True)


def _running(store: Store, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while True:
        job = active_job(store, "p", "dedup")
        if job is not None and job.state == "running" and job.stage == "waiting for the test":
            return job.id
        assert time.monotonic() < deadline, f"no running dedup job: {job}"
        time.sleep(0.02)


def _start_exact(at: Any, store: Store) -> int:
    at.radio(key="dedup_method").set_value("exact")
    at.button(key="dedup_find").click().run()
    assert not at.exception, at.exception
    job_id = _running(store)
    at.run()
    return job_id


def test_a_job_started_here_finishes_on_another_page_and_shows_on_return(
    open_page, store: Store, tmp_path: Path, gate: threading.Event
) -> None:
    _project(store, tmp_path)
    at = open_page(PAGE)
    job_id = _start_exact(at, store)
    # while it runs: a progress bar with the stage, a Cancel button, no second run
    bars = at.get("progress")
    assert bars and "waiting for the test" in bars[0].proto.text
    assert at.button(key="dedup_job_cancel")
    assert at.button(key="dedup_find").disabled
    assert any(
        shown(c.value).startswith(f"Job {job_id} by ada: it keeps running") for c in at.caption
    )

    at.switch_page(BROWSE).run()  # the user leaves the page
    assert not at.exception, at.exception
    assert any(t.value == "Browse" for t in at.title)
    gate.set()
    wait_for_jobs(store)
    done = get_job(store, job_id)
    assert done.state == "done", done.error  # finished while the user was on Browse
    run = load_run(store, "p")
    assert run is not None and done.result and done.result["run_id"] == run.run_id

    at.switch_page(PAGE).run()  # back: the result is there
    assert not at.exception, at.exception
    summary = next(m.value for m in at.markdown if m.value.startswith("**Run"))
    assert summary.startswith(f"**Run {run.run_id}**: exact")
    assert list(at.dataframe[0].value["size"]) == [3, 2]
    assert not at.get("progress")
    assert not at.button(key="dedup_find").disabled
    assert any("Found 2 clusters" in t.value for t in at.toast)


def test_cancel_from_the_page_stops_the_job_and_saves_no_run(
    open_page, store: Store, tmp_path: Path, gate: threading.Event
) -> None:
    _project(store, tmp_path)
    at = open_page(PAGE)
    job_id = _start_exact(at, store)
    at.button(key="dedup_job_cancel").click().run()
    assert get_job(store, job_id).cancel_requested
    wait_for_jobs(store)
    at.run()
    assert get_job(store, job_id).state == "cancelled"
    assert any(f"job {job_id} was cancelled; nothing was saved" in shown(i.value) for i in at.info)
    assert load_run(store, "p") is None
    assert not at.button(key="dedup_find").disabled


def test_another_session_sees_the_running_job_and_cannot_start_a_second(
    open_page, store: Store, tmp_path: Path, gate: threading.Event
) -> None:
    _project(store, tmp_path)
    first = open_page(PAGE)
    job_id = _start_exact(first, store)
    second = open_page(PAGE, user="bo")  # another person, another tab
    assert second.button(key="dedup_find").disabled
    assert second.get("progress")
    assert any(shown(c.value).startswith(f"Job {job_id} by ada") for c in second.caption)
    gate.set()
    wait_for_jobs(store)
    assert [r.run_id for r in [load_run(store, "p")] if r] and get_job(
        store, job_id
    ).state == "done"


def test_a_job_whose_worker_died_is_reported_on_the_page(
    open_page, store: Store, tmp_path: Path
) -> None:
    _project(store, tmp_path)
    job = submit(store, "p", "dedup", {"method": "exact"}, author="ada")
    jobs = JobStore(store)
    assert jobs.claim_next(WorkerIdentity(socket.gethostname(), 999_999, "gone"), ["dedup"])
    assert jobs.recover_stale(alive=lambda pid: False) == [job.id]
    at = open_page(PAGE)
    warning = next(shown(w.value) for w in at.warning if "failed" in w.value)
    assert f"The last dedup job ({job.id} by ada) failed: worker stopped: process 999999" in warning
    assert not at.button(key="dedup_find").disabled  # the step is free again


def test_a_job_goes_on_when_its_session_is_gone(
    open_page, store: Store, tmp_path: Path, gate: threading.Event
) -> None:
    _project(store, tmp_path)
    at = open_page(PAGE)
    job_id = _start_exact(at, store)
    del at  # the tab is closed: no session, no script run
    gate.set()
    wait_for_jobs(store)
    assert get_job(store, job_id).state == "done"
    later = open_page(PAGE, user="bo")  # whoever opens the page next sees the run
    run = load_run(store, "p")
    assert run is not None
    summary = next(m.value for m in later.markdown if m.value.startswith("**Run"))
    assert summary.startswith(f"**Run {run.run_id}**: exact")
