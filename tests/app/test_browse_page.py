"""AppTest of the Browse page: paging, search, filters and inert rendering of untrusted text."""

from __future__ import annotations

import json
from pathlib import Path

from curation.formats import read_examples
from curation.store import Store
from tests.app.markup import shown

PAGE = "pages/browse_page.py"


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
    at.text_area(key=f"edit_{first.id}_0_{last}").input("A better answer.").run()
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
