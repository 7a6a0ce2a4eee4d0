"""Annotators' edits of preference and feedback examples: one undoable revision each, refusals."""

from __future__ import annotations

import pytest

from curation import preference as pref
from curation.errors import ConflictError, InputError
from curation.formats.results import ImportResult
from curation.records import Candidate, Example, Message, pair
from curation.store import Store

PROMPT = [Message("system", "Be brief."), Message("user", "Name a prime number.")]
CALLS = '[{"type": "function", "function": {"name": "primes", "arguments": "{}"}}]'


def _answer(text: str) -> list[Message]:
    return [Message("assistant", text)]


def _pair(ex_id: str = "a") -> Example:
    return Example(ex_id, list(PROMPT), candidates=pair(_answer("7"), _answer("8")))


def _ranking(ranks: list[int | None]) -> Example:
    return Example(
        "r",
        list(PROMPT),
        candidates=[
            Candidate(_answer(f"answer {i}"), rank=r, score=float(i), name=f"m{i}")
            for i, r in enumerate(ranks)
        ],
    )


def _ranks(candidates: list[Candidate]) -> list[int | None]:
    return [c.rank for c in candidates]


def _texts(ex: Example) -> list[str]:
    return [c.messages[-1].content for c in ex.candidates]


@pytest.fixture
def store(db_url: str) -> Store:
    st = Store(db_url)
    yield st
    st.dispose()


def _import(store: Store, examples: list[Example]) -> None:
    store.ensure_project("p", "ada")
    store.add_import("p", ImportResult(examples=examples, source="f.jsonl", sha256="x" * 64), "ada")


def _latest_edit(store: Store) -> dict:
    return store.events("p", kinds=["edit"])[0]


# ---- on candidates alone ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ranks", "index", "expected"),
    [
        ([1, 2], 1, [2, 1]),
        ([1, 2, 3], 2, [2, 3, 1]),
        ([1, 2, 3], 1, [2, 1, 3]),
        ([1, 1, 2], 2, [2, 2, 1]),  # the others keep their tie
        ([None, None, None], 1, [2, 1, 2]),  # unranked ones share the rank below
        ([1, None, 3], 1, [2, 1, 3]),
        ([2, 2], 0, [1, 2]),
    ],
)
def test_preferring_ranks_one_first_and_keeps_the_others_order(
    ranks: list[int | None], index: int, expected: list[int]
) -> None:
    ex = _ranking(ranks)
    after = pref.preferring(ex, index)
    assert _ranks(after) == expected
    # scores and names travel with their candidate
    assert [(c.score, c.name) for c in after] == [(c.score, c.name) for c in ex.candidates]


def test_preferring_the_chosen_one_or_a_missing_one_is_refused() -> None:
    with pytest.raises(InputError, match="already the chosen one"):
        pref.preferring(_ranking([1, 2, 3]), 0)
    with pytest.raises(InputError, match="candidates 1 to 3; there is no candidate 4"):
        pref.preferring(_ranking([1, 2, 3]), 3)
    with pytest.raises(InputError, match="no candidate 0"):
        pref.preferring(_ranking([1, 2, 3]), -1)


def test_swap_exchanges_best_and_worst_only() -> None:
    assert _ranks(pref.swapped(_ranking([1, 2, 3]))) == [3, 2, 1]
    for nonsense in (_ranking([1, 1]), _ranking([None, None])):
        with pytest.raises(InputError, match="prefer one of its candidates instead"):
            pref.swapped(nonsense)


def test_labels_of_kinds_and_candidates() -> None:
    answered = [Message("user", "hi"), Message("assistant", "hello")]
    assert pref.kind_label(_pair()) == "pair"
    assert pref.kind_label(_ranking([1, 2, 3])) == "ranking"
    assert pref.kind_label(_ranking([1, 1])) == "tie"
    assert pref.kind_label(_ranking([None, None])) == "unranked"
    assert pref.kind_label(Example("k", answered, desirable=False)) == "KTO"
    assert pref.kind_label(Example("q", [Message("user", "hi")])) == "needs answer"
    assert pref.kind_label(Example("s", answered)) == "sft"
    ranking = _ranking([2, 1, 3, None])
    assert [pref.candidate_label(ranking, i) for i in range(4)] == [
        "rank 2",
        "chosen",
        "rejected",
        "unranked",
    ]
    assert [pref.candidate_label(_ranking([1, 1]), i) for i in range(2)] == ["tie", "tie"]


def test_new_answer_text_keeps_tool_calls_and_the_candidates_place() -> None:
    called = Candidate(
        [Message("assistant", "Let me look.", tool_calls=CALLS), Message("tool", "[2, 3, 5]")]
        + [Message("assistant", "2", name="bot")],
        rank=1,
        score=9.0,
        name="model-x",
    )
    ex = Example("t", list(PROMPT), candidates=[called, Candidate(_answer("9"), rank=2)])
    after = pref.with_final_answer(ex, 0, "3")
    edited = after[0]
    assert [m.content for m in edited.messages] == ["Let me look.", "[2, 3, 5]", "3"]
    assert edited.messages[0].tool_calls == CALLS
    assert edited.messages[2].name == "bot"
    assert (edited.rank, edited.score, edited.name) == (1, 9.0, "model-x")
    assert after[1] is ex.candidates[1]
    with pytest.raises(InputError, match="empty"):
        pref.with_final_answer(ex, 1, "  \n")
    with pytest.raises(InputError, match="nothing to save"):
        pref.with_final_answer(ex, 1, "9")


# ---- as revisions in the store ----------------------------------------------------------------


def test_swap_is_one_revision_by_its_author_that_undo_reverses(store: Store) -> None:
    _import(store, [_pair()])
    rev = pref.swap_preference(store, "p", "a", author="bo", expected_revision=0)
    assert rev == 1
    after = store.get_example("p", "a").example
    assert after.chosen is not None and after.chosen.messages[0].content == "8"
    assert after.rejected is not None and after.rejected.messages[0].content == "7"
    assert [m.content for m in after.messages] == [m.content for m in PROMPT]
    edit = _latest_edit(store)
    assert edit["author"] == "bo"
    assert [r["author"] for r in store.revisions("p", "a")] == ["import", "bo"]
    store.undo("p", edit["id"], "bo")
    back = store.get_example("p", "a")
    assert back.example.chosen is not None and back.example.chosen.messages[0].content == "7"
    assert back.status == "active"


def test_prefer_one_of_three_then_tie_then_undo_both(store: Store) -> None:
    _import(store, [_ranking([1, 2, 3])])
    pref.set_preferred(store, "p", "r", 2, author="bo", expected_revision=0)
    ex = store.get_example("p", "r").example
    assert _ranks(ex.candidates) == [2, 3, 1]
    assert ex.chosen is ex.candidates[2]
    assert _latest_edit(store)["summary"].startswith("preferred candidate 3")
    pref.mark_tie(store, "p", "r", author="cy", expected_revision=1)
    ex = store.get_example("p", "r").example
    assert ex.is_tie and ex.chosen is None
    assert _ranks(ex.candidates) == [1, 1, 1]
    # scores and names survive both edits
    assert [(c.score, c.name) for c in ex.candidates] == [(0.0, "m0"), (1.0, "m1"), (2.0, "m2")]
    tie_edit, prefer_edit = store.events("p", kinds=["edit"])  # newest first
    store.undo("p", tie_edit["id"], "cy")
    assert _ranks(store.get_example("p", "r").example.candidates) == [2, 3, 1]
    store.undo("p", prefer_edit["id"], "bo")
    assert _ranks(store.get_example("p", "r").example.candidates) == [1, 2, 3]


def test_edit_a_candidate_keeps_the_other_and_the_prompt(store: Store) -> None:
    _import(store, [_pair()])
    pref.edit_candidate(
        store, "p", "a", 1, "9 is not prime; 11 is.", author="bo", expected_revision=0
    )
    ex = store.get_example("p", "a").example
    assert _texts(ex) == ["7", "9 is not prime; 11 is."]
    assert _ranks(ex.candidates) == [1, 2]
    assert [m.content for m in ex.messages] == [m.content for m in PROMPT]
    store.undo("p", _latest_edit(store)["id"], "bo")
    assert _texts(store.get_example("p", "a").example) == ["7", "8"]


def test_kto_label_flips_and_clears_and_undo_restores_it(store: Store) -> None:
    convo = [Message("user", "hi"), Message("assistant", "go away")]
    _import(store, [Example("k", convo, desirable=False)])
    pref.set_desirable(store, "p", "k", True, author="bo", expected_revision=0)
    assert store.get_example("p", "k").example.desirable is True
    pref.set_desirable(store, "p", "k", None, author="bo", expected_revision=1)
    cleared = store.get_example("p", "k").example
    assert cleared.desirable is None and cleared.kind == "sft"
    assert [m.content for m in cleared.messages] == ["hi", "go away"]
    store.undo("p", _latest_edit(store)["id"], "bo")
    assert store.get_example("p", "k").example.desirable is True


def test_writing_the_answer_activates_the_example_and_undo_takes_it_back(store: Store) -> None:
    _import(store, [Example("q", [Message("user", "What is 2+2?")])])
    assert store.get_example("p", "q").status == "needs_answer"
    pref.write_answer(store, "p", "q", "4", author="bo", expected_revision=0)
    now = store.get_example("p", "q")
    assert now.status == "active"
    assert [(m.role, m.content) for m in now.example.messages] == [
        ("user", "What is 2+2?"),
        ("assistant", "4"),
    ]
    store.undo("p", _latest_edit(store)["id"], "bo")
    back = store.get_example("p", "q")
    assert back.status == "needs_answer"
    assert len(back.example.messages) == 1


def test_nonsense_is_refused_and_writes_nothing(store: Store) -> None:
    convo = [Message("user", "hi"), Message("assistant", "hello")]
    _import(
        store,
        [_pair(), Example("s", convo), Example("q", [Message("user", "?")])],
    )
    refusals = [
        (lambda: pref.swap_preference(store, "p", "s", author="bo", expected_revision=0), "swap"),
        (lambda: pref.mark_tie(store, "p", "s", author="bo", expected_revision=0), "tie needs"),
        (
            lambda: pref.edit_candidate(store, "p", "a", 2, "x", author="bo", expected_revision=0),
            "no candidate 3",
        ),
        (
            lambda: pref.edit_candidate(store, "p", "s", 0, "x", author="bo", expected_revision=0),
            "no candidate answers",
        ),
        (
            lambda: pref.set_desirable(store, "p", "a", True, author="bo", expected_revision=0),
            "candidate answers",
        ),
        (
            lambda: pref.set_desirable(store, "p", "q", True, author="bo", expected_revision=0),
            "write its answer first",
        ),
        (
            lambda: pref.write_answer(store, "p", "q", " \n ", author="bo", expected_revision=0),
            "answer is empty",
        ),
        (
            lambda: pref.write_answer(store, "p", "s", "more", author="bo", expected_revision=0),
            "already has an answer",
        ),
    ]
    for call, message in refusals:
        with pytest.raises(InputError, match=message):
            call()
    assert store.events("p", kinds=["edit"]) == []
    assert {e.id: e.revision for e in store.list_examples("p", limit=None)} == {
        "a": 0,
        "s": 0,
        "q": 0,
    }


def test_two_editors_of_one_revision_the_second_is_told_and_nothing_is_lost(store: Store) -> None:
    _import(store, [_pair()])
    seen = store.get_example("p", "a").revision  # both opened revision 0
    pref.swap_preference(store, "p", "a", author="bo", expected_revision=seen)
    with pytest.raises(ConflictError, match="changed by someone else"):
        pref.mark_tie(store, "p", "a", author="cy", expected_revision=seen)
    with pytest.raises(ConflictError):
        pref.write_answer(store, "p", "a", "x", author="cy", expected_revision=seen)
    ex = store.get_example("p", "a")
    assert ex.revision == 1
    assert ex.example.chosen is not None and ex.example.chosen.messages[0].content == "8"
    assert [e["author"] for e in store.events("p", kinds=["edit"])] == ["bo"]
    # having looked again, the second editor's change applies to the new revision
    pref.mark_tie(store, "p", "a", author="cy", expected_revision=ex.revision)
    assert store.get_example("p", "a").example.is_tie
