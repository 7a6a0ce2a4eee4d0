"""`curation jobs`: list background jobs, cancel one, or run a worker."""

from __future__ import annotations

import contextlib
import sys

import click

from curation.cli._common import (
    Args,
    Report,
    argument,
    open_store,
    options,
    report_command,
    store_options,
)
from curation.errors import CurationError
from curation.store.schema import JOB_STATES


def _print_jobs(report: Report) -> None:
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


@report_command(
    "jobs",
    "Background jobs: list them, cancel one, or run a worker (for deployments; the app has one).",
    _print_jobs,
)
@options(
    argument(
        "action",
        "list jobs, cancel one, or run a worker that runs queued jobs",
        type=click.Choice(["list", "cancel", "worker"]),
    ),
    argument("job_id", "the job to cancel", type=int, required=False),
    store_options(project=False),
    click.option("--project", default=None, help="list only this project's jobs"),
    click.option(
        "--state", help="list only jobs in this state", type=click.Choice(JOB_STATES), multiple=True
    ),
    click.option("--limit", type=int, default=50, help="list at most this many (newest first)"),
    click.option("--once", help="worker: run what is queued, then exit", is_flag=True),
    click.option(
        "--poll", type=float, default=2.0, help="worker: seconds between looks for queued jobs"
    ),
)
def cmd_jobs(args: Args) -> Report:
    from curation.jobs import Worker, list_jobs, request_cancel

    store = open_store(args)
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
