"""Background jobs on a real SQLite file and a real PostgreSQL database: one active job per step
and project, atomic claims, progress, cancel, failures, and recovery after a killed worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from curation.dedup.project import load_run
from curation.errors import JobError, NotFoundError
from curation.jobs import (
    Job,
    JobStore,
    Worker,
    WorkerIdentity,
    get_job,
    list_jobs,
    request_cancel,
    submit,
)
from curation.store import ExampleFilter, Store
from tests.unit.jobs_helpers import SLOW, steps_for_tests
from tests.unit.store_helpers import N_WRITERS, attempt, run_threads, seed_project

pytestmark = pytest.mark.timeout(300)
REPO = Path(__file__).resolve().parents[2]
STEPS = steps_for_tests()


@pytest.fixture()
def store(db_url: str) -> Iterator[Store]:
    st = Store(db_url)
    yield st
    st.dispose()


def _submit(store: Store, step: str = SLOW, project: str = "p", **params: object) -> Job:
    return submit(store, project, step, params, author="ada", steps=STEPS)


def _wait(store: Store, job_id: int, ok: Callable[[Job], bool], timeout: float = 60) -> Job:
    deadline = time.monotonic() + timeout
    while True:
        job = get_job(store, job_id)
        if ok(job):
            return job
        assert time.monotonic() < deadline, f"job {job_id} stayed {job.state} at {job.progress}"
        time.sleep(0.02)


# ---- one active job of a step per project -------------------------------------------------


def test_one_queued_or_running_job_per_step_and_project(store: Store, tmp_path: Path) -> None:
    seed_project(store, tmp_path, 3)
    seed_project(store, tmp_path, 3, project="q")
    first = _submit(store)
    assert (first.state, first.project, first.step, first.author) == ("queued", "p", SLOW, "ada")
    with pytest.raises(JobError, match="A slow job is already running for p"):
        _submit(store)
    other_project = _submit(store, project="q")
    other_step = _submit(store, "dedup", method="exact")
    assert other_project.state == other_step.state == "queued"

    worker = Worker(store, steps=STEPS, progress_every=0)
    claimed = JobStore(store).claim_next(worker.identity, [SLOW])
    assert claimed is not None and claimed.id == first.id and claimed.state == "running"
    with pytest.raises(JobError, match="already running for p"):  # running blocks too
        _submit(store)
    worker.run_claimed(claimed)
    assert get_job(store, first.id).state == "done"
    again = _submit(store)  # finished jobs are history: the step is free again
    assert again.id > first.id
    assert [j.id for j in list_jobs(store, "p", step=SLOW)] == [again.id, first.id]


def test_eight_threads_submitting_at_once_get_exactly_one_job(store: Store, tmp_path: Path) -> None:
    seed_project(store, tmp_path, 3)
    barrier = threading.Barrier(N_WRITERS)

    def work(i: int) -> object:
        barrier.wait()
        return attempt(lambda: submit(store, "p", SLOW, {"n": i}, author=f"w{i}", steps=STEPS))

    outcomes = run_threads(N_WRITERS, work)
    accepted = [o.value for o in outcomes if o.ok]
    refused = [o.error for o in outcomes if not o.ok]
    assert len(accepted) == 1, outcomes
    assert len(refused) == N_WRITERS - 1
    assert all(isinstance(e, JobError) and "already running for p" in str(e) for e in refused), (
        refused
    )
    assert [j.id for j in list_jobs(store, "p")] == [accepted[0].id]


def test_a_queued_job_is_claimed_by_exactly_one_of_eight_workers(
    store: Store, tmp_path: Path
) -> None:
    seed_project(store, tmp_path, 3)
    job = _submit(store)
    jobs = JobStore(store)
    barrier = threading.Barrier(N_WRITERS)

    def work(i: int) -> Job | None:
        barrier.wait()
        return jobs.claim_next(WorkerIdentity("host", 1000 + i, f"w{i}"), [SLOW])

    claims = [c for c in run_threads(N_WRITERS, work) if c is not None]
    assert [c.id for c in claims] == [job.id]
    stored = get_job(store, job.id)
    assert stored.state == "running" and stored.worker == claims[0].worker


def test_four_workers_share_twelve_jobs_each_run_once(store: Store, tmp_path: Path) -> None:
    projects = [f"p{k}" for k in range(12)]
    for name in projects:
        store.ensure_project(name, "ada")
        _submit(store, project=name, steps=1, sleep=0)
    workers = [Worker(store, label=f"w{i}", steps=STEPS, progress_every=0) for i in range(4)]
    barrier = threading.Barrier(len(workers))

    def work(i: int) -> int:
        barrier.wait()
        return workers[i].run_pending()

    assert sum(run_threads(len(workers), work)) == 12
    runs = [store.step_runs(name, SLOW) for name in projects]
    assert [len(r) for r in runs] == [1] * 12  # no job ran twice
    assert {j.state for j in list_jobs(store)} == {"done"}


def test_unknown_step_and_bad_parameters_are_refused_at_submit(
    store: Store, tmp_path: Path
) -> None:
    seed_project(store, tmp_path, 3)
    with pytest.raises(
        JobError, match="Unknown job step 'nope'; known steps: dedup, failing, slow"
    ):
        _submit(store, "nope")
    with pytest.raises(JobError, match="Unknown dedup method 'fuzzy'"):
        _submit(store, "dedup", method="fuzzy")
    with pytest.raises(JobError, match=r"threshold is in \(0, 1\], not 1.5"):
        _submit(store, "dedup", threshold=1.5)
    with pytest.raises(NotFoundError, match="No project named 'ghost'"):
        _submit(store, project="ghost")
    assert list_jobs(store) == []


# ---- running, progress, cancel, failure ---------------------------------------------------


def test_dedup_job_saves_the_run_and_records_it_as_the_result(store: Store, tmp_path: Path) -> None:
    from curation.formats import read_examples

    path = tmp_path / "dups.jsonl"
    path.write_text(
        '{"id": "a", "instruction": "Boil an egg?", "output": "Nine minutes."}\n'
        '{"id": "b", "instruction": "boil an EGG?", "output": "Nine minutes!"}\n'
        '{"id": "c", "instruction": "Capital of Peru?", "output": "Lima."}\n'
    )
    store.create_project("p", "ada")
    store.add_import("p", read_examples(path), "ada")
    job = submit(store, "p", "dedup", {"method": "exact"}, author="bo")
    assert job.params == {"method": "exact", "threshold": None, "fields": "all", "backend": "auto"}
    finished = Worker(store, progress_every=0).run_once()
    assert finished is not None and finished.id == job.id
    assert finished.state == "done", finished.error
    run = load_run(store, "p")
    assert run is not None and run.author == "bo"
    assert finished.result == {
        "step": "dedup",
        "run_id": run.run_id,
        "n_clusters": 1,
        "n_duplicates": 1,
    }
    assert [sorted(c.members) for c in run.clusters] == [["a", "b"]]
    assert finished.stage and finished.started_at and finished.finished_at
    assert finished.finished_at >= finished.started_at >= finished.created_at


def test_progress_is_written_while_the_job_runs(store: Store, tmp_path: Path) -> None:
    seed_project(store, tmp_path, 3)
    job = _submit(store, steps=200, sleep=0.01)
    worker = Worker(store, steps=STEPS, progress_every=0.05, poll_every=0.05).start()
    try:
        seen = _wait(store, job.id, lambda j: j.state == "running" and 0 < j.done < 200)
        assert (seen.stage, seen.total) == ("counting", 200)
        assert seen.progress.fraction is not None and 0 < seen.progress.fraction < 1
        done = _wait(store, job.id, lambda j: not j.active)
    finally:
        worker.stop()
    assert done.state == "done" and done.done == 200 and done.result["counted"] == 200  # type: ignore[index]


def test_cancel_a_queued_job_stops_it_before_it_runs(store: Store, tmp_path: Path) -> None:
    seed_project(store, tmp_path, 3)
    job = _submit(store)
    cancelled = request_cancel(store, job.id)
    assert cancelled.state == "cancelled" and cancelled.finished_at is not None
    assert Worker(store, steps=STEPS).run_once() is None  # nothing left to run
    assert store.step_runs("p", SLOW) == []
    with pytest.raises(JobError, match=f"Job {job.id} has already finished \\(cancelled\\)"):
        request_cancel(store, job.id)
    assert _submit(store).state == "queued"  # a cancelled job frees the step


def test_cancel_a_running_job_stops_it_at_its_next_report_and_saves_nothing(
    store: Store, tmp_path: Path
) -> None:
    ids = seed_project(store, tmp_path, 3)
    events_before = len(store.events("p"))
    job = _submit(store, steps=100_000, sleep=0.001)
    worker = Worker(store, steps=STEPS, progress_every=0.02, poll_every=0.05).start()
    try:
        _wait(store, job.id, lambda j: j.state == "running" and j.done > 0)
        asked = request_cancel(store, job.id)
        assert asked.state == "running" and asked.cancel_requested
        ended = _wait(store, job.id, lambda j: not j.active, timeout=20)
    finally:
        worker.stop()
    assert ended.state == "cancelled" and ended.result is None and ended.error is None
    assert ended.done < 100_000
    assert store.step_runs("p", SLOW) == []  # the step's one write never happened
    assert len(store.events("p")) == events_before
    assert set(store.statuses("p", ids).values()) == {"active"}


def test_a_failing_step_is_recorded_without_sql_parameters(store: Store, tmp_path: Path) -> None:
    seed_project(store, tmp_path, 3)
    worker = Worker(store, steps=STEPS, progress_every=0)
    sql = _submit(store, "failing", how="sql")
    failed = worker.run_once()
    assert failed is not None and failed.id == sql.id and failed.state == "failed"
    assert "no_such_table" in (failed.error or "") or "does not exist" in (failed.error or "")
    assert "hunter2" not in (failed.error or "")
    plain = _submit(store, "failing", how="value")
    failed = worker.run_once()
    assert failed is not None and failed.id == plain.id
    assert failed.error == "ValueError: the step broke on purpose"
    # the worker goes on: the next job runs
    ok = _submit(store, steps=2, sleep=0)
    assert (worker.run_once() or ok).state == "done"


# ---- recovery -------------------------------------------------------------------------------


def test_a_stale_heartbeat_from_another_machine_marks_the_job_failed(
    store: Store, tmp_path: Path
) -> None:
    seed_project(store, tmp_path, 3)
    seed_project(store, tmp_path, 3, project="q")
    jobs = JobStore(store)
    stale, fresh = _submit(store), _submit(store, project="q")
    elsewhere = WorkerIdentity("another-host", os.getpid(), "w")
    assert jobs.claim_next(elsewhere, [SLOW]) is not None
    assert jobs.claim_next(elsewhere, [SLOW]) is not None
    later = get_job(store, fresh.id).heartbeat_at + timedelta(seconds=90)  # type: ignore[operator]
    jobs.report_progress(fresh.id, get_job(store, fresh.id).progress)  # fresh beats again
    jobs.heartbeat(fresh.id)
    # only `stale` has gone past the limit by `later`: move its heartbeat back
    from sqlalchemy import update

    from curation.store import schema as s

    with store.engine.begin() as conn:
        conn.execute(
            update(s.jobs)
            .where(s.jobs.c.id == stale.id)
            .values(heartbeat_at=later - timedelta(seconds=500))
        )
    assert jobs.recover_stale(stale_after=timedelta(seconds=120), now=later) == [stale.id]
    failed = get_job(store, stale.id)
    assert failed.state == "failed" and "worker stopped: no heartbeat since" in (failed.error or "")
    assert get_job(store, fresh.id).state == "running"


def _start_worker_process(url: str, home: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    log = open(home / "worker.log", "wb")  # noqa: SIM115 - the process holds it
    return subprocess.Popen(
        [sys.executable, "-m", "tests.unit.jobs_helpers", url],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def test_a_killed_worker_leaves_a_failed_job_and_a_consistent_store(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    ids = seed_project(store, tmp_path, 5)
    events_before = [e["id"] for e in store.events("p", limit=1000)]
    job = _submit(store, steps=10_000, sleep=0.01)
    proc = _start_worker_process(db_url, tmp_path)
    try:
        running = _wait(store, job.id, lambda j: j.state == "running" and j.done >= 5, timeout=120)
        assert running.worker_pid == proc.pid
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert get_job(store, job.id).state == "running"  # nobody has noticed yet

    recovered = Worker(store, steps=STEPS).recover()  # what a worker does when it starts
    assert recovered == [job.id]
    failed = get_job(store, job.id)
    assert failed.state == "failed" and failed.finished_at is not None
    assert f"worker stopped: process {proc.pid}" in (failed.error or "")
    # consistent: the step's single write never happened, nothing else moved
    assert store.step_runs("p", SLOW) == []
    assert [e["id"] for e in store.events("p", limit=1000)] == events_before
    assert set(store.statuses("p", ids).values()) == {"active"}
    assert store.count_examples("p", ExampleFilter(statuses=["active"])) == 5
    # and the step is free again: the next job runs to the end
    again = _submit(store, steps=3, sleep=0)
    assert (Worker(store, steps=STEPS, progress_every=0).run_once() or again).state == "done"
    assert len(store.step_runs("p", SLOW)) == 1


def test_the_heartbeat_keeps_a_quiet_job_from_being_taken_for_dead(
    store: Store, tmp_path: Path
) -> None:
    seed_project(store, tmp_path, 3)
    job = _submit(store, steps=1, sleep=1.5)  # reports once, then is silent for 1.5 s
    worker = Worker(store, steps=STEPS, heartbeat_every=0.05, poll_every=0.05).start()
    try:
        _wait(store, job.id, lambda j: j.state == "running" and j.stage == "counting")
        time.sleep(0.8)  # longer than the limit below, with no progress report in between
        assert JobStore(store).recover_stale(stale_after=timedelta(seconds=0.5)) == []
        assert get_job(store, job.id).state == "running"
        ended = _wait(store, job.id, lambda j: not j.active)
    finally:
        worker.stop()
    assert ended.state == "done"
