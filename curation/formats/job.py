"""Import as a background job: files read and stored by the worker, with progress per record.

    params = import_params({"files": [{"path": "data/alpaca.json"}], "allow_reimport": False})

Each file is ``{"path", "name", "format", "mapping", "ratings_rule", "min_margin"}`` (only
``path`` is required; ``name`` is the file name shown and stored, ``mapping`` a `ColumnMapping`
in its JSON form, `mapping_to_dict`). Files are read and stored one after the other, each in its
own transaction and audit event, so a cancel or a crash keeps the files already stored (each
undoable on its own) and nothing of the file being read. Uploads the app saved for the job
(`save_upload`) are deleted when the job ends.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from curation.errors import CurationError, JobError
from curation.formats.mapping import ColumnMapping, DropRule
from curation.formats.preference import DEFAULT_RATINGS_RULE
from curation.paths import discard_stale_folders
from curation.progress import ProgressFn, report
from curation.store import Store

STEP = "import"  # the step's name in the jobs table
FILE_KEYS = ("path", "name", "format", "mapping", "ratings_rule", "min_margin")
STALE_UPLOAD_SECONDS = 7 * 24 * 3600  # a week: no job waits that long in the queue

__all__ = [
    "STEP",
    "import_params",
    "mapping_from_dict",
    "mapping_to_dict",
    "run_import_job",
    "save_upload",
    "uploads_dir",
]


def uploads_dir() -> Path:
    """Where the app keeps uploaded files until their import job ends: ``$CURATION_HOME/uploads``."""
    return Path(os.environ.get("CURATION_HOME", ".curation")) / "uploads"


def save_upload(name: str, data: bytes) -> str:
    """Write an uploaded file for an import job; its path (named as uploaded, so the container
    is told by its suffix), in a folder of its own that the job deletes when it ends. Uploads
    left behind by jobs cancelled before they ran are deleted after `STALE_UPLOAD_SECONDS`."""
    discard_stale_folders(uploads_dir(), STALE_UPLOAD_SECONDS)
    base = Path(name.replace("\x00", "")).name or "upload"
    folder = uploads_dir() / uuid.uuid4().hex
    folder.mkdir(parents=True)
    path = folder / base
    partial = folder / f".{base}.partial"
    partial.write_bytes(data)
    partial.replace(path)
    return str(path)


def mapping_to_dict(mapping: ColumnMapping | None) -> dict[str, Any] | None:
    """A `ColumnMapping` as JSON-ready data (drop rules as ``{"column", "values"}``)."""
    if mapping is None:
        return None
    out = asdict(mapping)
    out["drop_where"] = [{"column": r.column, "values": list(r.values)} for r in mapping.drop_where]
    return out


def mapping_from_dict(data: Mapping[str, Any] | None) -> ColumnMapping | None:
    """The inverse of `mapping_to_dict`; a bad value is a `JobError` naming it."""
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise JobError(f"A column mapping is an object, not {type(data).__name__}.")
    fields = dict(data)
    try:
        rules = tuple(
            DropRule(str(r["column"]), tuple(r["values"])) for r in fields.pop("drop_where", [])
        )
        return ColumnMapping(**fields, drop_where=rules)
    except (CurationError, KeyError, TypeError) as exc:
        raise JobError(f"Bad column mapping: {exc}") from exc


def _file_params(raw: Any, index: int) -> dict[str, Any]:
    from curation.formats import SHAPES

    if not isinstance(raw, Mapping) or not isinstance(raw.get("path"), str):
        raise JobError(f"Import file {index + 1} needs a 'path' (text).")
    unknown = sorted(set(raw) - set(FILE_KEYS))
    if unknown:
        raise JobError(
            f"Unknown import file key(s) {', '.join(unknown)}; use {', '.join(FILE_KEYS)}."
        )
    path = raw["path"]
    if not os.path.exists(path):
        raise JobError(f"No file or folder at {path}.")
    fmt = raw.get("format", "auto")
    if fmt != "auto" and fmt not in SHAPES:
        raise JobError(f"Unknown format {fmt!r}; use auto or one of {', '.join(SHAPES)}.")
    margin = raw.get("min_margin", 0.0)
    if isinstance(margin, bool) or not isinstance(margin, int | float) or margin < 0:
        raise JobError(f"min_margin is a number >= 0, not {margin!r}.")
    mapping = raw.get("mapping")
    mapping_from_dict(mapping)  # refused now, not in the worker
    return {
        "path": path,
        "name": str(raw.get("name") or Path(path).name),
        "format": fmt,
        "mapping": None if mapping is None else dict(mapping),
        "ratings_rule": str(raw.get("ratings_rule") or DEFAULT_RATINGS_RULE),
        "min_margin": float(margin),
    }


def import_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``files`` (a non-empty list, see the module doc) and ``allow_reimport``, checked."""
    unknown = sorted(set(params) - {"files", "allow_reimport"})
    if unknown:
        raise JobError(
            f"Unknown import job parameter(s) {', '.join(unknown)}; use files, allow_reimport."
        )
    files = params.get("files")
    if not isinstance(files, list) or not files:
        raise JobError("An import job needs 'files': a list of at least one file.")
    return {
        "files": [_file_params(f, i) for i, f in enumerate(files)],
        "allow_reimport": bool(params.get("allow_reimport", False)),
    }


def _discard_upload(path: str) -> None:
    folder = Path(path).parent
    if folder.parent.resolve() == uploads_dir().resolve():
        shutil.rmtree(folder, ignore_errors=True)


def run_import_job(
    store: Store,
    project: str,
    params: dict[str, Any],
    progress: ProgressFn,
    should_cancel: Callable[[], bool],
    *,
    author: str,
) -> dict[str, Any]:
    """Read and store every file; ``{"step", "summaries"}``, one summary per file as the Import
    page shows them (an unreadable file gives ``{"file_name", "error"}`` and the rest go on)."""
    from curation.formats import read_examples

    checked = import_params(params)
    summaries: list[dict[str, Any]] = []
    try:
        for f in checked["files"]:
            name = f["name"]
            # a cancel is seen here at the latest (a stage change is always written and the
            # answer read back): the files stored so far stay, each its own undoable import
            report(progress, f"reading {name}", 0, None)
            try:
                result = read_examples(
                    f["path"],
                    format=f["format"],
                    mapping=mapping_from_dict(f["mapping"]),
                    source=name,
                    progress=progress,
                    ratings_rule=f["ratings_rule"],
                    min_margin=f["min_margin"],
                )
                # one transaction: the job's own progress row cannot be written while it
                # holds SQLite's write lock, so the stage is reported once before it
                report(progress, f"storing {name}", 0, len(result.examples))
                summary = store.add_import(
                    project, result, author, allow_reimport=checked["allow_reimport"]
                )
            except CurationError as exc:
                summaries.append({"file_name": name, "error": str(exc)})
                continue
            summaries.append({**summary.to_dict(), "kinds": result.kind_counts()})
    finally:
        for f in checked["files"]:
            _discard_upload(f["path"])
    return {"step": STEP, "summaries": summaries}
