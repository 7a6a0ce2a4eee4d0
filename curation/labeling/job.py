"""The label-issue check of a project as a background job: its parameters and the runner.

The worker reads the given labels (final labels of a schema field, or a metadata field),
cross-validates a classifier and ranks with cleanlab, then saves the flagged examples as one
step run; the sentence model and embedding cache of semantic dedup are reused when loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from curation.errors import JobError
from curation.labeling.issues import FEATURE_KINDS, LabelIssueConfig
from curation.progress import ProgressFn, report
from curation.store import Store
from curation.store.labels import LABEL_ISSUES_STEP, newest_label_id

STEP = LABEL_ISSUES_STEP
PARAMS = ("field", "features", "folds")

__all__ = ["PARAMS", "STEP", "label_issues_params", "run_label_issues_job"]


def label_issues_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``field`` (a label field or a metadata key, required), ``features`` (one of
    `FEATURE_KINDS`, default ``auto``) and ``folds`` (None = by size, else 2-20), checked."""
    unknown = sorted(set(params) - set(PARAMS))
    if unknown:
        raise JobError(
            f"Unknown label-issue parameter(s) {', '.join(unknown)}; use {', '.join(PARAMS)}."
        )
    field = params.get("field")
    if not isinstance(field, str) or not field.strip():
        raise JobError("Name the label field to check (the field parameter).")
    features = params.get("features", "auto")
    if features not in FEATURE_KINDS:
        raise JobError(f"Unknown features {features!r}; use one of {', '.join(FEATURE_KINDS)}.")
    folds = params.get("folds")
    if folds is not None and (
        isinstance(folds, bool) or not isinstance(folds, int) or not 2 <= folds <= 20
    ):
        raise JobError(f"folds is a whole number 2-20 or None, not {folds!r}.")
    return {"field": field.strip(), "features": features, "folds": folds}


def _embedding_options(features: str, n: int) -> dict[str, Any]:
    """The dedup job's loaded sentence model and cache, when these features will use them."""
    from curation.dedup.semantic import sentence_transformers_available

    wants = features in ("tfidf+embeddings", "embeddings") or (
        features == "auto" and n <= LabelIssueConfig().auto_embeddings_max
    )
    if not wants or not sentence_transformers_available():
        return {}
    from curation.dedup.job import semantic_options

    loaded = semantic_options()
    return {k: loaded[k] for k in ("encoder", "cache") if k in loaded}


def run_label_issues_job(
    store: Store,
    project: str,
    params: dict[str, Any],
    progress: ProgressFn,
    should_cancel: Callable[[], bool],
    *,
    author: str,
) -> dict[str, Any]:
    """Check the project's labels of ``field`` and save the run (`save_label_issues`).

    A cancel stops it at the next progress report, before anything is saved: the run and its
    results are written in one transaction at the end.
    """
    from curation.labeling.issues import rank_label_quality
    from curation.labeling.project import label_issue_inputs, save_label_issues

    checked = label_issues_params(params)
    report(progress, "reading labels", 0, None)
    seen = newest_label_id(store, project)
    ids, texts, given = label_issue_inputs(store, project, checked["field"])
    options = _embedding_options(checked["features"], sum(g is not None for g in given))
    if options:
        report(progress, "loading the sentence model", 0, None)
    config = LabelIssueConfig(features=checked["features"], folds=checked["folds"], **options)
    result = rank_label_quality(texts, given, config=config, progress=progress)
    run_id = save_label_issues(
        store,
        project,
        checked["field"],
        ids,
        given,
        result,
        author,
        params=checked,
        max_label_id=seen,
    )
    return {
        "step": STEP,
        "run_id": run_id,
        "field": checked["field"],
        "checked": int(result.info.get("checked", 0)),
        "flagged": len(result.issues),
    }
