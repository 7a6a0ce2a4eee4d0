"""Job steps for the jobs tests: a slow step that reports often and saves once at the end, a
failing one, and `serve` to run a worker with them in a subprocess (the killed-worker test).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from curation.jobs import JobRegistry, JobStep, Worker, registry
from curation.progress import ProgressFn, ProgressUpdate
from curation.store import Store

SLOW = "slow"


def run_slow(
    store: Store,
    project: str,
    params: dict[str, Any],
    progress: ProgressFn,
    should_cancel: Callable[[], bool],
    *,
    author: str,
) -> dict[str, Any]:
    """Count to ``steps``, sleeping ``sleep`` s a step; then save ONE step run (one transaction)."""
    steps, pause = int(params.get("steps", 10)), float(params.get("sleep", 0.01))
    for i in range(steps):
        progress(ProgressUpdate("counting", i, steps))
        time.sleep(pause)
    progress(ProgressUpdate("counting", steps, steps))
    run_id = store.save_step_run(project, SLOW, dict(params), {"counted": steps}, {}, author)
    return {"run_id": run_id, "counted": steps}


def run_failing(
    store: Store,
    project: str,
    params: dict[str, Any],
    progress: ProgressFn,
    should_cancel: Callable[[], bool],
    *,
    author: str,
) -> dict[str, Any]:
    """Fail the way `params["how"]` says: a raw driver error carrying a secret, or a ValueError."""
    from sqlalchemy import text

    progress(ProgressUpdate("failing", 0, 1))
    if params.get("how") == "sql":
        with store.engine.connect() as conn:  # not through the store: a raw DBAPIError
            conn.execute(text("SELECT * FROM no_such_table WHERE x = :v"), {"v": "hunter2-secret"})
    raise ValueError("the step broke on purpose")


def steps_for_tests() -> JobRegistry:
    """A registry with the shipped steps plus the test steps."""
    steps = JobRegistry()
    steps.register(registry.get("dedup"))
    steps.register(JobStep(SLOW, run_slow, title="Slow test step"))
    steps.register(JobStep("failing", run_failing, title="Failing test step"))
    return steps


def serve(url: str) -> None:
    """Run a worker with the test steps until killed (used as a subprocess)."""
    worker = Worker(Store(url), label="subprocess", steps=steps_for_tests(), poll_every=0.05)
    worker.serve()


if __name__ == "__main__":
    serve(sys.argv[1])
