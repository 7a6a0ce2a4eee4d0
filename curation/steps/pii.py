"""The PII step: personal-data findings (`curation.pii`, presidio plus our recognizers), what is
left unscrubbed for the card, and the residual that blocks an export for readiness.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from curation.errors import CurationError, InputError
from curation.export.readiness import ReadinessItem, number
from curation.progress import ProgressFn
from curation.records import Example
from curation.steps.base import Step, StepConfig, StepResult, StepRow, summarise_rows

if TYPE_CHECKING:
    from curation.store import Store

SCRUB_STEP = "pii"  # the step-run name of a scrub (its replacements are on the card)


@dataclass(frozen=True)
class PiiStepConfig(StepConfig):
    """What a PII scan looks for.

    Attributes
    ----------
    entities:
        Entity types (``EMAIL_ADDRESS``, ``PERSON``...); None = the defaults and the project's
        own types.
    score_threshold:
        Findings below this score in [0, 1] are dropped; None = the scanner's default. Lower
        finds more names and more false alarms.
    roles:
        Turns scanned (``user``, ``assistant``...); None = every turn.
    metadata:
        Scan metadata texts too.
    """

    entities: list[str] | None = None
    score_threshold: float | None = None
    roles: list[str] | None = None
    metadata: bool = True

    def validate(self) -> None:
        from curation.pii.job import pii_scan_params

        try:
            pii_scan_params(self.to_dict())
        except CurationError as exc:
            raise InputError(str(exc)) from None


class PiiStep(Step):
    """PII: one row per finding (code = entity type), found on the examples' whole text."""

    name = "pii"
    title = "PII scrub"
    Config = PiiStepConfig
    run_names = ("pii_scan", SCRUB_STEP)
    readiness_rank = 50

    def run(
        self,
        batches: Iterable[Sequence[Example]],
        config: PiiStepConfig,
        progress: ProgressFn | None = None,
    ) -> StepResult:
        from curation.pii import PiiScanner

        scanner = PiiScanner(entities=config.entities, score_threshold=config.score_threshold)
        rows: list[StepRow] = []
        n = 0
        for batch in batches:
            texts = [ex.text("all") for ex in batch]
            for ex, found in zip(batch, scanner.scan(texts), strict=True):
                rows += [
                    StepRow(
                        ex.id,
                        f.entity_type,
                        round(1.0 - float(f.score), 4),  # low = bad, as every step's score
                        f"{f.entity_type} at characters {f.start}-{f.end}",
                        None,
                        {"start": f.start, "end": f.end, "confidence": float(f.score)},
                    )
                    for f in found
                ]
            n += len(batch)
        return StepResult(rows, summarise_rows(rows, n), config.to_dict())

    def run_project(
        self,
        store: Store,
        project: str,
        config: PiiStepConfig,
        *,
        author: str,
        progress: ProgressFn | None = None,
    ) -> int | None:
        """Scan the project and keep the findings for review (the scrub is the page's)."""
        from curation.pii.job import run_pii_scan_job
        from curation.progress import no_progress

        run_pii_scan_job(
            store, project, config.to_dict(), progress or no_progress, lambda: False, author=author
        )
        return None

    def stats(self, store: Store, project: str) -> dict[str, Any] | None:
        """`pii_status` (findings by review state, ``residual``) and the latest scrub's
        ``replacements``; None when never scanned."""
        from curation.store.pii_findings import pii_status

        pii = pii_status(store, project)
        if not pii.pop("scanned"):
            return None
        last = store.latest_step_run(project, SCRUB_STEP)
        pii["replacements"] = int((last or {}).get("stats", {}).get("replacements", 0))
        return pii

    def readiness_items(
        self, stats: Mapping[str, Any] | None, *, n_examples: int
    ) -> list[ReadinessItem]:
        """ "PII residual": any finding left in the data fails."""
        residual = number(stats, "residual")
        if residual is None:
            return [ReadinessItem("PII residual", None, "not-run", "PII scrubbing was not run")]
        return [
            ReadinessItem(
                "PII residual",
                int(residual),
                "fail" if residual else "ok",
                f"{int(residual)} PII findings left in the data",
            )
        ]
