"""Deduplicating preference data: the prompt is the unit, answers compared apart."""

from __future__ import annotations

from curation.dedup import cluster_conversations, role_texts_for
from curation.records import Example, Message, pair


def _pair(ex_id: str, prompt: str, chosen: str, rejected: str) -> Example:
    return Example(
        ex_id,
        [Message("user", prompt)],
        candidates=pair([Message("assistant", chosen)], [Message("assistant", rejected)]),
    )


PROMPT = "Write one sentence about the sea and why sailors have always respected its moods."
CHOSEN = "The sea can turn from calm to deadly in an hour, so sailors learn to read every sign."
REJECTED = "Sea is big and wet and has lots of fish in it, that is all there is to say about it."
OTHER = (
    "Waves, tides and storms shaped every voyage, and a good sailor never took calm for granted."
)


def test_answers_of_a_pair_are_compared_with_the_preferred_first() -> None:
    ex = _pair("a", PROMPT, CHOSEN, REJECTED)
    ex.candidates.reverse()  # stored order does not decide: the rank does
    parts = role_texts_for([ex], "all")[0]
    assert parts["user"] == PROMPT
    assert parts["assistant"] == CHOSEN + "\n\n" + REJECTED
    assert role_texts_for([ex], "assistant")[0] == {"assistant": CHOSEN}


def test_two_pairs_on_one_prompt_are_a_same_prompt_group_not_duplicates() -> None:
    same = [_pair("a", PROMPT, CHOSEN, REJECTED), _pair("b", PROMPT, CHOSEN, REJECTED)]
    other = _pair("c", PROMPT, OTHER, REJECTED)
    unrelated = _pair("d", "List three prime numbers.", "2, 3 and 5.", "1, 2 and 4.")
    result = cluster_conversations(role_texts_for([*same, other, unrelated], "all"), "near")
    clusters = [sorted(c.members) for c in result.clusters]
    assert clusters == [[0, 1]]
    groups = [sorted(g.members) for g in result.same_prompt]
    assert any({0, 2} <= set(g) or {1, 2} <= set(g) for g in groups), groups
    assert all(3 not in g for g in groups)
