"""AppTest of Browse on preference and feedback data: candidates side by side, swap, tie, prefer,
edit, reject, the KTO toggle, and writing the answer of a prompt that has none."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from curation import preference as pref
from curation.formats.results import ImportResult
from curation.records import Candidate, Example, Message
from curation.store import Store
from tests.app.markup import shown

PAGE = "pages/browse_page.py"
PROMPT = [Message("system", "Answer in one word."), Message("user", "Name a prime number.")]


def _answer(text: str) -> list[Message]:
    return [Message("assistant", text)]


def _seed(store: Store) -> None:
    examples = [
        Example(
            "pair1",
            list(PROMPT),
            candidates=[
                Candidate(_answer("Seven."), rank=1, score=8.5, name="model-a"),
                Candidate(_answer("Eight."), rank=2, score=2.0, name="model-b"),
            ],
        ),
        Example(
            "rank3",
            [Message("user", "Pick a colour.")],
            candidates=[Candidate(_answer(t), rank=r) for t, r in [("Red", 2), ("Blue", 1)]]
            + [Candidate(_answer("Plaid"), rank=3)],
        ),
        Example("kto1", [Message("user", "hi"), Message("assistant", "go away")], desirable=False),
        Example("sft1", [Message("user", "hello"), Message("assistant", "Hello! How can I help?")]),
        Example("q1", [Message("user", "What is 2+2?")]),
    ]
    store.ensure_project("p", "ada")
    store.add_import("p", ImportResult(examples=examples, source="f.jsonl", sha256="x" * 64), "ada")


def _open(at: AppTest, example_id: str) -> None:
    at.text_input(key="browse_goto").input(example_id).run()
    assert not at.exception, at.exception
    assert shown(at.subheader[0].value) == f"Example {example_id}"


def _candidates(at: AppTest) -> dict[str, list[str]]:
    """Each candidate's column: its heading -> the texts shown in it."""
    return {
        shown(col.markdown[0].value): [t.value for t in col.text]
        for col in at.columns
        if col.markdown and "· candidate" in col.markdown[0].value
    }


def _keys(at: AppTest) -> set[str]:
    return {b.key for b in at.button}


def test_a_pair_shows_its_prompt_once_and_both_candidates_labelled(open_page, store: Store) -> None:
    _seed(store)
    at = open_page(PAGE)
    assert shown(at.subheader[0].value) == "Example pair1"  # the first row opens
    texts = [t.value for t in at.text]
    assert texts.count("Name a prime number.") == 1
    assert texts.count("Answer in one word.") == 1
    assert _candidates(at) == {
        ":green[**chosen**] · candidate 1": ["Seven."],
        ":red[**rejected**] · candidate 2": ["Eight."],
    }
    captions = [shown(c.value) for c in at.caption]
    assert "rank 1 · score 8.5 · by model-a" in captions
    assert "rank 2 · score 2 · by model-b" in captions
    assert {"pref_swap", "pref_tie", "cand_save_0", "cand_save_1"} <= _keys(at)
    assert at.button(key="reject_example").label == "Reject the pair"
    table = at.dataframe[0].value
    assert dict(zip(table["id"], table["kind"], strict=True)) == {
        "pair1": "pair",
        "rank3": "ranking",
        "kto1": "KTO",
        "sft1": "sft",
    }


def test_swap_changes_the_stored_chosen_answer_as_a_revision_by_the_user(
    open_page, store: Store
) -> None:
    _seed(store)
    at = open_page(PAGE)
    at.button(key="pref_swap").click().run()
    assert not at.exception, at.exception
    stored = store.get_example("p", "pair1")
    assert stored.revision == 1
    assert stored.example.chosen is not None
    assert stored.example.chosen.messages[0].content == "Eight."
    assert [r["author"] for r in store.revisions("p", "pair1")] == ["import", "ada"]
    assert store.events("p", kinds=["edit"])[0]["author"] == "ada"
    assert _candidates(at) == {
        ":red[**rejected**] · candidate 1": ["Seven."],
        ":green[**chosen**] · candidate 2": ["Eight."],
    }
    assert "revision 1" in shown(at.toast[0].value)


def test_mark_tie_then_prefer_one(open_page, store: Store) -> None:
    _seed(store)
    at = open_page(PAGE)
    at.button(key="pref_tie").click().run()
    assert store.get_example("p", "pair1").example.is_tie
    assert _candidates(at) == {
        "**tie** · candidate 1": ["Seven."],
        "**tie** · candidate 2": ["Eight."],
    }
    assert "pref_tie" not in _keys(at) and "pref_swap" not in _keys(at)
    at.button(key="pref_prefer_1").click().run()
    ex = store.get_example("p", "pair1").example
    assert [c.rank for c in ex.candidates] == [2, 1]
    assert store.get_example("p", "pair1").revision == 2


def test_prefer_one_of_three_candidates(open_page, store: Store) -> None:
    _seed(store)
    at = open_page(PAGE)
    _open(at, "rank3")
    assert _candidates(at) == {
        "**rank 2** · candidate 1": ["Red"],
        ":green[**chosen**] · candidate 2": ["Blue"],
        ":red[**rejected**] · candidate 3": ["Plaid"],
    }
    # the chosen one is not offered; swap is for pairs
    assert {"pref_prefer_0", "pref_prefer_2"} <= _keys(at)
    assert "pref_prefer_1" not in _keys(at) and "pref_swap" not in _keys(at)
    at.button(key="pref_prefer_2").click().run()
    assert [c.rank for c in store.get_example("p", "rank3").example.candidates] == [3, 2, 1]
    assert at.button(key="reject_example").label == "Reject this example"


def test_edit_a_candidate_saves_its_text_as_a_revision(open_page, store: Store) -> None:
    _seed(store)
    at = open_page(PAGE)
    # typed and saved with one click (the form commits the text with the click)
    at.text_area(key="cand_pair1_0_1").input("Eight is not prime.")
    at.button(key="cand_save_1").click().run()
    assert not at.exception, at.exception
    ex = store.get_example("p", "pair1").example
    assert [c.messages[-1].content for c in ex.candidates] == ["Seven.", "Eight is not prime."]
    assert [c.rank for c in ex.candidates] == [1, 2]
    assert store.events("p", kinds=["edit"])[0]["author"] == "ada"
    assert _candidates(at)[":red[**rejected**] · candidate 2"] == ["Eight is not prime."]


def test_reject_the_pair_then_restore_it(open_page, store: Store) -> None:
    _seed(store)
    at = open_page(PAGE)
    at.button(key="reject_example").click().run()
    assert store.get_example("p", "pair1").status == "rejected"
    _open(at, "pair1")
    assert at.button(key="restore_example").label == "Restore to active"
    at.button(key="restore_example").click().run()
    assert store.get_example("p", "pair1").status == "active"


def test_a_prompt_without_an_answer_is_found_and_answered(open_page, store: Store) -> None:
    _seed(store)
    at = open_page(PAGE)
    assert [i.value for i in at.info] == ["1 example needs an answer: a prompt with no reply yet."]
    assert "q1" not in list(at.dataframe[0].value["id"])  # the default list shows active ones
    at.button(key="browse_show_needing").click().run()
    assert at.multiselect(key="browse_status").value == ["needs_answer"]
    table = at.dataframe[0].value
    assert list(table["id"]) == ["q1"] and list(table["kind"]) == ["needs answer"]
    assert shown(at.subheader[0].value) == "Example q1"
    assert [w.value for w in at.warning] == ["This example still needs an answer."]
    assert "restore_example" not in _keys(at)
    at.text_area(key="answer_q1_0").input("4")
    at.button(key="answer_save").click().run()
    assert not at.exception, at.exception
    stored = store.get_example("p", "q1")
    assert stored.status == "active"
    assert [(m.role, m.content) for m in stored.example.messages] == [
        ("user", "What is 2+2?"),
        ("assistant", "4"),
    ]
    assert store.revisions("p", "q1")[-1]["author"] == "ada"
    assert not at.warning
    assert "answer_save" not in _keys(at)


def test_kto_label_toggle(open_page, store: Store) -> None:
    _seed(store)
    at = open_page(PAGE)
    _open(at, "kto1")
    assert "KTO label: **undesirable**" in [m.value for m in at.markdown]
    toggle = at.toggle(key="kto_kto1_0")
    assert toggle.value is False
    toggle.set_value(True).run()
    assert not at.exception, at.exception
    stored = store.get_example("p", "kto1")
    assert stored.example.desirable is True and stored.revision == 1
    assert store.events("p", kinds=["edit"])[0]["author"] == "ada"
    assert "KTO label: **desirable**" in [m.value for m in at.markdown]
    assert at.toggle(key="kto_kto1_1").value is True


def test_an_edit_made_meanwhile_by_someone_else_is_reported_not_overwritten(
    open_page, store: Store
) -> None:
    _seed(store)
    at = open_page(PAGE)  # ada sees pair1 at revision 0
    pref.swap_preference(store, "p", "pair1", author="bo", expected_revision=0)
    at.button(key="pref_tie").click().run()
    assert any("changed by someone else" in shown(e.value) for e in at.error)
    stored = store.get_example("p", "pair1")
    assert stored.revision == 1 and not stored.example.is_tie
    assert [e["author"] for e in store.events("p", kinds=["edit"])] == ["bo"]
    # the page now shows bo's version
    assert ":green[**chosen**] · candidate 2" in _candidates(at)


def test_a_rejected_prompt_without_an_answer_is_restored_as_needing_one(
    open_page, store: Store
) -> None:
    _seed(store)
    store.set_status("p", ["q1"], "rejected", "bo", "off topic")
    at = open_page(PAGE)
    assert not at.info  # no prompt is waiting for an answer now
    _open(at, "q1")
    restore = at.button(key="restore_example")
    assert restore.label == "Restore (it still needs an answer)"
    restore.click().run()
    assert store.get_example("p", "q1").status == "needs_answer"


def test_more_than_four_candidates_are_stacked(open_page, store: Store) -> None:
    answers = ["a", "b", "c", "d", "e"]
    ex = Example(
        "five",
        [Message("user", "Say a letter.")],
        candidates=[Candidate(_answer(t), rank=i + 1) for i, t in enumerate(answers)],
    )
    store.ensure_project("p", "ada")
    store.add_import("p", ImportResult(examples=[ex], source="f.jsonl", sha256="y" * 64), "ada")
    at = open_page(PAGE)
    assert _candidates(at) == {}  # not in columns
    headings = [m.value for m in at.markdown if "· candidate" in m.value]
    assert headings == [
        ":green[**chosen**] · candidate 1",
        "**rank 2** · candidate 2",
        "**rank 3** · candidate 3",
        "**rank 4** · candidate 4",
        ":red[**rejected**] · candidate 5",
    ]
    assert [t.value for t in at.text] == ["Say a letter.", *answers]
