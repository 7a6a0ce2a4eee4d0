"""Parsers for the structures an answer may have to follow (JSON, JSON Schema, YAML, SQL, a regular
expression), each returning the first error with its position (offset, line, column) or None.

Positions are in the text given; callers shift them into the message (a fenced block's body).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
import regex
import yaml

from curation.errors import InputError
from curation.quality.view import line_column

__all__ = [
    "SQL_DIALECTS",
    "StructureError",
    "compile_pattern",
    "json_path",
    "schema_validator",
    "validate_against_schema",
    "validate_json",
    "validate_regex",
    "validate_sql",
    "validate_yaml",
]

_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
REGEX_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class StructureError:
    """The first thing wrong with a text that should have a structure.

    Attributes
    ----------
    kind:
        ``"json"``, ``"yaml"``, ``"sql"``, ``"regex"`` (does not parse or match), ``"schema"``
        (parses, but breaks the JSON Schema), ``"shape"`` (parses to the wrong kind of value,
        e.g. a YAML sentence), or ``"fence"`` (inside / outside a code fence against the rule).
    message:
        What is wrong, as the parser says it.
    offset:
        0-based character offset of the error in the checked text, when known.
    line, column:
        1-based line and column of `offset`.
    path:
        For schema errors, the JSON path of the offending value (``$.items[2].name``).
    """

    kind: str
    message: str
    offset: int | None = None
    line: int | None = None
    column: int | None = None
    path: str | None = None

    def shifted(self, text: str, start: int) -> StructureError:
        """The same error with its offset moved by `start` into `text` (line/column redone)."""
        if self.offset is None:
            return self
        offset = start + self.offset
        line, column = line_column(text, offset)
        return StructureError(self.kind, self.message, offset, line, column, self.path)

    def describe(self) -> str:
        """The message with its place: ``"line 2, column 5: Expecting ','"``."""
        where = []
        if self.line is not None:
            where.append(f"line {self.line}, column {self.column}")
        if self.path:
            where.append(f"at {self.path}")
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def to_dict(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in (
                ("kind", self.kind),
                ("message", self.message),
                ("offset", self.offset),
                ("line", self.line),
                ("column", self.column),
                ("path", self.path),
            )
            if v is not None
        }


def _at(
    kind: str, message: str, text: str, offset: int | None, path: str | None = None
) -> StructureError:
    if offset is None:
        return StructureError(kind, message, path=path)
    offset = max(0, min(offset, len(text)))
    line, column = line_column(text, offset)
    return StructureError(kind, message, offset, line, column, path)


# ------------------------------------------------------------------ JSON Schema


@lru_cache(maxsize=256)
def _validator_from_text(schema_text: str) -> Any:
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for

    schema = json.loads(schema_text)
    cls = validator_for(schema)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        where = json_path(exc.absolute_path)
        raise InputError(f"the JSON Schema is not valid at {where}: {exc.message}") from exc
    # No format checker: "format" is an annotation unless asked (JSON Schema 2019-09 on), and
    # tool schemas use it loosely ("format": "time" for "10:00" in the glaive data).
    return cls(schema)


def schema_validator(schema: Mapping[str, Any] | bool) -> Any:
    """A jsonschema validator for `schema` (its draft from ``$schema``, else the latest),
    checked and cached by the schema's JSON text. ``format`` keywords are not asserted.

    Raises
    ------
    InputError
        When `schema` is not a valid JSON Schema (naming where and why).
    """
    if not isinstance(schema, Mapping | bool):
        raise InputError(f"a JSON Schema must be an object, not {type(schema).__name__}")
    try:
        text = json.dumps(schema, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise InputError(f"the JSON Schema is not JSON: {exc}") from exc
    return _validator_from_text(text)


def json_path(parts: Any) -> str:
    """``$.a[0].b`` for a jsonschema path (a deque of keys and indices)."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.isidentifier():
            out += f".{part}"
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


def validate_against_schema(
    value: Any, validator: Any, text: str = "", *, syntax: str = "json"
) -> StructureError | None:
    """The most relevant schema violation of `value` (jsonschema's ``best_match``), or None.

    With `text` (the JSON or YAML `value` was parsed from, per `syntax`), the error's offset
    is where the offending value starts in it.
    """
    from jsonschema.exceptions import best_match

    error = best_match(validator.iter_errors(value))
    if error is None:
        return None
    path = list(error.absolute_path)
    offset = None
    if text:
        offset = _json_offset(text, path) if syntax == "json" else _yaml_offset(text, path)
    return _at("schema", error.message, text, offset, json_path(path))


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def _json_offset(text: str, path: list[Any]) -> int:
    """Offset in JSON `text` where the value at `path` starts (as deep as the path goes)."""
    pos = _SPACE.match(text, 0).end()  # type: ignore[union-attr]
    try:
        for part in path:
            opener = text[pos : pos + 1]
            if opener == "{" and isinstance(part, str):
                pos = _SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
                while text[pos] == '"':
                    key, pos = _DECODER.raw_decode(text, pos)
                    pos = _SPACE.match(text, pos).end() + 1  # type: ignore[union-attr]  # ':'
                    pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
                    if key == part:
                        break
                    _, pos = _DECODER.raw_decode(text, pos)
                    pos = _SPACE.match(text, pos).end() + 1  # type: ignore[union-attr]  # ','
                    pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
                else:
                    return pos
            elif opener == "[" and isinstance(part, int):
                pos = _SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
                for _ in range(part):
                    _, pos = _DECODER.raw_decode(text, pos)
                    pos = _SPACE.match(text, pos).end() + 1  # type: ignore[union-attr]
                    pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
            else:
                return pos
    except (ValueError, IndexError):
        return 0
    return pos


def _yaml_offset(text: str, path: list[Any]) -> int:
    """Offset in YAML `text` where the node at `path` starts (first document)."""
    try:
        node = yaml.compose(text, Loader=_YAML_LOADER)
    except yaml.YAMLError:
        return 0
    for part in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == str(part)), None)
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
        else:
            break
        if node is None:
            return 0
    return int(node.start_mark.index) if node is not None else 0


# ------------------------------------------------------------------ JSON

_NON_FINITE = re.compile(r"(?<![\"\w])-?(?:NaN|Infinity)(?![\"\w])")


def validate_json(text: str, *, validator: Any = None) -> tuple[Any, StructureError | None]:
    """Parse `text` as strict JSON (no NaN, no trailing commas) and check it against a schema.

    Returns
    -------
    tuple
        ``(value, None)`` when it parses (and matches), else ``(None, error)``; a schema
        violation returns the parsed value with the error.
    """
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        offset = exc.pos
        non_finite = _NON_FINITE.search(text)
        if non_finite is not None and non_finite.start() <= offset + 1:
            offset = non_finite.start()
        return None, _at("json", _json_message(exc.msg), text, offset)
    if validator is not None:
        return value, validate_against_schema(value, validator, text)
    return value, None


def _json_message(msg: str) -> str:
    return msg[:1].upper() + msg[1:] if msg else "Not valid JSON"


# ------------------------------------------------------------------ YAML


def validate_yaml(
    text: str, *, validator: Any = None, allow_scalar: bool = False
) -> tuple[Any, StructureError | None]:
    """Parse `text` as YAML (safe loader; several ``---`` documents allowed).

    A document that is a bare scalar is a ``shape`` error unless `allow_scalar`: any sentence
    is a valid YAML string, so "answers must be YAML" means a mapping or a list. With
    `validator`, each document is checked against the schema (and scalars are let through).
    """
    try:
        docs = list(yaml.load_all(text, Loader=_YAML_LOADER))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        parts = [p for p in (exc.context, exc.problem) if p]
        message = "; ".join(parts) or "Not valid YAML"
        return None, _at(
            "yaml", message[:1].upper() + message[1:], text, mark.index if mark else None
        )
    except yaml.YAMLError as exc:  # reader errors: bad characters
        position = getattr(exc, "position", None)
        return None, _at("yaml", str(exc).splitlines()[0], text, position)
    docs = [d for d in docs if d is not None] or [None]
    for doc in docs:
        if validator is not None:
            error = validate_against_schema(doc, validator, text, syntax="yaml")
            if error is not None:
                return doc, error
        elif not allow_scalar and not isinstance(doc, dict | list):
            what = "empty" if doc is None else f"a single {type(doc).__name__} value"
            return doc, _at("shape", f"The YAML is {what}, not a mapping or a list", text, 0)
    return docs[0] if len(docs) == 1 else docs, None


# ------------------------------------------------------------------ SQL


def _sqlglot_dialects() -> tuple[str, ...]:
    from sqlglot.dialects import DIALECTS

    return tuple(sorted(d.lower() for d in DIALECTS))


SQL_DIALECTS: tuple[str, ...] = _sqlglot_dialects()
"""Dialect names `validate_sql` takes (sqlglot's, lower-case): ``postgres``, ``mysql``, ``sqlite``..."""


@lru_cache(maxsize=32)
def _dialect(name: str | None) -> Any:
    from sqlglot.dialects.dialect import Dialect

    if name is not None and name.lower() not in SQL_DIALECTS:
        raise InputError(f"unknown SQL dialect {name!r}; known: {', '.join(SQL_DIALECTS)}")
    return Dialect.get_or_raise(name.lower() if name else None)


@lru_cache(maxsize=32)
def _statement_starts(name: str | None) -> frozenset[Any]:
    from sqlglot.tokens import TokenType

    dialect = _dialect(name)
    starts = set(dialect.parser_class.STATEMENT_PARSERS)
    starts.update(dialect.tokenizer_class.COMMANDS)
    starts.update(
        {
            TokenType.SELECT,
            TokenType.WITH,
            TokenType.VALUES,
            TokenType.L_PAREN,
            TokenType.FROM,
            TokenType.COMMAND,
            TokenType.TABLE,
        }
    )
    return frozenset(starts)


def validate_sql(text: str, *, dialect: str | None = None) -> StructureError | None:
    """Parse `text` as one or more SQL statements with sqlglot in `dialect` (None = sqlglot's
    own, permissive one). Each statement must start like a statement (SELECT, WITH, INSERT,
    CREATE...): sqlglot reads "hello world" as a column with an alias, which no one means."""
    from sqlglot.errors import ParseError, TokenError
    from sqlglot.tokens import TokenType

    d = _dialect(dialect)
    try:
        tokens = d.tokenize(text)
    except TokenError as exc:
        return _at("sql", _token_error_message(exc), text, _token_error_offset(exc, text))
    if not tokens:
        return _at("sql", "No SQL statement", text, 0)
    starts = _statement_starts(dialect)
    expect_start = True
    for token in tokens:
        if expect_start and token.token_type not in starts:
            return _at(
                "sql",
                f"Expected a SQL statement (SELECT, INSERT, CREATE...), found {token.text!r}",
                text,
                token.start,
            )
        expect_start = token.token_type == TokenType.SEMICOLON
    try:
        from sqlglot.errors import ErrorLevel

        d.parser(error_level=ErrorLevel.RAISE).parse(tokens, text)
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        message = _sql_message(str(first.get("description") or exc))
        return _at("sql", message, text, _parse_error_offset(first, text))
    except TokenError as exc:  # pragma: no cover - tokenizing already succeeded
        return _at("sql", _token_error_message(exc), text, None)
    return None


_MISSING_PART = re.compile(r"Required keyword: '(\w+)' missing for <class '[\w.]*?(\w+)'>")


def _sql_message(message: str) -> str:
    """sqlglot's parse error in a reader's words ("Incomplete WHERE clause")."""
    m = _MISSING_PART.search(message)
    if m is not None:
        return f"Incomplete {m.group(2).upper()}: a required part is missing"
    return message


def _parse_error_offset(error: Mapping[str, Any], text: str) -> int | None:
    """sqlglot gives the 1-based line and the column of the end of the offending token."""
    line, col = error.get("line"), error.get("col")
    if not isinstance(line, int) or not isinstance(col, int):
        return None
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    if not 1 <= line <= len(starts):
        return None
    highlight = str(error.get("highlight") or "")
    end = starts[line - 1] + col
    return max(starts[line - 1], end - len(highlight)) if highlight else max(0, end - 1)


_MISSING = re.compile(r"Missing (.) from")


def _token_error_message(exc: Exception) -> str:
    cause = exc.__cause__
    m = _MISSING.search(str(cause)) if cause is not None else None
    if m is not None:
        return f"Unterminated quoted text: the closing {m.group(1)} is missing"
    return "The SQL cannot be split into tokens"


def _token_error_offset(exc: Exception, text: str) -> int | None:
    cause = exc.__cause__
    m = _MISSING.search(str(cause)) if cause is not None else None
    if m is not None and m.group(1) in text:
        return text.rfind(m.group(1))  # the opener of the unterminated string
    return getattr(exc, "start", None)


# ------------------------------------------------------------------ regular expressions


@lru_cache(maxsize=64)
def compile_pattern(pattern: str) -> Any:
    """Compile `pattern` with the `regex` module (the `re` syntax, plus partial matching).

    Raises
    ------
    InputError
        When it does not compile, naming the position.
    """
    try:
        return regex.compile(pattern)
    except regex.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        raise InputError(
            f"the regular expression {pattern!r} is not valid{where}: {exc.msg}"
        ) from exc


def validate_regex(text: str, pattern: str) -> StructureError | None:
    """`text` must match `pattern` as a whole. When it does not, the offset is where it stops
    being a possible match: the longest prefix that a match could still start with (found by
    partial matching), so ``555-12a4`` against ``\\d{3}-\\d{4}`` points at the ``a``."""
    compiled = compile_pattern(pattern)
    try:
        if compiled.fullmatch(text, timeout=REGEX_TIMEOUT_SECONDS) is not None:
            return None
        lo, hi = 0, len(text)  # text[:lo] is a viable prefix; find the largest
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if compiled.fullmatch(text[:mid], partial=True, timeout=REGEX_TIMEOUT_SECONDS):
                lo = mid
            else:
                hi = mid - 1
    except TimeoutError:
        return _at(
            "regex", f"Matching /{pattern}/ took over {REGEX_TIMEOUT_SECONDS:g} s", text, None
        )
    if lo >= len(text):
        return _at("regex", f"The text ends before /{pattern}/ is complete", text, lo)
    return _at(
        "regex", f"Does not match /{pattern}/ from character {lo + 1} ({text[lo]!r})", text, lo
    )
