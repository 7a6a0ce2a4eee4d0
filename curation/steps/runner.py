"""Run several steps one after the other; a step that fails is recorded with its error and the
others still run (cleanlab's Datalab runner does the same with its issue managers).

A wrong request (an unknown step name, a config the step refuses) fails before any step runs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from curation.errors import CurationError, InputError
from curation.progress import ProgressFn, report
from curation.records import Example
from curation.steps.base import DEFAULT_BATCH, Step, StepResult, batched
from curation.steps.registry import StepRegistry, steps

if TYPE_CHECKING:
    from curation.store import Store

__all__ = ["StepOutcome", "StepsReport", "resolve_steps", "run_project_steps", "run_steps"]


@dataclass(slots=True)
class StepOutcome:
    """How one step of a run ended: its result (or saved run id), or the error it raised."""

    name: str
    result: StepResult | None = None
    run_id: int | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"step": self.name, "ok": self.ok, "seconds": round(self.seconds, 3)}
        if self.error is not None:
            out["error"] = self.error
        if self.run_id is not None:
            out["run_id"] = self.run_id
        if self.result is not None:
            s = self.result.summary
            out.update(severity=s.severity, n_examples=s.n_examples, n_flagged=s.n_flagged)
        return out


@dataclass(slots=True)
class StepsReport:
    """Every step's outcome, in the order they ran."""

    outcomes: list[StepOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[StepOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def results(self) -> dict[str, StepResult]:
        return {o.name: o.result for o in self.outcomes if o.result is not None}

    def __getitem__(self, name: str) -> StepOutcome:
        for outcome in self.outcomes:
            if outcome.name == name:
                return outcome
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": [o.to_dict() for o in self.outcomes],
            "failed": [o.name for o in self.failed],
        }


def resolve_steps(
    names: Sequence[str],
    configs: Mapping[str, Any] | None = None,
    *,
    registry: StepRegistry = steps,
) -> list[tuple[Step, Any]]:
    """The steps called `names` with their validated configs (defaults when not given).

    Raises
    ------
    InputError
        For an unknown step name (naming the known ones), a config for a step that is not
        run, or a config value the step refuses.
    """
    if not names:
        raise InputError(
            f"name at least one step to run; known steps: {', '.join(registry.names())}"
        )
    chosen = [registry.get(name) for name in dict.fromkeys(names)]
    configs = dict(configs or {})
    stray = sorted(set(configs) - {s.name for s in chosen})
    if stray:
        raise InputError(
            f"config given for step(s) not run: {', '.join(stray)}; "
            f"running {', '.join(s.name for s in chosen)}"
        )
    return [(step, step.config(configs.get(step.name))) for step in chosen]


def describe_error(exc: BaseException) -> str:
    """What a failed step records: our errors as they are, others by type and first line."""
    if isinstance(exc, CurationError):
        return str(exc)
    first = (str(exc).strip().splitlines() or [""])[0][:500]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def run_steps(
    names: Sequence[str],
    examples: Sequence[Example],
    *,
    configs: Mapping[str, Any] | None = None,
    progress: ProgressFn | None = None,
    registry: StepRegistry = steps,
    batch_size: int = DEFAULT_BATCH,
) -> StepsReport:
    """Run each named step's `Step.run` over `examples` (in batches); nothing is saved.

    Parameters
    ----------
    names:
        Registered step names, run in this order.
    examples:
        The examples every step sees.
    configs:
        Step name -> its config (a dict or the step's ``Config``); defaults for the others.
    progress:
        Receives a ``steps`` update before each step and the steps' own updates. A `Cancelled`
        it raises stops the whole run.
    registry:
        Where the names are looked up.
    batch_size:
        Examples per batch handed to `Step.run`.

    Returns
    -------
    StepsReport
        One outcome per step; a step that raised has its error and no result.

    Raises
    ------
    InputError
        See `resolve_steps`: nothing runs.
    """
    plan = resolve_steps(names, configs, registry=registry)
    out = StepsReport()
    for i, (step, config) in enumerate(plan):
        report(progress, "steps", i, len(plan), step.name)
        started = time.perf_counter()
        outcome = StepOutcome(step.name)
        try:
            outcome.result = step.run(batched(examples, batch_size), config, progress)
        except Exception as exc:  # one step failing never stops the others
            outcome.error = describe_error(exc)
        outcome.seconds = time.perf_counter() - started
        out.outcomes.append(outcome)
    report(progress, "steps", len(plan), len(plan))
    return out


def run_project_steps(
    store: Store,
    project: str,
    names: Sequence[str],
    *,
    author: str,
    configs: Mapping[str, Any] | None = None,
    progress: ProgressFn | None = None,
    registry: StepRegistry = steps,
) -> StepsReport:
    """Run each named step on a stored project and save its run (`Step.run_project`).

    A step that fails is recorded with its error (database errors without SQL parameters or
    passwords) and the next one still runs; each step's writes are its own transaction, so a
    failed step leaves nothing half-saved.

    Raises
    ------
    InputError
        See `resolve_steps`: nothing runs.
    """
    from curation.jobs.worker import describe_failure

    plan = resolve_steps(names, configs, registry=registry)
    out = StepsReport()
    for i, (step, config) in enumerate(plan):
        report(progress, "steps", i, len(plan), step.name)
        started = time.perf_counter()
        outcome = StepOutcome(step.name)
        try:
            outcome.run_id = step.run_project(
                store, project, config, author=author, progress=progress
            )
        except Exception as exc:  # one step failing never stops the others
            outcome.error = describe_failure(exc, store)
        outcome.seconds = time.perf_counter() - started
        out.outcomes.append(outcome)
    report(progress, "steps", len(plan), len(plan))
    return out
