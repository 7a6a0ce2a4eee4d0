"""AppTest of the Label page: two annotators disagree and a reviewer resolves, keyboard
shortcuts on the buttons, suggestions that stay suggestions, skip and previous, an in-place
edit, a bulk action with its undo, the label check as a job, the schema view, and guidelines
rendered as safe markdown (markdown-it as the oracle).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from curation.formats import read_examples
from curation.labeling import (
    LabelSchema,
    MultiChoiceField,
    SingleChoiceField,
    VerdictField,
)
from curation.labeling import project as lp
from curation.store import Store
from curation.store import labels as repo
from tests.app.markup import shown
from tests.app.waiting import finish_jobs
from tests.e2e.hostile import LEAK_HOST, MARKUP_CASES
from tests.unit.test_label_project import FLIPPED, SCIENCE, SPORTS
from ui.labeling import guideline_blocks

PAGE = "pages/label_page.py"
SCHEMA = LabelSchema(
    fields=(
        VerdictField(),
        SingleChoiceField("topic", ("sports", "science")),
        MultiChoiceField("tags", ("short", "long")),
    ),
    annotators_per_example=2,
    guidelines="# Topic\nPick **sports** or **science**.",
)


def _project(store: Store, tmp_path: Path, rows: list[dict], schema: LabelSchema = SCHEMA) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    store.create_project("p", "ada")
    store.add_import("p", read_examples(path), "ada")
    if schema is not None:
        lp.save_schema(store, "p", schema, "ada")


def _rows(n: int = 3) -> list[dict]:
    return [
        {"id": f"e{i}", "instruction": f"Question {i}?", "output": f"Answer {i}."} for i in range(n)
    ]


def _click(at, key: str):  # type: ignore[no-untyped-def]
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def _current(at) -> str:  # type: ignore[no-untyped-def]
    heads = [shown(h.value) for h in at.subheader if shown(h.value).startswith("Example ")]
    assert heads, [h.value for h in at.subheader]
    return heads[0].removeprefix("Example ")


def _mine(store: Store, who: str, role: str = "annotator") -> dict[tuple[str, str], object]:
    return {
        (r.example_id, r.field): r.value
        for r in repo.list_labels(store, "p")
        if r.annotator == who and r.role == role
    }


def test_two_annotators_disagree_and_a_reviewer_resolves(
    open_page, store: Store, tmp_path: Path
) -> None:
    _project(store, tmp_path, _rows())
    bob = open_page(PAGE, user="bob")
    assert _current(bob) == "e0"
    # the guidelines beside the work, rendered from the owner's markdown
    assert any(m.value.startswith("# Topic") for m in bob.markdown)
    _click(bob, "label_choice_topic_0")  # "1 · sports"
    _click(bob, "label_verdict_verdict_accept")  # saves and moves on
    # no tag was chosen: none is recorded (an untouched widget gives no value)
    assert _mine(store, "bob") == {("e0", "verdict"): "accept", ("e0", "topic"): "sports"}
    assert _current(bob) == "e1"

    cy = open_page(PAGE, user="cy")
    # e0 was started by bob: it is finished first, and cy sees none of bob's labels
    assert _current(cy) == "e0"
    assert not [d for d in cy.dataframe if "annotator" in d.value.columns]
    assert not any("bob" in shown(c.value) for c in cy.caption)
    _click(cy, "label_choice_topic_1")  # science
    cy.multiselect(key="label_value_tags").set_value(["short"]).run()
    _click(cy, "label_verdict_verdict_reject")
    assert _mine(store, "cy")[("e0", "topic")] == "science"
    assert lp.disagreements(store, "p") == ["e0"]
    # after labelling, cy may see bob's labels on e0 (Previous goes back to it)
    _click(cy, "label_previous")
    assert _current(cy) == "e0"
    others = next(d.value for d in cy.dataframe if "annotator" in d.value.columns)
    assert set(others["annotator"]) == {"bob"}

    ada = open_page(PAGE, user="ada")  # the owner reviews
    ada.radio(key="label_view").set_value("Review").run()
    assert not ada.exception, ada.exception
    assert ada.selectbox(key="label_review_pick").value == "e0"
    table = next(d.value for d in ada.dataframe if "final" in d.value.columns)
    topic = table[table["field"] == "topic"].iloc[0]
    assert (topic["bob"], topic["cy"], topic["status"]) == ("sports", "science", "unresolved")
    # form widgets: set them all, then submit (a run in between would not submit them)
    ada.selectbox(key="label_review_e0_topic").set_value("science")
    ada.selectbox(key="label_review_e0_verdict").set_value("reject")
    ada.button[[b.label for b in ada.button].index("Set final labels")].click().run()
    assert not ada.exception, ada.exception
    finals = lp.final_labels(store, "p")["e0"]
    assert (finals["topic"].value, finals["topic"].status, finals["topic"].decided_by) == (
        "science",
        "reviewed",
        "ada",
    )
    assert finals["verdict"].value == "reject"
    # tags: only cy gave one, one vote of the two needed, so pending rather than in dispute
    assert finals["tags"].status == "pending"
    assert lp.disagreements(store, "p") == []
    assert _mine(store, "ada", role="reviewer") == {
        ("e0", "topic"): "science",
        ("e0", "verdict"): "reject",
    }

    bob.radio(key="label_view").set_value("Review").run()
    assert any("Reviewers set final labels" in shown(i.value) for i in bob.info)


def test_verdicts_categories_and_moves_have_keyboard_shortcuts(
    open_page, store: Store, tmp_path: Path
) -> None:
    _project(store, tmp_path, _rows())
    at = open_page(PAGE, user="bob")
    keys = {b.key: b.proto.shortcut for b in at.button if b.key}
    assert keys["label_verdict_verdict_accept"] == "a"
    assert keys["label_verdict_verdict_needs_fix"] == "f"
    assert keys["label_verdict_verdict_reject"] == "x"
    assert (keys["label_choice_topic_0"], keys["label_choice_topic_1"]) == ("1", "2")
    assert (keys["label_save"], keys["label_skip"], keys["label_previous"]) == ("n", "s", "p")
    # skip: the example comes back only after the others; previous returns to it
    _click(at, "label_skip")
    assert _current(at) == "e1"
    _click(at, "label_previous")
    assert _current(at) == "e0"
    _click(at, "label_save")  # no value chosen: refused, the panel stays
    assert any("has no value" in shown(e.value) for e in at.error)
    assert _current(at) == "e0"


def test_suggestions_stay_suggestions_until_used(open_page, store: Store, tmp_path: Path) -> None:
    rows = [dict(r, topic="science") for r in _rows(2)]
    _project(store, tmp_path, rows)
    lp.adopt_metadata(store, "p", "topic", "ada")
    at = open_page(PAGE, user="bob")
    note = next(shown(i.value) for i in at.info if "Suggested" in i.value)
    assert note == "Suggested topic: **science** (from the data; metadata topic)"
    assert _mine(store, "bob") == {}
    assert at.session_state["label_value_topic"] is None  # not pre-filled as a given label
    _click(at, "label_use_topic_from the data")
    assert at.session_state["label_value_topic"] == "science"
    _click(at, "label_save")
    assert _mine(store, "bob")[("e0", "topic")] == "science"
    imported = [r for r in repo.list_labels(store, "p") if r.role == "imported"]
    assert len(imported) == 2  # the data's labels stay apart from bob's


def test_a_pair_is_shown_side_by_side_and_the_preferred_answer_is_a_label(
    open_page, store: Store, tmp_path: Path
) -> None:
    from curation.labeling import PreferenceField

    rows = [{"prompt": "Name a colour.", "chosen": "Blue.", "rejected": "Seven."}]
    _project(store, tmp_path, rows, schema=LabelSchema(fields=(VerdictField(), PreferenceField())))
    at = open_page(PAGE, user="bob")
    texts = [t.value for t in at.text]
    assert "Blue." in texts and "Seven." in texts  # both candidates, as inert text
    choice = at.radio(key="label_value_preferred")
    assert choice.options == ["candidate 1", "candidate 2", "tie"]
    choice.set_value(1).run()
    _click(at, "label_verdict_verdict_accept")
    (eid,) = [ex.id for ex in store.iter_examples("p")]
    assert _mine(store, "bob") == {(eid, "verdict"): "accept", (eid, "preferred"): 1}
    assert any("Nothing left in this queue" in shown(x.value) for x in at.success)


def test_an_edit_in_place_is_a_revision_and_undo_of_a_save(
    open_page, store: Store, tmp_path: Path
) -> None:
    _project(store, tmp_path, _rows(2))
    at = open_page(PAGE, user="bob")
    at.text_area(key="label_edit_e0_0_1").set_value("Answer zero, fixed.")
    at.button(key="label_edit_save").click().run()
    assert not at.exception, at.exception
    history = store.revisions("p", "e0")
    assert [(h["revision"], h["author"]) for h in history] == [(0, "import"), (1, "bob")]
    assert store.get_example("p", "e0").example.messages[1].content == "Answer zero, fixed."
    _click(at, "label_verdict_verdict_needs_fix")
    event = at.session_state["label_last_event"]
    assert _mine(store, "bob") == {("e0", "verdict"): "needs_fix"}
    _click(at, "label_undo_last")
    assert _mine(store, "bob") == {}
    assert store.events("p", kinds=["labels"])[0]["undone_by"] is not None
    assert event is not None


def test_a_bulk_verdict_on_the_queue_is_one_undoable_event(
    open_page, store: Store, tmp_path: Path
) -> None:
    _project(store, tmp_path, _rows(4))
    at = open_page(PAGE, user="ada")
    at.radio(key="label_view").set_value("Progress & agreement").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Examples"], metrics["Complete"]) == ("4", "0")
    at.selectbox(key="label_bulk_field").set_value("verdict").run()
    at.selectbox(key="label_bulk_value").set_value("reject").run()
    at.text_input(key="label_f_search").set_value("question 1?").run()  # the queue's filter
    assert any("1 example(s) in the queue To do" in shown(c.value) for c in at.caption)
    _click(at, "label_bulk_apply")
    _click(at, "label_bulk_confirm")
    assert _mine(store, "ada") == {("e1", "verdict"): "reject"}
    at.text_input(key="label_f_search").set_value("").run()
    _click(at, "label_bulk_apply")
    _click(at, "label_bulk_confirm")
    assert {v for (_, f), v in _mine(store, "ada").items() if f == "verdict"} == {"reject"}
    assert len(_mine(store, "ada")) == 4
    assert len(store.events("p", kinds=["labels"])) == 2  # e1 already had it: 3 written
    assert store.events("p", kinds=["labels"])[0]["payload"]["n_examples"] == 3
    _click(at, "label_bulk_undo")
    assert _mine(store, "ada") == {("e1", "verdict"): "reject"}


def test_the_label_check_runs_in_the_background_and_is_decided(
    open_page, store: Store, tmp_path: Path
) -> None:
    rows = [
        {
            "id": f"t{i}",
            "instruction": text,
            "output": "Noted.",
            "topic": FLIPPED.get(i, "sports" if i < len(SPORTS) else "science"),
        }
        for i, text in enumerate(SPORTS + SCIENCE)
    ]
    _project(store, tmp_path, rows)
    lp.adopt_metadata(store, "p", "topic", "ada")
    at = open_page(PAGE, user="ada")
    at.radio(key="label_view").set_value("Label errors").run()
    at.selectbox(key="label_issue_field").set_value("topic")
    at.selectbox(key="label_issue_features").set_value("tfidf")
    at.button[[b.label for b in at.button].index("Find label errors")].click().run()
    finish_jobs(at, store)
    table = next(d.value for d in at.dataframe if "suggested" in d.value.columns)
    assert {"t3", "t21"} <= set(table["example"])
    at.selectbox(key="label_issue_pick").set_value("t3").run()
    _click(at, "label_issue_accept")
    final = lp.final_labels(store, "p", example_ids=["t3"])["t3"]["topic"]
    assert (final.value, final.status) == ("sports", "reviewed")
    table = next(d.value for d in at.dataframe if "suggested" in d.value.columns)
    assert table.set_index("example").loc["t3", "decision"] == "accepted"


def test_the_owner_sets_the_schema_and_others_cannot(
    open_page, store: Store, tmp_path: Path
) -> None:
    _project(store, tmp_path, _rows(2), schema=None)  # type: ignore[arg-type]
    bob = open_page(PAGE, user="bob")
    assert any("no label schema yet" in shown(i.value) for i in bob.info)
    assert any("Only the project's owner (ada)" in shown(c.value) for c in bob.caption)
    ada = open_page(PAGE, user="ada")
    _click(ada, "label_schema_start")
    assert [f.name for f in lp.require_schema(store, "p").fields] == ["verdict", "note"]
    ada.selectbox(key="label_add_kind").set_value("single_choice")
    ada.text_input(key="label_add_name").set_value("topic")
    ada.text_input(key="label_add_options").set_value("sports, science")
    ada.button[[b.label for b in ada.button].index("Add field")].click().run()
    assert not ada.exception, ada.exception
    topic = lp.require_schema(store, "p").field("topic")
    assert topic.options == ("sports", "science")  # type: ignore[attr-defined]
    ada.text_input(key="label_add_name").set_value("Bad Name")
    ada.button[[b.label for b in ada.button].index("Add field")].click().run()
    assert any("field name 'Bad Name' is not allowed" in shown(e.value) for e in ada.error)


# ---- guidelines: markdown-it (CommonMark) as the oracle ---------------------------------------

PARSER = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _html(text: str) -> str:
    return "".join(
        PARSER.render(body) for kind, body in guideline_blocks(text) if kind == "markdown"
    )


def test_guidelines_keep_structure_and_nothing_else() -> None:
    html = _html(
        "# Rules\n\nRead **carefully** and _slowly_.\n\n- one\n  - nested\n1. first\n> quoted\n"
        "\n```\n<b>code</b> stays text\n```\n"
    )
    assert "<h1>Rules</h1>" in html
    assert "<strong>carefully</strong>" in html and "<em>slowly</em>" in html
    assert html.count("<ul>") == 2 and "<ol>" in html and "<blockquote>" in html
    codes = [body for kind, body in guideline_blocks("```\n<b>code</b>\n```") if kind == "code"]
    assert codes == ["<b>code</b>"]  # shown by st.code, inert


@pytest.mark.parametrize("case", MARKUP_CASES)
def test_hostile_guidelines_make_no_link_image_or_html(case: str) -> None:
    html = _html(f"Intro {case} end\n\n- item {case}\n\n## Head {case}")
    assert "<a " not in html and "<img" not in html, html
    # guidelines are markdown: a line "# x" in them is a heading, which is structure, not harm
    allowed = {"p", "ul", "ol", "li", "strong", "em", "blockquote", "hr"} | {
        f"h{n}" for n in range(1, 7)
    }
    tags = {t.lstrip("/") for t in re.findall(r"<(/?[a-z0-9]+)", html)}
    assert tags <= allowed, html


def test_link_and_image_addresses_show_as_text() -> None:
    blocks = guideline_blocks(
        f"See [the docs](http://{LEAK_HOST}/x) and ![logo](http://{LEAK_HOST}/l.png)"
    )
    text = shown(blocks[0][1])
    assert text == f"See the docs (http://{LEAK_HOST}/x) and [image: logo]"
