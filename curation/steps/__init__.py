"""Curation steps as plug-ins: one contract (`Step`), one registry (`steps`), one runner.

    from curation.steps import steps, run_steps
    steps.names()                     # ('import', 'dedup', 'quality', 'labels', 'audit', 'pii')
    report = run_steps(["quality"], examples)   # a failing step is reported, the others run
    steps.register(MyStep())          # adding a step: one module and this one line

The dataset card, readiness summary, `curation_stats`, the sidebar and the pages iterate
`steps`; they never name a step.
"""

from __future__ import annotations

from curation.steps.base import (
    CHECKS,
    DATA,
    ConfigLike,
    Severity,
    Step,
    StepConfig,
    StepError,
    StepResult,
    StepRow,
    StepSummary,
    batched,
    summarise_rows,
)
from curation.steps.registry import StepRegistry, steps
from curation.steps.results import StepResults, steps_with_results
from curation.steps.runner import (
    StepOutcome,
    StepsReport,
    resolve_steps,
    run_project_steps,
    run_steps,
)

__all__ = [
    "CHECKS",
    "DATA",
    "ConfigLike",
    "Severity",
    "Step",
    "StepConfig",
    "StepError",
    "StepOutcome",
    "StepRegistry",
    "StepResult",
    "StepResults",
    "StepRow",
    "StepSummary",
    "StepsReport",
    "batched",
    "resolve_steps",
    "run_project_steps",
    "run_steps",
    "steps",
    "steps_with_results",
    "summarise_rows",
]

from curation.steps import builtin  # noqa: E402,F401  - registers the shipped steps
