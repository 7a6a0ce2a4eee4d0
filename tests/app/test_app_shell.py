"""AppTest of the entry script: project creation, annotator name and the sidebar counts."""

from __future__ import annotations

from pathlib import Path

from curation.formats import read_examples
from curation.store import Store


def test_create_project_from_sidebar(open_page, store: Store) -> None:
    at = open_page(project=None)
    at.text_input(key="new_project_name").input("demo").run()
    at.button(key="create_project").click().run()
    assert not at.exception
    assert store.list_projects() == ["demo"]
    assert at.session_state["project"] == "demo"
    # the new project is empty, so the Import page (the default) asks for a file
    assert at.title[0].value == "Import"


def test_duplicate_project_name_is_an_error(open_page, store: Store) -> None:
    store.create_project("demo", "ada")
    at = open_page(project="demo")
    at.text_input(key="new_project_name").input("demo").run()
    at.button(key="create_project").click().run()
    assert any("already exists" in e.value for e in at.error)


def test_pages_ask_for_a_name_first(open_page, store: Store) -> None:
    store.create_project("p", "ada")
    at = open_page(project="p", user="")
    assert any("annotator name" in i.value for i in at.info)


def test_sidebar_counts(open_page, store: Store, shared_data: Path) -> None:
    store.create_project("p", "ada")
    store.add_import("p", read_examples(shared_data / "llamafactory" / "identity.json"), "ada")
    at = open_page(project="p")
    metrics = {m.label: m.value for m in at.sidebar.metric}
    assert metrics["Active"] == "91"
    assert metrics["Duplicates"] == "0"
