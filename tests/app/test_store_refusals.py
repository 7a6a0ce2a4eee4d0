"""AppTest of what the pages show when the store refuses: a bad project name, a blocked undo.

The name is never changed behind the user's back, and a refused undo names what to undo first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.store import Store
from tests.unit.store_helpers import seed_project

ACTIVITY = "pages/activity_page.py"


@pytest.mark.parametrize(
    ("name", "why"),
    [(" padded ", "starts or ends with a space"), ("../../tmp/x", "path separator")],
)
def test_a_bad_project_name_is_shown_and_nothing_is_created(
    open_page, store: Store, name: str, why: str
) -> None:
    at = open_page(project=None)
    at.text_input(key="new_project_name").input(name).run()
    at.button(key="create_project").click().run()
    assert not at.exception
    assert any(why in e.value for e in at.error), [e.value for e in at.error]
    assert store.list_projects() == []
    assert at.session_state["project"] is None
    assert at.text_input(key="new_project_name").value == name  # kept for the user to fix


def test_a_name_in_another_script_is_created_as_typed(open_page, store: Store) -> None:
    at = open_page(project=None)
    at.text_input(key="new_project_name").input("Café crème 2").run()
    at.button(key="create_project").click().run()
    assert store.list_projects() == ["Café crème 2"]
    assert at.session_state["project"] == "Café crème 2"


def test_undo_of_an_import_after_someone_elses_change_is_refused_on_the_page(
    open_page, store: Store, tmp_path: Path
) -> None:
    ids = seed_project(store, tmp_path, 10)
    imported = store.events("p", kinds=["import"])[0]["id"]
    later = store.set_status("p", [ids[2]], "rejected", "bob", "wrong answer")
    at = open_page(ACTIVITY)
    at.button(key=f"undo_{imported}").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1
    assert "1 of its 10 examples" in errors[0] and "bob" in errors[0]
    assert f"\\#{later}" in errors[0] or f"#{later}" in errors[0]
    assert store.count_examples("p") == 10
    assert not store.events("p", kinds=["undo"])
