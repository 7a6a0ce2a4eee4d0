"""The quality runner and its contract: config validation and round trip, the registry, rows and
summary, batches, progress and cancellation, failure isolation, and the whole-dataset check.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from curation.errors import InputError
from curation.progress import ProgressUpdate
from curation.quality import (
    KEEP,
    ExampleCheck,
    ExampleView,
    Expectation,
    Flag,
    FlagRegistry,
    Keep,
    QualityConfig,
    QualityRow,
    StructureExpectations,
    registry,
    run_quality,
    run_quality_batches,
)
from curation.quality.base import CheckResult
from curation.quality.flags.conflicts import ConflictingAnswersSettings
from curation.quality.flags.length import TooShortSettings
from curation.records import Message
from tests.unit.quality_helpers import ex

CLEAN = "Paris is the capital of France."


def _mixed() -> list[Any]:
    return [
        ex("What is the capital of France?", CLEAN, ident="clean"),
        ex("List 10 fruits.", "I would say apple, banana and", ident="two-flags"),  # short, cut
        ex("Say hi.", "   ", ident="empty"),
        ex("Greet.", "Hi {{name}}!", ident="placeholder"),
    ]


# ------------------------------------------------------------------ config


def test_unknown_flag_names_the_known_ones() -> None:
    with pytest.raises(
        InputError, match=r"unknown quality flag 'trunkated'; known flags: .*truncated"
    ):
        QualityConfig(flags=("trunkated",))


def test_settings_from_dicts_are_validated() -> None:
    config = QualityConfig(settings={"too_short": {"count_share": 0.6}})
    assert config.settings_for("too_short") == TooShortSettings(count_share=0.6)
    assert config.settings_for("truncated") == registry.get("truncated").Settings()
    with pytest.raises(
        InputError, match=r"unknown TooShortSettings setting\(s\) 'share'; allowed: count_share"
    ):
        QualityConfig(settings={"too_short": {"share": 0.6}})
    with pytest.raises(InputError, match=r"count_share must be a number in \[0.0, 1.0\], not 2"):
        QualityConfig(settings={"too_short": {"count_share": 2}})
    with pytest.raises(InputError, match="set up by the declared expectations"):
        QualityConfig(settings={"invalid_structure": {}})


def test_config_round_trips_through_json() -> None:
    config = QualityConfig(
        flags=("truncated", "too_short", "invalid_structure"),
        settings={"too_short": TooShortSettings(genre_words=200)},
        expectations=StructureExpectations(default=Expectation("sql", dialect="sqlite")),
    )
    again = QualityConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config
    with pytest.raises(InputError, match="unknown QualityConfig key"):
        QualityConfig.from_dict({"flag": []})


def test_codes_run_in_registry_order() -> None:
    assert "invalid_structure" not in QualityConfig().codes()
    declared = QualityConfig(expectations=StructureExpectations(default=Expectation("json")))
    assert "invalid_structure" in declared.codes()
    picked = QualityConfig(flags=("truncated", "empty_answer"))
    assert picked.codes() == ("empty_answer", "truncated")


# ------------------------------------------------------------------ registry


def test_registry_refuses_taken_and_bad_codes() -> None:
    reg = FlagRegistry()

    class A(ExampleCheck):
        code = "same"
        title = "A"
        description = "a"

        def check(self, example: ExampleView) -> CheckResult:
            return KEEP

    class B(A):
        pass

    reg.register(A)
    reg.register(A)  # registering the same class twice is harmless
    with pytest.raises(ValueError, match="taken by A"):
        reg.register(B)
    B.code = "Not Snake"
    with pytest.raises(ValueError, match="snake_case"):
        reg.register(B)
    assert list(reg) == [A] and "same" in reg and len(reg) == 1


def test_keep_is_one_falsy_value_and_flag_scores_are_checked() -> None:
    assert Keep() is KEEP and not KEEP
    with pytest.raises(ValueError, match="score must be in"):
        Flag("x", 1.5, "Bad.")


# ------------------------------------------------------------------ rows and summary


def test_rows_one_per_flag_in_example_then_registry_order() -> None:
    report = run_quality(_mixed())
    pairs = [(r.example_id, r.code) for r in report.rows]
    assert pairs == [
        ("two-flags", "too_short"),
        ("two-flags", "truncated"),
        ("empty", "empty_answer"),
        ("placeholder", "placeholder"),
    ]
    assert report.flagged_ids() == ["two-flags", "empty", "placeholder"]
    assert report.flagged_ids("truncated") == ["two-flags"]


def test_rows_have_the_step_row_fields() -> None:
    row = run_quality(_mixed()).rows_for("placeholder")[0]
    assert list(row.to_dict()) == [
        "example_id",
        "flag",
        "score",
        "code",
        "suggestion",
        "reason",
        "data",
    ]
    assert row.flag is True and row.kind == "answer"
    assert row.data["location"] == {"turn": 1, "start": 3, "end": 11, "line": 1, "column": 4}
    json.dumps(row.to_dict())  # rows are plain JSON


def test_summary_counts_severity_and_numbers() -> None:
    report = run_quality(_mixed())
    s = report.summary
    assert (s.n_examples, s.n_flagged) == (4, 3)
    assert s.counts["truncated"] == 1 and s.counts["refusal"] == 0
    assert list(s.counts) == list(QualityConfig().codes())
    assert s.severity == "critical"  # 3 of 4
    numbers = s.numbers()
    assert numbers["examples"] == 4 and numbers["flagged"] == 3 and numbers["flagged_share"] == 0.75
    assert "3 of 4 examples flagged" in s.message


@pytest.mark.parametrize(
    ("flagged", "severity"), [(0, "ok"), (1, "info"), (5, "warning"), (10, "critical")]
)
def test_severity_thresholds(flagged: int, severity: str) -> None:
    examples = [ex("Say hi.", " ") for _ in range(flagged)]
    examples += [ex("What is the capital of France?", CLEAN) for _ in range(100 - flagged)]
    assert run_quality(examples).summary.severity == severity


def test_info_holds_config_kinds_and_times() -> None:
    report = run_quality(_mixed())
    assert report.info["config"] == QualityConfig().to_dict()
    assert report.info["kinds"]["empty_answer"] == {"blank": 1}
    assert set(report.info["seconds"]) == set(report.info["codes"])
    assert report.info["n_errors"] == 0


# ------------------------------------------------------------------ batches, inputs, progress


@pytest.mark.parametrize("size", [1, 3, 1000])
def test_batches_give_the_same_rows(size: int) -> None:
    examples = _mixed() * 3
    for k, example in enumerate(examples):
        example.id = f"e{k}"
    whole = run_quality(examples).rows
    assert run_quality(examples, batch_size=size).rows == whole
    batches = [examples[i : i + size] for i in range(0, len(examples), size)]
    assert run_quality_batches(batches).rows == whole


@dataclass(frozen=True)
class StepInputLike:
    """The platform's step input: the id is ``example_id``."""

    example_id: str
    messages: list[Message]
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    tools: str | None = None


def test_step_inputs_are_read_like_examples() -> None:
    item = StepInputLike("s1", [Message("user", "Say hi."), Message("assistant", "")])
    rows = run_quality([item]).rows
    assert [(r.example_id, r.code) for r in rows] == [("s1", "empty_answer")]


def test_an_input_without_an_id_is_named() -> None:
    @dataclass
    class NoId:
        messages: list[Message]
        metadata: dict[str, Any]
        tools: str | None = None

    with pytest.raises(InputError, match="needs an id or example_id"):
        run_quality([NoId([Message("user", "hi")], {})])


def test_progress_reports_each_batch_and_the_dataset_stage() -> None:
    seen: list[tuple[str, int, int | None]] = []
    examples = _mixed() * 5
    for k, example in enumerate(examples):
        example.id = f"e{k}"
    run_quality(examples, progress=lambda u: seen.append((u.stage, u.done, u.total)), batch_size=8)
    quality = [(d, t) for s, d, t in seen if s == "quality"]
    assert quality == [(0, 20), (8, 20), (16, 20), (20, 20)]
    assert [(d, t) for s, d, t in seen if s != "quality"] == [(0, 1), (1, 1)]


class Cancelled(Exception):
    pass


def test_a_progress_callback_can_stop_the_run() -> None:
    def stop(update: ProgressUpdate) -> None:
        if update.done >= 2:
            raise Cancelled

    examples = _mixed()
    with pytest.raises(Cancelled):
        run_quality(examples, progress=stop, batch_size=2)


def test_totals_come_from_generators_only_when_given() -> None:
    seen: list[int | None] = []
    run_quality(iter(_mixed()), progress=lambda u: seen.append(u.total))
    assert set(seen) == {None, 1}  # the dataset stage has its own total
    seen.clear()
    run_quality(iter(_mixed()), progress=lambda u: seen.append(u.total), total=4)
    assert 4 in seen


# ------------------------------------------------------------------ failures are data


@pytest.fixture
def exploding_check() -> Iterator[str]:
    class Exploding(ExampleCheck):
        code = "exploding_for_test"
        title = "Explodes"
        description = "Raises on the example named 'boom'."

        def check(self, example: ExampleView) -> CheckResult:
            if example.id == "boom":
                raise RuntimeError("bad day")
            return self.flag(0.5, "Looked at.")

    registry.register(Exploding)
    try:
        yield Exploding.code
    finally:
        registry.unregister(Exploding.code)


def test_a_check_that_raises_on_one_example_loses_only_that_verdict(exploding_check: str) -> None:
    examples = [ex("Say hi.", " ", ident="boom"), ex("Say hi.", "Hi!", ident="fine")]
    report = run_quality(examples, QualityConfig(flags=(exploding_check, "empty_answer")))
    assert [(r.example_id, r.code) for r in report.rows] == [
        ("boom", "empty_answer"),
        ("fine", exploding_check),
    ]
    assert report.info["n_errors"] == 1
    assert report.info["errors"] == [
        {"code": exploding_check, "example_id": "boom", "error": "RuntimeError: bad day"}
    ]


# ------------------------------------------------------------------ conflicting answers


def _conflicts(examples: list[Any], **kwargs: Any) -> list[QualityRow]:
    return run_quality(examples, QualityConfig(flags=("conflicting_answers",)), **kwargs).rows


def test_the_minority_answer_is_flagged_with_the_majority_as_suggestion() -> None:
    prompt = "Sentiment of: 'I loved it!'"
    rows = _conflicts(
        [
            ex(prompt, "positive", ident="a"),
            ex(prompt.upper(), "Positive.", ident="b"),
            ex(prompt, "negative", ident="c"),
            ex("Other prompt", "negative", ident="d"),
        ]
    )
    assert [r.example_id for r in rows] == ["c"]
    row = rows[0]
    assert row.suggestion == "positive" and row.score == pytest.approx(1 / 3, abs=1e-4)
    assert row.data["kind"] == "majority_differs" and sorted(row.data["others"]) == ["a", "b"]
    assert row.data["group_size"] == 3


def test_a_tie_flags_every_member() -> None:
    rows = _conflicts([ex("2+2?", "4", ident="a"), ex("2+2?", "5", ident="b")])
    assert [r.example_id for r in rows] == ["a", "b"]
    assert all(r.data["kind"] == "tie" and r.suggestion is None for r in rows)


def test_groups_span_batches() -> None:
    rows = _conflicts([ex("2+2?", "4", ident="a"), ex("2+2?", "5", ident="b")], batch_size=1)
    assert [r.example_id for r in rows] == ["a", "b"]


@pytest.mark.parametrize(
    "pair",
    [
        # agreeing after normalisation
        [ex("Capital of France?", "Paris"), ex("capital of france", "paris.")],
        # long answers are variety, not conflict
        [
            ex("Write a poem.", "Roses are red and violets are blue"),
            ex("Write a poem.", "The sea is wide and grey today"),
        ],
        # a different system prompt is a different prompt
        [ex("Reply.", "yes", system="Always agree."), ex("Reply.", "no", system="Always refuse.")],
        # different tools offered
        [ex("Go.", "yes", tools='[{"name": "a"}]'), ex("Go.", "no", tools='[{"name": "b"}]')],
    ],
)
def test_no_conflict(pair: list[Any]) -> None:
    assert _conflicts(pair) == []


def test_different_tool_calls_to_one_prompt_conflict() -> None:
    call = '[{"type": "function", "function": {"name": "%s", "arguments": "{}"}}]'
    rows = _conflicts(
        [
            ex("Land now.", "", tool_calls=call % "land_drone", ident="a"),
            ex("Land now.", "", tool_calls=call % "land_drone", ident="b"),
            ex("Land now.", "", tool_calls=call % "takeoff_drone", ident="c"),
        ]
    )
    assert [r.example_id for r in rows] == ["c"]


def test_answer_length_limit_is_a_setting() -> None:
    long_pair = [
        ex("Who made you?", "Researchers from LMSYS created me."),
        ex("Who made you?", "My creators are researchers from LMSYS."),
    ]
    assert _conflicts(long_pair) == []
    config = QualityConfig(
        flags=("conflicting_answers",),
        settings={"conflicting_answers": ConflictingAnswersSettings(max_answer_words=10)},
    )
    assert len(run_quality(long_pair, config).rows) == 2


def test_refusal_and_boilerplate_share_one_line() -> None:
    answer = (
        "As an AI, I don't have real-time data. However, the median age in the United States "
        "was about 38 years in 2019 according to the Census Bureau."
    )
    example = ex("What is the average age in the US?", answer, ident="age")
    default = run_quality([example], QualityConfig(flags=("refusal", "boilerplate")))
    assert [r.code for r in default.rows] == ["boilerplate"]
    strict = QualityConfig(
        flags=("refusal", "boilerplate"), settings={"refusal": {"min_answer_words": 40}}
    )
    assert [r.code for r in run_quality([example], strict).rows] == ["refusal"]
