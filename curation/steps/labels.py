"""The labels step: annotation agreement and suspected label errors (`curation.labeling`, with
cleanlab), their numbers for the card, and agreement and open label issues for readiness.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from curation.errors import CurationError, InputError
from curation.export.readiness import ReadinessItem, Status, number
from curation.progress import ProgressFn
from curation.records import Example
from curation.steps.base import Step, StepConfig, StepResult, StepRow, summarise_rows
from curation.store.labels import LABEL_ISSUES_STEP

if TYPE_CHECKING:
    from curation.store import Store

LABEL_ISSUE = "label_issue"  # the code of a suspected label error
AGREEMENT_WARN = 0.6  # Krippendorff's alpha below which annotators disagree too often
AGREEMENT_FAIL = 0.4  # ... and below which the labels are not usable as they are


@dataclass(frozen=True)
class LabelStepConfig(StepConfig):
    """Which labels the label-issue check reads and how it models them.

    Attributes
    ----------
    field:
        A label field of the project's schema (its final labels) or a metadata key.
    features:
        Text features of the classifier (`curation.labeling.issues.FEATURE_KINDS`): ``auto``
        (TF-IDF, plus sentence embeddings on small sets when installed), ``tfidf``...
    folds:
        Cross-validation folds, 2-20; None picks by size (more folds, steadier scores, slower).
    """

    field: str = ""
    features: str = "auto"
    folds: int | None = None

    def validate(self) -> None:
        from curation.labeling.job import label_issues_params

        try:
            label_issues_params(
                {"field": self.field, "features": self.features, "folds": self.folds}
            )
        except CurationError as exc:
            raise InputError(str(exc)) from None


class LabelsStep(Step):
    """Label issues: one row per example whose given label looks wrong, with the suggestion."""

    name = "labels"
    title = "Labels"
    Config = LabelStepConfig
    run_names = (LABEL_ISSUES_STEP,)
    results_step = LABEL_ISSUES_STEP
    readiness_rank = 40

    def run(
        self,
        batches: Iterable[Sequence[Example]],
        config: LabelStepConfig,
        progress: ProgressFn | None = None,
    ) -> StepResult:
        """Check the labels held in the metadata field ``config.field`` of each example."""
        from curation.labeling.issues import LabelIssueConfig, find_label_issues

        examples = [ex for batch in batches for ex in batch]
        labels = [_label(ex.metadata.get(config.field)) for ex in examples]
        issues = find_label_issues(
            [ex.text("all") for ex in examples],
            labels,  # type: ignore[arg-type]  # None marks an unlabelled example
            config=LabelIssueConfig(features=config.features, folds=config.folds),
            progress=progress,
        )
        rows = [
            StepRow(
                examples[i.index].id,
                LABEL_ISSUE,
                i.quality_score,
                f"labelled {i.given_label!r}; the model suggests {i.suggested_label!r}",
                i.suggested_label,
                {"field": config.field, "given": i.given_label},
            )
            for i in sorted(issues, key=lambda i: i.index)
        ]
        return StepResult(rows, summarise_rows(rows, len(examples)), {"field": config.field})

    def run_project(
        self,
        store: Store,
        project: str,
        config: LabelStepConfig,
        *,
        author: str,
        progress: ProgressFn | None = None,
    ) -> int | None:
        from curation.labeling.job import run_label_issues_job
        from curation.progress import no_progress

        done = run_label_issues_job(
            store, project, config.to_dict(), progress or no_progress, lambda: False, author=author
        )
        return int(done["run_id"])

    def stats(self, store: Store, project: str) -> dict[str, Any] | None:
        """`LabelSummary.card_stats`, plus ``agreement`` (what readiness reads) and
        ``open_issues``; None when the project holds no labels."""
        from curation.labeling.export import label_summary

        labels = label_summary(store, project, example_ids=None)
        if labels is None:
            return None
        card = labels.card_stats()
        if labels.overall_alpha is not None:
            card["agreement"] = labels.overall_alpha
        card["open_issues"] = labels.suspected_errors
        return card

    def readiness_items(
        self, stats: Mapping[str, Any] | None, *, n_examples: int
    ) -> list[ReadinessItem]:
        """ "agreement" (< 0.6 warn, < 0.4 fail) and "label issues" (any open one warns)."""
        items: list[ReadinessItem] = []
        agreement = number(stats, "agreement")
        if agreement is None:
            items.append(
                ReadinessItem("agreement", None, "not-run", "no inter-annotator agreement measured")
            )
        else:
            status: Status = (
                "fail"
                if agreement < AGREEMENT_FAIL
                else "warn"
                if agreement < AGREEMENT_WARN
                else "ok"
            )
            items.append(
                ReadinessItem(
                    "agreement", round(agreement, 4), status, f"annotator agreement {agreement:.2f}"
                )
            )
        open_issues = number(stats, "open_issues")
        if open_issues is None:
            items.append(
                ReadinessItem("label issues", None, "not-run", "label-issue detection was not run")
            )
        else:
            items.append(
                ReadinessItem(
                    "label issues",
                    int(open_issues),
                    "warn" if open_issues else "ok",
                    f"{int(open_issues)} suspected label issues still open",
                )
            )
        return items


def _label(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)
