"""Waiting for background jobs in AppTests: the app's worker thread runs them beside the test."""

from __future__ import annotations

import time
from typing import Any

from curation.jobs import list_jobs
from curation.store import Store

ACTIVE = ("queued", "running")


def wait_for_jobs(store: Store, project: str = "p", *, timeout: float = 60) -> None:
    """Return once the project has no queued or running job; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while active := list_jobs(store, project, states=ACTIVE):
        assert time.monotonic() < deadline, f"jobs still active after {timeout} s: {active}"
        time.sleep(0.05)


def finish_jobs(at: Any, store: Store, project: str = "p", *, timeout: float = 60) -> None:
    """Wait for the project's jobs, then rerun the page as its refresh would."""
    wait_for_jobs(store, project, timeout=timeout)
    at.run(timeout=timeout)
    assert not at.exception, at.exception
