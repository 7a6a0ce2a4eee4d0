"""Every preset x every per-example error: one rule decides what "leave out" leaves out.

Each case is a real record (Dolly, FastChat, glaive) broken in one way; the expected codes are
written out by hand per preset, and the writer, the plan and the validator must all agree.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from curation.errors import ExportError, ValidationFailed
from curation.export import (
    FILE_LEVEL_CODES,
    ExportSettings,
    check_example,
    export_dataset,
    get_preset,
    plan_export,
    preset_names,
    validate,
    write_plan,
)
from curation.export.presets.base import WARNING_CODES, dump_line
from curation.formats import read_examples
from curation.records import Example, Message

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared test data not found at {DATA}")

# Preset families by how they check a conversation: CHAT presets apply the OpenAI cookbook rules
# to a message list; PAIRS presets need strict user/assistant pairs (`check_alternation`);
# llama-factory-sharegpt has its own position rule.
CHAT = ("openai", "trl-messages", "axolotl", "hf-dataset")
PAIRS = ("trl-prompt-completion", "llama-factory-alpaca", "sharegpt", "alpaca")
LF_SHAREGPT = "llama-factory-sharegpt"


def row(
    chat: str | None,
    pairs: str | None,
    lf_sharegpt: str | None,
    **overrides: str | None,
) -> dict[str, str | None]:
    """Expected error code per preset (None: the preset carries the example)."""
    out: dict[str, str | None] = dict.fromkeys(CHAT, chat)
    out.update(dict.fromkeys(PAIRS, pairs))
    out[LF_SHAREGPT] = lf_sharegpt
    out.update({k.replace("_", "-"): v for k, v in overrides.items()})
    return out


# case -> expected code per preset. Overrides use the preset name with "_" for "-".
EXPECTED: dict[str, dict[str, str | None]] = {
    "ends_on_user": row("last_not_assistant", "role_order", "role_order"),
    "no_assistant": row("example_missing_assistant_message", "role_order", "role_order"),
    "empty_answer": row("missing_content", "missing_content", "missing_content"),
    # Whitespace-only text is a warning for chat rules, an error where a field must be non-blank.
    "blank_answer": row(None, "missing_content", None, sharegpt=None),
    "empty_prompt": row("missing_content", "missing_content", "missing_content"),
    "system_in_middle": row("system_not_first", "role_order", "system_not_first"),
    "two_users_in_a_row": row("role_order", "role_order", "role_order"),
    "starts_with_assistant": row("role_order", "role_order", "role_order"),
    "system_prompt": row(None, None, None, alpaca="system_unsupported"),
    "multi_turn": row(None, None, None, alpaca="multi_turn_unsupported"),
    "tool_calls": row(None, "tool_calls_unsupported", None),
    "tool_call_arguments_not_json": row(
        "tool_call_invalid", "tool_call_invalid", "tool_call_invalid"
    ),
    "tools_not_json": row("tools_invalid", None, "tools_invalid"),
    "tool_result_without_call": row("unrecognized_role", "tool_calls_unsupported", "role_order"),
    "ends_on_tool_result": row("last_not_assistant", "tool_calls_unsupported", "role_order"),
    # Only presets that write weights check them; others drop the weight with a warning.
    "weight_2": row(None, None, None, openai="weight_invalid", axolotl="weight_invalid"),
    # Weight 0 everywhere is "no_trained_assistant", a warning: carried.
    "weight_0": row(None, None, None),
    "lone_surrogate": row("invalid_value", "invalid_value", "invalid_value"),
    # Only hf-dataset writes metadata (as JSON text, where NaN is not valid).
    "nan_metadata": row(None, None, None, hf_dataset="invalid_value"),
    "empty_earlier_answer": row(
        "missing_content",
        "missing_content",
        "missing_content",
        llama_factory_alpaca="history_invalid",
        alpaca="multi_turn_unsupported",
    ),
}


class Real:
    """The real records the cases start from (read once)."""

    _cache: dict[str, list[Example]] = {}

    @classmethod
    def load(cls, rel: str) -> list[Example]:
        if rel not in cls._cache:
            cls._cache[rel] = read_examples(DATA / rel).examples
        return cls._cache[rel]

    @classmethod
    def single(cls) -> Example:
        return cls.load("dolly/random_selection_20_top_100.json")[50]

    @classmethod
    def good(cls) -> list[Example]:
        return cls.load("dolly/random_selection_20_top_100.json")[:30]

    @classmethod
    def multi(cls) -> Example:
        return next(e for e in cls.load("fastchat/dummy_conversation.json") if len(e.messages) == 6)

    @classmethod
    def tooled(cls) -> Example:
        return next(
            e
            for e in cls.load("llamafactory/glaive_toolcall_en_demo.json")
            if any(m.role == "tool" for m in e.messages)
        )


def _variant(base: Example, **changes: object) -> Example:
    ex = copy.deepcopy(base)
    ex.id = f"broken-{ex.id}"
    for key, value in changes.items():
        setattr(ex, key, value)
    return ex


def _messages(base: Example) -> list[Message]:
    return copy.deepcopy(base.messages)


def _make(case: str) -> Example:
    d, multi, tooled = Real.single(), Real.multi(), Real.tooled()
    user, answer = _messages(d)
    builders: dict[str, Callable[[], Example]] = {
        "ends_on_user": lambda: _variant(multi, messages=_messages(multi)[:-1]),
        "no_assistant": lambda: _variant(d, messages=[user]),
        "empty_answer": lambda: _variant(d, messages=[user, Message("assistant", "")]),
        "blank_answer": lambda: _variant(d, messages=[user, Message("assistant", "   ")]),
        "empty_prompt": lambda: _variant(d, messages=[Message("user", ""), answer]),
        "system_in_middle": lambda: _variant(
            multi,
            messages=_messages(multi)[:2] + [Message("system", "Be brief.")] + _messages(multi)[2:],
        ),
        "two_users_in_a_row": lambda: _variant(
            d, messages=[user, Message("user", "And why?"), answer]
        ),
        "starts_with_assistant": lambda: _variant(
            d, messages=[Message("assistant", "Hello."), user, answer]
        ),
        "system_prompt": lambda: _variant(
            d, messages=[Message("system", "You answer briefly."), user, answer]
        ),
        "multi_turn": lambda: _variant(multi),
        "tool_calls": lambda: _variant(tooled),
        "tool_call_arguments_not_json": lambda: _variant(
            tooled,
            messages=[
                dataclasses.replace(
                    m, tool_calls='[{"function": {"name": "search", "arguments": "{oops"}}]'
                )
                if m.tool_calls
                else m
                for m in _messages(tooled)
            ],
        ),
        "tools_not_json": lambda: _variant(d, tools="{not json"),
        "tool_result_without_call": lambda: _variant(
            d, messages=[user, Message("tool", '{"result": 1}'), answer]
        ),
        "ends_on_tool_result": lambda: _variant(
            tooled,
            messages=_messages(tooled)[: [m.role for m in tooled.messages].index("tool") + 1],
        ),
        "weight_2": lambda: _variant(d, messages=[user, dataclasses.replace(answer, weight=2)]),
        "weight_0": lambda: _variant(d, messages=[user, dataclasses.replace(answer, weight=0)]),
        "lone_surrogate": lambda: _variant(
            d, messages=[user, Message("assistant", answer.content + "\ud800")]
        ),
        "nan_metadata": lambda: _variant(d, metadata={"score": float("nan")}),
        "empty_earlier_answer": lambda: _variant(
            multi,
            messages=_messages(multi)[:1] + [Message("assistant", "")] + _messages(multi)[2:],
        ),
    }
    return builders[case]()


# SFT presets; the pair and KTO presets leave these conversations out by design (their
# own cases are in test_export_preference.py)
MATRIX = [(preset, case) for case in EXPECTED for preset in preset_names("sft")]


def test_the_table_covers_every_preset_and_only_error_codes() -> None:
    for case, codes in EXPECTED.items():
        assert sorted(codes) == sorted(preset_names("sft")), case
        for code in codes.values():
            assert code is None or (code not in WARNING_CODES and code not in FILE_LEVEL_CODES)


@pytest.mark.parametrize(("preset", "case"), MATRIX)
def test_error_mode_blocks_exactly_the_examples_the_preset_cannot_carry(
    preset: str, case: str, tmp_path: Path
) -> None:
    broken = _make(case)
    good = Real.good()
    expected = EXPECTED[case][preset]
    if expected is None:
        result = export_dataset(
            good + [broken], [], tmp_path / "out", preset, seed=0, parameters={}, curation_stats={}
        )
        assert broken.id in next(iter(result.manifest["example_ids"].values()))
        return
    with pytest.raises(ValidationFailed) as info:
        export_dataset(
            good + [broken], [], tmp_path / "out", preset, seed=0, parameters={}, curation_stats={}
        )
    errors = info.value.report.errors
    assert errors and {i.example_id for i in errors} == {broken.id}
    assert expected in {i.code for i in errors}
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("preset", "case"), MATRIX)
def test_leave_out_covers_every_per_example_error(preset: str, case: str, tmp_path: Path) -> None:
    broken = _make(case)
    good = Real.good()
    expected = EXPECTED[case][preset]
    result = export_dataset(
        good + [broken],
        [],
        tmp_path / "out",
        preset,
        seed=0,
        parameters={},
        curation_stats={},
        on_unrepresentable="skip",
    )
    written = next(iter(result.manifest["example_ids"].values()))
    skipped = [w for w in result.validation.warnings if w.code == "skipped_unrepresentable"]
    if expected is None:
        assert broken.id in written and not skipped
    else:
        assert written == [e.id for e in good]
        assert [(w.example_id, w.cause) for w in skipped] == [(broken.id, expected)]
        assert result.train_count == len(good)
        assert result.manifest["counts"]["train"] == len(good)


@pytest.mark.parametrize(("preset", "case"), MATRIX)
def test_the_plan_leaves_out_what_the_writer_would(preset: str, case: str, tmp_path: Path) -> None:
    broken = _make(case)
    good = Real.good()
    expected = EXPECTED[case][preset]
    # No eval split: a lone tool-call example alone in eval is a file-level schema error (see
    # test_file_level_errors_still_block_when_leaving_out), not what this test is about.
    settings = ExportSettings(preset, eval_count=0, skip_unrepresentable=True)
    plan = plan_export(good + [broken], settings, group_by_duplicates=False)
    assert plan.unrepresentable_ids == ([] if expected is None else [broken.id])
    if expected is not None:
        assert expected in plan.unrepresentable_codes()
    result = write_plan(plan, tmp_path / "out", parameters={}, curation_stats={})
    assert result.manifest["example_ids"] == {
        get_preset(preset).file_name("train"): [e.id for e in plan.train]
    }
    assert result.train_count == plan.train_count == len(good) + (expected is None)


@pytest.mark.parametrize(("preset", "case"), MATRIX)
def test_the_validator_applies_the_same_record_rules(
    preset: str, case: str, tmp_path: Path
) -> None:
    """A record that builds but breaks a record rule fails validation with the same codes."""
    broken = _make(case)
    chosen = get_preset(preset)
    layout = chosen.layout(Real.good() + [broken])
    checked = check_example(chosen, broken, layout)
    expected = EXPECTED[case][preset]
    if checked.built is None:  # no record to write: the build itself names the reason
        assert [(i.example_id, i.code) for i in checked.errors] == [(broken.id, expected)]
        return
    path = tmp_path / chosen.file_name("train")
    path.parent.mkdir(parents=True, exist_ok=True)
    if chosen.file_ext == "parquet":
        chosen.write_records([checked.built.record], path, layout)
    else:
        path.write_text(dump_line(checked.built.record) + "\n", encoding="utf-8")
    report = validate(path, chosen)
    assert {i.code for i in report.errors} == {i.code for i in checked.errors}
    assert bool(checked.errors) == (expected is not None)
    assert expected is None or expected in {i.code for i in report.errors}


def test_file_level_errors_still_block_when_leaving_out(tmp_path: Path) -> None:
    """All tool calls in eval: train fixes a schema without them, a cast no example can fix."""
    tooled = [
        e
        for e in Real.load("llamafactory/glaive_toolcall_en_demo.json")
        if any(m.tool_calls for m in e.messages)
    ][:5]
    settings = ExportSettings(
        "trl-messages",
        eval_count=0,
        holdout_sources=(tooled[0].source,),
        skip_unrepresentable=True,
    )
    plan = plan_export(Real.good() + tooled, settings, group_by_duplicates=False)
    assert not plan.unrepresentable and plan.eval_count == len(tooled)
    with pytest.raises(ValidationFailed) as info:
        write_plan(plan, tmp_path / "out", parameters={}, curation_stats={})
    assert set(info.value.report.codes()) == {"schema_mismatch"}
    assert not (tmp_path / "out").exists()


def test_left_out_examples_are_named_in_manifest_and_card(tmp_path: Path) -> None:
    broken = _make("ends_on_user")
    settings = ExportSettings("openai", eval_count=3, skip_unrepresentable=True)
    plan = plan_export(Real.good() + [broken], settings, group_by_duplicates=False)
    result = write_plan(plan, tmp_path / "out", parameters={}, curation_stats={})
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["validation"]["warnings"]["skipped_unrepresentable"] == 1
    assert manifest["parameters"]["left_out"] == 1
    assert broken.id not in sum(manifest["example_ids"].values(), [])
    assert "left_out_unrepresentable: 1" in result.card
    # The card's sizes are the written files', not the selection's.
    assert f"| train | {len(Real.good()) - 3} |" in result.card


def test_the_written_layout_is_the_carried_examples_own(tmp_path: Path) -> None:
    """A multi-turn tool conversation trl-prompt-completion cannot carry would, if counted in
    the layout, turn every single-turn record into message lists; left out, they stay strings."""
    tooled = Real.tooled()
    assert sum(m.role == "user" for m in tooled.messages) > 1
    settings = ExportSettings("trl-prompt-completion", eval_count=0, skip_unrepresentable=True)
    plan = plan_export(Real.good() + [tooled], settings, group_by_duplicates=False)
    assert plan.unrepresentable_codes() == {"tool_calls_unsupported": 1}
    write_plan(plan, tmp_path / "out", parameters={}, curation_stats={})
    rows = [json.loads(x) for x in (tmp_path / "out" / "train.jsonl").read_text().splitlines()]
    by_id = {e.id: e for e in Real.good()}
    assert len(rows) == len(Real.good())
    for row, ex in zip(rows, plan.train, strict=True):
        assert row["prompt"] == by_id[ex.id].messages[0].content
        assert isinstance(row["completion"], str)


def test_an_eval_count_larger_than_what_is_carried_is_named() -> None:
    broken = _make("ends_on_user")
    settings = ExportSettings("openai", eval_count=31, skip_unrepresentable=True)
    with pytest.raises(ExportError, match="eval_count 31 must be an integer from 0 to 30"):
        plan_export(Real.good() + [broken], settings, group_by_duplicates=False)
