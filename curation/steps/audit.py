"""The bias-audit step: coverage and balance checks (`curation.bias`), their counts for the card,
and critical findings (or an out-of-date audit) for readiness.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from curation.bias.config import AuditConfig
from curation.bias.job import STEP as AUDIT_STEP
from curation.export.readiness import ReadinessItem, number
from curation.progress import ProgressFn
from curation.records import Example
from curation.steps.base import Step, StepResult, StepRow, StepSummary

if TYPE_CHECKING:
    from curation.store import Store


class AuditStep(Step):
    """Bias audit: one row per (example, group bar) the checks count; the config is
    `AuditConfig`."""

    name = "audit"
    title = "Bias audit"
    Config = AuditConfig
    run_names = (AUDIT_STEP,)
    results_step = AUDIT_STEP
    readiness_rank = 30

    def run(
        self,
        batches: Iterable[Sequence[Example]],
        config: AuditConfig,
        progress: ProgressFn | None = None,
    ) -> StepResult:
        from curation.bias.runner import run_audit

        audit = run_audit([ex for batch in batches for ex in batch], config, progress=progress)
        rows = [
            StepRow(r.example_id, r.code, r.score, r.reason, None, dict(r.data)) for r in audit.rows
        ]
        s = audit.summary
        severity = s.severity if s.severity in ("ok", "info", "warning", "critical") else "info"
        # every example sits in some group bar; "flagged" are those behind a serious finding
        serious = {i for f in audit.findings if f.severity != "info" for i in f.example_ids}
        summary = StepSummary(
            severity,  # type: ignore[arg-type]  # checked just above
            s.n_examples,
            len(serious),
            {k: int(v) for k, v in s.counts.items()},
            s.message,
        )
        return StepResult(rows, summary, dict(audit.info), native=audit)

    def run_project(
        self,
        store: Store,
        project: str,
        config: AuditConfig,
        *,
        author: str,
        progress: ProgressFn | None = None,
    ) -> int | None:
        from curation.bias.project import run_project_audit

        return run_project_audit(store, project, config, author=author, progress=progress).run_id

    def stats(self, store: Store, project: str) -> dict[str, Any] | None:
        """`bias_summary` without its ``top_findings`` (the card prints numbers)."""
        from curation.bias.summary import bias_summary

        audit = bias_summary(store, project)
        if audit is None:
            return None
        return {k: v for k, v in audit.items() if k != "top_findings"}

    def readiness_items(
        self, stats: Mapping[str, Any] | None, *, n_examples: int
    ) -> list[ReadinessItem]:
        """ "bias audit": critical findings warn (a judgement to make, not a broken file), and
        so does an audit older than the active examples it describes."""
        critical = number(stats, "critical")
        if stats is None or critical is None:
            return [ReadinessItem("bias audit", None, "not-run", "the bias audit was not run")]
        warnings = int(number(stats, "warning") or 0)
        audited, active = number(stats, "examples_audited"), number(stats, "active_now")
        if audited is not None and active is not None and audited != active:
            return [
                ReadinessItem(
                    "bias audit",
                    int(critical),
                    "warn",
                    f"the audit covered {int(audited)} examples, {int(active)} are active now: "
                    "run it again on the Bias audit page",
                )
            ]
        if critical:
            return [
                ReadinessItem(
                    "bias audit",
                    int(critical),
                    "warn",
                    f"{int(critical)} critical bias finding{'s' if critical != 1 else ''} "
                    f"({warnings} warnings); review them on the Bias audit page",
                )
            ]
        return [
            ReadinessItem("bias audit", 0, "ok", f"no critical bias finding ({warnings} warnings)")
        ]
