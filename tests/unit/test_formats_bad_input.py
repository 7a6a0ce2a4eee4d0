"""curation.formats on broken input: every case gives a clear message and the rest still imports.

Files are written into tmp_path as real bytes (encodings, binary, malformed lines).
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import json
import lzma
import random
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from curation.errors import InputError, MappingError
from curation.formats import ColumnMapping, preview, read_examples
from tests.unit.formats_helpers import turns, write_jsonl

GOOD = {"instruction": "Name a colour.", "input": "", "output": "Blue."}


def test_malformed_json_lines_report_line_numbers_and_the_rest_imports(tmp_path: Path) -> None:
    lines = [
        json.dumps({"instruction": "one", "output": "1"}),
        '{"instruction": "two", "output": }',
        "",
        json.dumps({"instruction": "three", "output": "3"}),
        "   ",
        "[1, 2]",
        '"just a string"',
        '{"instruction": "four", "output": "4"',
        json.dumps({"instruction": "five", "output": "5"}),
    ]
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = read_examples(path)

    assert [e.prompt for e in result.examples] == ["one", "three", "five"]
    assert [e.line for e in result.errors] == [2, 6, 7, 8]
    assert result.errors[0].message.startswith("line 2: invalid JSON: Expecting value")
    assert "expected a JSON object, got a list" in result.errors[1].message
    assert "got a string" in result.errors[2].message
    assert result.total_records == 7  # blank lines are not records
    assert result.skipped == 4
    assert result.skipped_reasons() == {"invalid json": 2, "not an object": 2}


def test_blank_lines_are_ignored_silently(tmp_path: Path) -> None:
    path = tmp_path / "gaps.jsonl"
    path.write_text("\n\n" + json.dumps(GOOD) + "\n\n\r\n" + json.dumps(GOOD) + "\n\n", "utf-8")
    result = read_examples(path)
    assert len(result.examples) == 2
    assert result.errors == [] and result.warnings == []


@pytest.mark.parametrize("content", [b"", b"  \n\n\t \r\n"])
def test_empty_file_is_an_input_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"empty\.jsonl is empty"):
        read_examples(path)


def test_binary_file_is_rejected_with_the_supported_formats(tmp_path: Path) -> None:
    path = tmp_path / "photo.jsonl"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)))
    with pytest.raises(InputError) as info:
        read_examples(path)
    message = str(info.value)
    assert "looks like a binary file" in message
    for name in ("JSONL", "CSV", "Parquet"):
        assert name in message


def test_utf8_bom_is_stripped_in_jsonl_and_csv(tmp_path: Path) -> None:
    jsonl = tmp_path / "bom.jsonl"
    jsonl.write_bytes(
        codecs.BOM_UTF8 + (json.dumps({"instruction": "é", "output": "ü"}) + "\n").encode()
    )
    csv_path = tmp_path / "bom.csv"
    csv_path.write_bytes(codecs.BOM_UTF8 + "question,answer\nQué?,Sí\n".encode())

    assert turns(read_examples(jsonl).examples[0]) == [("user", "é"), ("assistant", "ü")]
    result = read_examples(csv_path)
    assert result.columns == ["question", "answer"]
    assert turns(result.examples[0]) == [("user", "Qué?"), ("assistant", "Sí")]


@pytest.mark.parametrize(
    ("bom", "encoding"),
    [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")],
)
def test_utf16_with_bom_is_decoded(tmp_path: Path, bom: bytes, encoding: str) -> None:
    text = "\n".join(
        json.dumps(r, ensure_ascii=False)
        for r in [{"instruction": "Wie heißt du?", "output": "Ich heiße Ω."}, GOOD]
    )
    path = tmp_path / "wide.jsonl"
    path.write_bytes(bom + text.encode(encoding))

    result = read_examples(path)

    assert turns(result.examples[0]) == [("user", "Wie heißt du?"), ("assistant", "Ich heiße Ω.")]
    assert len(result.examples) == 2 and result.warnings == []


def test_cp1252_falls_back_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "legacy.csv"
    path.write_bytes("question,answer\nPrice?,5 € per café\nOK?,yes\n".encode("cp1252"))

    result = read_examples(path)

    assert turns(result.examples[0]) == [("user", "Price?"), ("assistant", "5 € per café")]
    assert len(result.examples) == 2
    (warning,) = result.warnings
    assert "not valid UTF-8" in warning.message and "cp1252" in warning.message
    assert "line 2" in warning.message


def test_latin1_byte_undefined_in_cp1252_falls_back_to_latin1(tmp_path: Path) -> None:
    path = tmp_path / "latin.jsonl"
    record = {"instruction": "Grüße \x81", "output": "Tschüß"}
    path.write_bytes(json.dumps(record, ensure_ascii=False).encode("latin-1"))

    result = read_examples(path)

    assert turns(result.examples[0]) == [("user", "Grüße \x81"), ("assistant", "Tschüß")]
    assert "decoded as latin-1" in result.warnings[0].message


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"instruction": "", "input": " ", "output": "Hi"}, "user turn is empty"),
        ({"instruction": "", "input": "", "output": ""}, "user turn is empty"),
        ({"instruction": "Say hi", "input": "", "output": 5}, "'output' is int, expected text"),
        ({"messages": []}, "conversation is empty"),
        ({"messages": [{"role": "assistant", "content": "Hi"}]}, "no user turn"),
        ({"messages": [{"role": "system", "content": "Be brief."}]}, "no user turn"),
        (
            {
                "messages": [
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": " "},
                    {"role": "user", "content": "Still there?"},
                ]
            },
            "assistant turn is empty (message 2)",
        ),
        (
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": 42}]},
            "content of message 2 is int, expected text",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": {"a": 1}},
                    {"role": "assistant", "content": "x"},
                ]
            },
            "content of message 1 is object (dict), expected text",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "u"}}]},
                    {"role": "assistant", "content": "A cat."},
                ]
            },
            "content of message 1 is a list with image_url parts",
        ),
        (
            {
                "messages": [
                    {"role": "wizard", "content": "Hi"},
                    {"role": "assistant", "content": "x"},
                ]
            },
            "message 1 has role 'wizard'",
        ),
        (
            {
                "conversations": [
                    {"from": "human", "value": "Hi"},
                    {"from": "gpt", "value": ""},
                    {"from": "human", "value": "Hello?"},
                    {"from": "gpt", "value": "Hi."},
                ]
            },
            "assistant turn is empty (message 2)",
        ),
    ],
)
def test_bad_records_are_skipped_with_a_message_and_good_ones_import(
    tmp_path: Path, record: dict, message: str
) -> None:
    shape_twin = (
        {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]}
        if "messages" in record
        else {"conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]}
        if "conversations" in record
        else GOOD
    )
    path = write_jsonl(tmp_path / "mixed.jsonl", [shape_twin, record, shape_twin])

    result = read_examples(path)

    assert len(result.examples) == 2
    (error,) = result.errors
    assert error.line == 2
    assert error.message.startswith("line 2: ")
    assert message in error.message
    assert error.record_id is not None
    assert result.skipped == 1


@pytest.mark.parametrize(
    ("record", "prompt"),
    [
        ({"instruction": "Say hi", "input": "", "output": ""}, [("user", "Say hi")]),
        ({"instruction": "Say hi", "input": "to Ann"}, [("user", "Say hi\n\nto Ann")]),
        ({"messages": [{"role": "user", "content": "Hi"}]}, [("user", "Hi")]),
        (
            {
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello."},
                    {"role": "user", "content": "Bye"},
                ]
            },
            [("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello."), ("user", "Bye")],
        ),
        (
            {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": ""}]},
            [("user", "Hi")],
        ),
    ],
)
def test_records_without_an_answer_import_as_needing_one(
    tmp_path: Path, record: dict, prompt: list[tuple[str, str]]
) -> None:
    # A record whose answer is missing or empty is a prompt still to answer, not a bad record.
    shape_twin = (
        {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]}
        if "messages" in record
        else {"conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]}
        if "conversations" in record
        else GOOD
    )
    path = write_jsonl(tmp_path / "mixed.jsonl", [shape_twin, record, shape_twin])

    result = read_examples(path)

    assert result.errors == [] and result.skipped == 0
    first, asking, last = result.examples
    assert turns(asking) == prompt
    assert asking.needs_answer and not first.needs_answer and not last.needs_answer
    assert result.kind_counts()["needs_answer"] == 1
    assert result.kinds_summary() == "1 needs an answer"


def test_text_content_parts_are_joined(tmp_path: Path) -> None:
    record = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Part one."},
                    {"type": "text", "text": "Part two."},
                ],
            },
            {"role": "assistant", "content": "Done."},
        ]
    }
    result = read_examples(write_jsonl(tmp_path / "parts.jsonl", [record]))
    assert turns(result.examples[0]) == [("user", "Part one.\n\nPart two."), ("assistant", "Done.")]


def test_file_over_the_size_limit_names_size_limit_and_setting(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "big.jsonl", [GOOD] * 40)
    size = path.stat().st_size
    with pytest.raises(InputError) as info:
        read_examples(path, max_bytes=1024)
    message = str(info.value)
    assert f"({size:,} bytes)" in message
    assert "import limit of 1 KB (1,024 bytes)" in message
    assert "CURATION_MAX_IMPORT_MB" in message
    assert len(read_examples(path, max_bytes=size).examples) == 40


def test_size_limit_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_jsonl(tmp_path / "big.jsonl", [GOOD] * 40)
    monkeypatch.setenv("CURATION_MAX_IMPORT_MB", "0.001")
    with pytest.raises(InputError, match="CURATION_MAX_IMPORT_MB"):
        read_examples(path)
    with pytest.raises(InputError, match="over the import limit"):
        read_examples(path.read_bytes(), source="big.jsonl")
    monkeypatch.setenv("CURATION_MAX_IMPORT_MB", "lots")
    with pytest.raises(InputError, match="'lots' is not a number"):
        read_examples(path)


def test_unknown_extension_is_sniffed(tmp_path: Path) -> None:
    jsonl = write_jsonl(tmp_path / "export.dat", [GOOD, GOOD])
    csv_path = tmp_path / "sheet.txt"
    csv_path.write_text("prompt,response\nHi,Hello\n", encoding="utf-8")

    first = read_examples(jsonl)
    second = read_examples(csv_path)

    assert (first.container, first.detected_format, len(first.examples)) == ("jsonl", "alpaca", 2)
    assert second.container == "csv"
    assert turns(second.examples[0]) == [("user", "Hi"), ("assistant", "Hello")]


def test_wrong_explicit_format_names_the_missing_keys(tmp_path: Path) -> None:
    record = {"conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]}
    path = write_jsonl(tmp_path / "chat.jsonl", [record])
    with pytest.raises(InputError) as info:
        read_examples(path, format="alpaca")
    message = str(info.value)
    assert "lack instruction, output" in message
    assert "conversations" in message and "'sharegpt'" in message


def test_unknown_format_name_lists_the_choices(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [GOOD])
    with pytest.raises(InputError, match="Unknown format 'alpacca'.*sharegpt"):
        read_examples(path, format="alpacca")


def test_mapping_with_a_missing_column_names_it_and_the_available_ones(tmp_path: Path) -> None:
    path = tmp_path / "qa.csv"
    path.write_text("question,answer,topic\nQ,A,t\n", encoding="utf-8")
    with pytest.raises(MappingError) as info:
        read_examples(path, mapping=ColumnMapping(user=["question"], assistant="reply"))
    assert "'reply'" in str(info.value)
    assert "question, answer, topic" in str(info.value)


def test_invalid_tools_string_skips_only_that_record(tmp_path: Path) -> None:
    chat = [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]
    records = [
        {"conversations": chat, "tools": '[{"name": "f"}]'},
        {"conversations": chat, "tools": "[{name: f}"},
        {"conversations": chat, "tools": [{"name": "g", "parameters": {}}]},
    ]
    result = read_examples(write_jsonl(tmp_path / "tools.jsonl", records))

    assert [e.tools for e in result.examples] == [
        '[{"name": "f"}]',
        json.dumps([{"name": "g", "parameters": {}}]),
    ]
    (error,) = result.errors
    assert error.line == 2 and "'tools' is not valid JSON" in error.message


def test_invalid_json_array_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text(
        '[\n  {"instruction": "a", "output": "b"},\n  {"instruction": "c" "output": "d"}\n]'
    )
    with pytest.raises(InputError, match=r"broken\.json is not valid JSON: .* line 3, column 23"):
        read_examples(path)


def test_non_object_items_in_a_json_array_are_per_record_errors(tmp_path: Path) -> None:
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps([GOOD, 17, None, GOOD]), encoding="utf-8")
    result = read_examples(path)
    assert len(result.examples) == 2
    assert [(e.line, e.message) for e in result.errors] == [
        (2, "record 2: expected a JSON object, got a number"),
        (3, "record 3: expected a JSON object, got null"),
    ]


def test_csv_row_with_wrong_field_count_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("question,answer\nQ1,A1\nQ2,A2,extra\n\nQ3,A3\n", encoding="utf-8")
    result = read_examples(path)
    assert [e.prompt for e in result.examples] == ["Q1", "Q3"]
    (error,) = result.errors
    assert error.line == 2
    assert "has 3 fields but the header has 2 (file line 3)" in error.message


def test_gzip_compressed_jsonl_is_unpacked(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl.gz"
    path.write_bytes(gzip.compress((json.dumps(GOOD) + "\n").encode()))
    result = read_examples(path)
    assert result.container == "jsonl"
    assert turns(result.examples[0]) == [("user", "Name a colour."), ("assistant", "Blue.")]


def test_self_instruct_bad_instance_skips_only_that_instance(tmp_path: Path) -> None:
    record = {
        "id": "t1",
        "instruction": "Add.",
        "instances": [{"input": "1+1", "output": "2"}, {"input": "2+2", "output": 4}],
        "is_classification": False,
    }
    result = read_examples(write_jsonl(tmp_path / "seed.jsonl", [record]))
    assert [e.id for e in result.examples] == ["t1#0"]
    (error,) = result.errors
    assert error.record_id == "t1#1"
    assert "instance 1: 'output' is int, expected text" in error.message
    assert result.skipped == 0


# ---------------------------------------------------------------- mixed encodings

UTF8_LINES = [
    {"instruction": "Un café, s'il vous plaît.", "output": "Voilà ☕."},
    {"instruction": "Größe?", "output": "Groß — sehr groß."},
    {"instruction": "Price?", "output": "5 €"},  # replaced by a latin-1 line below
    {"instruction": "日本語で?", "output": "はい 😀"},
]


def test_utf8_file_with_one_latin1_line_keeps_every_good_line_exact(tmp_path: Path) -> None:
    lines = [json.dumps(r, ensure_ascii=False).encode("utf-8") for r in UTF8_LINES]
    lines[2] = '{"instruction": "Déjà vu?", "output": "Oui."}'.encode("latin-1")
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")

    result = read_examples(path)

    expected = [r for i, r in enumerate(UTF8_LINES) if i != 2]
    assert [e.raw for e in result.examples] == expected
    assert [turns(e) for e in result.examples] == [
        [("user", r["instruction"]), ("assistant", r["output"])] for r in expected
    ]
    (error,) = result.errors
    assert (error.line, error.reason) == (3, "not utf-8")
    assert "byte 0xe9 at column 19" in error.message
    (warning,) = result.warnings
    assert "UTF-8 except 1 line(s) (3)" in warning.message
    assert "cp1252" not in warning.message


def test_mixed_encoding_csv_skips_only_the_row_with_bad_bytes(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        "question,answer\nQué?,Sí\n".encode()
        + '"Déjà\nvu?",Oui\n'.encode("latin-1")
        + "Und?,Gut — ja\n".encode()
    )

    result = read_examples(path)

    assert [turns(e) for e in result.examples] == [
        [("user", "Qué?"), ("assistant", "Sí")],
        [("user", "Und?"), ("assistant", "Gut — ja")],
    ]
    (error,) = result.errors
    assert error.line == 2 and error.reason == "not utf-8"
    assert "file line 3: not valid UTF-8 (byte 0xe9 at column 3)" in error.message


def test_mixed_encoding_json_document_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "mixed.json"
    path.write_bytes(
        b'[\n  {"instruction": "Qu\xc3\xa9?", "output": "S\xc3\xad"},\n'
        b'  {"instruction": "D\xe9j\xe0?", "output": "Oui"}\n]\n'
    )
    with pytest.raises(InputError) as info:
        read_examples(path)
    message = str(info.value)
    assert "UTF-8 except on line 3" in message and "byte 0xe9" in message
    assert ".jsonl" in message


def test_csv_header_with_bad_bytes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_bytes("qu\xe9stion,answer\n".encode("latin-1") + "Qué?,Sí\n".encode())
    with pytest.raises(InputError, match=r"header of header\.csv \(line 1\) is not valid UTF-8"):
        read_examples(path)


def test_utf16_without_bom_is_decoded_with_a_warning(tmp_path: Path) -> None:
    text = "\n".join(json.dumps(r, ensure_ascii=False) for r in UTF8_LINES)
    path = tmp_path / "wide.jsonl"
    path.write_bytes(text.encode("utf-16-le"))

    result = read_examples(path)

    assert [e.raw for e in result.examples] == UTF8_LINES
    assert "decoded as utf-16-le" in result.warnings[0].message


# ---------------------------------------------------------------- NUL bytes and binary files


def test_one_nul_byte_skips_only_its_line(tmp_path: Path) -> None:
    path = tmp_path / "nul.jsonl"
    path.write_bytes(
        json.dumps(GOOD).encode()
        + b'\n{"instruction": "a\x00b", "output": "c"}\n'
        + json.dumps({**GOOD, "output": "Red."}).encode()
        + b"\n"
    )

    result = read_examples(path)

    assert [e.response for e in result.examples] == ["Blue.", "Red."]
    (error,) = result.errors
    assert (error.line, error.reason) == (2, "nul character")
    assert "NUL byte at column 19" in error.message


def test_csv_with_a_nul_byte_skips_only_its_row(tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(b"question,answer\nQ1,A1\nQ\x002,A2\nQ3,A3\n")
    result = read_examples(path)
    assert [e.prompt for e in result.examples] == ["Q1", "Q3"]
    (error,) = result.errors
    assert error.line == 2 and "question holds a NUL character" in error.message


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (random.Random(0).randbytes(5000), "a binary file, not text"),
        (b"\x28\xb5\x2f\xfd" + bytes(200), "zstd-compressed"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "a PDF document"),
        (bytes(range(256)) * 8, "a binary file, not text"),
    ],
    ids=["random bytes", "zstd", "pdf", "every byte value"],
)
def test_binary_content_is_still_refused(tmp_path: Path, content: bytes, kind: str) -> None:
    path = tmp_path / "data.jsonl"
    path.write_bytes(content)
    with pytest.raises(InputError, match="looks like a binary file") as info:
        read_examples(path)
    assert kind in str(info.value)


def test_sqlite_database_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "data.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x TEXT)")
    with pytest.raises(InputError, match="an SQLite database"):
        read_examples(path)


# ---------------------------------------------------------------- size caps on unpacked content


def _bomb(path: Path, kind: str, size: int) -> Path:
    """A file of ``size`` newlines compressed with ``kind``, written without holding them."""
    chunk = b"\n" * (1 << 20)
    openers = {"gzip": gzip.open, "bzip2": bz2.open, "xz": lzma.open}
    with openers[kind](path, "wb") as out:
        for _ in range(size // len(chunk)):
            out.write(chunk)
    return path


_PEAK_SCRIPT = """
import resource, sys
from curation.errors import InputError
from curation.formats import read_examples
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    read_examples(sys.argv[1], max_bytes=int(sys.argv[2]))
except InputError as exc:
    message = str(exc)
else:
    message = "no error"
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) * 1024)
print(message)
"""


def _peak_while_reading(path: Path, limit: int) -> tuple[int, str]:
    """Run `read_examples` in a fresh process: (growth of its peak memory in bytes, message)."""
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_SCRIPT, str(path), str(limit)],
        capture_output=True,
        text=True,
        check=True,
    )
    growth, message = done.stdout.split("\n", 1)
    return int(growth), message.strip()


LIMIT = 20 * 1024 * 1024


@pytest.mark.parametrize(
    ("kind", "size", "name"),
    [
        ("gzip", 300 << 20, "bomb.jsonl.gz"),
        ("bzip2", 100 << 20, "bomb.jsonl.bz2"),
        ("xz", 100 << 20, "bomb.jsonl.xz"),
    ],
)
def test_compressed_file_is_refused_after_reading_at_most_the_limit(
    tmp_path: Path, kind: str, size: int, name: str
) -> None:
    path = _bomb(tmp_path / name, kind, size)
    assert path.stat().st_size < LIMIT // 20  # small on disk

    growth, message = _peak_while_reading(path, LIMIT)

    assert f"{name} unpacks to more than the import limit of 20 MB" in message
    assert "reading stopped there" in message
    # Reading stops at the limit: the process grows by about the limit, never the full size.
    assert growth < 3 * LIMIT


def test_parquet_that_decodes_past_the_limit_is_refused_batch_by_batch(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 200_000
    text = "x" * 1000  # 200 MB decoded, a few KB on disk (dictionary + run-length encoding)
    table = pa.table({"instruction": pa.array([text] * rows), "output": pa.array(["y"] * rows)})
    path = tmp_path / "bomb.parquet"
    pq.write_table(table, path, compression="zstd")
    del table
    assert path.stat().st_size < LIMIT // 20

    growth, message = _peak_while_reading(path, LIMIT)

    assert "bomb.parquet unpacks to more than the import limit of 20 MB" in message
    assert growth < 4 * LIMIT


def test_compressed_arrow_stream_that_decodes_past_the_limit_is_refused(tmp_path: Path) -> None:
    import pyarrow as pa

    batch = pa.record_batch(
        {"instruction": pa.array(["x" * 1000] * 1000), "output": pa.array(["y"] * 1000)}
    )
    path = tmp_path / "bomb.arrow"
    options = pa.ipc.IpcWriteOptions(compression="zstd")
    with (
        pa.OSFile(str(path), "wb") as sink,
        pa.ipc.new_stream(sink, batch.schema, options=options) as writer,
    ):
        for _ in range(100):  # 100 MB decoded
            writer.write_batch(batch)
    assert path.stat().st_size < LIMIT // 20

    with pytest.raises(
        InputError, match="bomb.arrow unpacks to more than the import limit of 20 MB"
    ):
        read_examples(path, max_bytes=LIMIT)


def test_folder_with_a_compressed_file_past_the_limit_is_refused_before_loading(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    write_jsonl(folder / "train.jsonl", [GOOD])
    _bomb(folder / "more.jsonl.gz", "gzip", 40 << 20)
    with pytest.raises(
        InputError, match=r"folder/more\.jsonl\.gz unpacks to more than the import limit of 20 MB"
    ):
        read_examples(folder, max_bytes=LIMIT)


def test_folder_with_a_zip_that_unpacks_past_the_limit_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    with zipfile.ZipFile(folder / "data.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("train.jsonl", json.dumps(GOOD) + "\n")
    assert [e.prompt for e in read_examples(folder, max_bytes=LIMIT).examples] == ["Name a colour."]
    with (
        zipfile.ZipFile(folder / "data.zip", "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open("more.jsonl", "w") as member,
    ):
        for _ in range(40):
            member.write(b"\n" * (1 << 20))
    assert (folder / "data.zip").stat().st_size < LIMIT // 20
    with pytest.raises(InputError, match=r"folder/data\.zip unpacks to more than the import limit"):
        read_examples(folder, max_bytes=LIMIT)


class _EndlessNewlines(io.RawIOBase):
    """A stream that is not seekable and never ends; counts the bytes handed out."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = len(buffer)
        buffer[:n] = b"\n" * n
        self.served += n
        return n


def test_unseekable_stream_is_read_only_up_to_the_limit() -> None:
    stream = _EndlessNewlines()
    with pytest.raises(InputError, match="is more than the import limit of 1 KB"):
        read_examples(io.BufferedReader(stream, buffer_size=256), max_bytes=1024)
    assert stream.served <= 1024 + 256 + 1


def test_record_limit_setting_must_be_a_positive_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [GOOD])
    monkeypatch.setenv("CURATION_MAX_RECORD_MB", "0")
    with pytest.raises(InputError, match="CURATION_MAX_RECORD_MB='0' must be a positive number"):
        read_examples(path)


def _eleven_records(tmp_path: Path, container: str) -> Path:
    import pandas as pd

    records = [{"instruction": f"Q{i}", "output": f"A{i}"} for i in range(11)]
    path = tmp_path / f"eleven.{container}"
    if container == "jsonl":
        write_jsonl(path, records)
    elif container == "json":
        path.write_text(json.dumps(records), encoding="utf-8")
    elif container == "csv":
        pd.DataFrame(records).to_csv(path, index=False)
    else:
        pd.DataFrame(records).to_parquet(path)
    return path


@pytest.mark.parametrize("container", ["jsonl", "json", "csv", "parquet"])
def test_more_records_than_the_limit_is_refused_but_previews(
    tmp_path: Path, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _eleven_records(tmp_path, container)
    monkeypatch.setenv("CURATION_MAX_IMPORT_RECORDS", "10")
    with pytest.raises(InputError) as info:
        read_examples(path)
    message = str(info.value)
    assert "more than the 10 records one import reads" in message
    assert "CURATION_MAX_IMPORT_RECORDS" in message
    assert [e.prompt for e in preview(path, 3).examples] == ["Q0", "Q1", "Q2"]
    monkeypatch.setenv("CURATION_MAX_IMPORT_RECORDS", "11")
    assert len(read_examples(path).examples) == 11


def test_record_count_setting_must_be_a_whole_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [GOOD])
    monkeypatch.setenv("CURATION_MAX_IMPORT_RECORDS", "lots")
    with pytest.raises(InputError, match="CURATION_MAX_IMPORT_RECORDS='lots' must be a whole"):
        read_examples(path)


# ---------------------------------------------------------------- JSON documents read item by item

DEEP = "[" * 100_000 + "]" * 100_000


def test_syntax_error_after_an_unreadable_record_still_names_its_place(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text(f"[\n{json.dumps(GOOD)},\n{DEEP},\n{json.dumps(GOOD)} {json.dumps(GOOD)}\n]")
    with pytest.raises(InputError, match=r"broken\.json is not valid JSON: .* line 4, column"):
        read_examples(path)


def test_one_record_document_with_a_deep_field_is_skipped_with_the_field_named(
    tmp_path: Path,
) -> None:
    path = tmp_path / "one.json"
    path.write_text('{"instruction": "Q", "output": "A", "extra": ' + DEEP + "}")
    result = read_examples(path)
    assert result.examples == []
    (error,) = result.errors
    assert error.message == "record 1: extra[0] is nested more than 400 levels deep"


def test_document_holding_one_deep_object_reports_it_as_the_record(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"a": {"b": ' + "[" * 5000 + "]" * 5000 + "}}")
    result = read_examples(path)
    assert result.examples == []
    assert [(e.line, e.reason, e.message) for e in result.errors] == [
        (1, "too deeply nested", "record 1: a is nested more than 400 levels deep")
    ]


def test_wrapped_records_beside_an_unreadable_member_import(tmp_path: Path) -> None:
    path = tmp_path / "wrapped.json"
    path.write_text(
        '{"meta": {"x": NaN}, "data": ['
        + json.dumps(GOOD)
        + ", "
        + DEEP
        + ", "
        + json.dumps({**GOOD, "output": "Red."})
        + "]}"
    )
    result = read_examples(path)
    assert [e.response for e in result.examples] == ["Blue.", "Red."]
    assert [(e.line, e.message) for e in result.errors] == [
        (2, "record 2: data[1] is nested more than 400 levels deep")
    ]


@pytest.mark.parametrize(
    ("rows", "kept", "message"),
    [
        (
            'Q1,A1\nQ2,"A2 never closed\nQ3,A3\nQ4,A4\n',
            [("Q1", "A1")],
            "row 2: file lines 3-5 were read as one row because a quoted field is not closed "
            "where it should be (the file ends inside it)",
        ),
        (
            'Q1,"A1 closed too late\nQ2,A2\nQ3,"A3"\nQ4,A4\n',
            [("Q4", "A4")],
            "row 1: file lines 2-4 were read as one row because a quoted field is not closed "
            "where it should be",
        ),
    ],
    ids=["never closed", "closed by a later quote"],
)
def test_csv_quote_left_open_is_reported_not_swallowed(
    tmp_path: Path, rows: str, kept: list[tuple[str, str]], message: str
) -> None:
    path = tmp_path / "quotes.csv"
    path.write_text("question,answer\n" + rows, encoding="utf-8")
    result = read_examples(path)
    assert [(e.prompt, e.response) for e in result.examples] == kept
    (error,) = result.errors
    assert error.reason == "misquoted" and error.message.startswith(message)


def test_csv_multi_line_fields_and_inner_quotes_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "fine.csv"
    path.write_bytes(b'question,answer\r\nQ1,"two\r\nlines"\r\nQ2,"say ""hi"""\r\nQ3,5" screen\r\n')
    result = read_examples(path)
    assert [(e.prompt, e.response) for e in result.examples] == [
        ("Q1", "two\r\nlines"),
        ("Q2", 'say "hi"'),
        ("Q3", '5" screen'),
    ]
    assert result.errors == []
