"""Preference and feedback examples in the store: stored whole, edited as revisions, undone."""

from __future__ import annotations

import pytest

from curation.errors import ConflictError
from curation.formats.results import ImportResult
from curation.records import Candidate, Example, Message, pair
from curation.store import ExampleFilter, Store


def _pair_example(ex_id: str, chosen: str, rejected: str) -> Example:
    return Example(
        ex_id,
        [Message("user", "Name a prime number.")],
        candidates=pair([Message("assistant", chosen)], [Message("assistant", rejected)]),
    )


def _import(store: Store, examples: list[Example]) -> None:
    store.ensure_project("p", "ada")
    result = ImportResult(examples=examples, source="f.jsonl", sha256="x" * 64)
    store.add_import("p", result, "ada")


@pytest.fixture
def store(db_url: str) -> Store:
    st = Store(db_url)
    yield st
    st.dispose()


def test_pair_round_trips_and_hashes_apart_from_another_pair_on_the_same_prompt(
    store: Store,
) -> None:
    _import(store, [_pair_example("a", "7", "8"), _pair_example("b", "7", "9")])
    a = store.get_example("p", "a").example
    assert a.kind == "preference"
    assert [m.content for m in a.messages] == ["Name a prime number."]
    assert a.chosen is not None and a.chosen.messages[0].content == "7"
    assert a.rejected is not None and a.rejected.messages[0].content == "8"
    # the pairs share their prompt and chosen answer but are different examples
    assert store.stats("p")["with_preference"] == 2
    ids = {e.id for e in store.list_examples("p")}
    assert ids == {"a", "b"}
    assert [e.id for e in store.list_examples("p", ExampleFilter(search="8"))] == ["a"]


def test_record_ending_on_user_imports_as_needs_answer_and_writing_the_answer_activates_it(
    store: Store,
) -> None:
    prompt = Example("q", [Message("user", "What is 2+2?")])
    _import(store, [prompt, Example("d", [Message("user", "hi"), Message("assistant", "hello")])])
    assert store.statuses("p", ["q", "d"]) == {"q": "needs_answer", "d": "active"}
    assert store.stats("p")["by_status"] == {"needs_answer": 1, "active": 1}
    assert store.stats("p")["with_preference"] == 0
    rev = store.edit_messages(
        "p",
        "q",
        [Message("user", "What is 2+2?"), Message("assistant", "4")],
        "bo",
        "wrote the answer",
        expected_revision=0,
    )
    assert rev == 1
    assert store.statuses("p", ["q"]) == {"q": "active"}
    edit = store.events("p")[0]
    assert edit["author"] == "bo"
    store.undo("p", edit["id"], "bo")
    stored = store.get_example("p", "q")
    assert stored.status == "needs_answer"
    assert [m.role for m in stored.example.messages] == ["user"]


def test_swapping_a_preference_is_a_revision_that_undo_reverses(store: Store) -> None:
    _import(store, [_pair_example("a", "7", "8")])
    ex = store.get_example("p", "a").example
    swapped = [Candidate(c.messages, rank=3 - (c.rank or 0)) for c in ex.candidates]
    ex.candidates = swapped
    store.edit_messages(
        "p", "a", ex.messages, "bo", "swapped", expected_revision=0,
        preference=ex.preference_payload(),
    )  # fmt: skip
    after = store.get_example("p", "a").example
    assert after.chosen is not None and after.chosen.messages[0].content == "8"
    revisions = store.revisions("p", "a")
    assert [r["revision"] for r in revisions] == [0, 1]
    assert revisions[0]["preference"]["candidates"][0]["rank"] == 1
    # a second editor who read revision 0 is refused
    with pytest.raises(ConflictError):
        store.edit_messages(
            "p", "a", ex.messages, "cy", "tie", expected_revision=0,
            preference={"candidates": [c.to_dict() for c in swapped]},
        )  # fmt: skip
    store.undo("p", store.events("p")[0]["id"], "bo")
    back = store.get_example("p", "a").example
    assert back.chosen is not None and back.chosen.messages[0].content == "7"


def test_kto_label_is_stored_and_editing_messages_keeps_it(store: Store) -> None:
    ex = Example("k", [Message("user", "hi"), Message("assistant", "go away")], desirable=False)
    _import(store, [ex])
    assert store.get_example("p", "k").example.kind == "feedback"
    store.edit_messages(
        "p", "k", [Message("user", "hi"), Message("assistant", "Hello!")], "bo", "kinder"
    )
    after = store.get_example("p", "k").example
    assert after.desirable is False
    assert after.messages[-1].content == "Hello!"


def test_restoring_a_rejected_example_without_an_answer_leaves_it_needing_one(
    store: Store,
) -> None:
    _import(store, [Example("q", [Message("user", "Why?")]), _pair_example("a", "7", "8")])
    store.set_status("p", ["q", "a"], "rejected", "bo", "off topic")
    assert store.statuses("p", ["q", "a"]) == {"q": "rejected", "a": "rejected"}
    store.set_status("p", ["q", "a"], "active", "bo", "restored")
    assert store.statuses("p", ["q", "a"]) == {"q": "needs_answer", "a": "active"}


def test_a_tie_at_the_top_of_a_ranking_is_a_tie_even_with_unranked_candidates() -> None:
    answers = [[Message("assistant", t)] for t in ("a", "b", "c", "d")]
    ex = Example("r", [Message("user", "Pick one.")])
    ex.candidates = [
        Candidate(answers[0], rank=1),
        Candidate(answers[1], rank=1),
        Candidate(answers[2]),
        Candidate(answers[3]),
    ]
    assert ex.is_tie and ex.chosen is None and ex.rejected is None
    ex.candidates[1].rank = 2
    assert not ex.is_tie and ex.chosen is ex.candidates[0] and ex.rejected is ex.candidates[1]
    ex.candidates = [Candidate(answers[0], rank=1), Candidate(answers[1])]
    assert not ex.is_tie  # one ranked answer and one unranked: no tie, no pair
