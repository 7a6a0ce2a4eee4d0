"""Preference and feedback data at import: pairs, implicit prompts, ratings, KTO labels, prompts.

Fixtures in `tests/fixtures/preference/` are hand-written in the trainers' documented shapes (their
README names each source); expected values are read off those files by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from curation.cli import main
from curation.errors import InputError
from curation.formats import SHAPES, detect_format, read_examples
from curation.records import Example
from curation.store import Store
from tests.unit.formats_helpers import turns, write_jsonl

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PREF = FIXTURES / "preference"
REPO = Path(__file__).resolve().parents[2]


def answers(example: Example) -> list[tuple[int | None, str]]:
    """Each candidate as (rank, text of its messages)."""
    return [(c.rank, "\n".join(m.content for m in c.messages)) for c in example.candidates]


def ranks(example: Example) -> list[int | None]:
    return [c.rank for c in example.candidates]


# ---------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("llama_factory_ranking_sharegpt.json", "llama-factory-ranking"),
        ("llama_factory_ranking_alpaca.json", "llama-factory-ranking"),
        ("trl_preference_standard.jsonl", "trl-preference"),
        ("trl_preference_conversational.jsonl", "trl-preference"),
        ("trl_implicit_prompt.jsonl", "trl-preference"),
        ("trl_implicit_prompt_standard.jsonl", "trl-preference"),
        ("hh_rlhf.jsonl", "trl-preference"),
        ("ultrafeedback_binarized.jsonl", "trl-preference"),
        ("openai_preference.jsonl", "openai-preference"),
        ("trl_kto.jsonl", "trl-kto"),
        ("trl_kto_conversational.jsonl", "trl-kto"),
        ("trl_kto.csv", "trl-kto"),
        ("llama_factory_kto.json", "llama-factory-kto"),
        ("openai_kto.jsonl", "openai-kto"),
        ("ultrafeedback.jsonl", "ultrafeedback"),
        ("trl_prompt_only.jsonl", "prompt-only"),
        ("trl_prompt_only_conversational.jsonl", "prompt-only"),
        ("../benchmarks/mt_bench_question.jsonl", "mt-bench"),
    ],
)
def test_each_fixture_is_detected_as_its_shape(name: str, shape: str) -> None:
    result = read_examples(PREF / name)
    assert result.detected_format == shape
    assert result.format_confidence == 1.0 or name == "trl_kto.csv"
    assert shape in SHAPES


@pytest.mark.parametrize(
    ("relative", "shape"),
    [
        ("sample_data/dummy_conversation.json", "sharegpt"),
        ("sample_data/glaive_toolcall_en_demo.json", "sharegpt"),
        ("sample_data/identity.json", "alpaca"),
        ("sample_data/seed_tasks.jsonl", "self-instruct"),
        ("sample_data/toy_chat_fine_tuning.jsonl", "openai"),
        ("tests/fixtures/self_instruct_user_oriented.jsonl", "self-instruct"),
        ("tests/fixtures/benchmarks/alpaca_eval_outputs.json", "alpaca"),
        ("tests/fixtures/benchmarks/chat_benchmark.jsonl", "openai"),
        ("tests/fixtures/benchmarks/gsm8k_test.jsonl", "mapped"),
        ("tests/fixtures/benchmarks/math_problems.jsonl", "mapped"),
    ],
)
def test_the_older_files_keep_their_shapes(relative: str, shape: str) -> None:
    assert read_examples(REPO / relative).detected_format == shape


@pytest.mark.parametrize(
    ("relative", "shape"),
    [
        ("dolly/random_selection_20_top_100.json", "dolly"),
        ("llamafactory/alpaca_en_demo.json", "alpaca"),
        ("openai-cookbook/drone_training.jsonl", "openai"),
        ("openai-cookbook/dbpedia_samples.jsonl", "mapped"),
        ("t0-prompt-completion/ag_news_classify.jsonl", "prompt-completion"),
    ],
)
def test_the_real_files_keep_their_shapes(shared_data: Path, relative: str, shape: str) -> None:
    assert read_examples(shared_data / relative).detected_format == shape


@pytest.mark.parametrize(
    ("record", "shape"),
    [
        ({"prompt": "The sky is", "completion": " blue."}, "prompt-completion"),
        ({"prompt": "The sky is", "completion": " blue.", "label": True}, "trl-kto"),
        ({"prompt": "The sky is", "completion": " blue.", "label": "false"}, "trl-kto"),
        # a class label is not a KTO label
        ({"prompt": "Review: fine", "completion": " ok", "label": "positive"}, "prompt-completion"),
        ({"prompt": "The sky is"}, "prompt-only"),
        ({"prompt": "2+2?", "response": "4"}, "mapped"),  # the answer has a column: map it
        ({"instruction": "Say hi", "input": ""}, "alpaca"),
        ({"instruction": "Say hi", "answer": "hi"}, "mapped"),
        ({"instruction": "Summarise.", "context": "A long text."}, "dolly"),
        ({"messages": [{"role": "user", "content": "Hi"}]}, "openai"),
        (
            {"messages": [{"role": "user", "content": "Hi"}], "label": "positive"},
            "openai",
        ),
        ({"conversations": [{"from": "human", "value": "Hi"}]}, "sharegpt"),
    ],
)
def test_detection_between_neighbouring_shapes(record: dict[str, Any], shape: str) -> None:
    assert detect_format([record])[0] == shape


# ---------------------------------------------------------------- pairs


def test_llama_factory_ranking_sharegpt_keeps_each_record_as_one_pair() -> None:
    records = json.loads((PREF / "llama_factory_ranking_sharegpt.json").read_text())
    result = read_examples(PREF / "llama_factory_ranking_sharegpt.json")

    assert result.errors == [] and len(result.examples) == 3
    one, multi, system = result.examples
    assert turns(one) == [("user", "What is the boiling point of water at sea level in Celsius?")]
    assert answers(one) == [(1, "100 °C."), (2, "About 50 °C.")]
    assert [m.role for c in one.candidates for m in c.messages] == ["assistant", "assistant"]
    assert turns(multi) == [
        ("user", "Name a primary colour."),
        ("assistant", "Red."),
        ("user", "Name another one."),
    ]
    assert answers(multi) == [(1, "Blue."), (2, "Red.")]
    assert multi.metadata == {"source": "hand-written"}
    assert turns(system)[0] == ("system", "You are a weather assistant.")
    assert json.loads(system.tools or "")[0]["name"] == "get_weather"
    assert system.metadata == {}
    assert [e.raw for e in result.examples] == records
    assert [e.kind for e in result.examples] == ["preference"] * 3
    assert result.kind_counts()["pairs"] == 3
    assert result.kinds_summary() == "3 pairs"


def test_llama_factory_ranking_alpaca_joins_instruction_and_input_and_keeps_history() -> None:
    result = read_examples(PREF / "llama_factory_ranking_alpaca.json")

    first, history, _ = result.examples
    assert turns(first) == [("user", "Translate to French.\n\nGood morning")]
    assert answers(first) == [(1, "Bonjour"), (2, "Bonsoir")]
    assert turns(history) == [
        ("system", "You are a French tutor."),
        ("user", "How do I say thank you?"),
        ("assistant", "Merci"),
        ("user", "And how do I say good night?"),
    ]
    assert answers(history) == [(1, "Bonne nuit"), (2, "Bon appétit")]


def test_trl_standard_preference_keeps_the_leading_space_of_completions() -> None:
    result = read_examples(PREF / "trl_preference_standard.jsonl")
    sky = result.examples[0]
    assert turns(sky) == [("user", "The sky is")]
    assert answers(sky) == [(1, " blue."), (2, " green.")]
    assert sky.chosen is not None and sky.chosen.messages[0].content == " blue."
    assert sky.rejected is not None and sky.rejected.messages[0].content == " green."


def test_trl_conversational_preference_with_a_system_prompt_and_several_turns() -> None:
    result = read_examples(PREF / "trl_preference_conversational.jsonl")
    _, system, multi = result.examples
    assert turns(system) == [("system", "Answer in one word."), ("user", "Largest planet?")]
    assert answers(system)[0] == (1, "Jupiter.")
    assert turns(multi) == [
        ("user", "Pick a number from 1 to 3."),
        ("assistant", "2."),
        ("user", "Now double it."),
    ]
    assert answers(multi) == [(1, "4."), (2, "3.")]


def test_implicit_prompt_conversations_share_their_start_as_the_prompt() -> None:
    result = read_examples(PREF / "trl_implicit_prompt.jsonl")
    sky, polite, _ = result.examples
    assert turns(sky) == [("user", "What color is the sky?")]
    assert answers(sky) == [(1, "It is blue."), (2, "It is green.")]
    assert turns(polite) == [
        ("system", "Be polite."),
        ("user", "Say hi."),
        ("assistant", "Hello!"),
        ("user", "Say bye."),
    ]
    assert answers(polite) == [(1, "Goodbye, take care!"), (2, "Whatever.")]


def test_implicit_prompt_texts_part_at_a_word_not_inside_one() -> None:
    result = read_examples(PREF / "trl_implicit_prompt_standard.jsonl")
    sky, paris, sums = result.examples
    assert (turns(sky), answers(sky)) == ([("user", "The sky is")], [(1, " blue."), (2, " green.")])
    assert turns(paris) == [("user", "Paris is the capital of")]
    assert answers(paris) == [(1, " France."), (2, " Spain.")]
    # "4" and "22" differ at their first character; "Answer: 2" would end inside a word
    assert turns(sums) == [("user", "Question: 2+2? Answer:")]
    assert answers(sums) == [(1, " 4"), (2, " 22")]


def test_hh_rlhf_text_becomes_turns_and_the_last_answers_are_the_pair() -> None:
    result = read_examples(PREF / "hh_rlhf.jsonl")
    assert result.errors == []
    _, egg, _ = result.examples
    assert turns(egg) == [
        ("user", "How do I boil an egg?"),
        ("assistant", "Put it in boiling water for about nine minutes."),
        ("user", "And for a soft yolk?"),
    ]
    assert answers(egg) == [
        (1, "Take it out after six minutes and cool it in cold water."),
        (2, "Boil it longer."),
    ]


def test_openai_preference_reads_input_messages_tools_and_the_two_outputs() -> None:
    result = read_examples(PREF / "openai_preference.jsonl")
    weather, summary, tools = result.examples
    assert turns(weather) == [("user", "Hello, can you tell me how cold San Francisco is today?")]
    assert answers(weather)[1] == (2, "It is not particularly cold in San Francisco today.")
    assert weather.metadata == {"parallel_tool_calls": True}
    assert weather.tools is None  # "tools": [] offers none
    assert turns(summary)[0] == ("system", "You are a concise assistant.")
    assert turns(summary)[-1] == ("user", "Shorter.")
    assert answers(summary) == [(1, "Friday."), (2, "The meeting has been moved to Friday.")]
    (schema,) = json.loads(tools.tools or "")
    assert schema["function"]["name"] == "get_weather"


def test_binarised_ultrafeedback_is_a_pair_with_its_scores() -> None:
    result = read_examples(PREF / "ultrafeedback_binarized.jsonl")
    fruit, prime = result.examples
    assert turns(fruit) == [("user", "Name three fruits that are red.")]
    assert answers(fruit) == [(1, "Strawberries, cherries and raspberries."), (2, "Red.")]
    assert [c.score for c in fruit.candidates] == [9.0, 2.0]
    assert [c.score for c in prime.candidates] == [6.0, 1.0]
    # the text columns (prompt, chosen, rejected, messages) and the scores are not metadata
    assert fruit.metadata == {"prompt_id": "a1f0"}


# ---------------------------------------------------------------- KTO


def test_trl_kto_labels_become_desirable() -> None:
    result = read_examples(PREF / "trl_kto.jsonl")
    assert [e.desirable for e in result.examples] == [True, False, True]
    assert turns(result.examples[1]) == [("user", "The sky is"), ("assistant", " green.")]
    assert [e.kind for e in result.examples] == ["feedback"] * 3
    assert result.examples[0].metadata == {}
    assert result.kinds_summary() == "2 desirable / 1 undesirable (KTO)"


def test_trl_kto_conversational_keeps_system_and_earlier_turns() -> None:
    result = read_examples(PREF / "trl_kto_conversational.jsonl")
    _, system, multi = result.examples
    assert system.desirable is False
    assert turns(system)[0] == ("system", "Answer in French.")
    assert turns(multi) == [
        ("user", "Hi!"),
        ("assistant", "Hello, how can I help?"),
        ("user", "Tell me a fun fact."),
        ("assistant", "Octopuses have three hearts."),
    ]


def test_kto_labels_written_as_text_are_read_and_others_are_reported() -> None:
    result = read_examples(PREF / "trl_kto.csv")
    assert [e.desirable for e in result.examples] == [True, False, True]
    (error,) = result.errors
    assert error.line == 4
    assert error.message == "row 4: 'label' is 'maybe', expected true or false"
    assert result.skipped_reasons() == {"invalid label": 1}


def test_llama_factory_kto_tag_and_openai_messages_label() -> None:
    lf = read_examples(PREF / "llama_factory_kto.json")
    assert [e.desirable for e in lf.examples] == [True, False, False]
    assert turns(lf.examples[1])[0] == ("system", "You are a film critic.")
    assert turns(lf.examples[2])[-1] == ("assistant", "16.")
    oa = read_examples(PREF / "openai_kto.jsonl")
    assert [e.desirable for e in oa.examples] == [True, False, True]
    assert oa.examples[2].metadata == {"annotator": "a1"}
    assert turns(oa.examples[1])[0] == ("system", "You are a poet.")


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (
            {"prompt": "Q", "completion": "A", "label": 1},
            "'label' is int 1, expected true or false",
        ),
        ({"prompt": "Q", "completion": "A", "label": "yes"}, "'label' is 'yes', expected true"),
        ({"prompt": "Q", "completion": "", "label": True}, "needs an answer to rate"),
    ],
)
def test_bad_kto_records_are_reported_with_their_line(
    tmp_path: Path, record: dict[str, Any], message: str
) -> None:
    good = {"prompt": "Q", "completion": "A", "label": True}
    path = write_jsonl(tmp_path / "kto.jsonl", [good, good, record])
    result = read_examples(path, format="trl-kto")
    assert len(result.examples) == 2
    (error,) = result.errors
    assert error.line == 3 and message in error.message


# ---------------------------------------------------------------- ratings


def _ultrafeedback(rule: str = "best-vs-worst", margin: float = 0.0) -> list[Example]:
    result = read_examples(PREF / "ultrafeedback.jsonl", ratings_rule=rule, min_margin=margin)
    assert result.errors == [] and result.ratings_rule == rule
    return result.examples


def test_every_completion_is_a_candidate_with_its_score_and_model() -> None:
    fruit, _, _ = _ultrafeedback()
    assert turns(fruit) == [("user", "Name three fruits that are red.")]
    assert [(c.name, c.score) for c in fruit.candidates] == [
        ("gpt-4", 9.0),
        ("alpaca-7b", 4.0),
        ("pythia-12b", 2.0),
        ("starchat", 7.5),
    ]
    assert fruit.candidates[2].messages[0].content == "Red."
    assert fruit.metadata["source"] == "evol_instruct"
    assert fruit.metadata["ratings_rule"] == "best-vs-worst"
    assert "completions" not in fruit.metadata and "instruction" not in fruit.metadata


def test_best_vs_worst_ranks_the_highest_and_lowest_and_leaves_the_rest_unranked() -> None:
    fruit, wall, prime = _ultrafeedback()
    assert ranks(fruit) == [1, None, 2, None]
    assert ranks(wall) == [1, 2]
    # two best at 6.0: the first in the record is the chosen one
    assert ranks(prime) == [1, None, 2]
    assert fruit.chosen is fruit.candidates[0] and fruit.rejected is fruit.candidates[2]


def test_best_vs_second_ranks_the_two_highest_and_equal_scores_tie() -> None:
    fruit, wall, prime = _ultrafeedback("best-vs-second")
    assert ranks(fruit) == [1, None, None, 2]
    assert ranks(wall) == [1, 2]
    assert ranks(prime) == [1, 1, None]  # 6.0 and 6.0: a tie, not a pair


def test_a_gap_below_the_margin_is_kept_as_a_tie() -> None:
    fruit, wall, prime = _ultrafeedback("best-vs-worst", 1.0)
    assert ranks(fruit) == [1, None, 2, None]  # 9.0 - 2.0 is wide enough
    assert ranks(wall) == [1, 1]  # 8.0 - 7.5 < 1.0: both kept, both first
    assert ranks(prime) == [1, None, 2]
    assert wall.chosen is None and wall.is_tie
    result = read_examples(PREF / "ultrafeedback.jsonl", min_margin=1.0)
    assert result.kind_counts()["ties"] == 1 and result.kind_counts()["pairs"] == 2
    assert result.kinds_summary() == "2 pairs, 1 tie"
    assert result.examples[1].metadata["min_margin"] == 1.0


def test_best_vs_random_is_seeded_by_the_record_id(tmp_path: Path) -> None:
    def record(i: int) -> dict[str, Any]:
        scores = [9.0, 7.0, 5.0, 3.0]
        return {
            "id": f"r{i}",
            "instruction": f"Question {i}?",
            "completions": [
                {"model": f"m{k}", "response": f"answer {k}", "overall_score": s}
                for k, s in enumerate(scores)
            ],
        }

    records = [record(i) for i in range(30)]
    path = write_jsonl(tmp_path / "uf.jsonl", records)
    first = read_examples(path, ratings_rule="best-vs-random").examples
    again = read_examples(path, ratings_rule="best-vs-random").examples
    shuffled = write_jsonl(tmp_path / "uf_reversed.jsonl", records[::-1])
    reversed_read = read_examples(shuffled, ratings_rule="best-vs-random").examples

    picks = {e.id: ranks(e).index(2) for e in first}
    assert all(ranks(e)[0] == 1 and ranks(e).count(2) == 1 for e in first)
    assert {e.id: ranks(e).index(2) for e in again} == picks
    assert {e.id: ranks(e).index(2) for e in reversed_read} == picks  # by id, not by line
    assert set(picks.values()) == {1, 2, 3}  # any of the others, not always the worst


def test_unscored_completions_stay_unranked_and_bad_scores_are_errors(tmp_path: Path) -> None:
    def uf(*completions: dict[str, Any]) -> dict[str, Any]:
        return {"instruction": "Q?", "completions": list(completions)}

    rows = [
        uf({"response": "a", "overall_score": 3}, {"response": "b"}, {"response": "c", "score": 5}),
        uf({"response": "a", "overall_score": "high"}, {"response": "b", "overall_score": 1}),
        uf({"response": "a", "overall_score": 3}, {"response": " ", "overall_score": 1}),
        uf(),
    ]
    result = read_examples(write_jsonl(tmp_path / "uf.jsonl", rows))
    (example,) = result.examples
    assert ranks(example) == [2, None, 1]
    assert [(e.line, e.message) for e in result.errors] == [
        (2, "line 2: completion 1's 'overall_score' is 'high', expected a number"),
        (3, "line 3: completion 2 has an empty response"),
        (4, "line 4: 'completions' is empty or not a list"),
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"ratings_rule": "best-of-three"}, "Unknown ratings rule 'best-of-three'"),
        ({"min_margin": -1.0}, "min_margin must be a number >= 0"),
        ({"min_margin": float("nan")}, "min_margin must be a number >= 0"),
    ],
)
def test_a_bad_ratings_rule_is_refused_naming_the_choices(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        read_examples(PREF / "ultrafeedback.jsonl", **options)


# ---------------------------------------------------------------- bad records


def test_bad_pair_records_are_reported_with_line_numbers_and_the_rest_imports() -> None:
    result = read_examples(PREF / "bad_records.jsonl")

    assert result.detected_format == "trl-preference"
    assert [(e.line, e.reason) for e in result.errors] == [
        (2, "missing keys"),
        (3, "invalid candidate"),
        (4, "empty candidate"),
        (5, "missing prompt"),
        (7, "invalid candidate"),
    ]
    messages = [e.message for e in result.errors]
    assert messages[0].startswith("line 2: missing key(s) rejected")
    assert messages[1] == "line 3: 'chosen' is int, expected text or a list of messages"
    assert messages[2] == "line 4: 'chosen' is empty"
    assert messages[3] == "line 5: chosen and rejected share no prompt"
    assert "'chosen' holds a user turn" in messages[4]
    # chosen == rejected is a curation problem (the export validator flags it), not a read one
    assert [answers(e) for e in result.examples] == [
        [(1, "7"), (2, "8")],
        [(1, "13"), (2, "13")],
        [(1, "3"), (2, "4")],
    ]
    assert result.skipped == 5


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"chosen": "The same words.", "rejected": "The same words."}, "are the same text"),
        ({"chosen": "Yes", "rejected": "No"}, "chosen and rejected share no prompt"),
        (
            {
                "chosen": [
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello"},
                    {"role": "user", "content": "Joke?"},
                    {"role": "assistant", "content": "No."},
                ],
                "rejected": [
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hey"},
                    {"role": "user", "content": "Joke?"},
                    {"role": "assistant", "content": "Knock knock."},
                ],
            },
            "differ before their final answers",
        ),
        (
            {"chosen": "Fine text", "rejected": [{"role": "assistant", "content": "x"}]},
            "one of chosen and rejected is text and the other a list of messages",
        ),
        ({"chosen": None, "rejected": "x"}, "'chosen' is null, expected text"),
    ],
)
def test_implicit_prompt_problems_are_named(
    tmp_path: Path, record: dict[str, Any], message: str
) -> None:
    good = {"chosen": "The sky is blue.", "rejected": "The sky is green."}
    path = write_jsonl(tmp_path / "implicit.jsonl", [good, record, good])
    result = read_examples(path, format="trl-preference")
    assert len(result.examples) == 2
    (error,) = result.errors
    assert error.line == 2 and message in error.message, error.message


@pytest.mark.parametrize(
    ("shape", "record", "message"),
    [
        (
            "llama-factory-ranking",
            {
                "conversations": [{"from": "human", "value": "Q"}],
                "chosen": {"from": "gpt"},
                "rejected": {"from": "gpt", "value": "B"},
            },
            "'chosen' is empty",
        ),
        (
            "llama-factory-ranking",
            {
                "conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}],
                "chosen": {"from": "gpt", "value": "B"},
                "rejected": {"from": "gpt", "value": "C"},
            },
            "the prompt ends on an assistant turn",
        ),
        (
            "openai-preference",
            {"input": "Q", "preferred_output": [], "non_preferred_output": []},
            "'input' is str, expected an object with 'messages'",
        ),
        (
            "openai-preference",
            {
                "input": {"messages": [{"role": "user", "content": "Q"}]},
                "preferred_output": [{"role": "user", "content": "A"}],
                "non_preferred_output": [{"role": "assistant", "content": "B"}],
            },
            "'preferred_output' holds a user turn",
        ),
    ],
)
def test_bad_records_of_the_other_pair_shapes(
    tmp_path: Path, shape: str, record: dict[str, Any], message: str
) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [record])
    result = read_examples(path, format=shape)
    assert result.examples == []
    (error,) = result.errors
    assert error.line == 1 and message in error.message, error.message


# ---------------------------------------------------------------- prompts still to answer


def test_prompt_only_records_import_as_needing_an_answer() -> None:
    result = read_examples(PREF / "trl_prompt_only.jsonl")
    assert [turns(e) for e in result.examples] == [
        [("user", "The sky is")],
        [("user", "Write a limerick about a cat who learns to code.")],
        [("user", "List three uses of baking soda.")],
    ]
    assert all(e.needs_answer for e in result.examples)
    conversational = read_examples(PREF / "trl_prompt_only_conversational.jsonl").examples
    assert turns(conversational[1]) == [("system", "You are a pirate."), ("user", "Greet me.")]
    assert turns(conversational[2])[-1] == ("user", "Name a bigger one.")
    assert all(e.kind == "needs_answer" for e in conversational)


def test_mt_bench_questions_give_their_first_turn_and_keep_the_follow_up() -> None:
    path = FIXTURES / "benchmarks" / "mt_bench_question.jsonl"
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    result = read_examples(path)
    assert len(result.examples) == len(lines) == 7
    first = result.examples[0]
    assert turns(first) == [
        (
            "user",
            "Compose an engaging travel blog post about a recent trip to Hawaii, highlighting "
            "cultural experiences and must-see attractions.",
        )
    ]
    assert first.needs_answer
    assert first.metadata == {
        "question_id": 81,
        "category": "writing",
        "follow_up_turns": [
            "Rewrite your previous response. Start every sentence with the letter A."
        ],
    }
    with_reference = next(
        e for e, r in zip(result.examples, lines, strict=True) if "reference" in r
    )
    assert with_reference.metadata["reference"] == ["You are in second place.", "Uncertain."]
    assert result.kinds_summary() == "7 need an answer"


# ---------------------------------------------------------------- store and command line


def test_an_imported_pair_file_is_one_example_per_record_in_the_store(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        store.ensure_project("p", "ada")
        records = json.loads((PREF / "llama_factory_ranking_sharegpt.json").read_text())
        summary = store.add_import(
            "p", read_examples(PREF / "llama_factory_ranking_sharegpt.json"), "ada"
        )
        prompts = store.add_import("p", read_examples(PREF / "trl_prompt_only.jsonl"), "ada")

        assert summary.imported == len(records) == 3 and prompts.imported == 3
        assert store.count_examples("p") == 6
        stored = [e.example for e in store.list_examples("p")]
        pairs = [e for e in stored if e.candidates]
        assert len(pairs) == 3
        multi = next(e for e in pairs if len(e.messages) == 3)
        assert answers(multi) == [(1, "Blue."), (2, "Red.")]
        statuses = store.statuses("p", [e.id for e in stored])
        assert sorted(statuses[e.id] for e in pairs) == ["active"] * 3
        asking = [e.id for e in stored if not e.candidates]
        assert {statuses[i] for i in asking} == {"needs_answer"}
    finally:
        store.dispose()


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_cli_import_takes_the_ratings_rule_and_margin(tmp_path: Path, capsys) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    path = str(PREF / "ultrafeedback.jsonl")
    base = ["import", path, "--project", "p", "--db", db, "--quiet"]
    code, out = _cli(capsys, *base, "--ratings-rule", "best-vs-second", "--min-margin", "1.0")
    assert code == 0
    assert "3 imported as ultrafeedback" in out
    assert "in the file: 1 pair, 2 ties; ranked best-vs-second, min margin 1" in out

    store = Store(db)
    try:
        by_prompt = {e.example.prompt: e.example for e in store.list_examples("p")}
    finally:
        store.dispose()
    assert ranks(by_prompt["Name three fruits that are red."]) == [1, None, None, 2]
    assert ranks(by_prompt["Is 17 a prime number? Answer yes or no."]) == [1, 1, None]

    code, out = _cli(capsys, *base, "--allow-reimport", "--json", "--min-margin", "-1")
    assert code == 2 and "min_margin must be a number >= 0" in out


def test_cli_json_report_counts_the_kinds(tmp_path: Path, capsys) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    code, out = _cli(
        capsys,
        "import",
        str(PREF / "trl_kto.csv"),
        "--project",
        "p",
        "--db",
        db,
        "--json",
        "--quiet",
    )
    assert code == 0
    (report,) = json.loads(out)["files"]
    assert report["kinds"]["desirable"] == 2 and report["kinds"]["undesirable"] == 1
    assert report["skipped_reasons"] == {"invalid label": 1}
    assert "ratings_rule" not in report


def test_a_mostly_plain_file_keeps_the_pairs_of_the_records_that_have_them(
    tmp_path: Path,
) -> None:
    """Detection picks ShareGPT (every record has `conversations`); the records that also carry
    `chosen` / `rejected` are still read as pairs, not as prompts needing an answer."""
    rows = [
        {"conversations": [{"from": "human", "value": f"Question {k}?"}],
         "chosen": {"from": "gpt", "value": f"Right {k}."},
         "rejected": {"from": "gpt", "value": f"Wrong {k}."}}
        for k in range(3)
    ] + [
        {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello!"}]},
        {"conversations": [{"from": "human", "value": "Still open?"}]},
    ]  # fmt: skip
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(rows))
    result = read_examples(path)
    kinds = [ex.kind for ex in result.examples]
    assert kinds == ["preference"] * 3 + ["sft", "needs_answer"]
    first = result.examples[0]
    assert first.chosen is not None and first.chosen.messages[0].content == "Right 0."
    assert first.rejected is not None and first.rejected.messages[0].content == "Wrong 0."
    assert "chosen" not in first.metadata and result.skipped == 0
