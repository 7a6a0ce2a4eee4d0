"""Unit tests of the substantive-difference check after near-duplicate verification.

Pairs are written by hand: different requests (another topic, number, name, a negation) and
copies (typos, spelling variants, case, punctuation, whitespace, a changed word in a long text).
"""

from __future__ import annotations

import pytest

from curation.dedup import NearDedupConfig, cluster_duplicates
from curation.dedup.textdiff import difference_weight, substantive_difference, weighed_spans

DIFFERENT = [
    (
        "Write a short poem about cats for my daughter",
        "Write a short poem about dogs for my daughter",
    ),
    (
        "What is the capital city of France in Europe today",
        "What is the capital city of Peru in Europe today",
    ),
    (
        "Give me 5 ideas for a birthday party at home",
        "Give me 8 ideas for a birthday party at home",
    ),
    (
        "Summarise the report written by Alice for the board",
        "Summarise the report written by Carol for the board",
    ),
    (
        "Is this a good plan for the whole team this year",
        "Is this not a good plan for the whole team this year",
    ),
    (
        "List the events of 1990 in order for the class",
        "List the events of 1991 in order for the class",
    ),
    (  # an ordinal keeps its suffix: another number
        "Name three inventions of the 19th century and who made them",
        "Name three inventions of the 20th century and who made them",
    ),
    (  # a negation dropped
        "Explain why the sky is not green during the day",
        "Explain why the sky is green during the day",
    ),
    (  # a name for another name, in a longer sentence
        "Write a short summary of the novel written by Jane Austen for a school reading club",
        "Write a short summary of the novel written by Jane Eyre for a school reading club",
    ),
    (  # a noun-phrase word, 16 words
        "Write a lesson plan that teaches the main causes of the war to a class",
        "Write a lesson plan that teaches the main causes of the flood to a class",
    ),
    (  # a name replaced by a common word in a noun phrase: another subject
        "Write a short story about Smaug who guards golden eggs in the mountains",
        "Write a short story about dragons who guard golden eggs in the mountains",
    ),
    (  # the verb of a short instruction (frame word, 7 words)
        "Summarise the following article in plain words",
        "Translate the following article in plain words",
    ),
    (  # a number added to a short instruction
        "Give me ideas for a birthday party",
        "Give me 5 ideas for a birthday party",
    ),
]
SAME = [
    (
        "Write a short poem about cats for my daughter",
        "write a short Poem about cats, for my  daughter!",
    ),
    (
        "Explain the colour wheel to a child in simple words",
        "Explain the color wheel to a child in simple words",
    ),
    (
        "Please recieve the package at the front door tomorrow",
        "Please receive the package at the front door tomorrow",
    ),
    (
        "Describe how a whitespace character works in text files",
        "Describe how a white space character works in text files",
    ),
    (
        "Write a short poem about cats for my daughter",
        "Write a short poem about cats for my little daughter",
    ),
    (  # a function word swapped for another: the same request
        "Write a short poem about cats for my daughter",
        "Write a short poem on cats for my daughter",
    ),
    (  # a function word replaced by a stray word (a corrupted copy), and the reverse
        "Give me three ideas for a birthday party at home",
        "Give me three ideas banana a birthday party at home",
    ),
    (  # two function words replaced by one
        "Tell me a story about a dragon in the mountains",
        "Tell me a story about a dragon among mountains",
    ),
    (  # a typo: two neighbouring letters swapped
        "Describe the water cycle for a young student",
        "Describe the wtaer cycle for a young student",
    ),
    (  # a typo: one letter dropped
        "Explain how to plant tomatoes in a small garden",
        "Explain how to plant tomaoes in a small garden",
    ),
    (  # two typos in one long word
        "Find a cheap accommodation near the station for two nights",
        "Find a cheap acommodaton near the station for two nights",
    ),
    (  # a number written out
        "Give me 5 ideas for a birthday party at home",
        "Give me five ideas for a birthday party at home",
    ),
    (  # a verb garbled in a sentence of 14 words (frame word, 0.5 < 0.055 x 14)
        "The committee will meet on Monday to discuss the new budget for local schools",
        "The committee will wander on Monday to discuss the new budget for local schools",
    ),
    (  # a name replaced by a common word: not another name (kinds differ)
        "Five more human cases were reported by the county health department on Wednesday",
        "Five more human cases were reported by the county health department on solutia",
    ),
    (  # a number for a word: not another number (kinds differ)
        "As part of his deal, Mr. Delainey has agreed to cooperate in the investigation",
        "As part of his deal, 8057 Delainey has agreed to cooperate in the investigation",
    ),
    (  # a number dropped from a sentence of 16 words
        "Trichoptilus subtilis is a moth of 139 the Pterophoridae family that is known from Africa",
        "Trichoptilus subtilis is a moth of the Pterophoridae family that is known from Africa",
    ),
    (  # two words replaced by one: one replaced (frame), one dropped
        "The recordings include talks between police and other workers, as gasps scaling as media calls",
        "The recordings include talks between police and other workers, as well as media calls",
    ),
    (  # a noun-phrase word in a sentence of 17 words: a copy edit
        "Write a lesson plan that teaches the main causes of the war to a class of students",
        "Write a lesson plan that teaches the main causes of the flood to a class of students",
    ),
]
LONG_A = " ".join(f"word{i}" for i in range(40)) + " the cat sat on the mat today"
LONG_B = " ".join(f"word{i}" for i in range(40)) + " the dog sat on the mat today"


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_requests_are_refused(a: str, b: str) -> None:
    assert substantive_difference(a, b)


@pytest.mark.parametrize(("a", "b"), SAME)
def test_copies_with_cosmetic_edits_pass(a: str, b: str) -> None:
    assert not substantive_difference(a, b)


def test_one_changed_word_in_a_long_text_is_a_copy_edit() -> None:
    assert not substantive_difference(LONG_A, LONG_B)
    assert substantive_difference(LONG_A, LONG_B, max_words=100, max_share=0.02)


def test_each_span_names_the_rule_that_weighed_it() -> None:
    def rules(a: str, b: str) -> list[tuple[str, str, float, str]]:
        return [tuple(s) for s in weighed_spans(a, b)]  # type: ignore[misc]

    assert rules("a poem about cats", "a poem about dogs") == [("cats", "dogs", 1.0, "noun phrase")]
    assert rules("Please write it now", "Please read it now") == [("write", "read", 0.5, "frame")]
    assert rules("Call Alice today", "Call Carol today") == [("alice", "carol", 4.0, "name")]
    assert rules("Buy 5 apples", "Buy 6 apples") == [("5", "6", 4.0, "number")]
    assert rules("Buy 5 apples", "Buy five apples") == [("5", "five", 0.0, "spelling")]
    assert rules("Buy 5 apples", "Buy some apples") == [("5", "some", 0.0, "function word")]
    assert rules("Buy 5 apples", "Buy red apples") == [("5", "red", 0.5, "kinds differ")]
    assert rules("Buy the 5 apples", "Buy the red apples") == [("5", "red", 1.0, "noun phrase")]
    assert rules("Buy apples", "Buy 5 apples") == [("", "5", 0.5, "number added or dropped")]
    assert rules("It is cold", "It is not cold") == [("", "not", 4.0, "negation added or dropped")]
    assert rules("It is not cold", "It is never cold") == [
        ("not", "never", 0.0, "negation for negation")
    ]
    assert rules("Buy the apples", "Buy the fresh apples") == [
        ("", "fresh", 0.0, "word added or dropped")
    ]
    assert rules("Fix the recieved form", "Fix the received from") == [
        ("recieved form", "received from", 0.0, "spelling")
    ]
    assert rules("Fill the form now", "Fill the from now") == [("form", "from", 0.0, "spelling")]
    assert rules("Fill in the blank form", "Fill in the blank fomr") == [
        ("form", "fomr", 0.0, "spelling")
    ]
    assert difference_weight("a poem about cats", "a poem about dogs") == (1.0, 4)


def test_near_dedup_clusters_typo_copies_and_keeps_changed_facts_apart() -> None:
    base = "Write a short story about a dragon who guards 3 golden eggs in the mountains"
    texts = [
        base,
        "Write a short stroy about a dragon who guards 3 golden eggs in the mountains",  # typo
        "Write a short story about a dragon who guards 4 golden eggs in the mountains",  # number
        "Write a short story about a dragon who never guards 3 golden eggs in the mountains",
        "Write a short story about Smaug who guards 3 golden eggs in the mountains",  # a name
    ]
    result = cluster_duplicates(texts, "near", config=NearDedupConfig(short_text_margin=0))
    assert sorted(sorted(g) for g in result.groups()) == [[0, 1]]
    assert all(substantive_difference(base, t) for t in texts[2:])


def test_near_dedup_keeps_slot_filled_prompts_apart_by_default() -> None:
    texts = [DIFFERENT[0][0], DIFFERENT[0][1], SAME[0][1]]
    on = cluster_duplicates(texts, "near", config=NearDedupConfig(short_text_margin=0))
    off = cluster_duplicates(
        texts, "near", config=NearDedupConfig(short_text_margin=0, diff_check=False)
    )
    assert sorted(sorted(g) for g in on.groups()) == [[0, 2]]
    assert sorted(sorted(g) for g in off.groups()) == [[0, 1, 2]]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"diff_max_share": 0.0},
        {"diff_strong_weight": -1},
        {"diff_max_words": 0},
        {"diff_spelling_similarity": 1.5},
        {"diff_frame_weight": 1.5},
        {"diff_frame_weight": -0.1},
    ],
)
def test_bad_diff_settings_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        NearDedupConfig(**kwargs)  # type: ignore[arg-type]
