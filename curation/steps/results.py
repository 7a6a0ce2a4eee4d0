"""Which registered steps have per-example results in a project, with examples per code: what
Browse offers to filter by (`ExampleFilter.step_flag`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from curation.steps.registry import StepRegistry, steps

if TYPE_CHECKING:
    from curation.store import Store

__all__ = ["StepResults", "steps_with_results"]


@dataclass(frozen=True, slots=True)
class StepResults:
    """One step's latest run as a filter: names, examples per code, examples with any code.

    ``flag(code)`` is the `ExampleFilter.step_flag` value that lists the examples behind it.
    """

    name: str
    title: str
    results_step: str
    counts: dict[str, int] = field(default_factory=dict)
    total: int = 0
    code_titles: dict[str, str] = field(default_factory=dict)

    def flag(self, code: str) -> tuple[str, str]:
        return (self.results_step, code)


def steps_with_results(
    store: Store, project: str, *, registry: StepRegistry = steps
) -> list[StepResults]:
    """The registered steps whose latest run in `project` kept rows, in pipeline order."""
    out = []
    for step in registry.with_results():
        assert step.results_step is not None  # with_results keeps only these
        counts = store.step_result_counts(project, step.results_step)
        if counts:
            out.append(
                StepResults(
                    step.name,
                    step.title or step.name,
                    step.results_step,
                    counts,
                    store.step_result_total(project, step.results_step),
                    {code: step.code_title(code) for code in counts},
                )
            )
    return out
