"""What `curation quality` needs besides `run_quality`: expectations from command-line options,
and the flags as CSV rows.

The CLI stays thin: it parses arguments and prints; everything here is testable without it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import IO, Any

from curation.errors import InputError
from curation.quality.runner import QualityRow
from curation.quality.structure.expectations import Expectation, StructureExpectations
from curation.safecsv import write_csv

__all__ = [
    "CSV_COLUMNS",
    "csv_row",
    "expectations_from_options",
    "parse_schema",
    "read_schema",
    "write_flags_csv",
]

CSV_COLUMNS: tuple[str, ...] = ("id", "flag", "score", "reason", "kind", "suggestion", "location")


def read_schema(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A JSON Schema from a file; a missing file, bad JSON or a non-object is an `InputError`
    naming the file (and, for bad JSON, the line and column)."""
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise InputError(f"cannot read the schema file {name!r}: {exc.strerror or exc}") from exc
    return parse_schema(text, name)


def parse_schema(text: str | bytes, name: str) -> dict[str, Any]:
    """A JSON Schema from the text of file `name` (a path, or an uploaded file's name); bad
    JSON or a non-object is an `InputError` naming the file (and the line and column)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"the schema file {name!r} is not UTF-8 text (byte {exc.start + 1})"
            ) from None
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"the schema file {name!r} is not JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}"
        ) from exc
    if not isinstance(schema, dict):
        raise InputError(
            f"the schema file {name!r} holds a {type(schema).__name__}, not a JSON Schema object"
        )
    return schema


def expectations_from_options(
    expect: str | None = None,
    schema_path: str | os.PathLike[str] | None = None,
    sql_dialect: str | None = None,
    *,
    schema: dict[str, Any] | None = None,
) -> StructureExpectations | None:
    """The structure every answer must have, from ``--expect``, ``--schema`` and ``--sql-dialect``.

    ``--schema`` alone means JSON matching it; ``--sql-dialect`` alone means SQL in that dialect.
    Options that contradict each other are an `InputError` naming both; None when none is given.
    `schema` is an already parsed schema (the Quality page's upload) in place of `schema_path`.
    """
    if schema_path is not None:
        schema = read_schema(schema_path)
    if expect is None:
        if schema is not None and sql_dialect is not None:
            raise InputError("--schema applies to json or yaml answers, --sql-dialect to sql")
        if schema is not None:
            expect = "json"
        elif sql_dialect is not None:
            expect = "sql"
        else:
            return None
    kind = expect.partition(":")[0].strip().lower()
    if sql_dialect is not None:
        if kind != "sql":
            raise InputError(
                f"--sql-dialect {sql_dialect!r} applies to --expect sql, not {expect!r}"
            )
        given = expect.partition(":")[2].strip()
        if given and given.lower() != sql_dialect.lower():
            raise InputError(f"--expect {expect!r} and --sql-dialect {sql_dialect!r} disagree")
        expect = f"sql:{sql_dialect}"
    if schema is not None and kind not in ("json", "yaml"):
        raise InputError(f"--schema applies to --expect json or yaml, not {expect!r}")
    return StructureExpectations(default=Expectation.parse(expect, schema=schema))


def csv_row(row: QualityRow) -> dict[str, Any]:
    """One flag as a CSV row: id, flag code, score, reason, sub-kind, suggestion, location."""
    location = row.data.get("location")
    return {
        "id": row.example_id,
        "flag": row.code,
        "score": row.score,
        "reason": row.reason or "",
        "kind": row.kind or "",
        "suggestion": row.suggestion or "",
        "location": "" if not location else json.dumps(location, sort_keys=True),
    }


def write_flags_csv(
    rows: Sequence[QualityRow], path_or_buffer: str | os.PathLike[str] | IO[str] | IO[bytes]
) -> int:
    """Write one CSV row per (example, flag), cells neutralised against formula injection."""
    return write_csv([csv_row(r) for r in rows], path_or_buffer, columns=CSV_COLUMNS)
