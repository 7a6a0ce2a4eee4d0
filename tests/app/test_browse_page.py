"""AppTest of the Browse page: paging, search, filters and inert rendering of untrusted text."""

from __future__ import annotations

import json
from pathlib import Path

from curation.formats import read_examples
from curation.store import ExampleFilter, Store
from tests.app.markup import shown
from ui.filters import value_key

PAGE = "pages/browse_page.py"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_pages_of_fifty_and_search(open_page, store: Store, shared_data: Path) -> None:
    store.create_project("p", "ada")
    path = shared_data / "fastchat" / "dummy_conversation.json"
    store.add_import("p", read_examples(path), "ada")
    at = open_page(PAGE)
    assert len(at.dataframe[0].value) == 50
    at.button(key="browse_next").click().run()
    second = at.dataframe[0].value
    assert list(second["id"])[0] == json.loads(path.read_text())[50]["id"]

    records = json.loads(path.read_text())
    needle = "Vicuna"
    expected = sum(
        1
        for r in records
        if any(needle.casefold() in t["value"].casefold() for t in r["conversations"])
    )
    at.text_input(key="browse_search").input(needle).run()
    assert f"**{expected}** matching" in at.markdown[0].value


def test_script_and_markdown_render_inert(open_page, store: Store, tmp_path: Path) -> None:
    hostile = '<script>alert("x")</script> ![img](http://example.invalid/a.png) **bold**'
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"instruction": hostile, "input": "", "output": "<b>ok</b>"}) + "\n")
    store.create_project("p", "ada")
    store.add_import("p", read_examples(path), "ada")
    at = open_page(PAGE)
    texts = [t.value for t in at.text]
    assert hostile in texts and "<b>ok</b>" in texts
    assert not any("<script>" in m.value for m in at.markdown)


def test_edit_from_browse_creates_revision(open_page, store: Store, shared_data: Path) -> None:
    store.create_project("p", "ada")
    store.add_import("p", read_examples(shared_data / "llamafactory" / "identity.json"), "ada")
    at = open_page(PAGE)
    first = store.list_examples("p", limit=1)[0]
    last = len(first.example.messages) - 1
    # typed and saved with ONE click, no run in between (the text commits with the click)
    at.text_area(key=f"edit_{first.id}_0_{last}").input("A better answer.")
    at.button(key="edit_save").click().run()
    assert not at.exception
    now = store.get_example("p", first.id)
    assert now.revision == 1
    assert now.example.messages[-1].content == "A better answer."
    assert store.events("p", kinds=["edit"])[0]["author"] == "ada"


def test_duplicate_links_to_the_kept_example(open_page, store: Store, shared_data: Path) -> None:
    store.create_project("p", "ada")
    store.add_import("p", read_examples(shared_data / "llamafactory" / "identity.json"), "ada")
    ids = [e.id for e in store.list_examples("p", limit=None)]
    kept, dup = ids[80], ids[0]  # the kept one is on another page of the list
    store.set_status("p", [dup], "duplicate", "ada", "near duplicate", duplicate_of=kept)
    at = open_page(PAGE)
    at.multiselect(key="browse_status").set_value(["duplicate"]).run()
    assert shown(at.subheader[0].value) == f"Example {dup}"
    at.button(key="browse_open_kept").click().run()
    assert shown(at.subheader[0].value) == f"Example {kept}"
    at.text_input(key="browse_goto").input("no-such-id").run()
    assert any("No example 'no-such-id'" in shown(e.value) for e in at.error)


def test_boolean_metadata_filter_counts_true_and_false(
    open_page, store: Store, shared_data: Path
) -> None:
    path = shared_data / "self-instruct" / "seed_tasks.jsonl"
    raw = [json.loads(line) for line in path.read_text().splitlines()]
    n_true = sum(len(r["instances"]) for r in raw if r["is_classification"] is True)
    n_false = sum(len(r["instances"]) for r in raw if r["is_classification"] is False)
    store.create_project("p", "ada")
    store.add_import("p", read_examples(path), "ada")
    at = open_page(PAGE)
    at.selectbox(key="browse_meta_field").set_value("is_classification").run()
    values = at.selectbox(key=value_key("browse_meta", "is_classification"))
    assert set(values.options) == {f"true ({n_true})", f"false ({n_false})"}
    values.set_value(True).run()
    assert f"**{n_true}** matching" in shown(at.markdown[0].value)
    at.selectbox(key=value_key("browse_meta", "is_classification")).set_value(False).run()
    assert f"**{n_false}** matching" in shown(at.markdown[0].value)


def test_fields_first_seen_after_row_500_can_be_filtered(
    open_page, store: Store, shared_data: Path
) -> None:
    store.create_project("p", "ada")
    store.add_import(
        "p", read_examples(shared_data / "llamafactory" / "alpaca_en_demo.json"), "ada"
    )
    late = FIXTURES / "benchmarks" / "alpaca_eval_outputs.json"
    records = json.loads(late.read_text())
    store.add_import("p", read_examples(late), "ada")
    at = open_page(PAGE)
    fields = at.selectbox(key="browse_meta_field")
    assert {"dataset", "generator"} <= {o.split(" (")[0] for o in fields.options}
    fields.set_value("dataset").run()
    at.selectbox(key=value_key("browse_meta", "dataset")).set_value("vicuna").run()
    n_vicuna = sum(1 for r in records if r["dataset"] == "vicuna")
    assert f"**{n_vicuna}** matching" in shown(at.markdown[0].value)


def test_latest_action_wins_between_typed_id_and_row_click(
    open_page, store: Store, shared_data: Path
) -> None:
    store.create_project("p", "ada")
    store.add_import("p", read_examples(shared_data / "llamafactory" / "identity.json"), "ada")
    ids = [e.id for e in store.list_examples("p", limit=None)]
    at = open_page(PAGE)
    assert shown(at.subheader[0].value) == f"Example {ids[0]}"
    at.text_input(key="browse_goto").input(ids[70]).run()  # on another page of the list
    assert shown(at.subheader[0].value) == f"Example {ids[70]}"
    # a row click after the typed id opens the row (it did nothing before)
    table = at.dataframe[0]
    at.session_state[table.key] = {"selection": {"rows": [2], "columns": []}}
    at.run()
    assert shown(at.subheader[0].value) == f"Example {ids[2]}"
    assert at.text_input(key="browse_goto").value == ""
    # and typing an id after the click opens the id again
    at.text_input(key="browse_goto").input(ids[5]).run()
    assert shown(at.subheader[0].value) == f"Example {ids[5]}"
    # the same row clicked again later still wins (the table was reset by the typed id)
    table = at.dataframe[0]
    at.session_state[table.key] = {"selection": {"rows": [2], "columns": []}}
    at.run()
    assert shown(at.subheader[0].value) == f"Example {ids[2]}"
    # a filter changed after a typed id: the filtered list decides, the typed id is cleared
    at.text_input(key="browse_goto").input(ids[70]).run()
    at.text_input(key="browse_search").input("name").run()
    first_match = store.list_examples("p", ExampleFilter(search="name"), limit=1)[0].id
    assert shown(at.subheader[0].value) == f"Example {first_match}"
    assert at.text_input(key="browse_goto").value == ""
