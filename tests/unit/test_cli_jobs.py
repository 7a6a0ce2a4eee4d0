"""`curation jobs list|cancel|worker` on a real store; the worker also as a separate process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curation.cli import main
from curation.dedup.project import load_run
from curation.jobs import JobStore, WorkerIdentity, get_job, submit
from curation.store import Store
from tests.unit.store_helpers import seed_project

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'jobs.db'}"


def test_list_and_cancel(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = Store(url)
    seed_project(store, tmp_path, 3)
    job = submit(store, "p", "dedup", {"method": "exact"}, author="ada")
    assert main(["jobs", "list", "--db", url]) == 0
    out = capsys.readouterr().out
    assert f"{job.id:>5}  queued" in out and "dedup" in out and "by ada" in out

    assert main(["jobs", "cancel", str(job.id), "--db", url]) == 0
    assert f"job {job.id}: cancelled" in capsys.readouterr().out
    assert get_job(store, job.id).state == "cancelled"
    assert main(["jobs", "cancel", str(job.id), "--db", url]) == 2
    assert "has already finished (cancelled)" in capsys.readouterr().err

    assert main(["jobs", "list", "--db", url, "--state", "queued", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["jobs"] == []
    assert main(["jobs", "list", "--db", url, "--project", "p", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)["jobs"]
    assert (listed["id"], listed["state"]) == (job.id, "cancelled")
    assert listed["params"]["method"] == "exact"
    store.dispose()


def test_worker_once_recovers_then_runs_what_is_queued(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(url)
    seed_project(store, tmp_path, 4)
    seed_project(store, tmp_path, 4, project="q")
    orphan = submit(store, "q", "dedup", {"method": "exact"}, author="ada")
    gone = WorkerIdentity(socket.gethostname(), 2**22 + 12345, "gone")  # no such process
    assert JobStore(store).claim_next(gone, ["dedup"]) is not None
    queued = submit(store, "p", "dedup", {"method": "near"}, author="bo")

    assert main(["jobs", "worker", "--once", "--quiet", "--db", url]) == 0
    assert "recovered 1 job(s) whose worker had stopped; ran 1 job(s)" in capsys.readouterr().out
    assert get_job(store, orphan.id).state == "failed"
    done = get_job(store, queued.id)
    assert done.state == "done"
    run = load_run(store, "p")
    assert run is not None and done.result and done.result["run_id"] == run.run_id
    assert run.author == "bo" and run.method == "near"
    store.dispose()


def test_worker_process_runs_jobs_as_they_come_and_stops_on_sigterm(
    url: str, tmp_path: Path
) -> None:
    store = Store(url)
    seed_project(store, tmp_path, 4)
    proc = subprocess.Popen(
        [sys.executable, "-m", "curation.cli", "jobs", "worker", "--db", url, "--poll", "0.1"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        job = submit(store, "p", "dedup", {"method": "exact"}, author="ada")
        deadline = time.monotonic() + 120
        while get_job(store, job.id).active:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        finished = get_job(store, job.id)
        assert finished.state == "done" and finished.worker_pid == proc.pid
        assert finished.worker and finished.worker.endswith(":cli")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert b"recovered 0 job(s)" in out
    assert f"job {job.id}: done".encode() in err  # the worker's log line
    store.dispose()
