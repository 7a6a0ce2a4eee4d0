"""The contamination check against benchmark-shaped reference sets: files, projects and the CLI.

The overlap is real: MT-Bench questions 81 (Hawaii travel blog) and 130 (common elements of two
arrays) are Vicuna questions that AlpacaEval-style outputs carry verbatim.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.cli import main
from curation.dedup import find_example_contamination
from curation.dedup.contamination import example_segments
from curation.dedup.project import check_contamination
from curation.errors import InputError
from curation.formats import read_examples, read_reference
from curation.records import Example, Message
from curation.store import Store

BENCH = Path(__file__).resolve().parents[1] / "fixtures" / "benchmarks"
MT_BENCH = BENCH / "mt_bench_question.jsonl"
ALPACA_EVAL = BENCH / "alpaca_eval_outputs.json"


def _mt_bench_first_turn(question_id: int) -> str:
    for line in MT_BENCH.read_text().splitlines():
        record = json.loads(line)
        if record["question_id"] == question_id:
            return str(record["turns"][0])
    raise AssertionError(question_id)


def _overlapping_ids() -> dict[str, str]:
    """AlpacaEval example id (file hash + row, as imported) -> its instruction, for the rows
    whose instruction is an MT-Bench first turn."""
    firsts = {_mt_bench_first_turn(81), _mt_bench_first_turn(130)}
    read = read_examples(ALPACA_EVAL)
    return {e.id: e.prompt for e in read.examples if e.prompt in firsts}


def test_mt_bench_against_alpaca_eval_outputs_finds_the_real_overlap() -> None:
    examples = read_examples(ALPACA_EVAL).examples
    expected = _overlapping_ids()
    assert len(expected) == 2
    reference = read_reference(MT_BENCH)
    for method in ("exact", "near"):
        matches = find_example_contamination(examples, reference, method=method)
        assert {m.example_id for m in matches} == set(expected), method
        for m in matches:
            assert m.example_text == expected[m.example_id]
            assert m.reference_text == m.example_text
            assert m.similarity == 1.0
            assert m.reference_id in ("81", "130")
            assert m.reference_location in ("line 1, turn 1", "line 7, turn 1")


def test_light_edit_is_near_but_not_exact() -> None:
    edited = _mt_bench_first_turn(81).replace("highlighting cultural", "highlighting the cultural")
    examples = [
        Example("e1", [Message("user", edited), Message("assistant", "Aloha!")]),
        Example("e2", [Message("user", "How do volcanoes form?"), Message("assistant", "Magma.")]),
    ]
    reference = read_reference(MT_BENCH)
    assert find_example_contamination(examples, reference, method="exact") == []
    near = find_example_contamination(examples, reference, method="near")
    assert [m.example_id for m in near] == ["e1"]
    assert 0.7 <= near[0].similarity < 1.0
    assert near[0].reference_text == _mt_bench_first_turn(81)


def test_a_copied_question_inside_a_longer_conversation_is_found_by_its_turn() -> None:
    question = _mt_bench_first_turn(130)
    follow_up = (
        "Thanks. Now rewrite the whole thing in Rust, add unit tests for empty inputs, explain "
        "the complexity of every step in detail, and compare it with a version that sorts first."
    )
    conversation = Example(
        "long",
        [
            Message("user", question),
            Message("assistant", "Use two nested loops over the arrays."),
            Message("user", follow_up),
            Message("assistant", "Here is the Rust version."),
        ],
    )
    segments = example_segments(conversation, "user")
    assert segments == [(None, f"{question}\n\n{follow_up}"), (1, question), (3, follow_up)]
    reference = read_reference(MT_BENCH)
    (match,) = find_example_contamination([conversation], reference, method="exact")
    assert match.example_turn == 1 and match.similarity == 1.0
    assert match.example_text == conversation.prompt  # the whole user side is shown
    # the whole user text alone is too different to match: the per-turn comparison finds it
    whole = Example("whole", [Message("user", conversation.prompt), Message("assistant", "x")])
    assert find_example_contamination([whole], reference, method="near") == []


def test_empty_reference_is_an_error() -> None:
    example = Example("e", [Message("user", "q"), Message("assistant", "a")])
    with pytest.raises(InputError, match="holds no text"):
        find_example_contamination([example], ["", "   "])


def test_project_check_returns_both_texts_and_flags_with_the_item(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.create_project("p", "ada")
    store.add_import("p", read_examples(ALPACA_EVAL), "ada")
    expected = _overlapping_ids()
    reference = read_reference(MT_BENCH)
    report = check_contamination(store, "p", reference, flag=True, author="bob")
    assert {h["example_id"] for h in report["hits"]} == set(expected)
    for hit in report["hits"]:
        assert hit["example_text"] == hit["reference_text"] == expected[hit["example_id"]]
        assert hit["similarity"] == 1.0
    assert report["n_reference_items"] == 14 and report["n_examples"] == 6
    assert report["reference"]["field"] == "turns" and report["threshold"] == 0.7
    for ex_id in expected:
        flagged = store.get_example("p", ex_id)
        assert flagged.status == "filtered"
        assert "mt_bench_question.jsonl" in (flagged.status_reason or "")
        assert "turn 1" in (flagged.status_reason or "")
    assert store.events("p", kinds=["contamination"])[0]["author"] == "bob"
    store.undo("p", report["event_id"], "bob")
    assert all(store.get_example("p", i).status == "active" for i in expected)
    store.dispose()


def test_cli_file_report_has_the_contamination_contract(tmp_path: Path, capsys) -> None:
    report_path = tmp_path / "report.json"
    code = main(
        [
            "dedup",
            str(ALPACA_EVAL),
            "--method",
            "exact",
            "--reference",
            str(MT_BENCH),
            "--report",
            str(report_path),
            "--quiet",
        ]
    )
    assert code == 0
    report = json.loads(report_path.read_text())
    assert "clusters" in report
    expected = _overlapping_ids()
    entries = report["contamination"]
    assert {e["example_id"] for e in entries} == set(expected)
    for entry in entries:
        assert {"example_id", "example_text", "reference_text", "similarity"} <= set(entry)
        assert entry["example_text"] == entry["reference_text"] == expected[entry["example_id"]]
        assert entry["similarity"] == 1.0
    assert report["reference"]["n_items"] == 14 and report["reference"]["field"] == "turns"
    out = capsys.readouterr().out
    assert "2 example(s) match" in out and "line 1, turn 1" in out


def test_cli_project_flags_and_asks_for_a_field(tmp_path: Path, capsys) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    assert main(["import", str(ALPACA_EVAL), "--project", "p", "--db", db, "--quiet"]) == 0
    report_path = tmp_path / "r.json"
    args = ["dedup", "p", "--db", db, "--quiet", "--author", "cli-user"]
    code = main(
        [*args, "--reference", str(MT_BENCH), "--flag-contaminated", "--report", str(report_path)]
    )
    assert code == 0
    report = json.loads(report_path.read_text())
    assert len(report["contamination"]) == 2
    store = Store(db)
    assert store.count_examples("p") == 6
    statuses = store.statuses("p", [e["example_id"] for e in report["contamination"]])
    assert set(statuses.values()) == {"filtered"}
    store.dispose()

    ambiguous = tmp_path / "odd.jsonl"
    ambiguous.write_text('{"task": "Write a poem.", "note": "spring"}\n')
    capsys.readouterr()
    assert main([*args, "--reference", str(ambiguous)]) == 2
    err = capsys.readouterr().err
    assert "--reference-field" in err and "task, note" in err
    assert main([*args, "--reference", str(ambiguous), "--reference-field", "task"]) == 0
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"question_id": 1, "turns": [""]}\n')
    assert main([*args, "--reference", str(empty)]) == 2
    assert "0 reference items" in capsys.readouterr().err
    assert main(["dedup", "p", "--db", db, "--reference-field", "x"]) == 2
