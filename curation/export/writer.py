"""Write one split of canonical examples in a preset's record shape.

Examples the preset cannot carry become issues with their ids; nothing is dropped silently.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from curation.errors import ExportError
from curation.export.conversation import Layout
from curation.export.issues import Issue
from curation.export.presets import Preset, get_preset
from curation.export.representable import check_example, left_out_warnings, prepare_examples
from curation.export.tokens import resolve_token_counter
from curation.records import Example

OnUnrepresentable = Literal["error", "skip"]
_ON_UNREPRESENTABLE = ("error", "skip")


@dataclass(slots=True)
class WriteResult:
    """What `write_split` wrote.

    Attributes
    ----------
    path:
        The file written.
    count:
        Records written.
    ids:
        Row ids in line order (line n holds ``ids[n - 1]``): the example's id, or
        ``<id>/chosen`` and ``<id>/rejected`` for the two KTO rows of a pair.
    errors:
        Examples the preset cannot represent (``on_unrepresentable="error"``): they are not in
        the file and block an export.
    warnings:
        Lossy conversions, examples the preset leaves out by design (``left_out``, with the
        reason as ``cause``), and skipped examples when ``on_unrepresentable="skip"``.
    sha256, n_bytes:
        Digest and size of the written file.
    token_counts:
        Per-record token counts, aligned with ``ids``.
    token_counts_are_estimates:
        True unless a real tokenizer counted.
    layout:
        The optional columns the records carry.
    """

    path: Path
    count: int
    ids: list[str]
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    sha256: str = ""
    n_bytes: int = 0
    token_counts: list[int] = field(default_factory=list)
    token_counts_are_estimates: bool = True
    layout: Layout = field(default_factory=Layout)

    @property
    def paths(self) -> list[Path]:
        """The files written (one per split for every current preset)."""
        return [self.path]


def build_records(
    examples: Sequence[Example],
    preset: Preset,
    layout: Layout,
    *,
    file: str | None = None,
    on_unrepresentable: OnUnrepresentable = "error",
) -> tuple[list[dict[str, Any]], list[str], list[Issue], list[Issue]]:
    """Convert examples to records; returns records, their ids, errors and warnings.

    Each example first goes through `Preset.prepare`: an example the preset leaves out by
    design (a tie in a pair preset...) is a ``left_out`` warning, never an error, and a KTO
    preset's pair becomes two rows. Each row then goes through `check_example`. With ``on_unrepresentable="skip"`` that includes
    the record rules the validator applies to a written record, and an example failing any of
    them is left out with a ``skipped_unrepresentable`` warning naming its id. With ``"error"``
    an example that cannot be built is an error here, and a built record that breaks a record
    rule is written and then reported by the validator, which applies the same rules.
    """
    skip = on_unrepresentable == "skip"
    records: list[dict[str, Any]] = []
    ids: list[str] = []
    errors: list[Issue] = []
    prepared = prepare_examples(preset, examples)
    warnings: list[Issue] = [_left_out(i, file) for i in prepared.left_out]
    for ex in prepared.rows:
        checked = check_example(preset, ex, layout, file=file, record_rules=skip)
        if checked.built is None or checked.errors:
            if skip:
                warnings.extend(left_out_warnings(checked.errors))
            else:
                errors.extend(checked.errors)
            continue
        line = len(records) + 1
        for note in checked.built.warnings:
            warnings.append(Issue(line, ex.id, "lossy_conversion", note, file, severity="warning"))
        records.append(checked.built.record)
        ids.append(ex.id)
    return records, ids, errors, warnings


def _left_out(issue: Issue, file: str | None) -> Issue:
    """An example the preset leaves out by design: a warning, in the file it was meant for."""
    return replace(issue, file=file, severity="warning")


def write_split(
    examples: Iterable[Example],
    path: str | Path,
    preset: str | Preset,
    *,
    tokenizer: Any = None,
    layout_examples: Iterable[Example] | None = None,
    on_unrepresentable: OnUnrepresentable = "error",
) -> WriteResult:
    """Write examples to ``path`` in the preset's shape.

    Parameters
    ----------
    examples:
        The split's examples, written in this order.
    path:
        The file to write (parent folders are created). Use the preset's `file_name` for
        names trainers recognise (``train.jsonl``, ``validation.jsonl``).
    preset:
        A registered preset name (see `preset_names`) or a `Preset`.
    tokenizer:
        What counts tokens for `WriteResult.token_counts` (see `resolve_token_counter`).
    layout_examples:
        Every example of the export (train + eval), so optional columns are decided once and
        both files share one schema; defaults to ``examples``.
    on_unrepresentable:
        ``"error"`` (default): examples the preset cannot carry are listed as errors;
        ``"skip"``: they are left out and listed as warnings.

    Returns
    -------
    WriteResult
        Path, count, ids in line order, issues, digest.

    Raises
    ------
    ExportError
        For an unknown preset or ``on_unrepresentable`` value, or an unwritable path.
    """
    if on_unrepresentable not in _ON_UNREPRESENTABLE:
        raise ExportError(
            f"on_unrepresentable {on_unrepresentable!r} is not one of {_ON_UNREPRESENTABLE}"
        )
    chosen = get_preset(preset)
    items = list(examples)
    everything = items if layout_examples is None else list(layout_examples)
    layout = chosen.layout(prepare_examples(chosen, everything).rows)
    target = Path(path)
    records, ids, errors, warnings = build_records(
        items, chosen, layout, file=target.name, on_unrepresentable=on_unrepresentable
    )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        chosen.write_records(records, target, layout)
    except (ValueError, UnicodeEncodeError) as exc:
        raise ExportError(
            f"cannot write {target}: {exc} (non-finite number or invalid text?)"
        ) from exc
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc}") from exc
    counter = resolve_token_counter(tokenizer)
    data = target.read_bytes()
    return WriteResult(
        path=target,
        count=len(records),
        ids=ids,
        errors=errors,
        warnings=warnings,
        sha256=hashlib.sha256(data).hexdigest(),
        n_bytes=len(data),
        token_counts=[chosen.count_tokens(r, counter) for r in records],
        token_counts_are_estimates=not counter.exact,
        layout=layout,
    )
