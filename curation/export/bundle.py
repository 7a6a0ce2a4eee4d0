"""Write a complete export folder atomically: splits, extra files, card, manifest, zip.

Everything is built and validated in a temporary sibling folder, then moved into place; only
an earlier export of this app is ever replaced, and only when asked.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import curation
from curation.errors import ExportError, ValidationFailed
from curation.export.card import CardInfo, build_card
from curation.export.issues import Issue, ValidationReport
from curation.export.leakage import LeakageReport, leakage_check
from curation.export.presets import Preset, get_preset
from curation.export.readiness import ReadinessItem, readiness_summary
from curation.export.representable import SKIPPED_CODE, left_out_counts, prepare_examples
from curation.export.validate import MANIFEST_NAME, validate
from curation.export.writer import OnUnrepresentable, write_split
from curation.records import Example

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
APP_NAME = "curation"  # the manifest's "app": what marks a folder or zip as an export of ours
_SHOWN = 5  # entries named in a refusal

TargetKind = Literal["new", "empty", "earlier-export", "not-an-export", "not-a-folder"]


@dataclass(frozen=True, slots=True)
class ExportTarget:
    """What a folder given for an export holds, and so whether an export may write there.

    Attributes
    ----------
    path:
        The folder as given.
    kind:
        ``"new"`` (nothing there), ``"empty"`` (an empty folder), ``"earlier-export"`` (only
        the files an earlier export of this app wrote, unchanged in size), ``"not-an-export"``
        (anything else: such a folder is never emptied) or ``"not-a-folder"`` (a file or a
        symbolic link).
    foreign:
        Up to five entries that are not files of an earlier export (``"name/"`` for a folder,
        ``"name (changed since the export)"`` for an export file whose size changed).
    """

    path: Path
    kind: TargetKind
    foreign: tuple[str, ...] = ()

    @property
    def needs_confirmation(self) -> bool:
        """True when writing there replaces an earlier export (the user must confirm)."""
        return self.kind == "earlier-export"

    @property
    def refused(self) -> bool:
        """True when no export may write there, confirmed or not."""
        return self.kind in ("not-an-export", "not-a-folder")

    def problem(self, *, overwrite: bool) -> str | None:
        """Why an export may not write here (None when it may), naming what to do instead."""
        if self.kind == "not-a-folder":
            what = "a symbolic link" if self.path.is_symlink() else "a file"
            return f"{self.path} is {what}, not a folder; choose a new or empty folder."
        if self.kind == "not-an-export":
            return (
                f"{self.path} is not empty: it holds files that are not part of an earlier "
                f"export of this app ({', '.join(self.foreign)}), and such a folder is never "
                "emptied. Choose a new or empty folder, or move those files out."
            )
        if self.kind == "earlier-export" and not overwrite:
            return (
                f"{self.path} is not empty: it holds an earlier export of this app. Confirm "
                "replacing it (--overwrite on the command line), or choose a new folder."
            )
        return None

    def check(self, *, overwrite: bool) -> None:
        """Raise `ExportError` unless an export may write here (see `problem`)."""
        message = self.problem(overwrite=overwrite)
        if message:
            raise ExportError(message)


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's manifest when it is one this app wrote, else None."""
    path = folder / MANIFEST_NAME
    try:
        if path.is_symlink() or not path.is_file():
            return None
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if (
        not isinstance(manifest, dict)
        or manifest.get("app") != APP_NAME
        or not isinstance(manifest.get("files"), dict)
    ):
        return None
    return manifest


def _export_file_sizes(manifest: Mapping[str, Any]) -> dict[str, int | None]:
    sizes: dict[str, int | None] = {}
    for name, entry in manifest["files"].items():
        size = entry.get("bytes") if isinstance(entry, dict) else None
        sizes[str(name)] = size if isinstance(size, int) else None
    return sizes


def _foreign_entries(folder: Path, sizes: Mapping[str, int | None]) -> list[str]:
    """Entries of an export folder that its manifest does not account for (at most five).

    The walk never follows symbolic links and stops at the fifth finding, so a folder with a
    large foreign subtree costs no more than one with a single stray file.
    """
    parents = {name.rsplit("/", i)[0] for name in sizes for i in range(1, name.count("/") + 1)}
    found: list[str] = []
    stack = [(folder, "")]
    while stack and len(found) < _SHOWN:
        current, prefix = stack.pop()
        with os.scandir(current) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                rel = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    if rel in parents:
                        stack.append((Path(entry.path), rel + "/"))
                    else:
                        found.append(rel + "/")
                elif not entry.is_file(follow_symlinks=False):
                    found.append(rel)
                elif rel == MANIFEST_NAME and not prefix:
                    continue
                elif rel not in sizes:
                    found.append(rel)
                elif (
                    sizes[rel] is not None
                    and entry.stat(follow_symlinks=False).st_size != sizes[rel]
                ):
                    found.append(f"{rel} (changed since the export)")
                if len(found) >= _SHOWN:
                    break
    return found


def inspect_export_target(path: str | os.PathLike[str]) -> ExportTarget:
    """Classify a folder given for an export (see `ExportTarget`); nothing is changed.

    Parameters
    ----------
    path:
        The folder an export would be written to.

    Returns
    -------
    ExportTarget
        Its ``kind``, and the entries that make it ``"not-an-export"``.
    """
    target = Path(path)
    if not os.path.lexists(target):
        return ExportTarget(target, "new")
    if target.is_symlink() or not target.is_dir():
        return ExportTarget(target, "not-a-folder")
    try:
        with os.scandir(target) as entries:
            first = sorted(
                e.name + ("/" if e.is_dir(follow_symlinks=False) else "") for e in entries
            )
        if not first:
            return ExportTarget(target, "empty")
        manifest = _read_manifest(target)
        if manifest is None:
            return ExportTarget(target, "not-an-export", tuple(first[:_SHOWN]))
        foreign = _foreign_entries(target, _export_file_sizes(manifest))
    except OSError as exc:  # what cannot be read cannot be known to be an earlier export
        return ExportTarget(target, "not-an-export", (f"cannot be read: {exc.strerror or exc}",))
    if foreign:
        return ExportTarget(target, "not-an-export", tuple(foreign))
    return ExportTarget(target, "earlier-export")


@dataclass(slots=True)
class ExportResult:
    """What `export_dataset` wrote.

    Attributes
    ----------
    out_dir:
        The export folder.
    files:
        Relative paths of every file written, sorted.
    train_count, eval_count:
        Records per split.
    validation:
        The validation report (no errors, or the export would have failed).
    leakage:
        Train/eval similarity report.
    readiness:
        Traffic-light items.
    manifest:
        The content of ``manifest.json``.
    card:
        The text of ``README.md``.
    zip_bytes:
        The deterministic zip of the folder when asked for.
    """

    out_dir: Path
    files: list[str]
    train_count: int
    eval_count: int
    validation: ValidationReport
    leakage: LeakageReport
    readiness: list[ReadinessItem] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    card: str = ""
    zip_bytes: bytes | None = None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(
        (p for p in folder.rglob("*") if p.is_file()),
        key=lambda p: p.relative_to(folder).as_posix(),
    )


def make_zip(out_dir: str | Path) -> bytes:
    """Zip an export folder deterministically.

    Entries are the folder's files under ``<folder name>/``, sorted by path, with a fixed
    1980-01-01 timestamp and 0644 permissions, deflated: the same files give the same bytes.
    """
    folder = Path(out_dir)
    if not folder.is_dir():
        raise ExportError(f"{folder} is not a folder; export first, then zip it")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in _files(folder):
            info = zipfile.ZipInfo(f"{folder.name}/{path.relative_to(folder).as_posix()}", ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, path.read_bytes())
    return buf.getvalue()


def _json_parameters(parameters: Mapping[str, Any]) -> dict[str, Any]:
    try:
        text = json.dumps(dict(parameters), sort_keys=True, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ExportError(
            f"export parameters must be JSON values (str, number, list, dict): {exc}"
        ) from exc
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def export_dataset(
    train: Sequence[Example],
    eval: Sequence[Example],
    out_dir: str | Path,
    preset: str | Preset,
    *,
    seed: int,
    parameters: Mapping[str, Any],
    curation_stats: Mapping[str, Any],
    card_info: CardInfo | None = None,
    split_stats: Mapping[str, Any] | None = None,
    zip: bool = False,
    tokenizer: Any = None,
    max_tokens: int | None = None,
    leakage_threshold: float | None = None,
    on_unrepresentable: OnUnrepresentable = "error",
    left_out: Sequence[Issue] = (),
    overwrite: bool = False,
    created_at: str | None = None,
) -> ExportResult:
    """Write train/validation files, extra files, README.md card and manifest.json.

    Parameters
    ----------
    train, eval:
        The splits, written in the given order (`split_examples` returns them seeded).
    out_dir:
        The export folder. It must not exist or be empty unless ``overwrite``.
    preset:
        A registered preset name or a `Preset`.
    seed, parameters:
        Recorded in the manifest (``parameters``: JSON values, e.g. the split settings).
    curation_stats:
        Step name -> numbers (see `build_card`); also read by the readiness summary.
    card_info:
        License, language, intended use... for the card.
    split_stats:
        Numbers of the split step (`SplitPlan.stats`), shown on the card.
    zip:
        Also return the folder as deterministic zip bytes.
    tokenizer, max_tokens:
        Token counting and limit for validation (see `validate`).
    leakage_threshold:
        Similarity from which cross-split pairs are listed (default 0.8).
    on_unrepresentable:
        ``"error"`` blocks the export on examples the preset cannot carry; ``"skip"`` leaves
        them out with a warning naming each id.
    left_out:
        ``skipped_unrepresentable`` and ``left_out`` warnings of examples already left out
        before the split (`plan_export` does that), listed in the report, the manifest and the
        card; the ``left_out`` ones (by design, see `Preset.prepare`) are counted by reason.
    overwrite:
        Replace ``out_dir`` when it holds an earlier export of this app (its ``manifest.json``
        says so and it holds nothing else). A folder holding anything else is never emptied,
        with or without ``overwrite``.
    created_at:
        A timestamp to record; none is written unless given, keeping exports byte-identical.

    Returns
    -------
    ExportResult

    Raises
    ------
    ValidationFailed
        When validation finds errors; ``.report`` holds them, and ``out_dir`` is untouched.
    ExportError
        For an empty train split, ids shared by both splits, an ``out_dir`` that is a file or
        holds anything but an earlier export, an earlier export without ``overwrite``, or
        parameters that are not JSON.
    """
    chosen = get_preset(preset)
    # The rows the preset writes: a KTO preset turns a pair into two rows, and examples it
    # leaves out by design (ties in a pair preset...) are counted, never written.
    train_prep, eval_prep = prepare_examples(chosen, train), prepare_examples(chosen, eval)
    train, eval = train_prep.rows, eval_prep.rows
    left_out = [*left_out, *train_prep.left_out, *eval_prep.left_out]
    if not train:
        raise ExportError("the train split is empty; select examples before exporting")
    shared = {ex.id for ex in train} & {ex.id for ex in eval}
    if shared:
        raise ExportError(f"ids {sorted(shared)[:5]} are in both train and eval; split again")
    params = _json_parameters(parameters)
    target = Path(out_dir)
    inspect_export_target(target).check(overwrite=overwrite)
    info = card_info or CardInfo()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        everything = train + eval
        writes = {
            "train": write_split(
                train,
                tmp / chosen.file_name("train"),
                chosen,
                layout_examples=everything,
                on_unrepresentable=on_unrepresentable,
            )
        }
        if eval:
            writes["validation"] = write_split(
                eval,
                tmp / chosen.file_name("validation"),
                chosen,
                layout_examples=everything,
                on_unrepresentable=on_unrepresentable,
            )
        data_files = {split: chosen.file_name(split) for split in writes}
        layout = writes["train"].layout
        for name, text in chosen.extra_files(
            data_files["train"], data_files.get("validation"), info.name(), layout=layout
        ).items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_text(text, encoding="utf-8", newline="\n")
        ids = {data_files[s]: w.ids for s, w in writes.items()}
        report = validate(tmp, chosen, max_tokens=max_tokens, tokenizer=tokenizer, ids=ids)
        for w in writes.values():
            report.errors[:0] = w.errors
            report.warnings[:0] = w.warnings
        report.warnings[:0] = list(left_out)
        if not report.ok:
            codes = ", ".join(f"{c} x{k}" for c, k in report.codes().items())
            first = report.errors[0]
            raise ValidationFailed(
                f"export to {chosen.name} failed validation ({codes}); first: "
                f"{first.example_id or first.file or ''} {first.message}. Fix or remove those "
                "examples, or choose another preset.",
                report,
            )
        # The card, readiness and leakage describe the files: examples left out while writing
        # are not in them.
        written = {s: set(w.ids) for s, w in writes.items()}
        train = [ex for ex in train if ex.id in written["train"]]
        eval = [ex for ex in eval if ex.id in written.get("validation", set())]
        leakage = leakage_check(train, eval, threshold=leakage_threshold)
        by_reason = left_out_counts(left_out)
        readiness = readiness_summary(
            train,
            eval,
            stats=curation_stats,
            tokens=report.tokens,
            leakage=leakage,
            left_out=by_reason,
            task=chosen.task,
        )
        extra_steps: dict[str, Any] = {}
        if split_stats:
            extra_steps["split"] = dict(split_stats)
        extra_steps["validation"] = {
            "errors": len(report.errors),
            "warnings": len(report.warnings),
            "left_out_unrepresentable": report.codes(level="warnings").get(SKIPPED_CODE, 0),
            "left_out_by_design": sum(by_reason.values()),
            "token_p95": report.tokens.p95,
            "token_counts_are_estimates": report.token_counts_are_estimates,
        }
        card = build_card(
            train,
            eval,
            preset=chosen.name,
            data_files=data_files,
            curation_stats=curation_stats,
            card_info=info,
            extra_steps=extra_steps,
            leakage=leakage,
            readiness=readiness,
            created_at=created_at,
            left_out=by_reason,
        )
        (tmp / "README.md").write_text(card, encoding="utf-8", newline="\n")
        manifest: dict[str, Any] = {
            "app": APP_NAME,
            "app_version": curation.__version__,
            "preset": chosen.name,
            "seed": seed,
            "parameters": params,
            "counts": {s: w.count for s, w in writes.items()},
            "files": {
                p.relative_to(tmp).as_posix(): {"sha256": _sha256(p), "bytes": p.stat().st_size}
                for p in _files(tmp)
            },
            "example_ids": ids,
            "left_out": by_reason,
            "validation": report.summary(),
            "leakage": leakage.summary(),
            "readiness": [item.to_dict() for item in readiness],
            "curation_stats": json.loads(
                json.dumps(dict(curation_stats), sort_keys=True, default=str)
            ),
        }
        if created_at:
            manifest["created_at"] = created_at
        (tmp / MANIFEST_NAME).write_text(
            json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8",
            newline="\n",
        )
        _move_into_place(tmp, target, overwrite=overwrite)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    files = [p.relative_to(target).as_posix() for p in _files(target)]
    return ExportResult(
        out_dir=target,
        files=files,
        train_count=writes["train"].count,
        eval_count=writes["validation"].count if "validation" in writes else 0,
        validation=report,
        leakage=leakage,
        readiness=readiness,
        manifest=manifest,
        card=card,
        zip_bytes=make_zip(target) if zip else None,
    )


def _move_into_place(tmp: Path, target: Path, *, overwrite: bool) -> None:
    """Swap the finished temp folder in; what was there goes only after the swap.

    A folder already at `target` is first moved aside into a fresh hidden folder, where
    nobody can add to it any more, and checked again there: if it now holds anything but an
    earlier export (a file added since the first check), it is put back untouched.
    """
    if not os.path.lexists(target):
        os.replace(tmp, target)  # fails, changing nothing, if a non-empty folder appeared
        return
    holder = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    old = holder / target.name
    os.replace(target, old)
    found = inspect_export_target(old)
    message = ExportTarget(target, found.kind, found.foreign).problem(overwrite=overwrite)
    if message:
        os.replace(old, target)
        holder.rmdir()
        raise ExportError(message)
    os.replace(tmp, target)
    shutil.rmtree(holder, ignore_errors=True)


def zip_path_for(out_dir: str | os.PathLike[str]) -> Path:
    """Where the command line writes an export folder's zip: beside it, as ``<folder>.zip``."""
    return Path(os.path.abspath(out_dir) + ".zip")


def _is_export_zip(path: Path) -> bool:
    """True when `path` is a zip of one export folder of this app (as `make_zip` writes)."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            tops = {name.split("/", 1)[0] for name in names}
            if len(tops) != 1 or any("/" not in name for name in names):
                return False
            top = tops.pop()
            manifest = json.loads(zf.read(f"{top}/{MANIFEST_NAME}").decode("utf-8"))
    except (OSError, KeyError, UnicodeDecodeError, ValueError, zipfile.BadZipFile):
        return False
    if not isinstance(manifest, dict) or manifest.get("app") != APP_NAME:
        return False
    files = manifest.get("files")
    listed = {f"{top}/{name}" for name in (files if isinstance(files, dict) else {})}
    return set(names) <= listed | {f"{top}/{MANIFEST_NAME}"}


def check_zip_target(path: str | os.PathLike[str], *, overwrite: bool) -> None:
    """Raise `ExportError` unless an export zip may be written to `path`.

    A new path is fine; an existing zip of an earlier export of this app is replaced only with
    ``overwrite``; any other file (or a folder, or a link) is never replaced.
    """
    target = Path(path)
    if not os.path.lexists(target):
        return
    if target.is_symlink() or not target.is_file() or not _is_export_zip(target):
        raise ExportError(
            f"{target} exists and is not the zip of an earlier export of this app; nothing was "
            "written. Choose another output folder, or move that file away."
        )
    if not overwrite:
        raise ExportError(
            f"{target} holds the zip of an earlier export; nothing was written. Pass "
            "--overwrite to replace it, or choose another output folder."
        )


def save_zip(data: bytes, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write export zip bytes to `path` atomically, after `check_zip_target`.

    Parameters
    ----------
    data:
        The zip (`ExportResult.zip_bytes`).
    path:
        Where to write it (`zip_path_for` gives the command line's choice).
    overwrite:
        Replace an existing zip of an earlier export.

    Returns
    -------
    Path
        The path written.
    """
    target = Path(path)
    check_zip_target(target, overwrite=overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.tmp-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    return target
