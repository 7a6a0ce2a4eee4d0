"""A PII scan of a project as a background job: its parameters and the runner the worker calls.

The scanner (spaCy and presidio's recognizers) is built once per process and choice of
entities, threshold and configuration, and kept for later jobs with its finding cache, so a
re-scan only scans the texts that changed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

from curation.errors import JobError
from curation.pii.config import ENTITY_TYPES, PiiConfig
from curation.pii.scanner import PiiScanner
from curation.progress import ProgressFn, report
from curation.records import ROLES
from curation.store import Store

STEP = "pii_scan"
PARAMS = ("entities", "score_threshold", "roles", "metadata")
_scanners: dict[tuple[tuple[str, ...] | None, float | None, str], PiiScanner] = {}
_scanners_lock = threading.Lock()


def _names(value: Any, what: str, allowed: Any = None) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise JobError(f"PII scan {what} are a list of names, not {value!r}.")
    if not value:
        raise JobError(f"Choose at least one of the PII scan's {what}.")
    if allowed is not None:
        bad = [v for v in value if v not in allowed]
        if bad:
            raise JobError(f"Unknown {what} {', '.join(bad)}; use {', '.join(allowed)}.")
    return list(dict.fromkeys(value))


def pii_scan_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``entities`` (None = the defaults and the project's own types), ``score_threshold``
    (None = the default, else in [0, 1]), ``roles`` (None = every turn) and ``metadata``
    (scan metadata texts too, default True), checked and normalised. Entity types are checked
    against the project's configuration when the job runs (the project may add its own)."""
    unknown = sorted(set(params) - set(PARAMS))
    if unknown:
        raise JobError(
            f"Unknown PII scan parameter(s) {', '.join(unknown)}; use {', '.join(PARAMS)}."
        )
    threshold = params.get("score_threshold")
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise JobError(f"A PII score threshold is a number in [0, 1], not {threshold!r}.")
        if not 0 <= float(threshold) <= 1:
            raise JobError(f"A PII score threshold is in [0, 1], not {threshold}.")
        threshold = float(threshold)
    metadata = params.get("metadata", True)
    if not isinstance(metadata, bool):
        raise JobError(f"'metadata' is true or false, not {metadata!r}.")
    return {
        "entities": _names(params.get("entities"), "entity types"),
        "score_threshold": threshold,
        "roles": _names(params.get("roles"), "roles", ROLES),
        "metadata": metadata,
    }


def project_scanner(
    store: Store, project: str, entities: list[str] | None, threshold: float | None
) -> PiiScanner:
    """The scanner for the project's saved configuration (allow list, own entity types), made
    once per process and kept, so later scans reuse the model and the finding cache."""
    saved = store.project_settings(project).get("pii") or {}
    config = PiiConfig.from_dict(saved)
    own = {r.supported_entity for r in config.custom_recognizers}
    if entities is not None:
        bad = [e for e in entities if e not in ENTITY_TYPES and e not in own]
        if bad:
            raise JobError(
                f"Unknown entity type(s) {', '.join(bad)}: neither built in nor one of the "
                "project's own (add them in the PII configuration)."
            )
    key = (
        None if entities is None else tuple(entities),
        threshold,
        json.dumps(saved, sort_keys=True),
    )
    with _scanners_lock:  # two jobs starting at once build one scanner
        if key not in _scanners:
            _scanners[key] = PiiScanner(entities=entities, score_threshold=threshold, config=config)
        return _scanners[key]


def run_pii_scan_job(
    store: Store,
    project: str,
    params: dict[str, Any],
    progress: ProgressFn,
    should_cancel: Callable[[], bool],
    *,
    author: str,
) -> dict[str, Any]:
    """Scan every example of the project and keep the findings (`scan_project`).

    A cancel stops it at the next progress report, before anything is saved: the findings are
    written in one transaction at the end.
    """
    from curation.pii.project import scan_project

    checked = pii_scan_params(params)
    report(progress, "loading the PII model", 0, None)
    scanner = project_scanner(store, project, checked["entities"], checked["score_threshold"])
    scan = scan_project(
        store,
        project,
        scanner,
        author,
        roles=checked["roles"],
        include_metadata=checked["metadata"],
        progress=progress,
    )
    return {
        "step": STEP,
        "n_findings": scan.n_findings,
        "n_examples": scan.n_examples,
        "by_type": scan.counts(),
    }
