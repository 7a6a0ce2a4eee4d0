"""A plug-in step written the way a user would add one: answers under N words are flagged.

One file and, in the test, one registration line; nothing else in the app changes. Also a step
that always fails, to show a failing step is reported while the others still run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from curation.errors import InputError
from curation.progress import ProgressFn, report
from curation.records import Example
from curation.steps import Step, StepConfig, StepResult, StepRow, summarise_rows

SHORT = "short_answer"


@dataclass(frozen=True)
class ShortAnswersConfig(StepConfig):
    """min_words: answers with fewer words are flagged (1-1000; 3 catches "Yes." and "42")."""

    min_words: int = 3

    def validate(self) -> None:
        if isinstance(self.min_words, bool) or not isinstance(self.min_words, int):
            raise InputError(f"min_words is a whole number, not {self.min_words!r}")
        if not 1 <= self.min_words <= 1000:
            raise InputError(f"min_words must be between 1 and 1000, not {self.min_words}")


class ShortAnswersStep(Step):
    """Flags answers shorter than ``min_words`` words; score = words / min_words."""

    name = "short_answers"
    title = "Short answers"
    Config = ShortAnswersConfig
    results_step = "short_answers"

    def run(
        self,
        batches: Iterable[Sequence[Example]],
        config: ShortAnswersConfig,
        progress: ProgressFn | None = None,
    ) -> StepResult:
        rows: list[StepRow] = []
        n = 0
        for batch in batches:
            for ex in batch:
                words = len(ex.response.split())
                if words < config.min_words:
                    rows.append(
                        StepRow(
                            ex.id,
                            SHORT,
                            round(words / config.min_words, 4),
                            f"the answer has {words} word(s), under {config.min_words}",
                            "write a fuller answer",
                            {"words": words},
                        )
                    )
            n += len(batch)
            report(progress, self.name, n, None)
        return StepResult(rows, summarise_rows(rows, n), {"min_words": config.min_words})


class BrokenStep(Step):
    """Raises on every run, as a step with a bug would."""

    name = "broken"
    title = "Broken"
    results_step = "broken"

    def run(
        self,
        batches: Iterable[Sequence[Example]],
        config: StepConfig,
        progress: ProgressFn | None = None,
    ) -> StepResult:
        raise RuntimeError("the broken step failed on purpose")
