"""curation.formats against the real public files in shared/data (see its INDEX.md).

Expected values are computed from the files themselves, never from the reader under test.
"""

from __future__ import annotations

import json

from curation.formats import ColumnMapping, read_examples
from tests.unit.formats_helpers import data_file, load_json, load_jsonl, turns


def test_alpaca_demo_imports_every_record_with_instruction_and_input_joined() -> None:
    records = load_json("llamafactory/alpaca_en_demo.json")
    result = read_examples(data_file("llamafactory/alpaca_en_demo.json"))

    assert result.detected_format == "alpaca"
    assert result.container == "json"
    assert len(records) == 999
    assert len(result.examples) == len(records) and result.errors == []
    k = next(i for i, r in enumerate(records) if r["input"].strip())
    expected_user = records[k]["instruction"] + "\n\n" + records[k]["input"]
    assert turns(result.examples[k]) == [
        ("user", expected_user),
        ("assistant", records[k]["output"]),
    ]
    assert result.examples[k].raw == records[k]
    assert result.examples[0].source == "alpaca_en_demo.json"


def test_identity_alpaca_keeps_placeholder_text() -> None:
    records = load_json("llamafactory/identity.json")
    result = read_examples(data_file("llamafactory/identity.json"))

    assert result.detected_format == "alpaca"
    assert len(result.examples) == len(records) == 91
    k = next(i for i, r in enumerate(records) if r["instruction"] == "Who are you?")
    assert turns(result.examples[k]) == [
        ("user", "Who are you?"),
        ("assistant", records[k]["output"]),
    ]
    assert "{{name}}" in result.examples[k].response


def test_glaive_toolcall_keeps_function_calls_observations_and_tools_as_json() -> None:
    records = load_json("llamafactory/glaive_toolcall_en_demo.json")
    result = read_examples(data_file("llamafactory/glaive_toolcall_en_demo.json"))

    assert result.detected_format == "sharegpt"
    assert len(result.examples) == len(records) == 300
    role_of = {
        "human": "user",
        "gpt": "assistant",
        "function_call": "assistant",
        "observation": "tool",
    }
    calls_seen = 0
    for record, example in zip(records, result.examples, strict=True):
        assert json.loads(example.tools) == json.loads(record["tools"])
        assert [m.role for m in example.messages] == [
            role_of[t["from"]] for t in record["conversations"]
        ]
        for turn, message in zip(record["conversations"], example.messages, strict=True):
            if turn["from"] == "function_call":
                source_call = json.loads(turn["value"])
                (call,) = json.loads(message.tool_calls)
                assert message.content == ""
                assert call["type"] == "function"
                assert call["function"]["name"] == source_call["name"]
                assert json.loads(call["function"]["arguments"]) == source_call["arguments"]
                calls_seen += 1
            else:
                assert message.content == turn["value"]
                assert message.tool_calls is None
    expected_calls = sum(t["from"] == "function_call" for r in records for t in r["conversations"])
    assert calls_seen == expected_calls > 0


def test_self_instruct_seed_tasks_one_example_per_instance() -> None:
    records = load_jsonl("self-instruct/seed_tasks.jsonl")
    result = read_examples(data_file("self-instruct/seed_tasks.jsonl"))

    assert result.detected_format == "self-instruct"
    assert result.total_records == len(records) == 175
    assert len(result.examples) == sum(len(r["instances"]) for r in records)
    by_id = {e.id: e for e in result.examples}
    record = next(r for r in records if r["instances"][0]["input"].strip())
    example = by_id[record["id"]]
    instance = record["instances"][0]
    assert turns(example) == [
        ("user", record["instruction"] + "\n\n" + instance["input"]),
        ("assistant", instance["output"]),
    ]
    assert example.metadata["is_classification"] is record["is_classification"]
    assert example.metadata["name"] == record["name"]


def test_fastchat_sharegpt_uses_record_ids_and_maps_roles() -> None:
    records = load_json("fastchat/dummy_conversation.json")
    result = read_examples(data_file("fastchat/dummy_conversation.json"))

    assert result.detected_format == "sharegpt"
    assert len(result.examples) == len(records) == 500
    assert [e.id for e in result.examples] == [r["id"] for r in records]
    first = records[0]
    role_of = {"human": "user", "gpt": "assistant"}
    assert turns(result.examples[0]) == [
        (role_of[t["from"]], t["value"]) for t in first["conversations"]
    ]


def test_presidio_records_need_a_mapping_then_import_with_one() -> None:
    records = load_json("presidio/generated_small.json")
    result = read_examples(data_file("presidio/generated_small.json"))

    assert result.detected_format == "mapped"
    assert result.needs_mapping is True
    assert result.examples == []
    assert result.suggested_mapping is not None
    assert result.suggested_mapping.user == ["full_text"]
    assert result.skipped == len(records) == 100

    mapped = read_examples(
        data_file("presidio/generated_small.json"),
        mapping=ColumnMapping(user=["full_text"], assistant="masked"),
    )
    assert len(mapped.examples) == len(records)
    assert turns(mapped.examples[0]) == [
        ("user", records[0]["full_text"]),
        ("assistant", records[0]["masked"]),
    ]
    assert mapped.examples[0].metadata["spans"] == records[0]["spans"]
    assert mapped.examples[0].metadata["template_id"] == records[0]["template_id"]


def test_mrpc_tsv_needs_mapping_and_reports_the_glued_line() -> None:
    path = data_file("mrpc/msr_paraphrase_train.txt")
    lines = path.read_text(encoding="utf-8-sig").rstrip("\n").split("\n")
    header, body = lines[0].split("\t"), lines[1:]
    assert len(body) == 3675
    bad = [i for i, line in enumerate(body, 1) if len(line.split("\t")) != len(header)]

    result = read_examples(path)
    assert result.container == "tsv"
    assert result.columns == header  # BOM stripped from the first column name
    assert result.detected_format == "mapped" and result.needs_mapping
    assert result.total_records == len(body)

    mapping = ColumnMapping(user=["#1 String", "#2 String"], assistant="Quality")
    mapped = read_examples(path, mapping=mapping)
    assert len(mapped.examples) == len(body) - len(bad)
    assert [e.line for e in mapped.errors] == bad
    assert f"file line {bad[0] + 1}" in mapped.errors[0].message
    # Fields starting with a quote are plain text in this file; they must survive unchanged.
    k = next(i for i, line in enumerate(body) if '\t"' in line and i + 1 not in bad)
    fields = body[k].split("\t")
    example = next(e for e in mapped.examples if e.raw["#1 ID"] == fields[1])
    assert example.prompt == fields[3] + "\n\n" + fields[4]
    assert example.response == fields[0]
    assert example.metadata["#1 ID"] == int(fields[1])


def test_toy_chat_openai_skips_the_conversation_without_user_turn() -> None:
    records = load_jsonl("openai-cookbook/toy_chat_fine_tuning.jsonl")
    result = read_examples(data_file("openai-cookbook/toy_chat_fine_tuning.jsonl"))

    assert result.detected_format == "openai"
    assert result.total_records == len(records) == 5
    no_user = [
        i for i, r in enumerate(records, 1) if all(m["role"] != "user" for m in r["messages"])
    ]
    assert len(result.examples) == len(records) - len(no_user)
    assert [e.line for e in result.errors] == no_user
    assert "no user turn" in result.errors[0].message
    assert result.skipped_reasons() == {"missing turn": len(no_user)}
    second = records[1]["messages"]
    assert turns(result.examples[1]) == [(m["role"], m["content"]) for m in second]


def test_drone_training_keeps_tool_calls_tools_and_parallel_flag() -> None:
    records = load_jsonl("openai-cookbook/drone_training.jsonl")
    result = read_examples(data_file("openai-cookbook/drone_training.jsonl"))

    assert result.detected_format == "openai"
    assert len(result.examples) == len(records) == 103
    for record, example in zip(records, result.examples, strict=True):
        assert json.loads(example.tools) == record["tools"]
        assert example.metadata == {"parallel_tool_calls": record["parallel_tool_calls"]}
        source_calls = [m for m in record["messages"] if m.get("tool_calls")]
        kept = [m for m in example.messages if m.tool_calls]
        assert [json.loads(m.tool_calls) for m in kept] == [m["tool_calls"] for m in source_calls]
        for message in kept:
            for call in json.loads(message.tool_calls):
                json.loads(call["function"]["arguments"])
            assert message.role == "assistant" and message.content == ""


def test_dbpedia_text_category_needs_mapping_then_imports() -> None:
    records = load_jsonl("openai-cookbook/dbpedia_samples.jsonl")
    path = data_file("openai-cookbook/dbpedia_samples.jsonl")
    result = read_examples(path)

    assert result.detected_format == "mapped"
    assert result.needs_mapping is True
    assert result.columns == ["text", "category"]
    assert result.suggested_mapping is not None
    assert result.suggested_mapping.user == ["text"]
    assert result.suggested_mapping.assistant == ""
    assert result.skipped_reasons() == {"needs mapping": len(records)}

    mapped = read_examples(path, mapping=ColumnMapping(user=["text"], assistant="category"))
    assert mapped.detected_format == "mapped"
    assert len(mapped.examples) == len(records) == 200
    assert turns(mapped.examples[2]) == [
        ("user", records[2]["text"]),
        ("assistant", records[2]["category"]),
    ]
    assert mapped.examples[2].metadata == {}


def test_dolly_joins_context_and_keeps_category() -> None:
    records = load_json("dolly/random_selection_20_top_100.json")
    result = read_examples(data_file("dolly/random_selection_20_top_100.json"))

    assert result.detected_format == "dolly"
    assert len(result.examples) == len(records) == 100
    assert [e.metadata["category"] for e in result.examples] == [r["category"] for r in records]
    with_context = [i for i, r in enumerate(records) if r["context"].strip()]
    for k in with_context[:3] or [0]:
        record = records[k]
        user = record["instruction"] + (
            "\n\n" + record["context"] if record["context"].strip() else ""
        )
        assert turns(result.examples[k]) == [("user", user), ("assistant", record["response"])]


def test_ag_news_prompt_completion_keeps_text_exactly() -> None:
    records = load_jsonl("t0-prompt-completion/ag_news_classify.jsonl")
    result = read_examples(data_file("t0-prompt-completion/ag_news_classify.jsonl"))

    assert result.detected_format == "prompt-completion"
    assert result.container == "jsonl"
    assert len(result.examples) == len(records) == 200
    for record, example in zip(records, result.examples, strict=True):
        assert turns(example) == [("user", record["prompt"]), ("assistant", record["completion"])]
    assert result.examples[0].response.endswith("<|endoftext|>")


def test_every_indexed_file_is_read_with_its_stated_record_count() -> None:
    index = data_file("INDEX.md").read_text(encoding="utf-8")
    rows = [line.split("|") for line in index.splitlines() if line.startswith("| ") and "/" in line]
    stated = {cells[1].strip(): int(cells[-2].strip()) for cells in rows}
    assert len(stated) == 12
    for name, count in stated.items():
        result = read_examples(data_file(name))
        assert result.total_records == count, name
