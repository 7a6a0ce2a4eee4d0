"""Quality flags on a stored project: run them, keep one row per (example, flag), read them back,
and act on every example behind a flag at once (one undoable status event).

Pages, the CLI and the dataset card call these; they read saved runs and never recompute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from curation.errors import CurationError, InputError
from curation.progress import ProgressFn
from curation.quality.base import registry
from curation.quality.config import QualityConfig
from curation.quality.runner import QualityReport, QualityRow, run_quality
from curation.store import QUALITY_STEP, ExampleFilter, StatusChange, StepResult, Store

STEP = QUALITY_STEP
CHECKED = ("active",)  # a run checks the examples that could still be exported
BULK_STATUSES = ("rejected", "filtered")  # what "every example behind a flag" may be set to
PREVIEW_CHARS = 160

__all__ = [
    "BULK_STATUSES",
    "STEP",
    "FlaggedExample",
    "QualityRun",
    "check_project",
    "flag_counts",
    "flag_title",
    "flagged_examples",
    "load_quality_run",
    "mark_flagged",
    "quality_stats",
    "run_project_quality",
    "save_quality_report",
]


def flag_title(code: str) -> str:
    """The flag's title from the registry ("Refusal"), or the code for a flag no longer known."""
    return registry.get(code).title if code in registry else code


@dataclass(slots=True)
class QualityRun:
    """A saved quality run of a project.

    Attributes
    ----------
    run_id, author, created_at:
        The step run.
    config:
        What ran (`QualityConfig.to_dict`): flags, settings, declared expectations.
    n_examples, n_flagged:
        Examples checked; examples with at least one flag.
    counts:
        Examples flagged per code for every code that ran (zeros included), registry order.
    severity, message:
        The summary's one-line verdict.
    n_errors:
        Checks that raised on an example (each lost only that verdict).
    """

    run_id: int
    author: str
    created_at: Any
    config: dict[str, Any]
    n_examples: int
    n_flagged: int
    counts: dict[str, int]
    severity: str
    message: str
    n_errors: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    report: QualityReport | None = None  # the full report, on the run just made only

    def flagged_codes(self) -> list[str]:
        """Codes with at least one flagged example, most flagged first."""
        return [c for c, n in sorted(self.counts.items(), key=lambda kv: -kv[1]) if n]

    def expectations_label(self) -> str:
        """The declared structure in words ("json", "sql (postgres)"), or "none"."""
        declared = (self.config.get("expectations") or {}).get("default")
        if not isinstance(declared, dict):
            return "none"
        kind = str(declared.get("kind", "?"))
        if declared.get("dialect"):
            kind += f" ({declared['dialect']})"
        if declared.get("schema"):
            kind += " with a JSON Schema"
        return kind


def _results(report: QualityReport) -> list[StepResult]:
    return [_result(row) for row in report.rows]


def _result(row: QualityRow) -> StepResult:
    return StepResult(
        example_id=row.example_id,
        code=row.code or "flag",
        score=row.score,
        reason=row.reason,
        suggestion=row.suggestion,
        detail=dict(row.data),
    )


def save_quality_report(
    store: Store, project: str, report: QualityReport, *, author: str
) -> QualityRun:
    """Keep `report` as the project's newest quality run (run row, one row per flag, one event)."""
    summary = report.summary
    params = {
        "config": report.info.get("config") or {},
        "n_examples": summary.n_examples,
        "statuses": list(CHECKED),
    }
    stats: dict[str, Any] = {**summary.numbers(), "severity": summary.severity}
    saved = {
        "summary": summary.to_dict(),
        "n_errors": int(report.info.get("n_errors", 0)),
        "errors": list(report.info.get("errors", []))[:50],
    }
    run_id = store.save_step_results(
        project, STEP, params, stats, _results(report), author, result=saved
    )
    run = load_quality_run(store, project, run_id)
    assert run is not None  # just written in this process
    run.report = report
    return run


def check_project(
    store: Store,
    project: str,
    config: QualityConfig | None = None,
    *,
    progress: ProgressFn | None = None,
) -> QualityReport:
    """Run the quality flags over the project's active examples, without saving anything.

    Raises
    ------
    CurationError
        When the project has no active example.
    """
    examples = [r.example for r in store.iter_examples(project, ExampleFilter(statuses=CHECKED))]
    if not examples:
        raise CurationError(
            f"Project {project!r} has no active example to check; import data or restore some."
        )
    return run_quality(examples, config, progress=progress, total=len(examples))


def run_project_quality(
    store: Store,
    project: str,
    config: QualityConfig | None = None,
    *,
    author: str,
    progress: ProgressFn | None = None,
) -> QualityRun:
    """Run the quality flags over the project's active examples and save the run.

    Parameters
    ----------
    config:
        Flags, settings and declared expectations; None = every default flag.
    author:
        Recorded with the run and its audit event.
    progress:
        A `curation.progress.ProgressFn`, sent the `ProgressUpdate`s `run_quality` reports.

    Returns
    -------
    QualityRun
        The saved run, with ``report`` (every row, the info dict) set.

    Raises
    ------
    CurationError
        When the project has no active example.
    """
    report = check_project(store, project, config, progress=progress)
    return save_quality_report(store, project, report, author=author)


def load_quality_run(store: Store, project: str, run_id: int | None = None) -> QualityRun | None:
    """The saved run `run_id`, or the project's latest quality run; None when there is none."""
    row = (
        store.latest_step_run(project, STEP) if run_id is None else store.step_run(project, run_id)
    )
    if row is None or row["step"] != STEP:
        return None
    result = row["result"] or {}
    summary = result.get("summary") or {}
    params = row["params"] or {}
    return QualityRun(
        run_id=int(row["id"]),
        author=row["author"],
        created_at=row["created_at"],
        config=dict(params.get("config") or {}),
        n_examples=int(summary.get("n_examples", params.get("n_examples", 0))),
        n_flagged=int(summary.get("n_flagged", 0)),
        counts={str(k): int(v) for k, v in (summary.get("counts") or {}).items()},
        severity=str(summary.get("severity", "ok")),
        message=str(summary.get("message", "")),
        n_errors=int(result.get("n_errors", 0)),
        errors=list(result.get("errors") or []),
    )


@dataclass(frozen=True, slots=True)
class FlaggedExample:
    """One example behind a flag, as the Quality page lists it."""

    example_id: str
    status: str
    score: float | None
    reason: str
    prompt: str
    answer: str
    suggestion: str | None = None

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.example_id,
            "status": self.status,
            "score": self.score,
            "reason": self.reason,
            "prompt": self.prompt,
            "answer": self.answer,
        }


def _preview(text: str, n: int = PREVIEW_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def flag_counts(store: Store, project: str, run: QualityRun) -> list[dict[str, Any]]:
    """One row per flag that ran: code, title, examples flagged by the run and how many of
    them are still active now; most flagged first, then in registry order."""
    active = store.step_result_counts(project, STEP, run_id=run.run_id, statuses=CHECKED)
    order = sorted(run.counts.items(), key=lambda kv: -kv[1])  # stable: registry order within
    return [
        {"flag": code, "title": flag_title(code), "flagged": n, "still active": active.get(code, 0)}
        for code, n in order
    ]


def flagged_examples(
    store: Store, project: str, run: QualityRun, code: str, *, limit: int | None = 1000
) -> list[FlaggedExample]:
    """The examples behind flag `code` in `run` (whatever their status now), worst score first,
    with their current status and a preview of prompt and answer."""
    results = store.step_results(project, STEP, run_id=run.run_id, code=code, limit=limit)
    found = store.get_examples(project, [r.example_id for r in results])
    rows = []
    for r in results:
        stored = found.get(r.example_id)
        if stored is None:  # removed by an undone import since the run
            continue
        rows.append(
            FlaggedExample(
                example_id=r.example_id,
                status=stored.status,
                score=r.score,
                reason=r.reason or "",
                prompt=_preview(stored.example.prompt),
                answer=_preview(stored.example.response),
                suggestion=r.suggestion,
            )
        )
    rows.sort(key=lambda f: 1.0 if f.score is None else f.score)  # stable: import order within
    return rows


def mark_flagged(
    store: Store,
    project: str,
    code: str,
    *,
    author: str,
    status: str = "rejected",
    run_id: int | None = None,
) -> int | None:
    """Set every active example behind flag `code` (latest run by default) to `status`, as ONE
    audit event that one undo reverses; returns its id, or None when no active example is left.

    The examples are re-read under the store's lock: one someone set to another status since
    the run is left as it is.
    """
    if status not in BULK_STATUSES:
        raise InputError(f"Cannot mark flagged examples {status!r}; use one of {BULK_STATUSES}.")
    ids = store.step_result_ids(project, STEP, code, run_id=run_id, statuses=CHECKED)
    if not ids:
        return None
    reason = f"quality flag: {flag_title(code)}"
    changes = {i: StatusChange(status, reason) for i in ids}
    return store.apply_status_changes(
        project,
        changes,
        author,
        f"quality flag {code}: {{n}} example(s) set to {status}",
        event_kind="quality",
        extra={"flag": code, "run_id": run_id},
        only_from=CHECKED,
    )


def quality_stats(store: Store, project: str) -> dict[str, Any] | None:
    """The latest quality run's numbers for the dataset card and readiness; None if never run.

    ``examples_checked``, ``flagged`` (at the run), ``flagged_active`` (examples carrying a flag
    that are still active now), then examples per flag code that flagged any.
    """
    run = load_quality_run(store, project)
    if run is None:
        return None
    active = store.step_result_total(project, STEP, run_id=run.run_id, statuses=CHECKED)
    out: dict[str, Any] = {
        "examples_checked": run.n_examples,
        "flagged": run.n_flagged,
        "flagged_active": active,
    }
    out.update({code: run.counts[code] for code in run.flagged_codes()})
    out["notes"] = f"run {run.run_id}; expected structure: {run.expectations_label()}"
    return out
