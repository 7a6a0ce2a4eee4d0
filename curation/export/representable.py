"""Whether a preset can carry an example: the one per-example check behind writer, plan and validator.

A record's errors either make its example unrepresentable (left out or blocking); file rules always block.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from curation.export.conversation import Layout, Unrepresentable
from curation.export.issues import Issue
from curation.export.presets.base import LEFT_OUT_REASONS, WARNING_CODES, Built, LeftOut, Preset
from curation.records import Example

# Codes that concern a file or the files together, never one example: leaving examples out is
# not what fixes them, so they block an export whatever `on_unrepresentable` says.
FILE_LEVEL_CODES = frozenset(
    {
        "bom",
        "blank_line",
        "encoding",
        "invalid_json",
        "invalid_parquet",
        "no_trailing_newline",
        "empty_file",
        "too_few_records",
        "schema_mismatch",
        "schema_varies",
    }
)
SKIPPED_CODE = "skipped_unrepresentable"
LEFT_OUT_CODE = "left_out"  # left out by design (a tie in a pair preset...); ``cause`` says why


@dataclass(slots=True)
class Prepared:
    """Examples as the rows a preset writes, and the examples it leaves out by design.

    Attributes
    ----------
    rows:
        The rows, in the order of the examples they come from.
    origin:
        For each row, the index of its example in the list given to `prepare_examples`.
    left_out:
        One ``left_out`` warning per example left out, ``cause`` its reason code.
    """

    rows: list[Example]
    origin: list[int]
    left_out: list[Issue]


def prepare_examples(preset: Preset, examples: Iterable[Example]) -> Prepared:
    """Run every example through `Preset.prepare`: the rows to write and what is left out.

    An example left out this way is not a defect (a tie has no chosen answer, an SFT preset
    does not train undesirable answers): it never blocks an export and is counted by reason.
    """
    rows: list[Example] = []
    origin: list[int] = []
    left_out: list[Issue] = []
    for i, ex in enumerate(examples):
        got = preset.prepare(ex)
        if isinstance(got, LeftOut):
            left_out.append(
                Issue(
                    None,
                    ex.id,
                    LEFT_OUT_CODE,
                    f"left out of {preset.name} ({got.code}): {got.message}",
                    cause=got.code,
                )
            )
            continue
        rows.extend(got)
        origin.extend([i] * len(got))
    return Prepared(rows, origin, left_out)


def left_out_counts(issues: Iterable[Issue]) -> dict[str, int]:
    """Reason -> number of examples left out by design (from ``left_out`` warnings)."""
    out: dict[str, int] = {}
    for issue in issues:
        if issue.code == LEFT_OUT_CODE:
            cause = issue.cause or "other"
            out[cause] = out.get(cause, 0) + 1
    return dict(sorted(out.items()))


def left_out_text(counts: Mapping[str, int]) -> str:
    """Left-out counts in words, e.g. ``answers marked undesirable (not trained on): 3``."""
    return "; ".join(f"{LEFT_OUT_REASONS.get(code, code)}: {n}" for code, n in counts.items())


def is_error(issue: Issue) -> bool:
    """True when the issue blocks an export (its code is not a warning code)."""
    return issue.code not in WARNING_CODES


def null_paths(value: Any, limit: int = 3) -> list[str]:
    """JSON paths of the first ``limit`` nulls inside a record (trainers need a value there)."""
    try:  # one C-speed pass rules out almost every record; "null" inside a string is rare
        if "null" not in json.dumps(value, ensure_ascii=False):
            return []
    except (TypeError, ValueError):
        pass
    out: list[str] = []
    stack: list[tuple[str, Any]] = [("$", value)]
    while stack and len(out) < limit:
        path, v = stack.pop()
        if v is None:
            out.append(path)
        elif isinstance(v, dict):
            stack.extend((f"{path}.{k}", item) for k, item in reversed(v.items()))
        elif isinstance(v, list):
            stack.extend((f"{path}[{i}]", item) for i, item in reversed(list(enumerate(v))))
    return out


def record_issues(preset: Preset, record: Any, index: int) -> list[Issue]:
    """Every rule about one record on its own: the preset's rules and nulls.

    The validator runs this on each record it reads back from a file, and the writer on each
    record it is about to write, so what blocks a written file is exactly what makes an example
    unrepresentable before it is written.

    Parameters
    ----------
    preset:
        The preset whose rules apply.
    record:
        One record (a parsed JSON value).
    index:
        0-based position of the record in its file (issues carry ``line = index + 1``).

    Returns
    -------
    list[Issue]
        Errors and warnings together; `is_error` tells them apart.
    """
    issues = preset.validate_record(record, index)
    if isinstance(record, dict):
        for p in null_paths(record):
            issues.append(
                Issue(index + 1, None, "null_value", f"{p} is null; omit the key or write a string")
            )
    return issues


def invalid_value(record: Any) -> str | None:
    """Why a record cannot be written as strict JSON in UTF-8 (NaN, lone surrogate), or None."""
    stack = [record]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return f"text {value[:40]!r} holds a lone surrogate (not valid UTF-8)"
        elif isinstance(value, float) and not math.isfinite(value):
            return f"number {value} is not valid JSON"
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return None


@dataclass(frozen=True, slots=True)
class Checked:
    """One example run through a preset: its record when it builds, and what is wrong with it.

    Attributes
    ----------
    example_id:
        The example's id.
    built:
        The record and its lossy-conversion notes, or None when the preset cannot build it.
    errors:
        Problems that make the example unrepresentable in this preset (empty when it is carried).
    """

    example_id: str
    built: Built | None
    errors: tuple[Issue, ...] = ()

    @property
    def carried(self) -> bool:
        """True when the preset can write this example as it is."""
        return self.built is not None and not self.errors


def check_example(
    preset: Preset,
    example: Example,
    layout: Layout,
    *,
    file: str | None = None,
    record_rules: bool = True,
) -> Checked:
    """Build one example's record and check it with the same rules the validator applies.

    Parameters
    ----------
    preset:
        The preset to write.
    example:
        The canonical example.
    layout:
        The export's layout (optional columns decided over every example written together).
    file:
        The file name the issues should name, when known.
    record_rules:
        Also apply `record_issues` to the built record. The writer turns this off when it
        blocks rather than skips: the validator then applies the same rules to the written file.

    Returns
    -------
    Checked
        The built record, and the errors (code and message naming the example) that keep the
        preset from carrying it: a shape it cannot build (`Unrepresentable`), a value JSON
        cannot hold, or any error `record_issues` finds in the built record.
    """
    try:
        built = preset.build(example, layout)
        problem = invalid_value(built.record)
        if problem:
            raise Unrepresentable("invalid_value", problem)
    except (Unrepresentable, ValueError) as exc:
        code = exc.code if isinstance(exc, Unrepresentable) else "invalid_value"
        message = f"{preset.name} cannot represent example {example.id!r}: {exc}"
        return Checked(example.id, None, (Issue(None, example.id, code, message, file),))
    if not record_rules:
        return Checked(example.id, built)
    errors = tuple(
        Issue(
            None,
            example.id,
            issue.code,
            f"{preset.name} cannot carry example {example.id!r}: {issue.message}",
            file,
        )
        for issue in record_issues(preset, built.record, 0)
        if is_error(issue)
    )
    return Checked(example.id, built, errors)


def left_out_warnings(errors: Iterable[Issue]) -> list[Issue]:
    """One ``skipped_unrepresentable`` warning per example named in ``errors``, in order.

    The warning's ``cause`` is the example's first error code; its message gives every one.
    """
    by_example: dict[str | None, list[Issue]] = {}
    for issue in errors:
        by_example.setdefault(issue.example_id, []).append(issue)
    out = []
    for example_id, issues in by_example.items():
        first = issues[0]
        codes = ", ".join(dict.fromkeys(i.code for i in issues))
        out.append(
            Issue(
                None,
                example_id,
                SKIPPED_CODE,
                f"left out ({codes}): {first.message}",
                first.file,
                cause=first.code,
                severity="warning",
            )
        )
    return out


@dataclass(slots=True)
class Partition:
    """Examples split into those a preset carries and those it cannot.

    Attributes
    ----------
    carried:
        The examples that will be written, in their given order.
    errors:
        One or more errors per example that cannot be carried (each names its id).
    layout:
        The layout of ``carried``: what the writer uses when it writes exactly these examples.
    """

    carried: list[Example]
    errors: list[Issue]
    layout: Layout

    @property
    def left_out_ids(self) -> list[str]:
        """Ids of the examples that cannot be carried, in order, each once."""
        return list(dict.fromkeys(i.example_id for i in self.errors if i.example_id))


def partition_examples(preset: Preset, examples: Iterable[Example]) -> Partition:
    """Split examples into those the preset carries and those it cannot, with the errors.

    Optional columns depend on which examples are written together (an export with no tool
    call writes no ``tool_calls`` key), so after leaving examples out the check runs again under
    the layout of what is left, until every remaining example passes under its own layout:
    the writer, given the carried examples, then builds exactly the records checked here.
    """
    current = list(examples)
    errors: list[Issue] = []
    while True:
        layout = preset.layout(current)
        kept: list[Example] = []
        for ex in current:
            checked = check_example(preset, ex, layout)
            if checked.carried:
                kept.append(ex)
            else:
                errors.extend(checked.errors)
        kept_layout = layout if len(kept) == len(current) else preset.layout(kept)
        if kept_layout == layout:
            return Partition(kept, errors, layout)
        current = kept


def error_codes(issues: Sequence[Issue]) -> dict[str, int]:
    """Number of distinct examples per error code (an example with two codes counts in both)."""
    seen: dict[str, set[str | None]] = {}
    for issue in issues:
        seen.setdefault(issue.code, set()).add(issue.example_id)
    return {code: len(ids) for code, ids in sorted(seen.items())}
