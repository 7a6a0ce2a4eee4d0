"""Preference and feedback data through the export: pair and KTO presets, what is left out, checks.

Pairs come from LLaMA-Factory's dpo_en_demo.json (tests/fixtures/preference_export/README.md)
and from hand-written examples whose expected records, counts and lengths are written out here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from curation.cli import main
from curation.errors import ExportError, ValidationFailed
from curation.export import (
    ExportSettings,
    export_dataset,
    get_preset,
    label_balance,
    leakage_check,
    pair_stats,
    plan_export,
    preset_names,
    readiness_summary,
    split_examples,
    validate,
    write_plan,
)
from curation.export.from_project import dry_run_project, export_project
from curation.formats.results import ImportResult
from curation.records import Candidate, Example, Message, pair
from curation.store import Store

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "preference_export"
PAIR_PRESETS = ("trl-dpo", "openai-dpo", "llama-factory-ranking")
KTO_PRESETS = ("trl-kto", "llama-factory-kto")
_LF_ROLES = {"system": "system", "human": "user", "gpt": "assistant"}


# ---- examples --------------------------------------------------------------------------------


def lf_demo() -> list[Example]:
    """The three LLaMA-Factory demo pairs as canonical examples (read here, not by the product)."""
    rows = json.loads((FIXTURE / "dpo_en_demo_sample.json").read_text(encoding="utf-8"))
    out = []
    for i, row in enumerate(rows):
        prompt = [Message(_LF_ROLES[t["from"]], t["value"]) for t in row["conversations"]]
        out.append(
            Example(
                f"lf-{i}",
                prompt,
                source="dpo_en_demo.json",
                candidates=pair(
                    [Message("assistant", row["chosen"]["value"])],
                    [Message("assistant", row["rejected"]["value"])],
                ),
            )
        )
    return out


def qa_pair(ex_id: str, question: str, chosen: str, rejected: str) -> Example:
    return Example(
        ex_id,
        [Message("user", question)],
        candidates=pair([Message("assistant", chosen)], [Message("assistant", rejected)]),
    )


HAND = [
    qa_pair("h-0", "What is the capital of France?", "The capital of France is Paris.", "Lyon."),
    qa_pair("h-1", "What is 2 + 2?", "2 + 2 = 4.", "2 + 2 = 5."),
    qa_pair("h-2", "Name a primary colour.", "Red is a primary colour.", "Green, always."),
    qa_pair("h-3", "Is the Earth flat?", "No, it is an oblate spheroid.", "Yes."),
    qa_pair("h-4", "Translate 'gato' to English.", "Cat.", "Dog."),
    qa_pair("h-5", "What gas do plants absorb?", "Carbon dioxide.", "Oxygen only."),
    qa_pair("h-6", "How many legs has a spider?", "Eight.", "Six."),
    qa_pair("h-7", "Who wrote Hamlet?", "William Shakespeare.", "Charles Dickens."),
    qa_pair("h-8", "What is H2O?", "Water.", "Salt."),
]


def expected_records(preset: str, ex: Example) -> dict[str, dict[str, Any]]:
    """Row id -> the record the preset must write for a single-answer pair (written out here)."""
    assert ex.chosen is not None and ex.rejected is not None
    chosen = ex.chosen.messages[0].content
    rejected = ex.rejected.messages[0].content
    chat = [{"role": m.role, "content": m.content} for m in ex.messages]
    tags = {"system": "system", "user": "human", "assistant": "gpt"}
    conv = [{"from": tags[m.role], "value": m.content} for m in ex.messages]
    if preset == "trl-dpo":
        return {
            ex.id: {
                "prompt": chat,
                "chosen": [{"role": "assistant", "content": chosen}],
                "rejected": [{"role": "assistant", "content": rejected}],
            }
        }
    if preset == "openai-dpo":
        return {
            ex.id: {
                "input": {"messages": chat},
                "preferred_output": [{"role": "assistant", "content": chosen}],
                "non_preferred_output": [{"role": "assistant", "content": rejected}],
            }
        }
    if preset == "llama-factory-ranking":
        return {
            ex.id: {
                "conversations": conv,
                "chosen": {"from": "gpt", "value": chosen},
                "rejected": {"from": "gpt", "value": rejected},
            }
        }
    if preset == "trl-kto":
        return {
            f"{ex.id}/chosen": {
                "prompt": chat,
                "completion": [{"role": "assistant", "content": chosen}],
                "label": True,
            },
            f"{ex.id}/rejected": {
                "prompt": chat,
                "completion": [{"role": "assistant", "content": rejected}],
                "label": False,
            },
        }
    assert preset == "llama-factory-kto"
    return {
        f"{ex.id}/chosen": {
            "conversations": [*conv, {"from": "gpt", "value": chosen}],
            "kto_tag": True,
        },
        f"{ex.id}/rejected": {
            "conversations": [*conv, {"from": "gpt", "value": rejected}],
            "kto_tag": False,
        },
    }


def _export(preset: str, train: list[Example], eval_: list[Example], out: Path, **kw: Any):
    return export_dataset(train, eval_, out, preset, seed=0, parameters={}, curation_stats={}, **kw)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _items(result: Any) -> dict[str, Any]:
    return {item.name: item for item in result.readiness}


# ---- registry --------------------------------------------------------------------------------


def test_the_preference_and_kto_presets_are_registered_by_task() -> None:
    assert preset_names("preference") == list(PAIR_PRESETS)
    assert preset_names("kto") == list(KTO_PRESETS)
    assert not set(preset_names("sft")) & {*PAIR_PRESETS, *KTO_PRESETS}
    assert len(preset_names()) == len(preset_names("sft")) + 5


# ---- round trip through datasets ---------------------------------------------------------------


@pytest.mark.parametrize("preset", [*PAIR_PRESETS, *KTO_PRESETS])
def test_every_preference_preset_loads_in_datasets_with_exactly_the_exported_values(
    preset: str, tmp_path: Path
) -> None:
    datasets = pytest.importorskip("datasets")
    pairs = lf_demo() + HAND
    train, eval_ = pairs[:9], pairs[9:]
    result = _export(preset, train, eval_, tmp_path / "out")
    assert result.validation.ok, result.validation.errors[:3]
    chosen = get_preset(preset)
    files = {s: str(tmp_path / "out" / chosen.file_name(s)) for s in ("train", "validation")}
    ds = datasets.load_dataset("json", data_files=files)
    expected: dict[str, dict[str, Any]] = {}
    for ex in pairs:
        expected.update(expected_records(preset, ex))
    rows_per_pair = 2 if preset in KTO_PRESETS else 1
    for split, examples in (("train", train), ("validation", eval_)):
        ids = result.manifest["example_ids"][chosen.file_name(split)]
        assert len(ds[split]) == len(ids) == rows_per_pair * len(examples)
        assert [row for row in ds[split]] == [expected[i] for i in ids]
    # the real multi-turn pair keeps its whole prompt, ending on the user's question
    multi = next(ex for ex in pairs if len(ex.messages) == 5)
    assert multi.messages[-1].content.startswith("Drawing from the societal norms")
    assert validate(tmp_path / "out", preset).ok


def test_the_llama_factory_registries_mark_ranking_and_the_kto_tag(tmp_path: Path) -> None:
    _export("llama-factory-ranking", HAND[:6], HAND[6:], tmp_path / "rank")
    info = json.loads((tmp_path / "rank" / "dataset_info.json").read_text())
    assert info["curated_instruction_tuning_dataset_train"] == {
        "file_name": "train.jsonl",
        "formatting": "sharegpt",
        "ranking": True,
        "columns": {"messages": "conversations", "chosen": "chosen", "rejected": "rejected"},
        "tags": {
            "role_tag": "from",
            "content_tag": "value",
            "user_tag": "human",
            "assistant_tag": "gpt",
            "observation_tag": "observation",
            "function_tag": "function_call",
            "system_tag": "system",
        },
    }
    assert info["curated_instruction_tuning_dataset_validation"]["file_name"] == (
        "validation.jsonl"
    )
    _export("llama-factory-kto", HAND[:6], HAND[6:], tmp_path / "kto")
    info = json.loads((tmp_path / "kto" / "dataset_info.json").read_text())
    entry = info["curated_instruction_tuning_dataset_train"]
    assert entry["columns"] == {"messages": "conversations", "kto_tag": "kto_tag"}
    assert entry["formatting"] == "sharegpt" and "ranking" not in entry


def test_trl_dpo_carries_tools_and_tool_calls_in_the_answers(tmp_path: Path) -> None:
    tools = json.dumps([{"name": "get_time", "parameters": {"type": "object", "properties": {}}}])
    call = json.dumps([{"name": "get_time", "arguments": {}}])
    tooled = Example(
        "t-0",
        [Message("user", "What time is it?")],
        tools=tools,
        candidates=pair(
            [
                Message("assistant", "", tool_calls=call),
                Message("tool", '{"time": "12:00"}'),
                Message("assistant", "It is noon."),
            ],
            [Message("assistant", "I cannot know that.")],
        ),
    )
    result = _export("trl-dpo", [tooled, *HAND[:5]], HAND[5:], tmp_path / "out")
    assert result.validation.ok, result.validation.errors[:3]
    row = next(r for r in _jsonl(tmp_path / "out" / "train.jsonl") if r["chosen"][0]["tool_calls"])
    assert [m["role"] for m in row["chosen"]] == ["assistant", "tool", "assistant"]
    assert row["chosen"][0]["tool_calls"][0]["function"] == {"name": "get_time", "arguments": "{}"}
    assert row["rejected"] == [
        {"role": "assistant", "content": "I cannot know that.", "tool_calls": []}
    ]
    assert json.loads(row["tools"]) == [{"type": "function", "function": json.loads(tools)[0]}]
    # every row carries the same keys: tools on all of them, tool_calls on every message
    for r in _jsonl(tmp_path / "out" / "validation.jsonl"):
        assert set(r) == {"prompt", "chosen", "rejected", "tools"}
        assert all("tool_calls" in m for m in r["prompt"] + r["chosen"] + r["rejected"])
    # LLaMA-Factory ranking data holds one answer turn: the tool-using answer cannot go
    with pytest.raises(ValidationFailed, match="multi_turn_answer"):
        _export("llama-factory-ranking", [tooled, *HAND[:5]], [], tmp_path / "lf")


# ---- what is left out, and why -----------------------------------------------------------------


def mixed() -> list[Example]:
    """Six pairs plus one example of every kind a pair preset cannot use."""
    tie = Example(
        "tie",
        [Message("user", "Pick a colour.")],
        candidates=[
            Candidate([Message("assistant", "Blue.")], rank=1),
            Candidate([Message("assistant", "Red.")], rank=1),
        ],
    )
    unranked = Example(
        "unranked",
        [Message("user", "Pick a fruit.")],
        candidates=[
            Candidate([Message("assistant", "Apple.")]),
            Candidate([Message("assistant", "Pear.")]),
        ],
    )
    lone = Example(
        "lone",
        [Message("user", "Pick a number.")],
        candidates=[Candidate([Message("assistant", "Seven.")], rank=1)],
    )
    sft = Example("sft", [Message("user", "Say hi."), Message("assistant", "Hi!")])
    good = Example(
        "good", [Message("user", "Say thanks."), Message("assistant", "Thank you!")], desirable=True
    )
    bad = Example(
        "bad", [Message("user", "Say sorry."), Message("assistant", "Whatever.")], desirable=False
    )
    return [*HAND[:6], tie, unranked, lone, sft, good, bad]


def test_a_pair_preset_leaves_out_ties_unpaired_and_plain_examples_and_counts_each_reason(
    tmp_path: Path,
) -> None:
    result = _export("trl-dpo", mixed(), [], tmp_path / "out")
    written = _jsonl(tmp_path / "out" / "train.jsonl")
    assert len(written) == 6
    assert result.manifest["left_out"] == {
        "no_candidates": 3,  # the plain conversation and both feedback examples
        "no_chosen": 1,
        "no_rejected": 1,
        "tie": 1,
    }
    left = {w.example_id: w.cause for w in result.validation.warnings if w.code == "left_out"}
    assert left == {
        "tie": "tie",
        "unranked": "no_chosen",
        "lone": "no_rejected",
        "sft": "no_candidates",
        "good": "no_candidates",
        "bad": "no_candidates",
    }
    item = _items(result)["left out"]
    assert (item.value, item.status) == (6, "warn")
    assert "ties (the candidate answers share one rank, so none is chosen): 1" in item.message
    assert "| ties (the candidate answers share one rank, so none is chosen) | 1 |" in result.card


def test_a_kto_preset_splits_pairs_into_two_rows_and_leaves_out_unlabelled_ones(
    tmp_path: Path,
) -> None:
    result = _export("trl-kto", mixed(), [], tmp_path / "out")
    ids = result.manifest["example_ids"]["train.jsonl"]
    rows = dict(zip(ids, _jsonl(tmp_path / "out" / "train.jsonl"), strict=True))
    # 6 pairs x 2 rows, the lone chosen answer, and the two feedback examples
    assert len(rows) == 6 * 2 + 1 + 2
    assert rows["lone/chosen"]["label"] is True and "lone/rejected" not in rows
    assert (rows["good"]["label"], rows["bad"]["label"]) == (True, False)
    assert result.manifest["left_out"] == {"no_chosen": 1, "no_label": 1, "tie": 1}
    balance = _items(result)["label balance"]
    assert balance.message.startswith("8 desirable / 7 undesirable answers")
    assert balance.status == "ok"  # 8/7 = 1.14, inside TRL's 1:1 to 4:3


def test_sft_as_desirable_writes_unlabelled_conversations_as_desirable(tmp_path: Path) -> None:
    examples = mixed()
    plan = plan_export(
        examples,
        ExportSettings("trl-kto", eval_count=0, sft_as_desirable=True),
        group_by_duplicates=False,
    )
    assert plan.excluded_counts() == {"no_chosen": 1, "tie": 1}
    result = write_plan(plan, tmp_path / "out", parameters={}, curation_stats={})
    ids = result.manifest["example_ids"]["train.jsonl"]
    rows = dict(zip(ids, _jsonl(tmp_path / "out" / "train.jsonl"), strict=True))
    assert rows["sft"] == {
        "prompt": [{"role": "user", "content": "Say hi."}],
        "completion": [{"role": "assistant", "content": "Hi!"}],
        "label": True,
    }


def test_sft_presets_write_the_chosen_answer_and_leave_out_ties_and_undesirable_answers(
    tmp_path: Path,
) -> None:
    result = _export("trl-messages", mixed(), [], tmp_path / "out")
    ids = result.manifest["example_ids"]["train.jsonl"]
    rows = dict(zip(ids, _jsonl(tmp_path / "out" / "train.jsonl"), strict=True))
    assert rows["h-0"] == {
        "messages": [
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "assistant", "content": "The capital of France is Paris."},
        ]
    }
    assert rows["lone"]["messages"][-1] == {"role": "assistant", "content": "Seven."}
    assert set(rows) == {*(f"h-{i}" for i in range(6)), "lone", "sft", "good"}
    assert result.manifest["left_out"] == {"no_chosen": 1, "tie": 1, "undesirable": 1}
    note = _items(result)["preference data"]
    assert (note.value, note.status) == (7, "warn")  # 6 pairs + the lone chosen answer
    assert "rejected answers are not trained on" in note.message
    assert "7 of the examples are preference pairs written as their prompt" in result.card

    _export("alpaca", HAND[:3], [], tmp_path / "alpaca")
    assert _jsonl(tmp_path / "alpaca" / "train.jsonl")[0] == {
        "instruction": "What is the capital of France?",
        "input": "",
        "output": "The capital of France is Paris.",
    }


def test_a_pair_whose_answers_are_the_same_blocks_until_left_out(tmp_path: Path) -> None:
    same = qa_pair("same", "Say yes.", "Yes.", "Yes.")
    with pytest.raises(ValidationFailed, match="chosen_equals_rejected"):
        _export("trl-dpo", [*HAND[:4], same], [], tmp_path / "blocked")
    assert not (tmp_path / "blocked").exists()
    result = _export(
        "openai-dpo", [*HAND[:4], same], [], tmp_path / "out", on_unrepresentable="skip"
    )
    skipped = [w for w in result.validation.warnings if w.code == "skipped_unrepresentable"]
    assert [(w.example_id, w.cause) for w in skipped] == [("same", "chosen_equals_rejected")]
    assert result.train_count == 4


def _broken(case: str) -> Example:
    question = [Message("user", "Capital of France?")]
    good = [Message("assistant", "Paris.")]
    if case == "empty_rejected":
        return Example("broken", question, candidates=pair(good, [Message("assistant", "")]))
    if case == "prompt_ends_on_assistant":
        prompt = [*question, Message("assistant", "Let me think.")]
        return Example("broken", prompt, candidates=pair(good, [Message("assistant", "Lyon.")]))
    assert case == "answer_with_a_user_turn"
    answer = [Message("assistant", "Paris."), Message("user", "And Spain?")]
    return Example("broken", question, candidates=pair(answer, [Message("assistant", "Lyon.")]))


# pair preset x broken pair -> the code that keeps it out (written out by hand)
BROKEN = {
    "empty_rejected": dict.fromkeys(PAIR_PRESETS, "missing_content"),
    "prompt_ends_on_assistant": dict.fromkeys(PAIR_PRESETS, "role_order"),
    "answer_with_a_user_turn": dict.fromkeys(PAIR_PRESETS, "answer_role"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
@pytest.mark.parametrize("preset", PAIR_PRESETS)
def test_a_broken_pair_blocks_or_is_left_out_with_its_code(
    preset: str, case: str, tmp_path: Path
) -> None:
    broken = _broken(case)
    plan = plan_export(
        [*HAND, broken], ExportSettings(preset, eval_count=0), group_by_duplicates=False
    )
    assert plan.unrepresentable_ids == ["broken"]
    assert BROKEN[case][preset] in plan.unrepresentable_codes()
    assert plan.train_count == len(HAND) and not plan.excluded
    with pytest.raises(ValidationFailed):
        write_plan(plan, tmp_path / "blocked", parameters={}, curation_stats={})
    skip = ExportSettings(preset, eval_count=0, skip_unrepresentable=True)
    plan = plan_export([*HAND, broken], skip, group_by_duplicates=False)
    result = write_plan(plan, tmp_path / "out", parameters={}, curation_stats={})
    assert result.train_count == len(HAND)
    assert [w.cause for w in result.validation.warnings if w.example_id == "broken"] == [
        BROKEN[case][preset]
    ]


# ---- the validators on files read back ---------------------------------------------------------


def _write(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _dpo(prompt: str, chosen: Any, rejected: Any) -> dict[str, Any]:
    def answer(text: Any) -> Any:
        return [{"role": "assistant", "content": text}] if isinstance(text, str) else text

    return {
        "prompt": [{"role": "user", "content": prompt}],
        "chosen": answer(chosen),
        "rejected": answer(rejected),
    }


def test_the_dpo_validator_names_the_line_of_each_bad_pair(tmp_path: Path) -> None:
    rows = [
        _dpo("Capital of France?", "Paris.", "Lyon."),
        _dpo("Capital of Spain?", "Madrid.", "Madrid."),
        _dpo("Capital of Italy?", "Rome.", []),
        {**_dpo("Capital of Peru?", "Lima.", "Cusco."), "score": 0.5},
        _dpo("Capital of Chile?", "Santiago.", ""),
        {
            "prompt": [{"role": "user", "content": "Capital of Cuba?"}],
            "chosen": [{"role": "assistant", "content": "Havana."}],
        },
    ]
    report = validate(_write(tmp_path / "train.jsonl", rows), "trl-dpo")
    assert [(i.line, i.code) for i in report.errors] == [
        (2, "chosen_equals_rejected"),
        (3, "missing_answer"),
        (4, "schema_mismatch"),
        (5, "missing_content"),
        (6, "missing_answer"),
        (6, "schema_mismatch"),
    ]
    assert "rejected (after the prompt)" in report.errors[3].message
    assert [(i.line, i.code) for i in report.warnings] == [(4, "unrecognized_top_level_key")]


def test_an_implicit_prompt_must_be_the_same_in_chosen_and_rejected(tmp_path: Path) -> None:
    def conv(question: str, answer: str) -> list[dict[str, str]]:
        return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]

    rows = [
        {
            "chosen": conv("Capital of France?", "Paris."),
            "rejected": conv("Capital of France?", "Lyon."),
        },
        {
            "chosen": conv("Capital of France?", "Paris."),
            "rejected": conv("Capital of Spain?", "Lyon."),
        },
    ]
    report = validate(_write(tmp_path / "train.jsonl", rows), "trl-dpo")
    assert [(i.line, i.code) for i in report.errors] == [(2, "prompt_mismatch")]


def test_the_kto_validator_wants_a_boolean_label_and_the_same_schema_in_both_files(
    tmp_path: Path,
) -> None:
    def row(label: Any) -> dict[str, Any]:
        return {
            "prompt": [{"role": "user", "content": "Say hi."}],
            "completion": [{"role": "assistant", "content": "Hi!"}],
            "label": label,
        }

    train = _write(tmp_path / "train.jsonl", [row(True), row("yes"), row(False)])
    valid = _write(tmp_path / "validation.jsonl", [{**row(True), "source": "x"}])
    report = validate([train, valid], "trl-kto")
    assert [(i.file, i.line, i.code) for i in report.errors] == [
        ("train.jsonl", 2, "label_invalid"),
        ("train.jsonl", 2, "schema_mismatch"),
        ("validation.jsonl", 1, "schema_mismatch"),  # a column train does not have
        ("validation.jsonl", 1, "schema_mismatch"),  # and a key set unlike train's
    ]
    assert "not 'yes'" in report.errors[0].message
    lf = _write(
        tmp_path / "lf.jsonl",
        [
            {
                "conversations": [
                    {"from": "human", "value": "Say hi."},
                    {"from": "gpt", "value": "Hi!"},
                ],
                "kto_tag": 1,
            }
        ],
    )
    assert [i.code for i in validate(lf, "llama-factory-kto").errors] == ["label_invalid"]


def test_the_openai_and_llama_factory_validators_check_both_answers(tmp_path: Path) -> None:
    oa = _write(
        tmp_path / "oa.jsonl",
        [
            {
                "input": {"messages": [{"role": "user", "content": "Capital of France?"}]},
                "preferred_output": [{"role": "user", "content": "Paris."}],
                "non_preferred_output": [{"role": "assistant", "content": "Lyon."}],
            }
        ],
    )
    codes = [i.code for i in validate(oa, "openai-dpo").errors]
    assert codes == ["answer_role", "example_missing_assistant_message"]
    lf = _write(
        tmp_path / "lf.jsonl",
        [
            {
                "conversations": [{"from": "human", "value": "Capital of France?"}],
                "chosen": {"from": "gpt", "value": "Paris."},
                "rejected": {"from": "gpt", "value": ""},
            },
            {
                "conversations": [
                    {"from": "human", "value": "Capital of France?"},
                    {"from": "gpt", "value": "Paris."},
                ],
                "chosen": {"from": "gpt", "value": "Paris."},
                "rejected": {"from": "gpt", "value": "Lyon."},
            },
        ],
    )
    report = validate(lf, "llama-factory-ranking")
    assert [(i.line, i.code) for i in report.errors] == [
        (1, "missing_content"),
        (2, "role_order"),
    ]


# ---- split and leakage by prompt ---------------------------------------------------------------


def two_pairs_per_prompt(n_prompts: int = 20) -> list[Example]:
    out = []
    for p in range(n_prompts):
        question = f"Question {p}: what is {p} times three?"
        out.append(qa_pair(f"q{p}-a", question, f"{3 * p}.", f"{3 * p + 1}."))
        out.append(qa_pair(f"q{p}-b", question, f"It is {3 * p}.", f"Maybe {3 * p - 1}."))
    return out


@pytest.mark.parametrize("group_by_duplicates", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pairs_on_one_prompt_never_straddle_train_and_eval(
    seed: int, group_by_duplicates: bool
) -> None:
    examples = two_pairs_per_prompt()
    train, eval_ = split_examples(examples, 0.3, seed, group_by_duplicates=group_by_duplicates)
    assert len(eval_) % 2 == 0 and len(train) + len(eval_) == 40
    prompts = [{ex.messages[0].content for ex in split} for split in (train, eval_)]
    assert not prompts[0] & prompts[1]
    assert 8 <= len(eval_) <= 16


def test_a_kto_export_keeps_both_rows_of_a_pair_in_one_split(tmp_path: Path) -> None:
    settings = ExportSettings("trl-kto", eval_fraction=0.3, seed=4)
    plan = plan_export(two_pairs_per_prompt(), settings)
    result = write_plan(plan, tmp_path / "out", parameters={}, curation_stats={})
    ids = result.manifest["example_ids"]
    sources = [{i.split("/")[0][:-2] for i in ids[name]} for name in ids]
    assert len(sources) == 2 and not sources[0] & sources[1]
    assert len(ids["validation.jsonl"]) % 4 == 0  # whole prompts: 2 pairs x 2 rows


def test_leakage_of_preference_pairs_compares_their_prompts() -> None:
    question = "Explain in two sentences why the sky looks blue during a clear day."
    train = [qa_pair("a", question, "Rayleigh scattering of sunlight.", "Because of the sea.")]
    eval_ = [qa_pair("b", question, "Short wavelengths scatter more.", "It is painted.")]
    report = leakage_check(train, eval_)
    assert report.max_similarity == 1.0 and [(p.train_id, p.eval_id) for p in report.pairs] == [
        ("a", "b")
    ]
    # the same prompt with different answers as plain conversations is not a leak at 0.8
    plain = [Example(e.id, e.sft_messages()) for e in (*train, *eval_)]
    assert leakage_check(plain[:1], plain[1:]).max_similarity < 0.8


# ---- readiness numbers on pairs with known answers ---------------------------------------------

NATO = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november "
    "oscar papa quebec romeo sierra tango"
)  # 123 characters, 20 distinct words
KNOWN = [
    # chosen 31 chars / rejected 6: chosen longer, 1 shared word of 6: not near identical
    qa_pair("k1", "Capital of France?", "The capital of France is Paris.", "Paris."),
    # 5 / 21: chosen shorter
    qa_pair("k2", "What is two plus two?", "Four.", "Two plus two is four."),
    # 56 / 56, equal after near-dedup normalisation (punctuation): near identical
    qa_pair(
        "k3",
        "When does water boil?",
        "Water boils at one hundred degrees Celsius at sea level.",
        "Water boils at one hundred degrees Celsius at sea level!",
    ),
    # 131 / 130, 20 of 22 words shared: 20 / (22 + 2) = 0.83 >= 0.7, near identical
    qa_pair("k4", "Spell the NATO alphabet.", NATO + " uniform", NATO + " victor"),
]


def test_pair_statistics_on_hand_made_pairs() -> None:
    stats = pair_stats(KNOWN)
    assert stats.n_pairs == 4
    assert stats.mean_chosen_chars == (31 + 5 + 56 + 131) / 4
    assert stats.mean_rejected_chars == (6 + 21 + 56 + 130) / 4
    assert stats.length_ratio == pytest.approx(223 / 213)
    assert stats.share_chosen_longer == 0.5
    assert stats.n_near_identical == 2 and stats.near_identical_share == 0.5
    items = {i.name: i for i in readiness_summary(KNOWN, [], stats={}, task="preference")}
    assert (items["length bias"].value, items["length bias"].status) == (1.047, "ok")
    assert (items["near-identical pairs"].value, items["near-identical pairs"].status) == (
        0.5,
        "warn",
    )
    assert items["examples"].message.startswith("4 training pairs")


def test_length_bias_warns_when_chosen_is_nearly_always_longer() -> None:
    biased = [
        KNOWN[0],
        KNOWN[3],
        qa_pair("k5", "Do the tests pass?", "Yes, because the tests pass.", "No."),  # 28 / 3
    ]
    items = {i.name: i for i in readiness_summary(biased, [], stats={}, task="preference")}
    bias = items["length bias"]
    assert bias.status == "warn" and bias.value == round(190 / 139, 3)
    assert "chosen is longer in 100% of pairs" in bias.message
    assert items["near-identical pairs"].value == round(1 / 3, 4)


@pytest.mark.parametrize(
    ("desirable", "undesirable", "balanced", "advice"),
    [
        (4, 3, True, "within TRL's 1:1 to 4:3"),
        (3, 3, True, "within TRL's 1:1 to 4:3"),
        (3, 1, False, "set undesirable_weight between 2.25 and 3.00"),
        (1, 3, False, "set desirable_weight between 3.00 and 4.00"),
        (2, 0, False, "KTO needs both desirable and undesirable answers"),
    ],
)
def test_kto_balance_follows_trls_guidance(
    desirable: int, undesirable: int, balanced: bool, advice: str
) -> None:
    rows = [
        Example(f"d{i}", [Message("user", "q"), Message("assistant", "a")], desirable=True)
        for i in range(desirable)
    ] + [
        Example(f"u{i}", [Message("user", "q"), Message("assistant", "b")], desirable=False)
        for i in range(undesirable)
    ]
    balance = label_balance(rows)
    assert (balance.desirable, balance.undesirable, balance.balanced) == (
        desirable,
        undesirable,
        balanced,
    )
    assert advice in balance.suggestion()


# ---- from a stored project, and the command line ------------------------------------------------


@pytest.fixture()
def project(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'p.db'}")
    store.ensure_project("p", "ada")
    waiting = Example("waiting", [Message("user", "What should I cook tonight?")])
    examples = [*lf_demo(), *HAND, mixed()[6], mixed()[9], waiting]  # + tie, sft
    store.add_import("p", ImportResult(examples=examples, source="f.jsonl", sha256="a" * 64), "ada")
    yield store
    store.dispose()


def test_a_project_export_counts_what_it_leaves_out_and_what_needs_an_answer(
    project: Store, tmp_path: Path
) -> None:
    assert project.statuses("p", ["waiting"]) == {"waiting": "needs_answer"}
    settings = ExportSettings("trl-dpo", eval_fraction=0.25, seed=2)
    dry = dry_run_project(project, "p", settings)
    assert dry.ok, dry.report.errors[:3]
    assert dry.plan.excluded_counts() == {"no_candidates": 1, "tie": 1}
    assert dry.summary()["left_out"] == {"no_candidates": 1, "tie": 1}
    result = export_project(
        project, "p", tmp_path / "out", "trl-dpo", author="ada", settings=settings
    )
    written = result.manifest["example_ids"]
    assert sorted(i for ids in written.values() for i in ids) == sorted(
        e.id for e in lf_demo() + HAND
    )
    assert (dry.train_count, dry.eval_count) == (result.train_count, result.eval_count)
    assert result.manifest["parameters"]["excluded"] == {"needs_answer": 1}
    assert result.manifest["left_out"] == {"no_candidates": 1, "tie": 1}
    items = _items(result)
    assert items["needs an answer"].value == 1 and items["left out"].value == 2
    event = project.events("p", kinds=["export"])[0]
    assert event["payload"]["left_out_by_reason"] == {"no_candidates": 1, "tie": 1}


def test_the_command_line_exports_pairs_and_prints_the_same_counts(
    project: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    args = ["export", "p", "--db", db, "--preset", "trl-dpo", "--quiet"]
    code = main([*args, "--out", str(tmp_path / "a"), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    assert report["left_out"] == {"no_candidates": 1, "tie": 1}
    assert report["not_exported"] == {"needs_answer": 1}
    assert report["train"] + report["eval"] == len(lf_demo() + HAND)
    code = main([*args, "--out", str(tmp_path / "b")])
    text = capsys.readouterr().out
    assert code == 0, text
    assert (
        "left out by the preset: conversations without candidate answers (not preference "
        "pairs): 1; ties (the candidate answers share one rank, so none is chosen): 1"
    ) in text
    assert "not exported: 1 still need an answer" in text
    assert "[warn] length bias" in text or "[ok] length bias" in text


def test_a_pair_preset_on_plain_conversations_says_it_leaves_them_all_out(
    tmp_path: Path,
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    try:
        store.ensure_project("q", "ada")
        plain = [
            Example(f"s{i}", [Message("user", f"Say {i}."), Message("assistant", f"{i}.")])
            for i in range(5)
        ]
        store.add_import(
            "q", ImportResult(examples=plain, source="s.jsonl", sha256="c" * 64), "ada"
        )
        dry = dry_run_project(store, "q", ExportSettings("trl-dpo"))
        assert not dry.ok and dry.train_count == 0 and dry.file_errors == []
        assert dry.plan.reasons_text() == (
            "left out: conversations without candidate answers (not preference pairs): 5"
        )
        with pytest.raises(ExportError, match="none of the 5 selected examples"):
            export_project(store, "q", tmp_path / "out", "trl-dpo", author="ada")
        assert not (tmp_path / "out").exists()
    finally:
        store.dispose()
