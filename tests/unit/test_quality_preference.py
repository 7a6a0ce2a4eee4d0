"""Quality flags on preference data: the preferred answer is checked, the rejected one is not."""

from __future__ import annotations

from curation.quality import run_quality
from curation.records import Candidate, Example, Message, pair

GOOD = "Paris is the capital of France, and it has been since the tenth century."
REFUSAL = "As an AI language model, I cannot answer questions about capitals."


def _flags(ex: Example) -> set[str]:
    return {r.code for r in run_quality([ex]).rows if r.code}


def _pair(chosen: str, rejected: str) -> Example:
    return Example(
        "a",
        [Message("user", "What is the capital of France, and since when?")],
        candidates=pair([Message("assistant", chosen)], [Message("assistant", rejected)]),
    )


def test_a_refusal_as_the_rejected_answer_is_not_flagged_but_as_the_chosen_one_it_is() -> None:
    assert "refusal" not in _flags(_pair(GOOD, REFUSAL))
    assert "refusal" in _flags(_pair(REFUSAL, GOOD))


def test_a_tie_is_checked_on_its_first_answer() -> None:
    ex = _pair(REFUSAL, GOOD)
    ex.candidates = [Candidate(c.messages, rank=1) for c in ex.candidates]
    assert ex.chosen is None
    assert "refusal" in _flags(ex)
