"""Unit tests of the substantive-difference check after near-duplicate verification.

Pairs are written by hand: different requests (another topic, number, name, a negation) and
copies (typos, spelling variants, case, punctuation, whitespace, a changed word in a long text).
"""

from __future__ import annotations

import pytest

from curation.dedup import NearDedupConfig, cluster_duplicates
from curation.dedup.textdiff import substantive_difference

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
    ],
)
def test_bad_diff_settings_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        NearDedupConfig(**kwargs)  # type: ignore[arg-type]
