"""The bias audit on a stored project: read its examples (with statuses and quality verdicts),
run the checks, keep the run and one row per (example, bar), and list the examples behind a bar.

Pages, the CLI and the job call these; the page reads saved runs and never recomputes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from curation.bias.config import AuditConfig
from curation.bias.job import STEP
from curation.bias.runner import AuditReport, run_audit
from curation.errors import CurationError
from curation.progress import ProgressFn, report
from curation.store import ANY_FLAG, QUALITY_STEP, ExampleFilter, StepResult, Store

PREVIEW_CHARS = 160
DEFAULT_LIMIT = 500

__all__ = [
    "STEP",
    "AuditRun",
    "ListedExample",
    "audit_project",
    "examples_behind",
    "load_audit_run",
    "project_label_fields",
    "run_project_audit",
    "save_audit_report",
]


@dataclass(slots=True)
class AuditRun:
    """A saved audit of a project: the step run and its report (without rows: they are in the
    store, one per example and bar).

    Attributes
    ----------
    run_id, author, created_at:
        The step run.
    report:
        The audit as it was saved (`AuditReport.from_record`); on the run just made, the
        report itself, rows included.
    n_rows:
        Per-example rows saved with it.
    """

    run_id: int
    author: str
    created_at: Any
    report: AuditReport
    n_rows: int = 0

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.report.info.get("config") or {})


def _quality_flagged(store: Store, project: str) -> set[str] | None:
    """Ids flagged by the project's latest quality run; None when quality never ran."""
    if store.latest_step_run(project, QUALITY_STEP) is None:
        return None
    return set(store.step_result_ids(project, QUALITY_STEP, ANY_FLAG))


def audit_project(
    store: Store,
    project: str,
    config: AuditConfig | None = None,
    *,
    progress: ProgressFn | None = None,
) -> AuditReport:
    """Audit the project's examples without saving: those in `config`'s coverage statuses (active)
    are audited, those in its outcome statuses (rejected) are read for the outcome check, and
    the latest quality run's flags become the ``quality`` verdict.

    Raises
    ------
    CurationError
        When no example is in a coverage status.
    """
    config = config or AuditConfig()
    report(progress, "bias audit: reading examples", 0, None)
    flt = ExampleFilter(statuses=list(config.statuses))
    pairs = [(row.example, row.status) for row in store.iter_examples(project, flt)]
    if not any(status in config.coverage_statuses for _, status in pairs):
        raise CurationError(
            f"Project {project!r} has no {' or '.join(config.coverage_statuses)} example to "
            "audit; import data or restore some."
        )
    return run_audit(
        pairs, config, quality_flagged=_quality_flagged(store, project), progress=progress
    )


def save_audit_report(store: Store, project: str, audit: AuditReport, *, author: str) -> AuditRun:
    """Keep `audit` as the project's newest bias-audit run: the run (report, summary counts) and
    one row per (example, bar), in one transaction with one audit-log event."""
    rows = [
        StepResult(r.example_id, r.code, r.score, r.reason, None, dict(r.data)) for r in audit.rows
    ]
    summary = audit.summary
    params = {"config": audit.info.get("config") or {}, "n_examples": summary.n_examples}
    stats: dict[str, Any] = {
        "examples": summary.n_examples,
        "read": summary.n_read,
        "severity": summary.severity,
        "rows": len(rows),
        **summary.counts,
    }
    run_id = store.save_step_results(
        project, STEP, params, stats, rows, author, result=audit.to_record()
    )
    run = load_audit_run(store, project, run_id)
    if run is None:  # pragma: no cover - just written in this process
        raise CurationError(f"the bias audit run {run_id} was saved but cannot be read back")
    run.report = audit  # the run just made keeps its rows
    return run


def run_project_audit(
    store: Store,
    project: str,
    config: AuditConfig | None = None,
    *,
    author: str,
    progress: ProgressFn | None = None,
) -> AuditRun:
    """Audit the project (`audit_project`) and save the run (`save_audit_report`).

    A `Cancelled` raised by `progress` stops it before anything is written.
    """
    audit = audit_project(store, project, config, progress=progress)
    report(progress, "bias audit: saving", 0, None)
    return save_audit_report(store, project, audit, author=author)


def load_audit_run(store: Store, project: str, run_id: int | None = None) -> AuditRun | None:
    """The saved run `run_id`, or the project's latest bias-audit run; None when there is none."""
    row = (
        store.latest_step_run(project, STEP) if run_id is None else store.step_run(project, run_id)
    )
    if row is None or row["step"] != STEP:
        return None
    result = row["result"] or {}
    return AuditRun(
        run_id=int(row["id"]),
        author=row["author"],
        created_at=row["created_at"],
        report=AuditReport.from_record(result),
        n_rows=int((row.get("stats") or {}).get("rows", 0)),
    )


@dataclass(frozen=True, slots=True)
class ListedExample:
    """One example behind a bar or a finding, as the page lists it."""

    example_id: str
    status: str
    prompt: str
    answer: str
    reason: str = ""

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.example_id,
            "status": self.status,
            "prompt": self.prompt,
            "answer": self.answer,
            "detail": self.reason,
        }


def _preview(text: str, n: int = PREVIEW_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def behind_ids(
    store: Store,
    project: str,
    run: AuditRun,
    *,
    codes: Sequence[str] = (),
    example_ids: Sequence[str] = (),
) -> list[str]:
    """Ids behind a bar or finding: the examples carrying every one of `codes` in the run (in
    import order), or `example_ids` when no code is given."""
    if not codes:
        return list(dict.fromkeys(example_ids))
    ids = store.step_result_ids(project, STEP, codes[0], run_id=run.run_id)
    for code in codes[1:]:
        keep = set(store.step_result_ids(project, STEP, code, run_id=run.run_id))
        ids = [i for i in ids if i in keep]
    return ids


def examples_behind(
    store: Store,
    project: str,
    run: AuditRun,
    *,
    codes: Sequence[str] = (),
    example_ids: Sequence[str] = (),
    limit: int | None = DEFAULT_LIMIT,
) -> list[ListedExample]:
    """The examples behind a bar or a finding (see `behind_ids`), whatever their status now,
    with a preview of prompt and answer and the row's reason (of the first code), in import
    order; at most `limit`. Examples removed since the run are left out."""
    ids = behind_ids(store, project, run, codes=codes, example_ids=example_ids)
    if limit is not None:
        ids = ids[:limit]
    found = store.get_examples(project, ids)
    reasons: dict[str, str] = {}
    if codes:
        for r in store.step_results(project, STEP, run_id=run.run_id, code=codes[0]):
            if r.reason:
                reasons[r.example_id] = r.reason
    out = []
    for i in ids:
        stored = found.get(i)
        if stored is None:
            continue
        out.append(
            ListedExample(
                i,
                stored.status,
                _preview(stored.example.prompt),
                _preview(stored.example.response),
                reasons.get(i, ""),
            )
        )
    return out


def project_label_fields(store: Store, project: str) -> list[str]:
    """Metadata keys of the project, for choosing label fields (the store's field index)."""
    return [f.name for f in store.metadata_fields(project)]
