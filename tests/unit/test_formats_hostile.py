"""A corpus of hostile records, each in every container it fits, imported into SQLite and PostgreSQL.

For every kind: no exception, the good records around it stored exactly, the bad one reported.
"""

from __future__ import annotations

import bz2
import gzip
import io
import itertools
import json
import lzma
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curation.formats import read_examples
from curation.store import Store

# Good records around each bad one; non-ASCII so that any re-decoding would show.
GOOD_A = {"instruction": "Nommez une couleur.", "input": "", "output": "Bleu, café ☕ 😀."}
GOOD_B = {"instruction": "Cuánto es 2+2?", "input": "", "output": "Cuatro — “4”."}
LONG_ID = "i" * 250


def _nested(levels: int) -> Any:
    """``levels`` lists inside each other, built without JSON (the expected value)."""
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


def _alpaca(**extra: Any) -> dict[str, Any]:
    return {"instruction": "Say hi.", "input": "", "output": "Hi.", **extra}


def _text(**extra: Any) -> bytes:
    """An Alpaca record with extra fields given as raw JSON text (so NaN etc. can be written)."""
    fields = "".join(f', "{k}": {v}' for k, v in extra.items())
    return ('{"instruction": "Say hi.", "input": "", "output": "Hi."' + fields + "}").encode()


@dataclass(frozen=True)
class Case:
    """One hostile record: its bytes, and what the import must do with it.

    ``reason`` set: the record is skipped for that reason and its message holds ``phrase``.
    ``reason`` None: the record is kept, its raw record equal to ``kept`` (and its id ``own_id``
    when that is set; ``generated_id``: it gets a generated id and a warning with its number).
    ``lines_only``: damage below the JSON level, which only a line-based container isolates.
    """

    name: str
    record: bytes
    reason: str | None = None
    phrase: str = ""
    kept: Any = None
    own_id: str | None = None
    generated_id: bool = False
    lines_only: bool = False


DEEP = 100_000
JSON_CASES = [
    Case("deep array record", b"[" * DEEP + b"]" * DEEP, "too deeply nested", "400 levels"),
    Case(
        "deep object record",
        b'{"a": ' * DEEP + b"1" + b"}" * DEEP,
        "too deeply nested",
        "400 levels",
    ),
    Case(
        "deep field",
        _text(extra=("[" * DEEP + "]" * DEEP)),
        "too deeply nested",
        "nested more than 400 levels",
    ),
    Case(
        "600 levels in a field",
        _text(extra=("[" * 600 + "]" * 600)),
        "too deeply nested",
        "extra is nested more than 400 levels",
    ),
    Case(
        "300 levels in a field",
        _text(extra=("[" * 300 + "]" * 300)),
        kept=_alpaca(extra=_nested(300)),
    ),
    Case(
        "nesting at the limit",
        _text(extra=("[" * 399 + "]" * 399)),
        kept=_alpaca(extra=_nested(399)),
    ),
    Case(
        "nesting one past the limit",
        _text(extra=("[" * 400 + "]" * 400)),
        "too deeply nested",
        "extra is nested more than 400",
    ),
    Case("integer 10**30", _text(n=str(10**30)), kept=_alpaca(n=10**30)),
    Case(
        "negative integer of 40 digits",
        _text(n=str(-(10**40)), nested=f'[{{"m": {10**25}}}]'),
        kept=_alpaca(n=-(10**40), nested=[{"m": 10**25}]),
    ),
    Case("integer of 5000 digits", _text(n="7" * 5000), "number out of range", "4300 digits"),
    Case("float overflow 1e400", _text(score="1e400"), "number out of range", "64-bit float"),
    Case("NaN", _text(score="NaN"), "number out of range", "holds NaN"),
    Case("Infinity", _text(score="Infinity"), "number out of range", "holds Infinity"),
    Case(
        "-Infinity in a list",
        _text(scores="[1, 2, -Infinity]"),
        "number out of range",
        "holds -Infinity",
    ),
    Case(
        "lone high surrogate in text",
        b'{"instruction": "Say \\ud800 hi.", "input": "", "output": "Hi."}',
        "lone surrogate",
        "instruction holds a lone surrogate (\\ud800)",
    ),
    Case(
        "lone low surrogate in the answer",
        b'{"instruction": "Say hi.", "input": "", "output": "Hi \\udc80"}',
        "lone surrogate",
        "output holds a lone surrogate (\\udc80)",
    ),
    Case("lone surrogate in a key", _text(**{"bad\\ud83d": "1"}), "lone surrogate", "a key"),
    Case(
        "lone surrogate deep in metadata",
        _text(meta='{"notes": ["ok", "x\\udfff"]}'),
        "lone surrogate",
        "meta.notes[1]",
    ),
    Case(
        "surrogate pair escape",
        b'{"instruction": "Smile \\ud83d\\ude00", "input": "", "output": "Hi."}',
        kept={"instruction": "Smile 😀", "input": "", "output": "Hi."},
    ),
    Case(
        "\\u0000 in text",
        b'{"instruction": "Say\\u0000hi.", "input": "", "output": "Hi."}',
        "nul character",
        "instruction holds a NUL character",
    ),
    Case("\\u0000 in a key", _text(**{"k\\u0000": "1"}), "nul character", "a key"),
    Case("\\u0000 in metadata", _text(meta='{"a": ["\\u0000"]}'), "nul character", "meta.a[0]"),
    Case(
        "literal backslash-u0000 text",
        b'{"instruction": "Type \\\\u0000 here.", "input": "", "output": "Hi."}',
        kept={"instruction": "Type \\u0000 here.", "input": "", "output": "Hi."},
    ),
    Case(
        "control characters",
        b'{"instruction": "Bell \\u0007 and \\u001f.", "input": "", "output": "Hi."}',
        kept={"instruction": "Bell \u0007 and \u001f.", "input": "", "output": "Hi."},
    ),
    Case(
        "id over 200 characters",
        _text(id=f'"{LONG_ID}"'),
        kept=_alpaca(id=LONG_ID),
        generated_id=True,
    ),
    Case(
        "id of exactly 200 characters",
        _text(id=f'"{"j" * 200}"'),
        kept=_alpaca(id="j" * 200),
        own_id="j" * 200,
    ),
    Case("number as id", _text(id="12345"), kept=_alpaca(id=12345), own_id="12345"),
    Case(
        "integer 10**30 as id", _text(id=str(10**30)), kept=_alpaca(id=10**30), own_id=str(10**30)
    ),
    Case(
        "integer of 250 digits as id",
        _text(id="9" * 250),
        kept=_alpaca(id=int("9" * 250)),
        generated_id=True,
    ),
    Case("list instead of an object", b"[1, 2]", "not an object", "got a list"),
    Case("string instead of an object", b'"just text"', "not an object", "got a string"),
    Case("null instead of an object", b"null", "not an object", "got null"),
    Case("empty object", b"{}", "missing keys", "missing key(s) instruction"),
    Case(
        "number as the answer",
        b'{"instruction": "Say hi.", "input": "", "output": 5}',
        "non-text content",
        "'output' is int",
    ),
    Case(
        "record over the size limit",
        _text(blob='"' + "x" * 1_200_000 + '"'),
        "record too large",
        "1 MB",
    ),
    # Below the JSON level: only a line-based container can keep the other records.
    Case(
        "invalid JSON",
        b'{"instruction": "x", "output": }',
        "invalid json",
        "Expecting value",
        lines_only=True,
    ),
    Case(
        "non-text key",
        b'{1: "a", "instruction": "x", "output": "y"}',
        "invalid json",
        lines_only=True,
    ),
    Case("single quotes", b"{'instruction': 'x', 'output': 'y'}", "invalid json", lines_only=True),
    Case(
        "trailing comma", b'{"instruction": "x", "output": "y",}', "invalid json", lines_only=True
    ),
    Case(
        "NUL byte in a line",
        b'{"instruction": "Say\x00hi.", "input": "", "output": "Hi."}',
        "nul character",
        "NUL byte at column 21",
        lines_only=True,
    ),
    Case(
        "latin-1 line in a UTF-8 file",
        '{"instruction": "Café?", "input": "", "output": "Oui."}'.encode("latin-1"),
        "not utf-8",
        "byte 0xe9 at column 21",
        lines_only=True,
    ),
    Case(
        "byte-order mark of a concatenated file",
        b"\xef\xbb\xbf" + json.dumps(_alpaca()).encode(),
        kept=_alpaca(),
        lines_only=True,
    ),
    Case(
        "CRLF line ending", json.dumps(_alpaca()).encode() + b"\r", kept=_alpaca(), lines_only=True
    ),
]


def _line_file(case: Case) -> bytes:
    good = [json.dumps(r, ensure_ascii=False).encode() for r in (GOOD_A, GOOD_B)]
    return b"\n".join([good[0], case.record, good[1]]) + b"\n"


def _array(case: Case) -> bytes:
    good = [json.dumps(r, ensure_ascii=False).encode() for r in (GOOD_A, GOOD_B)]
    return b"[\n" + b",\n".join([good[0], case.record, good[1]]) + b"\n]\n"


JSON_CONTAINERS: dict[str, tuple[str, Callable[[Case], bytes]]] = {
    "jsonl": ("data.jsonl", _line_file),
    "jsonl.gz": ("data.jsonl.gz", lambda c: gzip.compress(_line_file(c))),
    "jsonl.xz": ("data.jsonl.xz", lambda c: lzma.compress(_line_file(c))),
    "json": ("data.json", _array),
    "json wrapped": ("data.json", lambda c: b'{"version": 1, "data": ' + _array(c) + b"}"),
    "json.bz2": ("data.json.bz2", lambda c: bz2.compress(_array(c))),
}
LINE_CONTAINERS = ("jsonl", "jsonl.gz", "jsonl.xz")


def _json_params() -> Iterator[Any]:
    for container, case in itertools.product(JSON_CONTAINERS, JSON_CASES):
        if case.lines_only and container not in LINE_CONTAINERS:
            continue
        yield pytest.param(container, case, id=f"{container}: {case.name}")


# ---------------------------------------------------------------- stores


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """One real store per backend for the module; every test imports into its own project.

    (A fresh PostgreSQL database per case would cost about a second each for ~400 cases.)
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'store.db'}"
    else:
        url = request.getfixturevalue("new_postgres_db")()
    opened = Store(url)
    yield opened
    opened.dispose()


_projects = itertools.count()


def _import(store: Store, data: bytes, name: str) -> tuple[Any, list[Any], str]:
    """Read and store ``data``; return the read result, the stored examples and the project."""
    project = f"hostile-{next(_projects)}"
    store.create_project(project, "tester")
    result = read_examples(data, source=name)
    store.add_import(project, result, "tester")
    return result, store.list_examples(project, limit=None), project


def _expected_turns(record: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"role": "user", "content": record["instruction"]},
        {"role": "assistant", "content": record["output"]},
    ]


def _assert_outcome(result: Any, stored: list[Any], case: Case, location: str) -> None:
    by_raw_instruction = {s.example.raw.get("instruction"): s for s in stored}
    for good in (GOOD_A, GOOD_B):
        kept = by_raw_instruction[good["instruction"]].example
        assert kept.raw == good
        assert [m.to_dict() for m in kept.messages] == _expected_turns(good)
    if case.reason is not None:
        assert len(stored) == 2
        (error,) = result.errors
        assert error.line == 2
        assert error.message.startswith(f"{location} 2: ")
        assert error.reason == case.reason
        assert case.phrase in error.message
        assert result.skipped_reasons() == {case.reason: 1}
        return
    assert result.errors == []
    assert len(stored) == 3
    middle = stored[1].example
    assert middle.raw == case.kept
    if case.own_id is not None:
        assert middle.id == case.own_id
    if case.generated_id:
        assert middle.id.startswith(result.sha256[:12] + "-")
        (warning,) = [w for w in result.warnings if w.reason == "id too long"]
        assert warning.line == 2 and warning.record_id == middle.id
        assert f"{location} 2: its id is over the 200 characters" in warning.message


@pytest.mark.parametrize(("container", "case"), list(_json_params()))
def test_hostile_json_record_is_isolated(
    store: Store, container: str, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CURATION_MAX_RECORD_MB", "1")
    name, build = JSON_CONTAINERS[container]
    result, stored, _ = _import(store, build(case), name)
    location = "line" if container in LINE_CONTAINERS else "record"
    _assert_outcome(result, stored, case, location)


# ---------------------------------------------------------------- CSV and TSV


@dataclass(frozen=True)
class RowCase:
    """A hostile row between two good ones; ``cells`` are question, answer, note."""

    name: str
    row: Callable[[str], bytes]
    reason: str | None = None
    phrase: str = ""
    kept_note: Any = None


def _cells(*cells: str) -> Callable[[str], bytes]:
    return lambda sep: sep.join(cells).encode()


ROW_CASES = [
    RowCase(
        "NUL byte in a cell",
        lambda s: b"Say\x00hi?" + s.encode() + b"Hi" + s.encode() + b"n",
        "nul character",
        "question holds a NUL character",
    ),
    RowCase(
        "latin-1 row",
        lambda s: s.join(["Café?", "Oui", "n"]).encode("latin-1"),
        "not utf-8",
        "file line 3: not valid UTF-8 (byte 0xe9",
    ),
    RowCase(
        "wrong field count", _cells("Q", "A", "n", "extra"), "wrong field count", "has 4 fields"
    ),
    RowCase(
        "cell over the size limit",
        lambda s: s.join(["Q", "A" * 1_200_000, "n"]).encode(),
        "record too large",
    ),
    RowCase("5000-digit number stays text", _cells("Q", "A", "7" * 5000), kept_note="7" * 5000),
    RowCase("1e400 stays text", _cells("Q", "A", "1e400"), kept_note="1e400"),
    RowCase("NaN stays text", _cells("Q", "A", "NaN"), kept_note="NaN"),
    RowCase("emoji and controls", _cells("Q", "A", "😀\u0007"), kept_note="😀\u0007"),
]


def _table_params() -> Iterator[Any]:
    for container, case in itertools.product(("csv", "tsv"), ROW_CASES):
        yield pytest.param(container, case, id=f"{container}: {case.name}")


@pytest.mark.parametrize(("container", "case"), list(_table_params()))
def test_hostile_row_is_isolated(
    store: Store, container: str, case: RowCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CURATION_MAX_RECORD_MB", "1")
    sep = "," if container == "csv" else "\t"
    # Numeric notes on the good rows: a kept hostile note must not turn the column into numbers.
    lines = [
        sep.join(["question", "answer", "note"]).encode(),
        sep.join(["Qué tal?", "Très bien ☕", "1"]).encode(),
        case.row(sep),
        sep.join(["Und du?", "Gut — danke", "2"]).encode(),
    ]
    result, stored, _ = _import(store, b"\n".join(lines) + b"\n", f"qa.{container}")
    good = [s for s in stored if s.example.raw.get("note") in ("1", "2")]
    assert [[m.content for m in s.example.messages] for s in good] == [
        ["Qué tal?", "Très bien ☕"],
        ["Und du?", "Gut — danke"],
    ]
    if case.reason is not None:
        assert len(stored) == 2
        (error,) = result.errors
        assert error.line == 2 and error.message.startswith("row 2: ")
        assert error.reason == case.reason and case.phrase in error.message
        return
    assert result.errors == [] and len(stored) == 3
    assert stored[1].example.raw["note"] == case.kept_note
    assert stored[1].example.metadata["note"] == case.kept_note


# ---------------------------------------------------------------- Parquet


def _invalid_utf8(values: list[bytes]) -> pa.Array:
    """A string column whose second value is not UTF-8 (Parquet does not check its text)."""
    binary = pa.array(values, type=pa.binary())
    return pa.Array.from_buffers(pa.string(), len(binary), binary.buffers())


PARQUET_CASES: list[tuple[str, dict[str, pa.Array], str | None, str]] = [
    (
        "text that is not UTF-8",
        {"instruction": _invalid_utf8([b"Q1", b"Q\xff", b"Q3"])},
        "not utf-8",
        "instruction holds text that is not valid UTF-8",
    ),
    (
        "NUL in text",
        {"instruction": pa.array(["Q1", "Q\x002", "Q3"])},
        "nul character",
        "instruction",
    ),
    (
        "infinite float",
        {"score": pa.array([0.5, float("inf"), 1.5])},
        "number out of range",
        "score",
    ),
    ("id over 200 characters", {"id": pa.array(["a", LONG_ID, "c"])}, None, ""),
    ("NaN float is a missing value", {"score": pa.array([0.5, float("nan"), 1.5])}, None, ""),
]


@pytest.mark.parametrize(
    ("columns", "reason", "phrase"),
    [pytest.param(c, r, p, id=f"parquet: {n}") for n, c, r, p in PARQUET_CASES],
)
def test_hostile_parquet_row_is_isolated(
    store: Store, columns: dict[str, pa.Array], reason: str | None, phrase: str
) -> None:
    table = {
        "instruction": pa.array(["Q1", "Q2", "Q3"]),
        "output": pa.array(["Réponse 1", "Réponse 2", "Réponse 3"]),
        **columns,
    }
    buffer = io.BytesIO()
    pq.write_table(pa.table(table), buffer)
    result, stored, _ = _import(store, buffer.getvalue(), "data.parquet")
    answers = [s.example.messages[1].content for s in stored]
    if reason is not None:
        assert answers == ["Réponse 1", "Réponse 3"]
        (error,) = result.errors
        assert error.line == 2 and error.reason == reason and phrase in error.message
        return
    assert answers == ["Réponse 1", "Réponse 2", "Réponse 3"] and result.errors == []
    if "id" in columns:
        assert stored[1].example.raw["id"] == LONG_ID
        assert stored[1].example.id.startswith(result.sha256[:12])
        assert [w.line for w in result.warnings if w.reason == "id too long"] == [2]
    else:
        assert "score" not in stored[1].example.metadata
        assert stored[0].example.metadata["score"] == 0.5


# ---------------------------------------------------------------- file names


def _plain_file() -> bytes:
    return b"\n".join(json.dumps(r, ensure_ascii=False).encode() for r in (GOOD_A, GOOD_B))


@pytest.mark.parametrize(
    ("name", "stored_as"),
    [
        ("x" * 600 + ".jsonl", "x" * 499 + "…"),
        ("a\x00b.jsonl", "a\ufffdb.jsonl"),
        ("d\ud800.jsonl", "d\ufffd.jsonl"),
    ],
    ids=["600 characters", "NUL", "lone surrogate"],
)
def test_hostile_file_name_is_stored_as_valid_text(store: Store, name: str, stored_as: str) -> None:
    result, stored, project = _import(store, _plain_file(), name)

    assert result.source == stored_as
    assert [s.example.source for s in stored] == [stored_as, stored_as]
    assert store.list_imports(project)[0]["file_name"] == stored_as
    (warning,) = [w for w in result.warnings if w.reason == "file name"]
    assert repr(stored_as)[:40] in warning.message


def test_file_whose_name_is_not_utf8_on_disk_imports(store: Store, tmp_path: Path) -> None:
    path = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9.jsonl"))  # a latin-1 file name
    path.write_bytes(_plain_file())
    project = f"hostile-{next(_projects)}"
    store.create_project(project, "tester")

    result = read_examples(path)
    store.add_import(project, result, "tester")

    assert result.source == "caf\ufffd.jsonl"
    assert [e.example.raw for e in store.list_examples(project)] == [GOOD_A, GOOD_B]


# ---------------------------------------------------------------- JSON held as text in a field


def _chat_cell(content: str) -> str:
    """A CSV cell holding a chat as JSON text; ``content`` is raw JSON string content."""
    chat = '[{"role": "user", "content": "' + content + '"}, {"role": "assistant", "content": "A"}]'
    return '"' + chat.replace('"', '""') + '"'


def _csv_chats(middle: str) -> bytes:
    rows = ["note,messages", f"1,{_chat_cell('Q1 ☕')}", f"2,{middle}", f"3,{_chat_cell('Q3')}"]
    return ("\n".join(rows) + "\n").encode()


def _sharegpt_lines(middle: dict[str, Any]) -> bytes:
    chat = [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A ☕"}]
    records = [{"conversations": chat, "note": 1}, middle, {"conversations": chat, "note": 3}]
    return b"\n".join(json.dumps(r, ensure_ascii=False).encode() for r in records) + b"\n"


_CHAT = [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]
EMBEDDED_CASES = [
    ("chat cell with \\u0000", "chats.csv", _csv_chats(_chat_cell("a\\u0000b")), "nul character"),
    ("chat cell with \\ud800", "chats.csv", _csv_chats(_chat_cell("a\\ud800b")), "lone surrogate"),
    (
        "chat cell nested 100,000 deep",
        "chats.csv",
        _csv_chats('"' + "[" * DEEP + "]" * DEEP + '"'),
        "too deeply nested",
    ),
    (
        "tools text with \\udfff",
        "chats.jsonl",
        _sharegpt_lines({"conversations": _CHAT, "note": 2, "tools": '[{"name": "\\udfff"}]'}),
        "lone surrogate",
    ),
    (
        "tools text nested 100,000 deep",
        "chats.jsonl",
        _sharegpt_lines({"conversations": _CHAT, "note": 2, "tools": "[" * DEEP + "]" * DEEP}),
        "too deeply nested",
    ),
    (
        "function call text with NaN",
        "chats.jsonl",
        _sharegpt_lines(
            {
                "conversations": [
                    {"from": "human", "value": "Q"},
                    {"from": "function_call", "value": '{"name": "f", "arguments": {"x": NaN}}'},
                    {"from": "observation", "value": "1"},
                    {"from": "gpt", "value": "A"},
                ],
                "note": 2,
            }
        ),
        "number out of range",
    ),
]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [pytest.param(n, d, r, id=case) for case, n, d, r in EMBEDDED_CASES],
)
def test_hostile_json_text_inside_a_field_is_isolated(
    store: Store, name: str, data: bytes, reason: str
) -> None:
    result, stored, _ = _import(store, data, name)

    assert [s.example.metadata["note"] for s in stored] == [1, 3]
    (error,) = result.errors
    assert error.line == 2 and error.reason == reason


@pytest.mark.parametrize(
    ("middle", "reason"),
    [
        ({"instruction": "Q\x002", "output": "A2", "score": 0.5}, "nul character"),
        ({"instruction": "Q2", "output": "A2", "score": float("inf")}, "number out of range"),
        ({"instruction": "Q2", "output": "A2", "score": float("nan")}, None),
    ],
    ids=["hf-disk: NUL in text", "hf-disk: infinite float", "hf-disk: NaN is a missing value"],
)
def test_hostile_row_of_a_saved_dataset_is_isolated(
    store: Store, tmp_path: Path, middle: dict[str, Any], reason: str | None
) -> None:
    import datasets

    rows = [{"instruction": "Q1", "output": "A1", "score": 0.25}, middle]
    rows.append({"instruction": "Q3", "output": "A3", "score": 0.75})
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "saved"))
    project = f"hostile-{next(_projects)}"
    store.create_project(project, "tester")

    result = read_examples(tmp_path / "saved")
    store.add_import(project, result, "tester")

    stored = store.list_examples(project)
    if reason is None:
        assert [s.example.metadata.get("score") for s in stored] == [0.25, None, 0.75]
        assert result.errors == []
        return
    assert [s.example.messages[1].content for s in stored] == ["A1", "A3"]
    (error,) = result.errors
    assert error.line == 2 and error.reason == reason
