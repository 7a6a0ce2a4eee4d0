"""Read written export files back and check them against a preset and against each other.

File rules (encoding, blank lines, JSON), record rules (the preset's), schema and token limits.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from curation.errors import ExportError
from curation.export.issues import Issue, TokenStats, ValidationReport
from curation.export.presets import Preset, get_preset
from curation.export.presets.base import SPLITS, WARNING_CODES
from curation.export.representable import record_issues
from curation.export.tokens import resolve_token_counter

MANIFEST_NAME = "manifest.json"


def json_type(value: Any) -> str:
    """The JSON type name of a Python value as json.loads returns it."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "array"
    return "object"


def json_signature(value: Any) -> dict[str, str]:
    """Recursive key -> JSON-type signature of one record.

    Paths look like ``$.messages[].content``; list elements share the ``[]`` path, so element
    types are merged (a list mixing types gets ``"mixed:<a>|<b>"``).
    """
    out: dict[str, str] = {}
    stack: list[tuple[str, Any]] = [("$", value)]
    while stack:
        path, v = stack.pop()
        t = json_type(v)
        prev = out.get(path)
        if prev is None:
            out[path] = t
        elif prev != t and not prev.startswith("mixed:"):
            out[path] = f"mixed:{'|'.join(sorted({prev, t}))}"
        if isinstance(v, dict):
            stack.extend((f"{path}.{k}", item) for k, item in v.items())
        elif isinstance(v, list):
            stack.extend((f"{path}[]", item) for item in v)
    return out


class SchemaTracker:
    """Checks rows against the schema `datasets` would fix from the first file.

    `datasets` infers the schema from the first chunk of the first file (train) and casts
    everything else to it: a path whose JSON type changes is an error anywhere, and a path
    never seen in the first file (a new struct field, elements of a list that was always
    empty there) cannot be cast. The first file stands in for its first 10 MB chunk. Keys of
    objects outside lists must also match the first row (they are Arrow columns).

    Parameters
    ----------
    loose_prefixes:
        Paths under which differences are reported as ``schema_varies`` warnings instead
        (a preset whose consumer does not load through Arrow, e.g. OpenAI's ``$.tools``).
    """

    def __init__(self, loose_prefixes: tuple[str, ...] = ()) -> None:
        self.types: dict[str, tuple[str, str, int]] = {}
        self.fixed_paths: set[str] | None = None
        self.origin: tuple[str, int] = ("", 0)
        self.first_file: str | None = None
        self.loose = loose_prefixes

    def _issue(self, path: str, line: int, message: str, file: str) -> Issue:
        loose = any(path.startswith(p) for p in self.loose)
        return Issue(line, None, "schema_varies" if loose else "schema_mismatch", message, file)

    def check(self, record: Any, file: str, line: int) -> list[Issue]:
        if self.first_file is None:
            self.first_file = file
        sig = json_signature(record)
        issues = []
        new_paths = []
        for path, t in sig.items():
            if t.startswith("mixed:"):
                issues.append(
                    self._issue(path, line, f"{path} mixes JSON types {t[6:]} within the row", file)
                )
                continue
            seen = self.types.get(path)
            if seen is None:
                if file != self.first_file:
                    new_paths.append(path)
                self.types[path] = (t, file, line)
            elif seen[0] != t:
                issues.append(
                    self._issue(
                        path,
                        line,
                        f"{path} is {t} here but {seen[0]} in {seen[1]} line {seen[2]}; "
                        "older datasets versions (LLaMA-Factory, Unsloth) fail on this",
                        file,
                    )
                )
        for path in _outermost(new_paths):
            issues.append(
                self._issue(
                    path,
                    line,
                    f"{path} does not occur in {self.first_file}, whose schema datasets applies "
                    "to every split: the cast fails",
                    file,
                )
            )
        fixed = {p for p in sig if "[]" not in p}
        if self.fixed_paths is None:
            self.fixed_paths, self.origin = fixed, (file, line)
        elif fixed != self.fixed_paths:
            missing = sorted(self.fixed_paths - fixed)
            extra = sorted(fixed - self.fixed_paths)
            issues.append(
                self._issue(
                    (missing + extra)[0],
                    line,
                    f"keys differ from {self.origin[0]} line {self.origin[1]}: "
                    f"missing {missing}, extra {extra}",
                    file,
                )
            )
        return issues


def _outermost(paths: list[str]) -> list[str]:
    """Drop paths nested under another listed path (report each new subtree once)."""
    ordered = sorted(paths)
    out: list[str] = []
    for p in ordered:
        if not any(p.startswith(q) and p[len(q) : len(q) + 1] in (".", "[") for q in out):
            out.append(p)
    return out


def split_files(path: Path, preset: Preset) -> list[Path]:
    """The split files to check: the preset's train/validation files in a folder, or one file."""
    if path.is_dir():
        files = [path / preset.file_name(split) for split in SPLITS]
        found = [f for f in files if f.is_file()]
        if not found:
            raise ExportError(
                f"{path} holds none of the {preset.name} files {[str(f.name) for f in files]}; "
                "export first or choose the preset the folder was written with"
            )
        return found
    if not path.is_file():
        raise ExportError(f"{path} does not exist; give an export folder or a written split file")
    return [path]


def _manifest_ids(folder: Path) -> dict[str, list[str]]:
    manifest = folder / MANIFEST_NAME
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        ids = data.get("example_ids", {})
        return {str(k): [str(i) for i in v] for k, v in ids.items()}
    except (OSError, ValueError, AttributeError):
        return {}


def validate(
    path: str | Path | Sequence[str | Path],
    preset: str | Preset,
    *,
    max_tokens: int | None = None,
    tokenizer: Any = None,
    ids: Mapping[str, Sequence[str]] | None = None,
) -> ValidationReport:
    """Check written files against the preset, against each other, and against a token limit.

    Parameters
    ----------
    path:
        An export folder (its train and validation files are read), one file, or a list of
        files checked together (train first: its first row fixes the schema).
    preset:
        A registered preset name or a `Preset`.
    max_tokens:
        Per-example token limit for ``over_token_limit`` warnings; the preset's
        ``default_max_tokens`` when None (OpenAI: 16,385).
    tokenizer:
        See `resolve_token_counter`; without one counts are estimates and the report says so.
    ids:
        File name -> example ids in line order, so issues name examples; read from the
        folder's ``manifest.json`` when absent, else taken from an ``id`` column if any.

    Returns
    -------
    ValidationReport
        Errors (which block an export) and warnings, each with line and example id, plus
        record counts and token statistics.
    """
    chosen = get_preset(preset)
    if isinstance(path, str | Path):
        root = Path(path)
        files = split_files(root, chosen)
        id_map = dict(ids) if ids is not None else (_manifest_ids(root) if root.is_dir() else {})
        names = {f: (f.relative_to(root).as_posix() if root.is_dir() else f.name) for f in files}
    else:
        files = [Path(p) for p in path]
        for f in files:
            if not f.is_file():
                raise ExportError(f"{f} does not exist; give files that were written")
        id_map = dict(ids or {})
        names = {f: f.name for f in files}
    if max_tokens is not None and max_tokens <= 0:
        raise ExportError(f"max_tokens must be a positive integer, not {max_tokens!r}")
    limit = max_tokens if max_tokens is not None else chosen.default_max_tokens
    counter = resolve_token_counter(tokenizer)
    report = ValidationReport(
        preset=chosen.name,
        paths=files,
        token_counts_are_estimates=not counter.exact,
        tokenizer=counter.name,
    )
    tracker = SchemaTracker(chosen.loose_schema_prefixes)
    counts: list[int] = []

    def add(issue: Issue) -> None:
        if issue.code in WARNING_CODES:
            report.warnings.append(replace(issue, severity="warning"))
        else:
            report.errors.append(issue)

    for f in files:
        name = names[f]
        file_ids = list(id_map.get(name, id_map.get(f.name, [])))
        n = 0
        for rr in chosen.read_records(f):
            if rr.error is not None:
                add(_with(rr.error, file=name))
                continue
            n += 1
            value = rr.value
            ex_id = file_ids[rr.line - 1] if rr.line - 1 < len(file_ids) else None
            if ex_id is None and isinstance(value, dict) and isinstance(value.get("id"), str):
                ex_id = value["id"]
            issues = record_issues(chosen, value, rr.line - 1)
            if isinstance(value, dict):
                issues.extend(tracker.check(value, name, rr.line))
                tokens = chosen.count_tokens(value, counter)
                counts.append(tokens)
                if limit is not None and tokens > limit:
                    issues.append(
                        Issue(
                            rr.line,
                            None,
                            "over_token_limit",
                            f"{tokens} tokens > limit {limit}; trainers truncate it",
                            name,
                        )
                    )
            for issue in issues:
                add(_with(issue, file=name, example_id=ex_id))
        if n == 0:
            add(Issue(None, None, "empty_file", f"{name} holds no records", name))
        report.records_per_file[name] = n
        report.n_records += n
    if report.n_records and report.n_records < chosen.min_records:
        add(
            Issue(
                None,
                None,
                "too_few_records",
                f"{report.n_records} records; {chosen.name} asks for at least {chosen.min_records}",
            )
        )
    report.tokens = TokenStats.from_counts(counts, limit)
    return report


def _with(issue: Issue, *, file: str, example_id: str | None = None) -> Issue:
    return replace(issue, example_id=issue.example_id or example_id, file=issue.file or file)
