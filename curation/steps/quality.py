"""The quality step: per-example flags (`curation.quality`), their counts for the card and the
flagged active examples for readiness. Its rows are what Browse's quality filter reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from curation.export.readiness import ReadinessItem, number
from curation.progress import ProgressFn
from curation.quality.config import QualityConfig
from curation.records import Example
from curation.steps.base import Step, StepResult, StepRow, StepSummary
from curation.store.step_results import QUALITY_STEP

if TYPE_CHECKING:
    from curation.store import Store


class QualityStep(Step):
    """Quality flags: one row per (example, flag); the config is `QualityConfig`."""

    name = "quality"
    title = "Quality"
    Config = QualityConfig
    run_names = (QUALITY_STEP,)
    results_step = QUALITY_STEP
    readiness_rank = 20

    def code_title(self, code: str) -> str:
        from curation.quality.project import flag_title

        return flag_title(code)

    def run(
        self,
        batches: Iterable[Sequence[Example]],
        config: QualityConfig,
        progress: ProgressFn | None = None,
    ) -> StepResult:
        from curation.quality.runner import run_quality_batches

        report = run_quality_batches(batches, config, progress=progress)
        rows = [
            StepRow(r.example_id, r.code or "flag", r.score, r.reason, r.suggestion, dict(r.data))
            for r in report.rows
        ]
        s = report.summary
        counts = {code: n for code, n in s.counts.items() if n}
        summary = StepSummary(s.severity, s.n_examples, s.n_flagged, counts, s.message)
        return StepResult(rows, summary, dict(report.info), native=report)

    def run_project(
        self,
        store: Store,
        project: str,
        config: QualityConfig,
        *,
        author: str,
        progress: ProgressFn | None = None,
    ) -> int | None:
        from curation.quality.project import run_project_quality

        return run_project_quality(store, project, config, author=author, progress=progress).run_id

    def stats(self, store: Store, project: str) -> dict[str, Any] | None:
        from curation.quality.project import quality_stats

        return quality_stats(store, project)

    def readiness_items(
        self, stats: Mapping[str, Any] | None, *, n_examples: int
    ) -> list[ReadinessItem]:
        """ "quality flags": any active example with a flag of the latest run warns."""
        flagged = number(stats, "flagged_active")
        if flagged is None:
            note = "quality stats hold no flag count" if stats else "quality flags were not run"
            return [ReadinessItem("quality flags", None, "not-run", note)]
        n = int(flagged)
        if not n:
            return [
                ReadinessItem("quality flags", 0, "ok", "no active example carries a quality flag")
            ]
        checked = number(stats, "examples_checked")
        of = f" (of {int(checked)} checked)" if checked else ""
        return [
            ReadinessItem(
                "quality flags",
                n,
                "warn",
                f"{n} active example{'s carry' if n != 1 else ' carries'} a quality flag{of}; "
                "review or reject them on the Quality page",
            )
        ]
