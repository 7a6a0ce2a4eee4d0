"""The quality flags as a background job: the parameters a run takes and the runner the worker
calls.

Parameters are a `QualityConfig` in its JSON form (flags, settings, declared expectations),
checked when the job is submitted, so a bad pattern or schema is refused on the page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from curation.errors import CurationError, JobError
from curation.progress import ProgressFn
from curation.store import QUALITY_STEP, Store

STEP = QUALITY_STEP  # the step's name in the jobs table and in step runs

__all__ = ["STEP", "quality_params", "run_quality_job"]


def quality_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """`QualityConfig.to_dict` keys (flags, settings, expectations), checked and normalised;
    a bad value is a `JobError` naming it."""
    from curation.quality.config import QualityConfig

    try:
        return QualityConfig.from_dict(params).to_dict()
    except (CurationError, TypeError, ValueError) as exc:  # a settings class refusing a value
        raise JobError(f"Quality check parameters: {exc}") from exc


def run_quality_job(
    store: Store,
    project: str,
    params: dict[str, Any],
    progress: ProgressFn,
    should_cancel: Callable[[], bool],
    *,
    author: str,
) -> dict[str, Any]:
    """Run the flags over the project and save the run (`run_project_quality`); its id and counts.

    A cancel stops it at the next progress report, before anything is saved: the run and its
    rows are written in one transaction at the end.
    """
    from curation.quality.config import QualityConfig
    from curation.quality.project import run_project_quality

    config = QualityConfig.from_dict(quality_params(params))
    run = run_project_quality(store, project, config, author=author, progress=progress)
    return {
        "step": STEP,
        "run_id": run.run_id,
        "n_examples": run.n_examples,
        "n_flagged": run.n_flagged,
    }
