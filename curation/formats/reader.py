"""The import entry point: container -> shape detection -> canonical `Example`s.

Record-level problems become `Issue`s (`curation.issues`); only file-level failures raise `InputError`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from curation.errors import InputError
from curation.formats.containers import LoadedRecords, PathOrBuffer, load_records
from curation.formats.detect import SAMPLE_SIZE, detect_format
from curation.formats.limits import MAX_ID_CHARS
from curation.formats.mapping import (
    ColumnMapping,
    RecordDropped,
    mapped_converter,
    placeholder_warning,
    suggest_mapping,
    validate_mapping,
)
from curation.formats.preference import DEFAULT_RATINGS_RULE, PAIR_SHAPES, RatingsRule
from curation.formats.results import ImportResult, import_warning
from curation.formats.shapes import (
    SHAPE_REGISTRY,
    Converted,
    Converter,
    RecordError,
    json_safe,
    normalise_tools,
)
from curation.formats.storable import Unreadable, printable
from curation.issues import Issue, Severity
from curation.progress import ProgressFn, report
from curation.records import Example

# Registered shapes plus "mapped"; a shape added with `register_shape` is accepted too.
SHAPES: tuple[str, ...] = (*SHAPE_REGISTRY, "mapped")
ID_KEYS = ("id", "uid", "example_id")
PROGRESS_EVERY = 1000

# Up to 18 digits: always a 64-bit integer. Longer digit strings (ids, hashes) stay text, as the
# file holds them; Python refuses to convert over 4300 digits at all.
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]{0,17})")
_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def read_examples(
    path_or_buffer: PathOrBuffer,
    format: str = "auto",
    mapping: ColumnMapping | None = None,
    *,
    source: str | None = None,
    max_bytes: int | None = None,
    progress: ProgressFn | None = None,
    limit: int | None = None,
    ratings_rule: str = DEFAULT_RATINGS_RULE,
    min_margin: float = 0.0,
) -> ImportResult:
    """Read instruction data in any supported container and shape into `Example`s.

    Parameters
    ----------
    path_or_buffer:
        A file path, a folder (``save_to_disk`` output or data files), bytes, or a binary
        file-like object such as Streamlit's ``UploadedFile``.
    format:
        ``"auto"`` to detect, or one of ``SHAPES``.
    mapping:
        Columns to use for the turns; when given it wins over any detected shape.
    source:
        Name stored on each example and used to guess the container of buffers.
    max_bytes:
        Size limit; default ``$CURATION_MAX_IMPORT_MB`` megabytes (200).
    progress:
        A `curation.progress.ProgressFn`: sent ``ProgressUpdate("reading <source>", done,
        total)`` with records converted so far, at the start, every 1000 records and at the
        end (``done == total``).
    limit:
        Read only the first ``limit`` records (fast previews of large files).
    ratings_rule, min_margin:
        How completions rated one by one (UltraFeedback) are ranked into a pair; see
        `RatingsRule`. Other shapes ignore them.

    Returns
    -------
    ImportResult
        Examples, per-record errors, warnings and what was detected.

    Raises
    ------
    InputError
        The file as a whole cannot be read (empty, binary, too large, unknown format name),
        or the ratings rule is unknown.
    MappingError
        ``mapping`` names columns the file does not have.
    """
    if format not in ("auto", "mapped") and format not in SHAPE_REGISTRY:
        choices = ", ".join([*SHAPE_REGISTRY, "mapped"])
        raise InputError(f"Unknown format {format!r}; use 'auto' or one of: {choices}.")
    rating = RatingsRule(ratings_rule, min_margin)
    loaded = load_records(path_or_buffer, source=source, max_bytes=max_bytes, limit=limit)
    result = ImportResult(
        warnings=list(loaded.warnings),
        container=loaded.container,
        columns=loaded.columns,
        sha256=loaded.sha256,
        source=loaded.source,
        total_records=len(loaded.rows),
        truncated=loaded.truncated,
    )
    sample = [r for _, r, _ in loaded.rows[: SAMPLE_SIZE * 5] if isinstance(r, dict)]
    detected, confidence = detect_format(sample)
    if not loaded.rows:
        result.warnings.append(import_warning(f"{loaded.source} holds no records.", reason="empty"))
    converter, id_column = _choose_converter(format, mapping, detected, loaded, sample, result)
    shape_has_tools = result.detected_format != "mapped"
    result.format_confidence = confidence if result.detected_format == detected else 1.0
    if converter is None:
        readable = sum(1 for _, r, _ in loaded.rows if isinstance(r, dict))
        if readable:
            result.skip_counts["needs mapping"] = readable
        _report_unreadable(loaded, result)
        return result
    # Mapped tables may have a "tools" column of their own; only chat shapes carry schemas.
    _convert_all(
        loaded, converter, id_column, result, progress, tools=shape_has_tools, rating=rating
    )
    answer_column = (mapping or result.suggested_mapping or ColumnMapping()).assistant or None
    warning = placeholder_warning(
        (_answer(e) for e in result.examples),
        column=answer_column if result.detected_format == "mapped" else None,
        total=len(result.examples),
    )
    if warning:
        result.warnings.append(import_warning(warning, reason="placeholder answers"))
    for rule in mapping.drop_where if mapping is not None else ():
        if RecordDropped(rule).reason not in result.skip_counts:
            message = f"The drop rule {rule.describe()} matched no row; check its value."
            result.warnings.append(import_warning(message, reason="drop rule unused"))
    return result


def _answer(example: Example) -> str:
    """The example's final answer (the chosen one for pairs), "" when it has none yet."""
    messages = example.sft_messages()
    return messages[-1].content if messages and messages[-1].role == "assistant" else ""


def preview(
    path_or_buffer: PathOrBuffer,
    n: int = 5,
    *,
    format: str = "auto",
    mapping: ColumnMapping | None = None,
    source: str | None = None,
    max_bytes: int | None = None,
    ratings_rule: str = DEFAULT_RATINGS_RULE,
    min_margin: float = 0.0,
) -> ImportResult:
    """The first ``n`` records only: what the Import page shows before a full import.

    Parameters
    ----------
    path_or_buffer, format, mapping, source, max_bytes, ratings_rule, min_margin:
        As for `read_examples`.
    n:
        Number of records to read.
    """
    return read_examples(
        path_or_buffer,
        format,
        mapping,
        source=source,
        max_bytes=max_bytes,
        limit=n,
        ratings_rule=ratings_rule,
        min_margin=min_margin,
    )


def _choose_converter(
    format: str,
    mapping: ColumnMapping | None,
    detected: str,
    loaded: LoadedRecords,
    sample: list[dict[str, Any]],
    result: ImportResult,
) -> tuple[Converter | None, str | None]:
    """Pick the converter, set ``detected_format`` / mapping fields on ``result``."""
    if mapping is not None:
        validate_mapping(mapping, loaded.columns)
        result.detected_format = "mapped"
        return mapped_converter(mapping), mapping.id
    shape = detected if format == "auto" else format
    result.detected_format = shape
    if shape == "mapped":
        suggested, needs = suggest_mapping(loaded.columns)
        result.suggested_mapping = suggested
        result.needs_mapping = needs
        return (None, None) if needs else (mapped_converter(suggested), suggested.id)
    spec = SHAPE_REGISTRY[shape]
    if format != "auto" and sample and not any(spec.matches(r) for r in sample[:SAMPLE_SIZE]):
        keys = list(sample[0])
        missing = [k for k in spec.required if k not in keys] or list(spec.required)
        have = printable(", ".join(keys), 300) or "no keys"
        raise InputError(
            f"format={format!r} needs records with the key(s) {', '.join(spec.required)}; the "
            f"records lack {', '.join(missing)} (they have: {have}). "
            f"The file looks like {detected!r}: use format='auto' or pass a column mapping."
        )
    if format == "auto" and shape not in PAIR_SHAPES:
        return _pairs_kept(spec.convert), None
    return spec.convert, None


def _pairs_kept(convert: Converter) -> Converter:
    """`convert`, except that a record carrying a pair or a KTO label (a LLaMA-Factory
    ``chosen``/``rejected``, a ``kto_tag``...) is read by its preference shape: a file whose
    majority is plain conversations still keeps the preferences of the records that have them."""
    pair_specs = sorted(
        (SHAPE_REGISTRY[name] for name in PAIR_SHAPES if name in SHAPE_REGISTRY),
        key=lambda spec: spec.priority,
    )

    def converted(record: dict[str, Any]) -> list[Converted]:
        for spec in pair_specs:
            if spec.matches(record):
                return spec.convert(record)
        return convert(record)

    return converted


def _issue(
    loaded: LoadedRecords,
    number: int,
    message: str,
    record_id: str | None,
    reason: str,
    severity: Severity = "error",
) -> Issue:
    # Messages may quote the record: keep them short and showable (no lone surrogates).
    where = f"{loaded.location} {number}: "
    shown_id = printable(record_id, MAX_ID_CHARS) if record_id is not None else None
    return Issue(number, shown_id, reason, where + printable(message), severity=severity)


def _report_unreadable(loaded: LoadedRecords, result: ImportResult) -> None:
    for number, record, _ in loaded.rows:
        if isinstance(record, Unreadable):
            result.errors.append(_issue(loaded, number, record.message, None, record.reason))
            _count(result, record.reason)


def _count(result: ImportResult, reason: str) -> None:
    result.skip_counts[reason] = result.skip_counts.get(reason, 0) + 1


def _record_ids(loaded: LoadedRecords, id_column: str | None) -> tuple[list[str | None], list[int]]:
    """Each record's own id when it has one that no other record in the file shares.

    Returns
    -------
    (ids, too_long):
        The ids (None: generate one), and the indices of records whose own id was longer than
        ``MAX_ID_CHARS`` (they get a generated id; the original stays in the record).
    """
    keys = (id_column,) if id_column else ID_KEYS
    candidates: list[str | None] = []
    too_long: list[int] = []
    for index, (_, record, _) in enumerate(loaded.rows):
        value = None
        if isinstance(record, dict):
            key = next((k for k in keys if k in record), None)
            value = record[key] if key is not None else None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value.strip():
            if len(value) > MAX_ID_CHARS:
                too_long.append(index)
                value = None
            candidates.append(value)
        else:
            candidates.append(None)
    counts = Counter(c for c in candidates if c is not None)
    return [c if c is not None and counts[c] == 1 else None for c in candidates], too_long


def _column_types(loaded: LoadedRecords) -> dict[str, Callable[[str], Any]]:
    """CSV/TSV cells are text; give metadata columns back their numbers and booleans."""
    types: dict[str, Callable[[str], Any]] = {}
    dicts = [r for _, r, _ in loaded.rows if isinstance(r, dict)]
    for column in loaded.columns:
        values = {r[column] for r in dicts if r.get(column, "") != ""}
        if not values:
            continue
        if all(v.lower() in ("true", "false") for v in values):
            types[column] = lambda v: v.lower() == "true"
        elif all(_INT.fullmatch(v) for v in values):
            types[column] = int
        elif all(_FLOAT.fullmatch(v) and math.isfinite(float(v)) for v in values):
            types[column] = float
    return types


def _typed_metadata(
    metadata: dict[str, Any], types: dict[str, Callable[[str], Any]]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        convert = types.get(key)
        if convert is None or not isinstance(value, str):
            out[key] = value
        elif value != "":
            out[key] = convert(value)
    return out


def _convert_all(
    loaded: LoadedRecords,
    converter: Converter,
    id_column: str | None,
    result: ImportResult,
    progress: ProgressFn | None,
    *,
    tools: bool,
    rating: RatingsRule,
) -> None:
    own_ids, too_long = _record_ids(loaded, id_column)
    long_ids = set(too_long)
    shared = sum(
        1
        for index, ((_, r, _), own) in enumerate(zip(loaded.rows, own_ids, strict=True))
        if own is None
        and index not in long_ids
        and isinstance(r, dict)
        and any(k in r for k in ((id_column,) if id_column else ID_KEYS))
    )
    if shared:
        result.warnings.append(
            import_warning(
                f"{shared} record(s) have an empty or repeated id (or one that is neither text "
                "nor a whole number); they were given generated ids (file hash + row).",
                reason="ids",
            )
        )
    types = _column_types(loaded) if loaded.text_table else {}
    prefix = loaded.sha256[:12]
    total = len(loaded.rows)
    examples = result.examples
    stage = f"reading {loaded.source}"
    report(progress, stage, 0, total)
    for index, (number, record, split) in enumerate(loaded.rows):
        if index and index % PROGRESS_EVERY == 0:
            report(progress, stage, index, total)
        own = own_ids[index]
        generated = f"{prefix}-{index:06d}"
        example_id = own if own is not None else generated
        renamed = index in long_ids
        if not isinstance(record, dict):
            reason = record.reason if isinstance(record, Unreadable) else "not an object"
            message = record.message if isinstance(record, Unreadable) else "not an object"
            result.errors.append(_issue(loaded, number, message, None, reason))
            _count(result, reason)
            continue
        try:
            row_tools = normalise_tools(record.get("tools")) if tools else None
            converted = converter(record)
        except RecordDropped as exc:  # a drop rule the user asked for: counted, not a problem
            _count(result, exc.reason)
            continue
        except RecordError as exc:
            result.errors.append(_issue(loaded, number, exc.message, example_id, exc.reason))
            _count(result, exc.reason)
            continue
        raw = json_safe(record) if loaded.tabular_values else record
        first_error: str | None = None
        imported = False
        for item in converted:
            item_id = example_id if item.suffix is None else f"{example_id}#{item.suffix}"
            if len(item_id) > MAX_ID_CHARS:  # an own id near the limit, plus "#<instance>"
                item_id, renamed = f"{generated}#{item.suffix}", True
            if item.error is not None:
                result.errors.append(
                    _issue(loaded, number, item.error.message, item_id, item.error.reason)
                )
                first_error = first_error or item.error.reason
                continue
            metadata = _typed_metadata(item.metadata, types) if types else item.metadata
            if split is not None:
                metadata["split"] = split
            if item.ranked_by_scores:
                rating.rank(item.candidates, seed=item_id)
                metadata["ratings_rule"] = rating.rule
                metadata["min_margin"] = rating.min_margin
                result.ratings_rule, result.min_margin = rating.rule, rating.min_margin
            examples.append(
                Example(
                    item_id,
                    item.messages,
                    metadata,
                    loaded.source,
                    item.tools if item.tools is not None else row_tools,
                    raw,
                    candidates=item.candidates,
                    desirable=item.desirable,
                )
            )
            imported = True
        if not imported:
            _count(result, first_error or "no examples")
        elif renamed:
            result.warnings.append(
                _issue(
                    loaded,
                    number,
                    f"its id is over the {MAX_ID_CHARS} characters an id may have, so it was "
                    f"given the generated id {generated} (the original id stays in the raw "
                    "record and the metadata)",
                    generated,
                    "id too long",
                    "warning",
                )
            )
    report(progress, stage, total, total)
