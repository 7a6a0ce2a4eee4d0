"""The steps a background job can run: a name mapped to its runner and its parameter check.

Adding a job step is one `JobStep` and one `registry.register(...)` line (see `builtin.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from curation.errors import JobError
from curation.progress import ProgressFn


class JobRunner(Protocol):
    """What a job step runs: ``run(store, project, params, progress, should_cancel, *, author)``.

    It does the step's work on the project, reporting through `progress` (which raises
    `curation.errors.Cancelled` once a cancel was asked for), and returns a JSON-ready result
    (a step run's id, counts) that the jobs table keeps. Its writes to the store should be one
    transaction, so a cancelled or killed job leaves nothing half-done.
    """

    def __call__(
        self,
        store: Any,
        project: str,
        params: dict[str, Any],
        progress: ProgressFn,
        should_cancel: Callable[[], bool],
        *,
        author: str,
    ) -> dict[str, Any] | None: ...


def _as_dict(params: Mapping[str, Any]) -> dict[str, Any]:
    return dict(params)


@dataclass(frozen=True, slots=True)
class JobStep:
    """A step that runs as a background job.

    Attributes
    ----------
    name:
        The step's name in the jobs table (``dedup``); one active job per name and project.
    run:
        The `JobRunner`.
    check_params:
        Validates and normalises the parameters at submit time (raise a `CurationError` naming
        the bad value), so a bad request is refused on the page, not failed in the worker.
    title:
        How people call it ("Deduplicate"), for lists.
    """

    name: str
    run: JobRunner
    check_params: Callable[[Mapping[str, Any]], dict[str, Any]] = _as_dict
    title: str = ""


class JobRegistry:
    """Job steps by name; `curation.jobs.registry` is the one the app and the CLI use."""

    def __init__(self) -> None:
        self._steps: dict[str, JobStep] = {}

    def register(self, step: JobStep, *, replace: bool = False) -> JobStep:
        if step.name in self._steps and not replace:
            raise JobError(f"A job step named {step.name!r} is registered already.")
        self._steps[step.name] = step
        return step

    def unregister(self, name: str) -> None:
        self._steps.pop(name, None)

    def get(self, name: str) -> JobStep:
        try:
            return self._steps[name]
        except KeyError:
            raise JobError(
                f"Unknown job step {name!r}; known steps: {', '.join(sorted(self._steps)) or 'none'}."
            ) from None

    def names(self) -> list[str]:
        return sorted(self._steps)

    def __contains__(self, name: object) -> bool:
        return name in self._steps


registry = JobRegistry()
