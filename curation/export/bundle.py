"""Write a complete export folder atomically: splits, extra files, card, manifest, zip.

Everything is built and validated in a temporary sibling folder, then moved into place.
"""

from __future__ import annotations

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
from typing import Any

import curation
from curation.errors import ExportError, ValidationFailed
from curation.export.card import CardInfo, build_card
from curation.export.issues import Issue, ValidationReport
from curation.export.leakage import LeakageReport, leakage_check
from curation.export.presets import Preset, get_preset
from curation.export.readiness import ReadinessItem, readiness_summary
from curation.export.representable import SKIPPED_CODE
from curation.export.validate import MANIFEST_NAME, validate
from curation.export.writer import OnUnrepresentable, write_split
from curation.records import Example

ZIP_DATE = (1980, 1, 1, 0, 0, 0)


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
        ``skipped_unrepresentable`` warnings of examples already left out before the split
        (`plan_export` does that), listed in the report, the manifest and the card.
    overwrite:
        Replace an existing non-empty ``out_dir``.
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
        For an empty train split, ids shared by both splits, a non-empty ``out_dir`` without
        ``overwrite``, or parameters that are not JSON.
    """
    chosen = get_preset(preset)
    train, eval = list(train), list(eval)
    if not train:
        raise ExportError("the train split is empty; select examples before exporting")
    shared = {ex.id for ex in train} & {ex.id for ex in eval}
    if shared:
        raise ExportError(f"ids {sorted(shared)[:5]} are in both train and eval; split again")
    params = _json_parameters(parameters)
    target = Path(out_dir)
    if target.exists() and (not target.is_dir() or any(target.iterdir())) and not overwrite:
        raise ExportError(
            f"{target} exists and is not empty; choose a new folder or pass overwrite=True"
        )
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
        readiness = readiness_summary(
            train, eval, stats=curation_stats, tokens=report.tokens, leakage=leakage
        )
        extra_steps: dict[str, Any] = {}
        if split_stats:
            extra_steps["split"] = dict(split_stats)
        extra_steps["validation"] = {
            "errors": len(report.errors),
            "warnings": len(report.warnings),
            "left_out_unrepresentable": report.codes(level="warnings").get(SKIPPED_CODE, 0),
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
        )
        (tmp / "README.md").write_text(card, encoding="utf-8", newline="\n")
        manifest: dict[str, Any] = {
            "app": "curation",
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
        _move_into_place(tmp, target)
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


def _move_into_place(tmp: Path, target: Path) -> None:
    """Swap the finished temp folder in; an old folder is removed only after the swap."""
    if target.exists():
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, target)
