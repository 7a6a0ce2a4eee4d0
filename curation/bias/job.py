"""The bias audit as a background job: the parameters a run takes and the runner the worker calls.

Parameters are an `AuditConfig` in its JSON form, checked when the job is submitted. The audit's
modules load on first use, so registering the job costs the app's start nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from curation.errors import CurationError, JobError
from curation.progress import ProgressFn
from curation.store import Store

STEP = "bias_audit"  # the step's name in the jobs table and in step runs

__all__ = ["STEP", "audit_params", "run_audit_job"]


def audit_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The job's parameters: `AuditConfig.to_dict` keys (checks, settings, label_fields...),
    checked and normalised; a bad value is a `JobError` naming it."""
    from curation.bias.config import AuditConfig

    try:
        return AuditConfig.from_dict(params).to_dict()
    except (CurationError, TypeError, ValueError) as exc:  # a settings class refusing a value
        raise JobError(f"Bias audit parameters: {exc}") from exc


def run_audit_job(
    store: Store,
    project: str,
    params: dict[str, Any],
    progress: ProgressFn,
    should_cancel: Callable[[], bool],
    *,
    author: str,
) -> dict[str, Any]:
    """Audit the project and save the run (`run_project_audit`); the run's id and counts.

    A cancel stops it at the next progress report, before anything is saved: the run and its
    rows are written in one transaction at the end.
    """
    from curation.bias.config import AuditConfig
    from curation.bias.project import run_project_audit

    config = AuditConfig.from_dict(audit_params(params))
    run = run_project_audit(store, project, config, author=author, progress=progress)
    summary = run.report.summary
    return {
        "step": STEP,
        "run_id": run.run_id,
        "severity": summary.severity,
        "n_examples": summary.n_examples,
        **summary.counts,
    }
