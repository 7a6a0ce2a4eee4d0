"""curation.formats containers and API: round trips, HF folders, ids, buffers, detection, mapping.

The same records written through pandas/pyarrow/datasets must read back as the same examples.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from curation.formats import (
    CONTAINERS,
    SHAPES,
    ColumnMapping,
    detect_format,
    preview,
    read_examples,
)
from tests.unit.formats_helpers import turns, write_jsonl

RECORDS: list[dict[str, Any]] = [
    {
        "instruction": "Summarise the text.",
        "input": 'He said "hi", then left.\nThe end.',
        "output": "A greeting, then a departure.",
        "topic": "summary",
        "difficulty": 2,
        "score": 0.75,
        "reviewed": True,
    },
    {
        "instruction": "Translate to French: cheese",
        "input": "",
        "output": "fromage",
        "topic": "translation",
        "difficulty": 1,
        "score": 0.5,
        "reviewed": False,
    },
    {
        "instruction": "List two colours, tab separated.",
        "input": "",
        "output": "red\tblue",
        "topic": "lists, simple",
        "difficulty": 3,
        "score": 1.25,
        "reviewed": True,
    },
]


def _comparable(result: Any) -> list[dict[str, Any]]:
    return [
        {"messages": [m.to_dict() for m in e.messages], "metadata": e.metadata, "tools": e.tools}
        for e in result.examples
    ]


def _expected() -> list[dict[str, Any]]:
    out = []
    for r in RECORDS:
        user = r["instruction"] + ("\n\n" + r["input"] if r["input"] else "")
        metadata = {k: r[k] for k in ("topic", "difficulty", "score", "reviewed")}
        out.append(
            {
                "messages": [
                    {"role": "user", "content": user},
                    {"role": "assistant", "content": r["output"]},
                ],
                "metadata": metadata,
                "tools": None,
            }
        )
    return out


@pytest.fixture()
def written(tmp_path: Path) -> dict[str, Path]:
    frame = pd.DataFrame(RECORDS)
    paths = {
        "jsonl": write_jsonl(tmp_path / "r.jsonl", RECORDS),
        "json": tmp_path / "r.json",
        "csv": tmp_path / "r.csv",
        "tsv": tmp_path / "r.tsv",
        "parquet": tmp_path / "r.parquet",
    }
    paths["json"].write_text(json.dumps(RECORDS, indent=2), encoding="utf-8")
    frame.to_csv(paths["csv"], index=False)
    frame.to_csv(paths["tsv"], index=False, sep="\t")
    frame.to_parquet(paths["parquet"], index=False)
    return paths


@pytest.mark.parametrize("container", ["jsonl", "json", "csv", "tsv", "parquet"])
def test_every_container_gives_the_same_examples(written: dict[str, Path], container: str) -> None:
    result = read_examples(written[container])
    assert result.container == container
    assert result.detected_format == "alpaca"
    assert result.errors == []
    assert _comparable(result) == _expected()


def test_hf_save_to_disk_folder_imports(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_list(RECORDS).save_to_disk(str(tmp_path / "saved"))

    result = read_examples(tmp_path / "saved")

    assert result.container == "hf-disk"
    assert result.detected_format == "alpaca"
    assert _comparable(result) == _expected()
    assert result.source == "saved"
    again = read_examples(tmp_path / "saved")
    assert [e.id for e in again.examples] == [e.id for e in result.examples]
    assert again.sha256 == result.sha256


def test_hf_dataset_dict_concatenates_splits_with_split_name(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    splits = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_list(RECORDS[:2]),
            "test": datasets.Dataset.from_list(RECORDS[2:]),
        }
    )
    splits.save_to_disk(str(tmp_path / "dd"))

    result = read_examples(tmp_path / "dd")

    assert [e.metadata["split"] for e in result.examples] == ["train", "train", "test"]
    assert [e.prompt for e in result.examples][2] == RECORDS[2]["instruction"]
    assert len({e.id for e in result.examples}) == 3


def test_arrow_file_and_data_folder_go_through_load_dataset(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_list(RECORDS).save_to_disk(str(tmp_path / "saved"))
    arrow = next((tmp_path / "saved").glob("*.arrow"))
    folder = tmp_path / "folder"
    folder.mkdir()
    write_jsonl(folder / "train.jsonl", RECORDS)

    from_arrow = read_examples(arrow)
    from_buffer = read_examples(arrow.read_bytes(), source="upload.arrow")
    from_folder = read_examples(folder)

    for result in (from_arrow, from_buffer, from_folder):
        assert result.container == "hf-load"
        assert _comparable(result) == _expected()


def test_ids_are_stable_and_come_from_the_file_hash_and_row(written: dict[str, Path]) -> None:
    first = read_examples(written["jsonl"])
    second = read_examples(written["jsonl"])
    from_bytes = read_examples(written["jsonl"].read_bytes(), source="r.jsonl")

    import hashlib

    digest = hashlib.sha256(written["jsonl"].read_bytes()).hexdigest()
    assert first.sha256 == digest
    assert [e.id for e in first.examples] == [f"{digest[:12]}-{i:06d}" for i in range(3)]
    assert [e.id for e in second.examples] == [e.id for e in first.examples]
    assert [e.id for e in from_bytes.examples] == [e.id for e in first.examples]


def test_own_ids_are_used_only_when_unique(tmp_path: Path) -> None:
    chat = [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]
    records = [
        {"id": "a", "conversations": chat},
        {"id": "b", "conversations": chat},
        {"id": "b", "conversations": chat},
        {"uid": 7, "conversations": chat},
    ]
    path = write_jsonl(tmp_path / "ids.jsonl", records)
    result = read_examples(path)
    prefix = result.sha256[:12]
    assert [e.id for e in result.examples] == ["a", f"{prefix}-000001", f"{prefix}-000002", "7"]
    assert any("repeated id" in w.message for w in result.warnings)


def test_uploaded_buffer_uses_its_name_or_sniffs(written: dict[str, Path]) -> None:
    class Uploaded(io.BytesIO):
        name = "r.csv"

    upload = Uploaded(written["csv"].read_bytes())
    upload.read()  # the page may already have read it
    named = read_examples(upload)
    anonymous = read_examples(io.BytesIO(written["tsv"].read_bytes()))

    assert named.container == "csv" and named.source == "r.csv"
    assert anonymous.container == "tsv"
    assert _comparable(named) == _comparable(anonymous) == _expected()


def test_top_level_object_wrapping_a_list(tmp_path: Path) -> None:
    path = tmp_path / "wrapped.json"
    path.write_text(json.dumps({"version": 2, "data": RECORDS}), encoding="utf-8")
    result = read_examples(path)
    assert _comparable(result) == _expected()


def test_question_answer_csv_is_mapped_automatically(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text("question,answer,topic\nWhat is 2+2?,4,math\nCapital of France?,Paris,geo\n")

    result = read_examples(path)

    assert result.detected_format == "mapped"
    assert result.needs_mapping is False
    assert result.suggested_mapping == ColumnMapping(user=["question"], assistant="answer")
    assert turns(result.examples[0]) == [("user", "What is 2+2?"), ("assistant", "4")]
    assert [e.metadata for e in result.examples] == [{"topic": "math"}, {"topic": "geo"}]


def test_mapping_joins_user_columns_and_keeps_chosen_metadata(tmp_path: Path) -> None:
    path = tmp_path / "qa.csv"
    path.write_text("ctx,q,a,sys,src,n\nSky.,Colour?,Blue,Be brief.,wiki,3\n")
    mapping = ColumnMapping(user=["q", "ctx"], assistant="a", system="sys", metadata=["n"])

    result = read_examples(path, mapping=mapping)

    assert turns(result.examples[0]) == [
        ("system", "Be brief."),
        ("user", "Colour?\n\nSky."),
        ("assistant", "Blue"),
    ]
    assert result.examples[0].metadata == {"n": 3}


def test_mapping_a_messages_column_held_as_json_text(tmp_path: Path) -> None:
    chat = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    pd.DataFrame([{"dialogue": json.dumps(chat), "lang": "en"}]).to_csv(
        tmp_path / "c.csv", index=False
    )
    result = read_examples(tmp_path / "c.csv", mapping=ColumnMapping(messages="dialogue"))
    assert turns(result.examples[0]) == [("user", "Hi"), ("assistant", "Hello")]
    assert result.examples[0].metadata == {"lang": "en"}


def test_alpaca_system_and_history_become_earlier_turns(tmp_path: Path) -> None:
    record = {
        "instruction": "And 3+3?",
        "input": "",
        "output": "6",
        "system": "You do sums.",
        "history": [["1+1?", "2"], ["2+2?", "4"]],
    }
    result = read_examples(write_jsonl(tmp_path / "h.jsonl", [record]))
    assert turns(result.examples[0]) == [
        ("system", "You do sums."),
        ("user", "1+1?"),
        ("assistant", "2"),
        ("user", "2+2?"),
        ("assistant", "4"),
        ("user", "And 3+3?"),
        ("assistant", "6"),
    ]
    assert result.examples[0].metadata == {}


def test_openai_weights_tool_messages_and_none_content(tmp_path: Path) -> None:
    calls = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}]
    record = {
        "messages": [
            {"role": "user", "content": "Call f"},
            {"role": "assistant", "content": None, "tool_calls": calls, "weight": 0},
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
            {"role": "assistant", "content": "Done", "weight": 1},
        ],
        "tools": json.dumps([{"type": "function", "function": {"name": "f"}}]),
    }
    result = read_examples(write_jsonl(tmp_path / "o.jsonl", [record]))
    messages = [m.to_dict() for m in result.examples[0].messages]
    assert messages == [
        {"role": "user", "content": "Call f"},
        {"role": "assistant", "content": "", "tool_calls": json.dumps(calls), "weight": 0},
        {"role": "tool", "content": "ok", "tool_call_id": "c1"},
        {"role": "assistant", "content": "Done", "weight": 1},
    ]
    assert result.examples[0].tools == record["tools"]


def test_trl_conversational_prompt_completion(tmp_path: Path) -> None:
    record = {
        "prompt": [{"role": "user", "content": "What color is the sky?"}],
        "completion": [{"role": "assistant", "content": "It is blue."}],
    }
    result = read_examples(write_jsonl(tmp_path / "trl.jsonl", [record]))
    assert result.detected_format == "prompt-completion"
    assert turns(result.examples[0]) == [
        ("user", "What color is the sky?"),
        ("assistant", "It is blue."),
    ]


def test_detect_format_looks_at_several_records() -> None:
    odd_first = [{"note": "header row"}] + [{"instruction": "q", "output": "a"}] * 5
    assert detect_format(odd_first) == ("alpaca", 5 / 6)
    assert detect_format([{"prompt": "p", "completion": "c"}]) == ("prompt-completion", 1.0)
    assert detect_format([{"instruction": "i", "response": "r", "context": ""}])[0] == "dolly"
    assert detect_format([{"messages": [{"role": "user", "content": "x"}]}])[0] == "openai"
    assert detect_format([{"messages": [{"from": "human", "value": "x"}]}])[0] == "sharegpt"
    assert detect_format([{"text": "t", "category": "c"}]) == ("mapped", 1.0)
    assert set(SHAPES) >= {
        "alpaca",
        "sharegpt",
        "openai",
        "prompt-completion",
        "dolly",
        "self-instruct",
        "mapped",
    }
    assert CONTAINERS == ("jsonl", "json", "csv", "tsv", "parquet", "hf-disk", "hf-load")


def test_explicit_format_skips_detection(tmp_path: Path) -> None:
    record = {"instruction": "Q", "output": "A", "response": "R"}
    path = write_jsonl(tmp_path / "both.jsonl", [record])
    assert read_examples(path).detected_format == "dolly"
    result = read_examples(path, format="alpaca")
    assert result.detected_format == "alpaca"
    assert turns(result.examples[0]) == [("user", "Q"), ("assistant", "A")]
    assert result.examples[0].metadata == {"response": "R"}


def test_preview_reads_only_the_first_records(tmp_path: Path) -> None:
    records = [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(50)]
    path = write_jsonl(tmp_path / "many.jsonl", records)
    csv_path = tmp_path / "many.csv"
    pd.DataFrame(records).to_csv(csv_path, index=False)

    for source in (path, csv_path):
        result = preview(source, n=3)
        assert [e.prompt for e in result.examples] == ["q0", "q1", "q2"]
        assert result.truncated is True and result.total_records == 3
    full = read_examples(path)
    assert [e.id for e in full.examples[:3]] == [e.id for e in preview(path, n=3).examples]


def test_progress_is_reported_every_thousand_records(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", [{"instruction": "q", "output": "a"}] * 2500)
    calls: list[tuple[str, int, int | None]] = []
    read_examples(path, progress=lambda u: calls.append((u.stage, u.done, u.total)))
    assert calls == [("reading p.jsonl", d, 2500) for d in (0, 1000, 2000, 2500)]


def test_ten_thousand_alpaca_records_all_import(tmp_path: Path) -> None:
    records = [
        {
            "instruction": f"Explain item {i}.",
            "input": "context " * (i % 5),
            "output": "answer " * 40,
        }
        for i in range(10_000)
    ]
    path = write_jsonl(tmp_path / "big.jsonl", records)
    result = read_examples(path)  # speed is measured in benchmarks/bench_import.py
    assert len(result.examples) == 10_000
    assert result.examples[9_999].messages[0].content == "Explain item 9999.\n\n" + "context " * 4


def test_mapped_table_keeps_a_plain_tools_column_as_metadata(tmp_path: Path) -> None:
    path = tmp_path / "diy.csv"
    path.write_text('question,answer,tools\nFix a shelf?,Use screws.,"hammer, drill"\n')
    result = read_examples(path)
    assert result.errors == []
    assert result.examples[0].tools is None
    assert result.examples[0].metadata == {"tools": "hammer, drill"}


def test_empty_json_array_imports_nothing_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "none.json"
    path.write_text("[]", encoding="utf-8")
    result = read_examples(path)
    assert result.examples == [] and result.total_records == 0
    assert [w.message for w in result.warnings] == ["none.json holds no records."]
