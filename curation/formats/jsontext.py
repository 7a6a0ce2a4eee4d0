"""JSON text to Python values, exactly, with a record that cannot be read isolated from the rest.

orjson reads the common case fast; the standard library takes over where orjson would read
inexactly (integers beyond 64 bits become floats) or refuses, so every failure has a precise reason.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import orjson

from curation.formats.storable import NUMBER_RANGE, Unreadable, describe_path, too_deep_record

# 19 digits in a row may be an integer beyond 64 bits, which orjson would read as a float. Found
# by mapping every digit to "0" and looking for 19 zeros: ten times faster than a regex.
_DIGITS_AS_ZEROS = bytes.maketrans(b"0123456789", b"0" * 10)
_LONG_RUN = b"0" * 19
_WHITESPACE = re.compile(r"[ \t\n\r]*")
# Strings (with escapes) and brackets: enough to find where a value too deep to parse ends.
_STRUCTURE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_SCALAR = re.compile(r"[^,\]}\s]+")


def has_long_digit_run(data: str | bytes) -> bool:
    """Whether JSON text holds 19 digits in a row (maybe an integer beyond 64 bits).

    Parameters
    ----------
    data:
        JSON text, as str or UTF-8 bytes.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    return _LONG_RUN in raw.translate(_DIGITS_AS_ZEROS)


class _NonStandardConstant(ValueError):
    """NaN, Infinity or -Infinity: Python's json reads them, JSON does not allow them."""


def _refuse_constant(name: str) -> Any:
    raise _NonStandardConstant(name)


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


class RecordTrouble(Exception):
    """A value is valid JSON syntax but cannot be read as one exact record (depth, numbers)."""

    def __init__(self, problem: Unreadable) -> None:
        super().__init__(problem.message)
        self.problem = problem


def parse_value(text: str, *, where: str = "the record") -> tuple[Any, bool]:
    """Parse one JSON value exactly.

    Parameters
    ----------
    text:
        The JSON text (a JSON line, a whole document, or JSON held in a field).
    where:
        What the text is, for messages (``"the record"``, a field's name).

    Returns
    -------
    (value, exact):
        The value, and True when the standard library read it (the caller then checks every
        value, e.g. for floats that overflowed to infinity).

    Raises
    ------
    RecordTrouble
        Nesting too deep for the reader, NaN / Infinity, or an integer over 4300 digits.
    json.JSONDecodeError
        The text is not JSON.
    """
    if not has_long_digit_run(text):
        try:
            return orjson.loads(text), False
        except orjson.JSONDecodeError:
            pass  # read again below for the exact reason, or for what only orjson refuses
    try:
        return _DECODER.decode(text), True
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError) as exc:
        raise RecordTrouble(_problem(exc, where)) from None


def _problem(exc: Exception, where: str) -> Unreadable:
    """What a valid-looking value the reader refused is: too deep, NaN / Infinity, huge number."""
    if isinstance(exc, RecursionError):
        return too_deep_record(where)
    if isinstance(exc, _NonStandardConstant):
        return Unreadable(
            NUMBER_RANGE, f"{where} holds {exc}, which JSON does not allow: write null or a number"
        )
    # Python refuses integers of over 4300 digits (a guard against slow conversions).
    return Unreadable(
        NUMBER_RANGE,
        f"{where} holds an integer of more than {sys.get_int_max_str_digits()} digits, too long "
        "to read as a number: write it as text",
    )


def parse_document(text: str) -> tuple[Any, bool]:
    """Parse a whole JSON document; a record that cannot be read becomes an `Unreadable`.

    The top-level array's items (or, for a top-level object, its members, and the items of a
    member that is an array of records) are read one by one when the document as a whole cannot
    be, so one record nested 100,000 levels deep or holding NaN does not sink the others.

    Returns
    -------
    (value, exact):
        As for `parse_value`; ``exact`` is True whenever the standard library read a part.

    Raises
    ------
    json.JSONDecodeError
        The document is not valid JSON syntax.
    """
    try:
        return parse_value(text)
    except RecordTrouble:
        pass
    start = _skip(text, 0)
    if text.startswith(("[", "{"), start):
        value, end = _container(text, start, path=())
    else:
        value, end = _member(text, start, path=(), where="the document")
    end = _skip(text, end)
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value, True


def _skip(text: str, pos: int) -> int:
    match = _WHITESPACE.match(text, pos)
    return match.end() if match else pos


def _expect(text: str, pos: int, what: str) -> None:
    if pos >= len(text) or text[pos] not in what:
        quoted = " or ".join(f"'{c}'" for c in what)
        raise json.JSONDecodeError(f"Expecting {quoted} delimiter", text, pos)


def _container(text: str, pos: int, *, path: tuple[Any, ...]) -> tuple[Any, int]:
    """Read the array or object at ``pos`` member by member; ``path``: where it is."""
    closing = "]" if text[pos] == "[" else "}"
    out: Any = [] if closing == "]" else {}
    pos = _skip(text, pos + 1)
    if pos < len(text) and text[pos] == closing:
        return out, pos + 1
    while True:
        if closing == "}":
            _expect(text, pos, '"')
            key, pos = json.decoder.scanstring(text, pos + 1)  # type: ignore[attr-defined]
            pos = _skip(text, pos)
            _expect(text, pos, ":")
            pos = _skip(text, pos + 1)
            where = (*path, key)
            out[key], pos = _member(text, pos, path=where, where=describe_path(where))
        else:
            where = (*path, len(out))
            # Items of the top-level array are the records themselves.
            label = describe_path(where) if path else "the record"
            item, pos = _member(text, pos, path=where, where=label)
            out.append(item)
        pos = _skip(text, pos)
        _expect(text, pos, "," + closing)
        if text[pos] == closing:
            return out, pos + 1
        pos = _skip(text, pos + 1)


def _member(text: str, pos: int, *, path: tuple[Any, ...], where: str) -> tuple[Any, int]:
    """The value at ``pos`` (or the `Unreadable` it is) and where it ends."""
    try:
        return _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError) as exc:
        problem = _problem(exc, where)
    if len(path) == 1 and isinstance(path[0], str) and text.startswith("[", pos):
        # A list member of the top-level object may be the records (``{"data": [...]}``):
        # read its items one by one too.
        return _container(text, pos, path=path)
    return problem, _end_of_value(text, pos)


def _end_of_value(text: str, pos: int) -> int:
    """Where the JSON value starting at ``pos`` ends, without parsing (so without recursion)."""
    if not text.startswith(("[", "{"), pos):
        if text.startswith('"', pos):
            return int(json.decoder.scanstring(text, pos + 1)[1])  # type: ignore[attr-defined]
        match = _SCALAR.match(text, pos)
        return match.end() if match else pos
    depth = 0
    for match in _STRUCTURE.finditer(text, pos):
        token = match.group()
        if token[0] == '"':
            continue
        depth += 1 if token in "[{" else -1
        if depth == 0:
            return match.end()
    raise json.JSONDecodeError("Unterminated array or object", text, pos)
