"""`curation jobs`: list background jobs, cancel one, or run a worker."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any

from curation.cli._common import (
    PRINTERS,
    _common,
    _store,
    command,
)
from curation.errors import CurationError


def _configure_jobs(p: argparse.ArgumentParser) -> None:
    from curation.store.schema import JOB_STATES

    p.add_argument(
        "action",
        choices=["list", "cancel", "worker"],
        help="list jobs, cancel one, or run a worker that runs queued jobs",
    )
    p.add_argument("job_id", nargs="?", type=int, help="the job to cancel")
    _common(p, project=False)
    p.add_argument("--project", default=None, help="list only this project's jobs")
    p.add_argument(
        "--state", action="append", choices=JOB_STATES, help="list only jobs in this state"
    )
    p.add_argument("--limit", type=int, default=50, help="list at most this many (newest first)")
    p.add_argument("--once", action="store_true", help="worker: run what is queued, then exit")
    p.add_argument(
        "--poll", type=float, default=2.0, help="worker: seconds between looks for queued jobs"
    )


@command(
    "jobs",
    "Background jobs: list them, cancel one, or run a worker (for deployments; the app has one).",
    _configure_jobs,
)
def run_jobs(args: argparse.Namespace) -> dict[str, Any]:
    from curation.jobs import Worker, list_jobs, request_cancel

    store = _store(args)
    if args.action == "list":
        found = list_jobs(store, args.project, states=args.state, limit=args.limit)
        return {"action": "list", "jobs": [j.to_dict() for j in found]}
    if args.action == "cancel":
        if args.job_id is None:
            raise CurationError(
                "Give the job to cancel: `curation jobs cancel ID` (see jobs list)."
            )
        return {"action": "cancel", "job": request_cancel(store, args.job_id).to_dict()}
    import logging

    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, stream=sys.stderr)
    worker = Worker(store, label="cli", poll_every=args.poll)
    recovered = worker.recover()
    if args.once:
        return {"action": "worker", "recovered": recovered, "ran": worker.run_pending()}
    import signal

    # SIGTERM: finish the current job, then stop. Ctrl-C: stop now, the job marked failed.
    signal.signal(signal.SIGTERM, lambda *_: worker.stop(timeout=0))
    with contextlib.suppress(KeyboardInterrupt):
        worker.serve()
    return {"action": "worker", "recovered": recovered, "ran": None}


def _print_jobs(report: dict[str, Any]) -> None:
    if report["action"] == "worker":
        ran = "" if report["ran"] is None else f"; ran {report['ran']} job(s)"
        print(f"recovered {len(report['recovered'])} job(s) whose worker had stopped{ran}")
        return
    if report["action"] == "cancel":
        job = report["job"]
        if job["state"] == "cancelled":
            print(f"job {job['id']}: cancelled")
        else:
            print(f"job {job['id']}: cancel requested; it stops at its next progress report")
        return
    if not report["jobs"]:
        print("no jobs")
    for job in report["jobs"]:
        total = job["total"]
        progress = f"{job['stage']} {job['done']}/{total}" if total else job["stage"]
        print(
            f"{job['id']:>5}  {job['state']:<9}  {job['step']:<8}  {job['project']}  "
            f"{progress or '-'}  by {job['author']}  {job['created_at'][:19]}"
        )
        if job["error"]:
            print(f"       error: {job['error']}")


PRINTERS["jobs"] = _print_jobs
