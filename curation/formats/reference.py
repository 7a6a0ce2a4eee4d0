"""Reference sets for the contamination check: an eval benchmark's prompts, in any common shape.

`read_reference` reads MT-Bench turns, question/prompt/instruction/problem/input fields, chat
messages, plain text lines, JSON lists of strings and table columns; zero items is an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curation.errors import InputError, ReferenceFieldError
from curation.formats.containers import (
    EXTENSIONS,
    WRAPPER_KEYS,
    PathOrBuffer,
    decode_text,
    load_bytes,
    load_records,
    max_import_bytes,
)
from curation.formats.shapes import RecordError, join_text, parse_chat

__all__ = [
    "KNOWN_FIELDS",
    "LINES",
    "STRINGS",
    "ReferenceFieldError",
    "ReferenceItem",
    "ReferenceSet",
    "read_reference",
]

# Fields that hold a benchmark's prompt, in the order they are tried when no field is given:
#   turns          MT-Bench (`question_id`, `category`, `turns`: every turn is an item)
#   messages,      chat benchmarks (OpenAI role/content or ShareGPT from/value): every user turn
#   conversations
#   instruction    Alpaca / AlpacaEval / Self-Instruct (+ `input` when present, joined as on import)
#   question       GSM8K, MMLU, TruthfulQA, TriviaQA...
#   problem        MATH and its descendants
#   prompt         HumanEval, IFEval, prompt/completion files
#   input          BIG-Bench Hard and other input/target sets
#   query, text    generic fallbacks
KNOWN_FIELDS: tuple[str, ...] = (
    "turns",
    "messages",
    "conversations",
    "instruction",
    "question",
    "problem",
    "prompt",
    "input",
    "query",
    "text",
)
LINES = "(lines)"  # the field name reported for a plain text file, one item per line
STRINGS = "(strings)"  # ... and for a JSON list (or JSON lines) of bare strings
ID_FIELDS = ("question_id", "id", "task_id", "uid", "idx", "key")
TEXT_EXTENSIONS = (".txt", ".text", ".lst", ".md")
_SAMPLE = 200  # records looked at to list the text fields a user can pick
_MAX_PROBLEMS = 20


@dataclass(frozen=True, slots=True)
class ReferenceItem:
    """One text of a reference set.

    Attributes
    ----------
    text:
        The text compared with the examples.
    location:
        Where it was read, for people: ``"line 3, turn 2"``, ``"row 7"``.
    ref_id:
        The benchmark's own id of the record (``question_id``, ``id``, ``task_id``...), if any.
    """

    text: str
    location: str
    ref_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "location": self.location, "ref_id": self.ref_id}


@dataclass(frozen=True, slots=True)
class ReferenceSet:
    """What `read_reference` read: the items and how they were found.

    Attributes
    ----------
    items:
        At least one item (an empty reference set is an error, never a pass).
    source:
        The file name.
    sha256:
        Of the file's bytes, so a report names exactly which reference was checked.
    container:
        ``"jsonl"``, ``"json"``, ``"csv"``, ``"tsv"``, ``"parquet"``, ``"text"``...
    field:
        The field read (``"turns"``, ``"instruction"``...), `LINES` or `STRINGS`.
    candidates:
        Every field of the records that holds text, for a field picker (empty for plain text).
    skipped:
        Records that had no text in `field` (missing, empty or not text).
    problems:
        The first reasons for skipped records, with their location.
    """

    items: tuple[ReferenceItem, ...]
    source: str
    sha256: str
    container: str
    field: str
    candidates: tuple[str, ...] = ()
    skipped: int = 0
    problems: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.items:
            raise ValueError("a ReferenceSet holds at least one item")

    def __len__(self) -> int:
        return len(self.items)

    @property
    def texts(self) -> list[str]:
        """The items' texts, in file order (what `find_contamination` takes)."""
        return [item.text for item in self.items]

    def describe(self) -> str:
        """One line for people: how many items, from which field of which file."""
        where = {LINES: "one per line", STRINGS: "a list of strings"}.get(
            self.field, f"field '{self.field}'"
        )
        skipped = f"; {self.skipped} record(s) without text there skipped" if self.skipped else ""
        return f"{len(self.items):,} reference item(s) from {self.source} ({where}){skipped}"

    def summary(self) -> dict[str, Any]:
        """JSON-ready facts for reports (without the items themselves)."""
        return {
            "source": self.source,
            "sha256": self.sha256,
            "container": self.container,
            "field": self.field,
            "n_items": len(self.items),
            "skipped": self.skipped,
        }


def read_reference(
    path_or_buffer: PathOrBuffer,
    *,
    field: str | None = None,
    source: str | None = None,
    max_bytes: int | None = None,
) -> ReferenceSet:
    """Read an eval benchmark's prompts (or any reference texts) for the contamination check.

    Parameters
    ----------
    path_or_buffer:
        A file path (JSONL, JSON, CSV, TSV, Parquet, a ``.txt`` with one item per line, or a
        Hugging Face dataset folder), bytes, or a binary file-like object with a ``.name``.
    field:
        The record field holding the texts. None picks the first of `KNOWN_FIELDS` the records
        have, else their only text field. A field holding a list of strings (MT-Bench
        ``turns``) gives one item per string; a chat list gives one item per user turn;
        ``instruction`` is joined with ``input`` as the Alpaca import joins them.
    source:
        Name to report instead of the file name (also guesses the container of bytes).
    max_bytes:
        Size limit; default the import limit (``$CURATION_MAX_IMPORT_MB``).

    Returns
    -------
    ReferenceSet
        At least one item.

    Raises
    ------
    ReferenceFieldError
        The records have several text fields and none of the known ones, or `field` is not one
        of their fields; ``.candidates`` lists the fields to choose from.
    InputError
        The file cannot be read, or no item was read (an empty check would prove nothing).
    """
    if field is not None:
        field = field.strip() or None
    records, strings, facts = _load(path_or_buffer, source=source, max_bytes=max_bytes)
    name, sha256, container = facts
    if not records:
        if field is not None and field not in (LINES, STRINGS):
            raise ReferenceFieldError(
                f"{name} holds plain texts, not records with fields, so there is no field "
                f"{field!r} to read. Leave the field empty to read every text.",
                candidates=[],
            )
        items = tuple(ReferenceItem(text, where) for where, text in strings if text.strip())
        kind = LINES if container == "text" else STRINGS
        if not items:
            raise InputError(
                f"{name} holds no reference text (every line or string is empty). A "
                "contamination check against nothing proves nothing: give the benchmark's prompts."
            )
        skipped = len(strings) - len(items)
        return ReferenceSet(items, name, sha256, container, kind, (), skipped)
    candidates = _text_fields(record for _, record in records[:_SAMPLE])
    chosen = _choose_field(field, records, candidates, name)
    items_list: list[ReferenceItem] = []
    problems: list[str] = []
    skipped = 0
    for where, record in records:
        found, problem = _record_items(record, chosen, where)
        if found:
            items_list.extend(found)
        else:
            skipped += 1
            if problem and len(problems) < _MAX_PROBLEMS:
                problems.append(f"{where}: {problem}")
    loose = [ReferenceItem(text, where) for where, text in strings if text.strip()]
    items_list.extend(loose)
    if not items_list:
        others = ", ".join(c for c in candidates if c != chosen) or "none"
        raise InputError(
            f"{name}: 0 reference items read from field {chosen!r} ({skipped} record(s) have no "
            f"text there). A contamination check against nothing proves nothing: choose the "
            f"field that holds the benchmark's prompts (other text fields: {others})."
        )
    return ReferenceSet(
        tuple(items_list),
        name,
        sha256,
        container,
        chosen,
        tuple(candidates),
        skipped,
        tuple(problems),
    )


# ---------------------------------------------------------------- reading the container

Located = list[tuple[str, Any]]  # (location for people, value)


def _load(
    path_or_buffer: PathOrBuffer, *, source: str | None, max_bytes: int | None
) -> tuple[Located, Located, tuple[str, str, str]]:
    """Records (dicts) and loose strings of the input, with the file's name, sha256, container."""
    limit = max_import_bytes(max_bytes)
    if isinstance(path_or_buffer, str | os.PathLike) and Path(path_or_buffer).is_dir():
        loaded = load_records(path_or_buffer, source=source, max_bytes=limit)
        return _from_loaded(loaded)
    data, name = _input_bytes(path_or_buffer, source, limit)
    if not data.strip():
        raise InputError(f"{name} is empty: it holds no reference items.")
    sha256 = hashlib.sha256(data).hexdigest()
    stem = name[:-3] if name.lower().endswith(".gz") else name
    suffix = Path(stem).suffix.lower()
    container = EXTENSIONS.get(suffix)
    binary = data[:2] == b"\x1f\x8b" or data[:4] == b"PAR1" or data[:6] == b"ARROW1"
    if binary or container in ("csv", "tsv", "parquet", "hf-load"):
        records, strings, (_, _, kind) = _from_loaded(
            load_bytes(data, name=name, limit_bytes=limit)
        )
        return records, strings, (name, sha256, kind)
    decoded = decode_text(data, name)
    text = decoded.text
    if decoded.bad_lines:  # lines that are not text cannot be reference items: blank them
        text = "\n".join(
            "" if n in decoded.bad_lines else line for n, line in enumerate(text.split("\n"), 1)
        )
    stripped = text.lstrip()
    looks_json = stripped[:1] in ("[", "{", '"')
    if suffix in TEXT_EXTENSIONS or (container is None and not looks_json):
        lines = [(f"line {n}", line.strip()) for n, line in enumerate(text.split("\n"), 1)]
        return [], [(w, t) for w, t in lines if t], (name, sha256, "text")
    records, strings, kind = _json_values(text, name)
    return records, strings, (name, sha256, kind)


def _input_bytes(path_or_buffer: PathOrBuffer, source: str | None, limit: int) -> tuple[bytes, str]:
    if isinstance(path_or_buffer, str | os.PathLike):
        path = Path(path_or_buffer)
        if not path.exists():
            raise InputError(f"Reference file not found: {path}. Check the path and try again.")
        name = source or path.name
        size = path.stat().st_size
        data = b"" if size > limit else path.read_bytes()
    elif isinstance(path_or_buffer, bytes | bytearray | memoryview):
        data, name = bytes(path_or_buffer), source or "reference"
        size = len(data)
    elif hasattr(path_or_buffer, "read"):
        if hasattr(path_or_buffer, "seek"):
            with contextlib.suppress(OSError, ValueError):  # not seekable: read what is left
                path_or_buffer.seek(0)
        content: Any = path_or_buffer.read()
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        name = source or Path(str(getattr(path_or_buffer, "name", "") or "reference")).name
        size = len(data)
    else:
        raise InputError(
            f"Cannot read a reference set from a {type(path_or_buffer).__name__}: pass a file "
            "path, bytes or a binary file object."
        )
    if size > limit:
        raise InputError(
            f"{name} is {size:,} bytes, over the import limit of {limit:,} bytes. Raise it with "
            "CURATION_MAX_IMPORT_MB or give a smaller reference set."
        )
    return data, name


def _from_loaded(loaded: Any) -> tuple[Located, Located, tuple[str, str, str]]:
    records = [
        (f"{loaded.location} {number}", record)
        for number, record, _ in loaded.rows
        if isinstance(record, dict)
    ]
    return records, [], (loaded.source, loaded.sha256, loaded.container)


def _json_values(text: str, name: str) -> tuple[Located, Located, str]:
    """Records and bare strings of JSON (an array, or an object wrapping one) or JSON lines."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:  # several JSON values: JSON lines
        return (*_split(_jsonl_values(text, name)), "jsonl")
    if isinstance(value, dict):
        value = _unwrap(value)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise InputError(
            f"{name} holds a single JSON {type(value).__name__}; expected a list of records or "
            "strings, JSON lines, or a text file with one item per line."
        )
    return (*_split((f"item {n}", v) for n, v in enumerate(value, 1)), "json")


def _jsonl_values(text: str, name: str) -> Iterator[tuple[str, Any]]:
    bad: list[int] = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            yield f"line {number}", json.loads(line)
        except json.JSONDecodeError:
            bad.append(number)
    if bad:
        shown = ", ".join(map(str, bad[:10])) + (" …" if len(bad) > 10 else "")
        raise InputError(
            f"{name}: {len(bad)} line(s) are not valid JSON (line {shown}). Fix them, or save the "
            "reference set as a .txt file with one item per line."
        )


def _split(values: Iterable[tuple[str, Any]]) -> tuple[Located, Located]:
    records: Located = []
    strings: Located = []
    for where, value in values:
        if isinstance(value, dict):
            records.append((where, value))
        elif isinstance(value, str):
            strings.append((where, value))
    return records, strings


def _unwrap(obj: dict[str, Any]) -> Any:
    for key in WRAPPER_KEYS:
        if isinstance(obj.get(key), list):
            return obj[key]
    if any(key in obj for key in KNOWN_FIELDS):  # one record, e.g. a single chat
        return [obj]
    lists = [v for v in obj.values() if isinstance(v, list) and v]
    if len(lists) == 1 and all(isinstance(x, dict | str) for x in lists[0]):
        return lists[0]
    return [obj]


# ---------------------------------------------------------------- fields and items


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _is_chat(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and ("content" in v or "value" in v) for v in value)
    )


def _holds_text(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip()) and not value.strip().lstrip("-+").replace(".", "").isdigit()
    return _is_text_list(value) or _is_chat(value)


def _text_fields(records: Iterable[dict[str, Any]]) -> list[str]:
    """Fields holding text in any of the records: known ones first, then in file order."""
    seen: dict[str, None] = {}
    for record in records:
        for key, value in record.items():
            if key not in seen and _holds_text(value):
                seen[key] = None
    known = [k for k in KNOWN_FIELDS if k in seen]
    return known + [k for k in seen if k not in known and k not in ID_FIELDS]


def _choose_field(field: str | None, records: Located, candidates: list[str], name: str) -> str:
    if field is not None:
        if any(field in record for _, record in records):
            return field
        raise ReferenceFieldError(
            f"{name} has no field {field!r}. Fields holding text: "
            f"{', '.join(candidates) or 'none'}.",
            candidates=candidates,
        )
    for known in KNOWN_FIELDS:
        if known in candidates:
            return known
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        keys = sorted({k for _, r in records[:_SAMPLE] for k in r})
        raise InputError(
            f"{name}: no field holds text (fields: {', '.join(keys) or 'none'}), so there are no "
            "reference items to check against. Give the benchmark's prompts."
        )
    raise ReferenceFieldError(
        f"{name}: cannot tell which field holds the benchmark's prompts; its text fields are "
        f"{', '.join(candidates)}. Choose one (--reference-field on the command line).",
        candidates=candidates,
    )


def _record_items(
    record: dict[str, Any], chosen: str, where: str
) -> tuple[list[ReferenceItem], str | None]:
    """The items one record gives for `chosen`, or none and why."""
    if chosen not in record or record[chosen] is None:
        return [], f"no {chosen!r}"
    value = record[chosen]
    ref_id = next((str(record[k]) for k in ID_FIELDS if record.get(k) not in (None, "")), None)
    if chosen == "instruction" and isinstance(value, str) and isinstance(record.get("input"), str):
        value = join_text([value, record["input"]])
    if isinstance(value, str):
        text = value.strip()
        return ([ReferenceItem(text, where, ref_id)], None) if text else ([], f"empty {chosen!r}")
    if _is_text_list(value):
        turns = [(k, t.strip()) for k, t in enumerate(value, 1) if t.strip()]
        several = len(value) > 1
        items = [
            ReferenceItem(t, f"{where}, turn {k}" if several else where, ref_id) for k, t in turns
        ]
        return items, None if items else f"every string of {chosen!r} is empty"
    if isinstance(value, list):
        try:
            messages = parse_chat(value, what=chosen)
        except RecordError as exc:
            return [], exc.message
        users = [(k, m.content.strip()) for k, m in enumerate(messages, 1) if m.role == "user"]
        items = [ReferenceItem(t, f"{where}, message {k}", ref_id) for k, t in users if t]
        return items, None if items else f"no user turn with text in {chosen!r}"
    return [], f"{chosen!r} is {type(value).__name__}, not text"
