"""Whether a parsed record can be stored and shown exactly as it is, and if not, why and where.

One walk with its own stack (no recursion, so any depth is safe) names the first problem's place.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import orjson

from curation.formats.limits import MAX_DEPTH, RECORD_ENV, human_size

# Reasons a record is skipped for; they are the categories `ImportResult.skip_counts` counts.
TOO_DEEP = "too deeply nested"
LONE_SURROGATE = "lone surrogate"
NUL_CHARACTER = "nul character"
NUMBER_RANGE = "number out of range"
TOO_LARGE = "record too large"
NOT_UTF8 = "not utf-8"
KEY_NOT_TEXT = "key not text"

_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")


def _bad_char(text: str) -> int:
    """Index of the first NUL or lone surrogate in ``text``, or -1 (fast for ASCII text)."""
    if text.isascii():  # no surrogates: only a NUL can be wrong, and memchr finds it
        return text.find("\x00")
    match = _BAD_CHAR.search(text)
    return -1 if match is None else match.start()


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MESSAGE_CHARS = 600


@dataclass(slots=True)
class Unreadable:
    """A record that cannot be imported as it is: why (a short category) and a message."""

    reason: str
    message: str


def printable(text: str, limit: int = _MESSAGE_CHARS) -> str:
    """``text`` made safe to show anywhere: lone surrogates and NULs as U+FFFD, at most ``limit``.

    Parameters
    ----------
    text:
        Any string (a message quoting a record, an id, a file name).
    limit:
        Longest result; longer text is cut and ends with an ellipsis.
    """
    text = _BAD_CHAR.sub("\ufffd", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_path(path: tuple[Any, ...]) -> str:
    """A place in a record as users write it: ``messages[1].content``, ``['odd key']``.

    A path of more than six steps shows its first four and last two around an ellipsis.
    """
    if len(path) > 6:
        return f"{describe_path(path[:4])}…{describe_path(path[-2:]).lstrip('.')}"
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif isinstance(part, str) and _IDENTIFIER.fullmatch(part) and len(part) <= 60:
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{printable(repr(part), 60)}]")
    return "".join(out) or "the record"


def _char_problem(text: str, where: str, index: int) -> Unreadable:
    char = text[index]
    if char == "\x00":
        return Unreadable(
            NUL_CHARACTER,
            f"{where} holds a NUL character (\\u0000) at position {index + 1}; PostgreSQL cannot "
            "store it and no text needs it: remove it from the file",
        )
    return Unreadable(
        LONE_SURROGATE,
        f"{where} holds a lone surrogate (\\u{ord(char):04x}) at position {index + 1}, which is "
        "not a character and cannot be written as UTF-8: fix the escape (a surrogate must come "
        "in a high + low pair) or remove it",
    )


def find_problem(record: Any, *, max_bytes: int, path: tuple[Any, ...] = ()) -> Unreadable | None:
    """The first reason ``record`` cannot be stored and shown exactly, or None when it can.

    Parameters
    ----------
    record:
        A parsed record: dicts, lists (or tuples), strings, numbers, booleans, None, and for
        tabular files any scalar their readers give (dates, bytes, decimals).
    max_bytes:
        Largest size a record may have (strings and keys counted by their length).
    path:
        Where ``record`` is, when it is a part of one (named in messages).

    Notes
    -----
    Refused: nesting over ``MAX_DEPTH`` levels, NUL characters and lone surrogates (in keys or
    values), infinite floats, non-text keys, and records over ``max_bytes``. Integers of any size
    are kept (the store writes them exactly); float NaN is a table's missing value and is kept.
    """
    size = 0
    stack: list[tuple[Any, int, tuple[Any, ...]]] = [(record, 1, path)]
    pop, push = stack.pop, stack.append
    while stack:
        value, depth, path = pop()
        if isinstance(value, str):
            size += len(value) + 2
            index = _bad_char(value)
            if index >= 0:
                return _char_problem(value, describe_path(path), index)
        elif isinstance(value, dict):
            if depth > MAX_DEPTH:
                return _too_deep(path)
            for key, item in value.items():
                if not isinstance(key, str):
                    return Unreadable(
                        KEY_NOT_TEXT,
                        f"{describe_path(path)} has a key that is not text ({printable(repr(key), 60)})",
                    )
                size += len(key) + 4
                index = _bad_char(key)
                if index >= 0:
                    return _char_problem(key, f"a key in {describe_path(path)}", index)
                push((item, depth + 1, (*path, key)))
        elif isinstance(value, list | tuple):
            if depth > MAX_DEPTH:
                return _too_deep(path)
            size += len(value) + 2
            for index in range(len(value) - 1, -1, -1):
                push((value[index], depth + 1, (*path, index)))
        elif isinstance(value, float):
            size += 8
            if math.isinf(value):
                return Unreadable(
                    NUMBER_RANGE,
                    f"{describe_path(path)} is a number too large for a 64-bit float (it reads "
                    "as infinity); write it as text or as a smaller number",
                )
        elif isinstance(value, bytes | bytearray):
            size += len(value)
        elif isinstance(value, Unreadable):  # a part the JSON reader could not read
            return value
        else:
            size += 8
        if size > max_bytes:
            return too_large(size, max_bytes, at_least=True)
    return None


def _too_deep(path: tuple[Any, ...]) -> Unreadable:
    # Name the field the deep value hangs from: the full path would be hundreds of steps.
    return too_deep_record(describe_path(path[:1]))


def too_deep_record(where: str = "the record") -> Unreadable:
    """The problem of a value too deep for the JSON reader itself (exactly where is not known)."""
    return Unreadable(TOO_DEEP, f"{where} is nested more than {MAX_DEPTH} levels deep")


def too_large(size: int, max_bytes: int, *, at_least: bool = False) -> Unreadable:
    """The problem of a record of ``size`` bytes (``at_least``: counting stopped there)."""
    amount = f"over {human_size(max_bytes)}" if at_least else human_size(size)
    return Unreadable(
        TOO_LARGE,
        f"the record is {amount}, over the {human_size(max_bytes)} a record may have; split it, "
        f"or raise {RECORD_ENV}",
    )


def check_json_record(record: dict[str, Any], *, max_bytes: int, exact: bool) -> Unreadable | None:
    """`find_problem` for a record read from JSON text, with a fast path for clean records.

    Parameters
    ----------
    record:
        The parsed record.
    max_bytes:
        As for `find_problem`.
    exact:
        True when the record was read by the standard library (it may hold infinite floats from
        number literals like ``1e400``): walk it whole.
    """
    if not exact:
        try:
            # orjson refuses lone surrogates, non-text keys and deep nesting, and writes NUL as
            # \u0000: a clean record passes in C, only a suspect one is walked.
            dumped = orjson.dumps(record)
        except TypeError:
            return find_problem(record, max_bytes=max_bytes)
        if len(dumped) <= max_bytes and b"\\u0000" not in dumped:
            return None
    return find_problem(record, max_bytes=max_bytes)
