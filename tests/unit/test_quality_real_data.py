"""Known answers of the quality flags on the real datasets in ``../shared/data``: the broken
examples found by hand are flagged, their clean look-alikes are not, and tool calls are judged
against the tools each example declares (with a plain-JSON oracle and mutated real calls).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from curation.formats import read_examples
from curation.quality import QualityConfig, QualityReport, run_quality
from curation.records import Example

DATASETS = [
    "dolly/random_selection_20_top_100.json",
    "fastchat/dummy_conversation.json",
    "llamafactory/alpaca_en_demo.json",
    "llamafactory/glaive_toolcall_en_demo.json",
    "llamafactory/identity.json",
    "openai-cookbook/drone_training.jsonl",
    "openai-cookbook/toy_chat_fine_tuning.jsonl",
    "self-instruct/seed_tasks.jsonl",
    "t0-prompt-completion/ag_news_classify.jsonl",
]

_cache: dict[str, tuple[list[Example], QualityReport]] = {}


def _run(shared_data: Path, name: str) -> tuple[list[Example], QualityReport]:
    if name not in _cache:
        examples = read_examples(shared_data / name).examples
        _cache[name] = (examples, run_quality(examples))
    return _cache[name]


def _flagged(report: QualityReport, code: str) -> set[str]:
    return {r.example_id.rsplit("-", 1)[-1] for r in report.rows_for(code)}


@pytest.mark.parametrize("name", DATASETS)
def test_every_dataset_runs_clean_and_rows_point_inside_their_messages(
    shared_data: Path, name: str
) -> None:
    examples, report = _run(shared_data, name)
    assert report.info["n_errors"] == 0, report.info["errors"]
    assert report.summary.n_examples == len(examples)
    by_id = {e.id: e for e in examples}
    json.dumps([row.to_dict() for row in report.rows])  # rows are stored as JSON
    json.dumps(report.info)
    for row in report.rows:
        assert row.score is not None and 0.0 <= row.score <= 1.0
        loc = row.data.get("location")
        if loc is None or loc.get("field") == "tool_calls" or loc.get("start") is None:
            continue
        message = by_id[row.example_id].messages[loc["turn"]]
        assert 0 <= loc["start"] <= len(message.content)


def test_toy_chat_only_the_banana_loop(shared_data: Path) -> None:
    examples, report = _run(shared_data, "openai-cookbook/toy_chat_fine_tuning.jsonl")
    banana = next(e for e in examples if "Eat a banana!" in e.response)
    assert [(r.example_id, r.code) for r in report.rows] == [(banana.id, "repetition")]
    row = report.rows[0]
    assert row.data["kind"] == "ngram_loop"
    assert row.data["copies"] == banana.response.count("Eat a banana!")


def test_identity_placeholders_match_the_raw_records(shared_data: Path) -> None:
    examples, report = _run(shared_data, "llamafactory/identity.json")
    expected = {e.id for e in examples if "{{" in e.raw["output"]}
    assert {r.example_id for r in report.rows_for("placeholder")} == expected
    assert len(expected) == 85
    tokens = {t for r in report.rows_for("placeholder") for t in r.data["placeholders"]}
    assert tokens == {"{{name}}", "{{author}}"}


def test_alpaca_truncations_found_by_hand(shared_data: Path) -> None:
    _, report = _run(shared_data, "llamafactory/alpaca_en_demo.json")
    flagged = _flagged(report, "truncated")
    kinds = {r.example_id.rsplit("-", 1)[-1]: r.data["kind"] for r in report.rows_for("truncated")}
    # Read by hand: a multiplication table cut inside its code block, a character list that
    # ends on "10.", an article ending "... the importance of", an explanation ending "Then
    # we reverse", a curriculum ending "2.", an article ending "your body", a timeline and a
    # series of articles cut mid-sentence.
    assert {"000179", "000345", "000463", "000269", "000688", "000730", "000898"} <= flagged
    assert kinds["000179"] == "unclosed_fence"
    assert kinds["000345"] == "list_stops"
    assert kinds["000463"] == "dangling_end"
    # Complete answers that end without a full stop: Markdown tables, "C++", a hashtag,
    # a quotation's attribution, a URL.
    assert (
        not {"000182", "000357", "000974", "000994", "000296", "000116", "000382", "000483"}
        & flagged
    )


def test_alpaca_refusals_and_boilerplate_found_by_hand(shared_data: Path) -> None:
    _, report = _run(shared_data, "llamafactory/alpaca_en_demo.json")
    refusals, boilerplate = _flagged(report, "refusal"), _flagged(report, "boilerplate")
    # "I'm sorry, I cannot retrieve that information", "As an AI, I don't have a physical
    # house, so I cannot provide a description", "I do not have the capability to
    # manipulate or edit images", "I am an AI and do not have personal preferences".
    assert {"000223", "000665", "000711", "000239", "000691"} <= refusals
    # Disclaimers that still answer: London's March temperature, Rome's sights, US median age.
    assert {"000080", "000067", "000526"} <= boilerplate
    assert not refusals & boilerplate


def test_glaive_out_of_scope_requests_are_refusals(shared_data: Path) -> None:
    examples, report = _run(shared_data, "llamafactory/glaive_toolcall_en_demo.json")
    flagged = {r.example_id for r in report.rows_for("refusal")}
    # Oracle: the assistant's last turn apologises for an external task it has no tool for.
    oracle = {
        e.id
        for e in examples
        if e.messages[-1].role == "assistant"
        and e.messages[-1].content.startswith("I'm sorry, but")
        and any(w in e.messages[-1].content for w in ("order", "book", "external"))
    }
    assert len(oracle) >= 25
    assert oracle <= flagged


def test_glaive_tool_calls_against_declared_parameters(shared_data: Path) -> None:
    examples, report = _run(shared_data, "llamafactory/glaive_toolcall_en_demo.json")
    rows = report.rows_for("invalid_tool_call")
    calorie = next(e for e in examples if "calories_per_item" in (e.tools or ""))
    # Its tool declares calories_per_item a number; the call passes a list of three.
    assert [(r.example_id, r.data["kind"]) for r in rows] == [(calorie.id, "arguments_schema")]
    assert "$.calories_per_item" in rows[0].reason


def _declared(example: Example) -> dict[str, Any]:
    """The example's tools by name, read with plain json (the oracle)."""
    out = {}
    for tool in json.loads(example.tools or "[]"):
        fn = tool.get("function", tool)
        out[fn["name"]] = fn
    return out


def test_drone_calls_are_all_valid_by_a_plain_json_oracle(shared_data: Path) -> None:
    examples, report = _run(shared_data, "openai-cookbook/drone_training.jsonl")
    for e in examples:
        declared = _declared(e)
        for m in e.messages:
            for call in json.loads(m.tool_calls or "[]"):
                fn = call["function"]
                assert fn["name"] in declared
                args = json.loads(fn["arguments"])
                required = declared[fn["name"]].get("parameters", {}).get("required", [])
                assert set(required) <= set(args)
    assert report.rows_for("invalid_tool_call") == []


def _mutate(example: Example, change: Any) -> Example:
    broken = copy.deepcopy(example)
    broken.id = example.id + "-broken"
    for m in broken.messages:
        if m.tool_calls:
            calls = json.loads(m.tool_calls)
            change(calls[0]["function"], _declared(example))
            m.tool_calls = json.dumps(calls)
            break
    return broken


def _drop_required(fn: dict[str, Any], declared: dict[str, Any]) -> None:
    args = json.loads(fn["arguments"])
    args.pop(declared[fn["name"]]["parameters"]["required"][0])
    fn["arguments"] = json.dumps(args)


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        (lambda fn, d: fn.update(arguments=fn["arguments"][:-1]), "arguments_not_json"),
        (lambda fn, d: fn.update(name="fly_to_mars"), "unknown_tool"),
        (_drop_required, "arguments_schema"),
        (
            lambda fn, d: fn.update(
                arguments=json.dumps({**json.loads(fn["arguments"]), "turbo": 1})
            ),
            "unknown_argument",
        ),
    ],
)
def test_broken_real_drone_calls_are_flagged(shared_data: Path, change: Any, kind: str) -> None:
    examples, _ = _run(shared_data, "openai-cookbook/drone_training.jsonl")
    original = next(
        e
        for e in examples
        if any(
            call["function"]["name"] == "takeoff_drone"
            for m in e.messages
            for call in json.loads(m.tool_calls or "[]")
        )
    )
    broken = _mutate(original, change)
    report = run_quality([original, broken], QualityConfig(flags=("invalid_tool_call",)))
    assert [(r.example_id, r.data["kind"]) for r in report.rows] == [(broken.id, kind)]


def test_clean_sets_stay_clean(shared_data: Path) -> None:
    # Read by hand: T0's classification completions end with "<|endoftext|>", Dolly's
    # answers are short facts; neither holds a broken example.
    for name in (
        "t0-prompt-completion/ag_news_classify.jsonl",
        "dolly/random_selection_20_top_100.json",
    ):
        _, report = _run(shared_data, name)
        assert report.rows == [], name
