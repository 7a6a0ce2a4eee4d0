"""Reading contamination reference sets in every common benchmark shape.

Fixtures in `tests/fixtures/benchmarks/` are in the real shapes (MT-Bench lines are verbatim).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from curation.errors import InputError, ReferenceFieldError
from curation.formats import read_reference
from curation.formats.reference import LINES, STRINGS

BENCH = Path(__file__).resolve().parents[1] / "fixtures" / "benchmarks"
HAWAII = (
    "Compose an engaging travel blog post about a recent trip to Hawaii, highlighting cultural "
    "experiences and must-see attractions."
)
ARRAYS = (
    "Implement a program to find the common elements in two arrays without using any extra "
    "data structures."
)


def test_mt_bench_gives_every_turn_with_its_question_id() -> None:
    lines = [json.loads(x) for x in (BENCH / "mt_bench_question.jsonl").read_text().splitlines()]
    ref = read_reference(BENCH / "mt_bench_question.jsonl")
    assert ref.field == "turns"
    assert ref.container == "jsonl"
    assert len(ref) == sum(len(r["turns"]) for r in lines) == 14
    assert ref.texts[0] == HAWAII
    assert ref.texts[1] == "Rewrite your previous response. Start every sentence with the letter A."
    assert ref.items[0].ref_id == "81" and ref.items[0].location == "line 1, turn 1"
    assert ref.items[13].ref_id == "130" and ref.items[13].location == "line 7, turn 2"
    # the reference answers of some questions are not prompts and are never read
    assert "You are in second place." not in ref.texts
    assert set(ref.candidates) >= {"turns", "category", "reference"}


def test_alpaca_eval_reads_instructions_not_outputs() -> None:
    records = json.loads((BENCH / "alpaca_eval_outputs.json").read_text())
    ref = read_reference(BENCH / "alpaca_eval_outputs.json")
    assert ref.field == "instruction" and ref.container == "json"
    assert ref.texts == [r["instruction"] for r in records]
    assert HAWAII in ref.texts and ARRAYS in ref.texts


def test_instruction_is_joined_with_input_as_on_import() -> None:
    data = json.dumps(
        [{"instruction": "Summarise the text.", "input": "The cat sat.", "output": "A cat sat."}]
    ).encode()
    ref = read_reference(data, source="alpaca.json")
    assert ref.texts == ["Summarise the text.\n\nThe cat sat."]


def test_math_problem_field_and_empty_problem_is_skipped_and_counted() -> None:
    ref = read_reference(BENCH / "math_problems.jsonl")
    assert ref.field == "problem"
    assert len(ref) == 2 and ref.skipped == 1
    assert ref.texts[1] == "What is the sum of the first ten positive odd integers?"
    assert ref.problems == ("line 3: empty 'problem'",)
    assert "1 record(s) without text there skipped" in ref.describe()


def test_gsm8k_question_field() -> None:
    ref = read_reference(BENCH / "gsm8k_test.jsonl")
    assert ref.field == "question"
    assert ref.texts[1] == "Tom reads 12 pages a day. How many pages does he read in two weeks?"


def test_chat_messages_give_each_user_turn() -> None:
    ref = read_reference(BENCH / "chat_benchmark.jsonl")
    assert ref.field == "messages"
    assert ref.texts == [
        "Name the largest planet in the solar system.",
        "And the smallest?",
        "Translate 'good morning' into French.",
    ]
    assert ref.items[1].location == "line 1, message 4" and ref.items[1].ref_id == "c1"


def test_sharegpt_conversations_give_human_turns() -> None:
    data = json.dumps(
        {"conversations": [{"from": "human", "value": "Hi there?"}, {"from": "gpt", "value": "Hi"}]}
    ).encode()
    ref = read_reference(data, source="one.json")
    assert ref.field == "conversations" and ref.texts == ["Hi there?"]


def test_plain_text_lines_and_json_array_of_strings() -> None:
    text = read_reference(BENCH / "prompts.txt")
    assert text.field == LINES and text.container == "text"
    assert text.texts == [
        "Write a limerick about a cat who learns to code.",
        "List three uses of baking soda.",
    ]
    assert text.items[1].location == "line 3"
    array = read_reference(BENCH / "prompts_array.json")
    assert array.field == STRINGS and array.texts == text.texts
    assert array.skipped == 1  # the empty string


def test_jsonl_of_bare_strings() -> None:
    ref = read_reference(b'"first prompt"\n"second prompt"\n', source="p.jsonl")
    assert ref.field == STRINGS and ref.texts == ["first prompt", "second prompt"]


def test_csv_tsv_and_parquet_columns(tmp_path: Path) -> None:
    rows = [
        {"id": "1", "question": "What is the boiling point of water?", "answer": "100 C"},
        {"id": "2", "question": "Who painted the Mona Lisa?", "answer": "Leonardo"},
    ]
    frame = pd.DataFrame(rows)
    frame.to_csv(tmp_path / "q.csv", index=False)
    frame.to_csv(tmp_path / "q.tsv", index=False, sep="\t")
    frame.to_parquet(tmp_path / "q.parquet")
    expected = [r["question"] for r in rows]
    for name, container in (("q.csv", "csv"), ("q.tsv", "tsv"), ("q.parquet", "parquet")):
        ref = read_reference(tmp_path / name)
        assert (ref.field, ref.container, ref.texts) == ("question", container, expected), name
        assert ref.items[0].ref_id == "1"


def test_parquet_list_column_is_read_as_turns(tmp_path: Path) -> None:
    pd.DataFrame({"question_id": [1], "turns": [["First turn?", "Second turn?"]]}).to_parquet(
        tmp_path / "mt.parquet"
    )
    assert read_reference(tmp_path / "mt.parquet").texts == ["First turn?", "Second turn?"]


def test_unknown_fields_ask_for_a_choice_and_the_choice_is_read() -> None:
    data = b'{"task": "Write a poem about rain.", "note": "from the spring set"}\n' * 2
    with pytest.raises(ReferenceFieldError) as info:
        read_reference(data, source="odd.jsonl")
    assert info.value.candidates == ["task", "note"]
    assert "cannot tell which field" in str(info.value) and "task, note" in str(info.value)
    ref = read_reference(data, source="odd.jsonl", field="task")
    assert ref.field == "task" and ref.texts == ["Write a poem about rain."] * 2


def test_a_single_unknown_text_field_is_used() -> None:
    data = b'{"n": 1, "utterance": "Book a table for two."}\n{"n": 2, "utterance": "Cancel it."}\n'
    ref = read_reference(data, source="u.jsonl")
    assert ref.field == "utterance" and len(ref) == 2


def test_a_chosen_field_overrides_the_known_one() -> None:
    ref = read_reference(BENCH / "mt_bench_question.jsonl", field="category")
    assert ref.field == "category" and ref.texts[0] == "writing"


def test_a_missing_field_names_the_fields_that_hold_text() -> None:
    with pytest.raises(ReferenceFieldError, match="has no field 'prompt'") as info:
        read_reference(BENCH / "gsm8k_test.jsonl", field="prompt")
    assert info.value.candidates == ["question", "answer"]


def test_zero_items_is_an_error_never_a_pass() -> None:
    empty_turns = b'{"question_id": 1, "turns": ["", "  "]}\n{"question_id": 2, "turns": []}\n'
    with pytest.raises(InputError, match="0 reference items read from field 'turns'"):
        read_reference(empty_turns, source="mt.jsonl")
    with pytest.raises(InputError, match="no reference text"):
        read_reference(b'["", "  "]', source="blank.json")
    with pytest.raises(InputError, match="empty"):
        read_reference(b"\n   \n\n", source="blank.txt")
    with pytest.raises(InputError, match="empty"):
        read_reference(b"", source="none.jsonl")
    with pytest.raises(InputError, match="no field holds text"):
        read_reference(b'{"id": 1, "score": 0.5}\n', source="numbers.jsonl")


def test_bad_json_lines_are_named() -> None:
    with pytest.raises(InputError, match=r"1 line\(s\) are not valid JSON \(line 2\)"):
        read_reference(b'{"question": "ok?"}\n{"question": broken\n', source="bad.jsonl")


def test_uploaded_buffer_with_a_name() -> None:
    buffer = io.BytesIO((BENCH / "mt_bench_question.jsonl").read_bytes())
    buffer.name = "question.jsonl"
    ref = read_reference(buffer)
    assert ref.source == "question.jsonl" and len(ref) == 14
    assert ref.summary()["n_items"] == 14 and len(ref.summary()["sha256"]) == 64


def test_plain_text_has_no_fields_to_choose() -> None:
    with pytest.raises(ReferenceFieldError, match="plain texts"):
        read_reference(BENCH / "prompts.txt", field="question")


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_reference(tmp_path / "nope.jsonl")
