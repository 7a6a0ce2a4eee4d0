"""Export as a background job: split, write, validate and zip a project's export in the worker.

    params = export_params({"settings": {"preset": "trl-messages", "seed": 1}, "out_dir": None})

Parameters: ``settings`` (`ExportOptions` fields; ``preset`` required), the selection
(``sources``, ``metadata``, ``verdicts``), ``card`` (`CardInfo` fields), ``out_dir`` (a folder
to write, or None for a download-only export), ``overwrite`` and ``allow_pii``. Everything is
checked when the job is submitted. The zip of every export is kept under
``$CURATION_HOME/exports/<job folder>/`` for the page to offer as a download; download-only
exports are built there too. Folders older than `STALE_EXPORT_SECONDS` are deleted when the next
export job starts.

The job's result is JSON: ``ok`` True with the counts, files, warnings, token statistics,
leakage and readiness rows, or ``ok`` False with the validation errors when the written files
failed validation (nothing is kept then).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from curation.errors import CurationError, JobError, ValidationFailed
from curation.export.card import CardInfo
from curation.export.plan import ExportOptions
from curation.issues import Column, issue_rows
from curation.paths import discard_stale_folders, export_stem
from curation.progress import ProgressFn
from curation.store import Store

STEP = "export"
STALE_EXPORT_SECONDS = 24 * 3600  # a day: the zip is a download, not an archive
PARAM_KEYS = (
    "settings",
    "sources",
    "metadata",
    "verdicts",
    "card",
    "out_dir",
    "overwrite",
    "allow_pii",
)
WARNING_COLUMNS: dict[str, Column] = {
    "line": "line",
    "id": "example_id",
    "code": "code",
    "warning": "message",
}
CARD_KEYS = tuple(f.name for f in fields(CardInfo))

__all__ = ["STEP", "export_params", "exports_dir", "run_export_job"]


def exports_dir() -> Path:
    """Where export jobs keep their zips: ``$CURATION_HOME/exports``."""
    return Path(os.environ.get("CURATION_HOME", ".curation")) / "exports"


def _settings(raw: Any) -> ExportOptions:
    if not isinstance(raw, Mapping):
        raise JobError("An export job needs 'settings' with a 'preset' (text).")
    try:
        return ExportOptions.from_dict(raw)
    except CurationError as exc:
        raise JobError(f"Export settings: {exc}") from exc


def _texts(raw: Any, what: str) -> list[str] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise JobError(f"{what} is a list of text values, not {raw!r}.")
    return list(raw)


def _card(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise JobError(f"'card' is an object of dataset card fields, not {type(raw).__name__}.")
    unknown = sorted(set(raw) - set(CARD_KEYS))
    if unknown:
        raise JobError(f"Unknown card field(s) {', '.join(unknown)}; use {', '.join(CARD_KEYS)}.")
    try:
        CardInfo(**raw)
    except TypeError as exc:
        raise JobError(f"Dataset card: {exc}") from exc
    return dict(raw)


def export_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters (see the module doc), checked and normalised; a bad one is a `JobError`."""
    unknown = sorted(set(params) - set(PARAM_KEYS))
    if unknown:
        raise JobError(
            f"Unknown export job parameter(s) {', '.join(unknown)}; use {', '.join(PARAM_KEYS)}."
        )
    metadata = params.get("metadata") or {}
    if not isinstance(metadata, Mapping) or not all(isinstance(k, str) for k in metadata):
        raise JobError("'metadata' maps field names to the values an example must have.")
    out_dir = params.get("out_dir")
    if out_dir is not None and (not isinstance(out_dir, str) or not out_dir.strip()):
        raise JobError("'out_dir' is a folder path, or null for a download-only export.")
    return {
        "settings": _settings(params.get("settings")).to_dict(),
        "sources": _texts(params.get("sources"), "'sources'"),
        "metadata": dict(metadata),
        "verdicts": _texts(params.get("verdicts"), "'verdicts'"),
        "card": _card(params.get("card")),
        "out_dir": out_dir.strip() if isinstance(out_dir, str) else None,
        "overwrite": bool(params.get("overwrite", False)),
        "allow_pii": bool(params.get("allow_pii", False)),
    }


def run_export_job(
    store: Store,
    project: str,
    params: dict[str, Any],
    progress: ProgressFn,
    should_cancel: Callable[[], bool],
    *,
    author: str,
) -> dict[str, Any]:
    """Export the project as the parameters say (`export_project`); the result described in
    the module doc. Progress is reported while the split is made, so a cancel stops the job
    there, before any file is written."""
    from curation.export.from_project import export_project

    checked = export_params(params)
    settings = _settings(checked["settings"])
    discard_stale_folders(exports_dir(), STALE_EXPORT_SECONDS)
    job_dir = exports_dir() / uuid.uuid4().hex
    job_dir.mkdir(parents=True)
    name = export_stem(project, settings.preset)
    out_dir = Path(checked["out_dir"]).expanduser() if checked["out_dir"] else job_dir / name
    card = {**checked["card"]}
    card.setdefault("label_field", settings.stratify_by)

    try:
        result = export_project(
            store,
            project,
            out_dir,
            settings.preset,
            author=author,
            settings=settings,
            sources=checked["sources"],
            metadata=checked["metadata"],
            verdicts=checked["verdicts"],
            card_info=CardInfo(**card),
            zip=True,
            overwrite=checked["overwrite"],
            allow_pii=checked["allow_pii"],
            progress=progress,
        )
    except ValidationFailed as exc:
        shutil.rmtree(job_dir, ignore_errors=True)
        errors = exc.report.errors if exc.report is not None else []
        return {
            "step": STEP,
            "ok": False,
            "message": str(exc),
            "errors": issue_rows(errors),
        }
    except BaseException:
        shutil.rmtree(job_dir, ignore_errors=True)
        raise
    zip_path = job_dir / f"{name}.zip"
    zip_path.write_bytes(result.zip_bytes or b"")
    if not checked["out_dir"]:
        shutil.rmtree(out_dir, ignore_errors=True)  # the zip is the download-only export
    return {
        "step": STEP,
        "ok": True,
        "out_dir": str(result.out_dir) if checked["out_dir"] else None,
        "zip_path": str(zip_path),
        "zip_name": zip_path.name,
        "files": list(result.files),
        "train": result.train_count,
        "eval": result.eval_count,
        "preset": settings.preset,
        "warnings": issue_rows(result.validation.warnings, WARNING_COLUMNS),
        "tokens": result.validation.tokens.to_dict(),
        "estimates": result.validation.token_counts_are_estimates,
        "leakage": result.leakage.summary(),
        "readiness": [item.to_dict() for item in result.readiness],
        "left_out": dict(result.manifest.get("left_out", {})),
    }
