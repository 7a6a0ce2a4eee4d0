"""The registry of curation steps, in pipeline order: what the card, readiness, stats, the
sidebar and the pages iterate instead of naming steps.

Adding a step is one module with a `Step` subclass and one ``steps.register(...)`` line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from curation.errors import InputError
from curation.steps.base import Step

__all__ = ["StepRegistry", "steps"]


class StepRegistry:
    """Steps by name, in registration order (the pipeline's order)."""

    def __init__(self) -> None:
        self._steps: dict[str, Step] = {}

    def register(self, step: Step, *, replace: bool = False) -> Step:
        """Add `step` at the end; a second step of the same name is an error unless `replace`
        (which keeps the first one's place). Returns `step`."""
        name = step.name
        if not isinstance(name, str) or not name.isidentifier() or name != name.lower():
            raise ValueError(f"a step's name must be a snake_case identifier, not {name!r}")
        if name in self._steps and not replace and self._steps[name] is not step:
            raise ValueError(f"a step named {name!r} is registered already ({self._steps[name]!r})")
        self._steps[name] = step
        return step

    def unregister(self, name: str) -> None:
        self._steps.pop(self._known(name))

    @contextmanager
    def registered(self, step: Step) -> Iterator[Step]:
        """`step` registered for the duration of a ``with`` block (tests, one-off runs)."""
        self.register(step)
        try:
            yield step
        finally:
            self._steps.pop(step.name, None)

    def get(self, name: str) -> Step:
        """The step called `name`; an unknown name is an `InputError` naming the known ones."""
        return self._steps[self._known(name)]

    def _known(self, name: str) -> str:
        if name not in self._steps:
            raise InputError(
                f"unknown step {name!r}; known steps: {', '.join(self._steps) or 'none'}"
            )
        return name

    def names(self) -> tuple[str, ...]:
        return tuple(self._steps)

    def with_results(self) -> list[Step]:
        """The steps that keep per-example rows (what Browse can filter by)."""
        return [s for s in self if s.results_step is not None]

    def for_run_name(self, run_name: str) -> Step | None:
        """The step whose saved runs are called `run_name` (``bias_audit`` -> audit)."""
        for step in self:
            if run_name in step.store_names() or run_name == step.results_step:
                return step
        return None

    def done(self, run_names: Iterable[str]) -> list[str]:
        """Names of the steps behind these step-run names, in pipeline order, then any run
        name no registered step claims (sorted)."""
        names = set(run_names)
        out = [s.name for s in self if names & {*s.store_names(), s.results_step}]
        claimed = {n for n in names if self.for_run_name(n) is not None}
        return out + sorted(names - claimed)

    def __iter__(self) -> Iterator[Step]:
        return iter(list(self._steps.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._steps

    def __len__(self) -> int:
        return len(self._steps)

    def __repr__(self) -> str:
        return f"StepRegistry({', '.join(self._steps)})"


steps = StepRegistry()
