"""Export page glue: readiness rows and the dry-run summary kept in session state.

Turns the core's `DryRun` into small tables the page shows; no export logic lives here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from curation.export import DryRun, ReadinessItem
from curation.export.presets.base import LEFT_OUT_REASONS
from curation.issues import Column, Issue, issue_rows

STATUS_LABEL = {"ok": "ok", "warn": "warning", "fail": "FAIL", "not-run": "not run"}


def readiness_rows(items: list[ReadinessItem]) -> list[dict[str, object]]:
    """Readiness items as table rows (status word, check, value, note)."""
    return [
        {
            "status": STATUS_LABEL.get(i.status, i.status),
            "check": i.name,
            "value": i.value,
            "note": i.message,
        }
        for i in items
    ]


LEFT_OUT_COLUMNS: dict[str, Column] = {
    "left out": "example_id",
    "because": lambda i: i.cause or i.code,
    "detail": "message",
}


def left_out_rows(issues: list[Issue]) -> list[dict[str, object]]:
    """Examples left out as table rows: id, the error that keeps them out, its message."""
    return issue_rows(issues, LEFT_OUT_COLUMNS)


def composition_rows(counts: Mapping[str, int]) -> list[dict[str, object]]:
    """Examples left out by design as table rows: the reason in words, its code, how many."""
    return [
        {"reason": LEFT_OUT_REASONS.get(code, code), "code": code, "examples": n}
        for code, n in counts.items()
    ]


def dry_run_view(dry: DryRun, key: str) -> dict[str, Any]:
    """What the page shows of a dry run, as plain values for `st.session_state`.

    Parameters
    ----------
    dry:
        The core's dry run.
    key:
        The settings the dry run was made with, so the page can tell when they changed.
    """
    plan = dry.plan
    file_errors = dry.file_errors
    return {
        "key": key,
        "preset": plan.settings.preset,
        "selected": plan.n_selected,
        "train": plan.train_count,
        "eval": plan.eval_count,
        "codes": plan.codes_text() if plan.train_count or plan.eval_count else plan.reasons_text(),
        "left_out": left_out_rows(plan.left_out),
        "n_left_out": len(plan.left_out),
        "excluded": composition_rows(plan.excluded_counts()),
        "n_excluded": len(plan.excluded),
        "blocked": bool(plan.blocking),
        "n_blocked": len(plan.unrepresentable_ids),
        "file_errors": bool(file_errors),
        "errors": issue_rows(plan.blocking + file_errors),
        "readiness": readiness_rows(dry.readiness),
    }
