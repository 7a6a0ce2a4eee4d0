"""The dedup step: clusters of exact, near or semantic duplicates (`curation.dedup`), their
numbers for the card and the duplicate rate for readiness.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from curation.errors import InputError
from curation.export.readiness import ReadinessItem, Status, number
from curation.progress import ProgressFn
from curation.records import TEXT_FIELDS, Example
from curation.steps.base import Step, StepConfig, StepResult, StepRow, summarise_rows

if TYPE_CHECKING:
    from curation.store import Store

METHODS = ("exact", "near", "semantic")
DUPLICATE = "duplicate"  # the code of a member that would go when its cluster keeps the first
RATE_WARN = 0.05  # duplicate rate above which readiness warns (over-weights some behaviours)
RATE_FAIL = 0.2  # ... and fails: a fifth of the data repeats itself


@dataclass(frozen=True)
class DedupStepConfig(StepConfig):
    """What a dedup run compares and how close counts as a duplicate.

    Attributes
    ----------
    method:
        ``exact`` (same normalised text: fast, misses rewordings), ``near`` (MinHash LSH on
        word shingles: catches edits and templates; the default) or ``semantic`` (sentence
        embeddings: catches paraphrases, slowest, needs the ``semantic`` extra or falls back
        to TF-IDF).
    threshold:
        Similarity in [0, 1] at which two texts are duplicates; None takes the method's
        default (near 0.8 Jaccard). Lower finds more clusters and more false pairs.
    fields:
        The text compared: ``all`` (each role on its own), ``user`` or ``assistant``.
    """

    method: str = "near"
    threshold: float | None = None
    fields: str = "all"

    def validate(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"method must be one of {', '.join(METHODS)}, not {self.method!r}")
        if self.threshold is not None and (
            isinstance(self.threshold, bool)
            or not isinstance(self.threshold, int | float)
            or not 0.0 < float(self.threshold) <= 1.0
        ):
            raise InputError(f"threshold must be in (0, 1] or None, not {self.threshold!r}")
        if self.fields not in TEXT_FIELDS:
            raise InputError(f"fields must be one of {', '.join(TEXT_FIELDS)}, not {self.fields!r}")


class DedupStep(Step):
    """Deduplicate: one row per member a cluster would drop (it keeps its first member)."""

    name = "dedup"
    title = "Deduplicate"
    Config = DedupStepConfig
    readiness_rank = 10

    def run(
        self,
        batches: Iterable[Sequence[Example]],
        config: DedupStepConfig,
        progress: ProgressFn | None = None,
    ) -> StepResult:
        from curation.dedup import find_duplicate_clusters, texts_for

        examples = [ex for batch in batches for ex in batch]
        texts = texts_for(examples, config.fields)
        clusters = find_duplicate_clusters(
            texts, config.method, config.threshold, progress=progress
        )
        rows = [
            StepRow(
                examples[i].id,
                DUPLICATE,
                None,
                f"duplicate of {examples[cluster[0]].id}",
                f"keep {examples[cluster[0]].id}",
                {"cluster": k, "kept": examples[cluster[0]].id},
            )
            for k, cluster in enumerate(clusters)
            for i in cluster[1:]
        ]
        summary = summarise_rows(rows, len(examples), what=f"{len(clusters)} clusters")
        return StepResult(rows, summary, {"clusters": len(clusters), **config.to_dict()})

    def run_project(
        self,
        store: Store,
        project: str,
        config: DedupStepConfig,
        *,
        author: str,
        progress: ProgressFn | None = None,
    ) -> int | None:
        from curation.dedup.project import run_dedup

        run = run_dedup(
            store,
            project,
            method=config.method,
            threshold=config.threshold,
            fields=config.fields,
            author=author,
            progress=progress,
        )
        return run.run_id

    def stats(self, store: Store, project: str) -> dict[str, Any] | None:
        """The latest run: method, threshold, clusters, duplicates removed and remaining."""
        from curation.dedup.project import load_run, unresolved_duplicates

        run = load_run(store, project)
        if run is None:
            return None
        by_status = store.stats(project)["by_status"]
        unresolved = unresolved_duplicates(store, project, run)
        active = by_status.get("active", 0)
        return {
            "method": run.method,
            "threshold": run.threshold if run.threshold is not None else "-",
            "text_compared": run.fields,
            "clusters": len(run.clusters),
            "duplicates_removed": by_status.get("duplicate", 0),
            "duplicates_remaining": unresolved,
            "duplicate_rate": round(unresolved / active, 4) if active else 0.0,
            "notes": f"backend {run.backend}",
        }

    def readiness_items(
        self, stats: Mapping[str, Any] | None, *, n_examples: int
    ) -> list[ReadinessItem]:
        """ "duplicate rate": > 5 % warn, > 20 % fail (from ``duplicate_rate``, or
        ``duplicates_remaining`` over the examples exported)."""
        rate = number(stats, "duplicate_rate")
        if rate is None:
            remaining = number(stats, "duplicates_remaining")
            rate = remaining / n_examples if remaining is not None and n_examples else None
        if rate is None:
            note = "dedup stats hold no duplicate rate" if stats else "deduplication was not run"
            return [ReadinessItem("duplicate rate", None, "not-run", note)]
        status: Status = "fail" if rate > RATE_FAIL else "warn" if rate > RATE_WARN else "ok"
        return [
            ReadinessItem(
                "duplicate rate", round(rate, 4), status, f"{rate:.1%} of examples are duplicates"
            )
        ]
