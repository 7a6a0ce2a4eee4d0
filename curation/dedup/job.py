"""Deduplicate as a background job: the parameters a run takes and the runner the worker calls.

The sentence-embedding model of semantic runs is loaded once per process and kept for later runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from curation.dedup.project import STEP, project_languages, run_dedup
from curation.errors import JobError
from curation.progress import ProgressFn, report
from curation.records import TEXT_FIELDS
from curation.store import Store

PARAMS = ("method", "threshold", "fields", "backend")
BACKENDS = ("auto", "static")
_models: dict[tuple[tuple[str, ...], str], dict[str, Any]] = {}
_models_lock = threading.Lock()


def dedup_job_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``method`` (exact / near / semantic, default near), ``threshold`` (None = the method's
    default, else in (0, 1]) and ``fields`` (all / user / assistant), checked and normalised."""
    from curation.dedup import METHODS

    unknown = sorted(set(params) - set(PARAMS))
    if unknown:
        raise JobError(
            f"Unknown dedup job parameter(s) {', '.join(unknown)}; use {', '.join(PARAMS)}."
        )
    method = params.get("method", "near")
    if method not in METHODS:
        raise JobError(f"Unknown dedup method {method!r}; use one of {', '.join(METHODS)}.")
    fields = params.get("fields", "all")
    if fields not in TEXT_FIELDS:
        raise JobError(f"Unknown text to compare {fields!r}; use one of {', '.join(TEXT_FIELDS)}.")
    threshold = params.get("threshold")
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise JobError(f"A dedup threshold is a number in (0, 1], not {threshold!r}.")
        if not 0 < float(threshold) <= 1:
            raise JobError(f"A dedup threshold is in (0, 1], not {threshold}.")
        threshold = float(threshold)
    backend = params.get("backend", "auto")
    if backend not in BACKENDS:
        raise JobError(f"Unknown sentence model {backend!r}; use one of {', '.join(BACKENDS)}.")
    return {"method": method, "threshold": threshold, "fields": fields, "backend": backend}


def semantic_options(languages: tuple[str, ...] = (), backend: str = "auto") -> dict[str, Any]:
    """Options for semantic dedup: the embedding model for these languages (a multilingual one
    when installed and needed), loaded once per process, and an embedding cache keyed by text,
    so later runs only encode new texts; ``backend="static"`` gives the model's static version.
    ``{}`` means the TF-IDF fallback."""
    from curation.dedup.semantic import SemanticDedupConfig, resolve_encoder

    with _models_lock:  # two jobs starting at once load the model once
        key = (languages, backend)
        if key not in _models:
            config = SemanticDedupConfig(languages=languages, backend=backend)
            encoder, name = resolve_encoder(config)
            if encoder is None:
                _models[key] = {}
            else:
                encoder.backend_name = name  # type: ignore[attr-defined]
                _models[key] = {"encoder": encoder, "cache": {}}
        return dict(_models[key])


def run_dedup_job(
    store: Store,
    project: str,
    params: dict[str, Any],
    progress: ProgressFn,
    should_cancel: Callable[[], bool],
    *,
    author: str,
) -> dict[str, Any]:
    """Run dedup on the project and save the run (`run_dedup`); the saved run's id and counts.

    A cancel stops it at the next stage report, before the run is saved: the one write a dedup
    run makes (its step run) is a single transaction at the end.
    """
    checked = dedup_job_params(params)
    options = None
    if checked["method"] == "semantic":
        report(progress, "detecting languages", 0, None)
        languages = tuple(project_languages(store, project).languages())
        report(progress, "loading the sentence model", 0, None)
        options = semantic_options(languages, checked["backend"])
    run = run_dedup(
        store,
        project,
        method=checked["method"],
        threshold=checked["threshold"],
        fields=checked["fields"],
        author=author,
        progress=progress,
        options=options,
    )
    return {
        "step": STEP,
        "run_id": run.run_id,
        "n_clusters": len(run.clusters),
        "n_duplicates": run.n_duplicates,
    }
