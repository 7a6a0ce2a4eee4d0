"""Registered steps as a background job: ``submit(store, project, "steps", {"steps": [...],
"configs": {...}})`` runs them one after the other in the worker (`run_project_steps`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from curation.errors import CurationError, JobError
from curation.progress import ProgressFn
from curation.steps.registry import steps

STEPS_JOB = "steps"  # the job step's name in the jobs table
PARAMS = ("steps", "configs")

__all__ = ["STEPS_JOB", "run_steps_job", "steps_job_params"]


def steps_job_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``steps`` (registered names, in order) and ``configs`` (name -> config dict), checked at
    submit time: an unknown step or a bad config value is refused before anything is queued."""
    from curation.steps.runner import resolve_steps

    unknown = sorted(set(params) - set(PARAMS))
    if unknown:
        raise JobError(
            f"Unknown steps-job parameter(s) {', '.join(unknown)}; use {', '.join(PARAMS)}."
        )
    names = params.get("steps")
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise JobError(f"'steps' is a list of step names, not {names!r}.")
    configs = params.get("configs") or {}
    if not isinstance(configs, Mapping):
        raise JobError(f"'configs' maps step names to their settings, not {configs!r}.")
    try:
        plan = resolve_steps(list(names), configs)
    except CurationError as exc:
        raise JobError(str(exc)) from None
    return {
        "steps": [step.name for step, _ in plan],
        "configs": {step.name: config.to_dict() for step, config in plan},
    }


def run_steps_job(
    store: Any,
    project: str,
    params: dict[str, Any],
    progress: ProgressFn,
    should_cancel: Callable[[], bool],
    *,
    author: str,
) -> dict[str, Any]:
    """Run the steps on the project; each step's outcome is in the result. The job fails only
    when every step failed (their errors are its message)."""
    from curation.steps.runner import run_project_steps

    checked = steps_job_params(params)
    done = run_project_steps(
        store,
        project,
        checked["steps"],
        author=author,
        configs=checked["configs"],
        progress=progress,
        registry=steps,
    )
    if done.failed and len(done.failed) == len(done.outcomes):
        raise JobError("; ".join(f"{o.name}: {o.error}" for o in done.failed))
    return done.to_dict()
