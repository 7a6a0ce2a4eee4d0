"""AppTest of the Activity page: the audit log lists who did what, and Undo reverses a change."""

from __future__ import annotations

from pathlib import Path

from curation.formats import read_examples
from curation.store import Store

PAGE = "pages/activity_page.py"


def test_undo_from_the_log(open_page, store: Store, shared_data: Path) -> None:
    store.create_project("p", "ada")
    store.add_import("p", read_examples(shared_data / "llamafactory" / "identity.json"), "ada")
    first = store.list_examples("p", limit=1)[0].id
    event = store.set_status("p", [first], "rejected", "bob", "off-topic")
    at = open_page(PAGE)
    shown = " ".join(m.value for m in at.markdown)
    assert f"#{event} status** · bob" in shown
    at.button(key=f"undo_{event}").click().run()
    assert not at.exception
    assert store.get_example("p", first).status == "active"
    undo = store.events("p", kinds=["undo"])[0]
    assert undo["author"] == "ada" and undo["payload"]["event"] == event
    # the undone event now says so, and has no Undo button any more
    assert not any(b.key == f"undo_{event}" for b in at.button)


def test_undoing_an_import_asks_first_and_names_what_goes(
    open_page, store: Store, shared_data: Path
) -> None:
    store.create_project("p", "ada")
    store.add_import("p", read_examples(shared_data / "llamafactory" / "identity.json"), "ada")
    event = store.events("p", kinds=["import"])[0]["id"]
    at = open_page(PAGE)
    at.button(key=f"undo_{event}").click().run()
    assert store.count_examples("p") == 91  # nothing happened yet
    (question,) = [w.value for w in at.warning]
    assert "removes the 91 examples imported from identity\\.json by ada" in question
    at.button(key=f"cancel_undo_{event}").click().run()
    assert not at.warning and store.count_examples("p") == 91
    assert any(b.key == f"undo_{event}" for b in at.button)

    at.button(key=f"undo_{event}").click().run()
    at.button(key=f"confirm_undo_{event}").click().run()
    assert not at.exception, at.exception
    assert store.count_examples("p") == 0
    assert store.events("p", kinds=["undo"])[0]["payload"]["event"] == event


def test_undoing_a_large_status_change_asks_first(
    open_page, store: Store, shared_data: Path
) -> None:
    store.create_project("p", "ada")
    store.add_import("p", read_examples(shared_data / "llamafactory" / "identity.json"), "ada")
    ids = [e.id for e in store.list_examples("p", limit=21)]
    event = store.set_status("p", ids[1:], "duplicate", "bob", "dup", duplicate_of=ids[0])
    at = open_page(PAGE)
    at.button(key=f"undo_{event}").click().run()
    (question,) = [w.value for w in at.warning]
    assert "puts 20 examples back from 'duplicate' to 'active'" in question.replace("\\", "")
    assert store.statuses("p", ids[1:]) == dict.fromkeys(ids[1:], "duplicate")
    at.button(key=f"confirm_undo_{event}").click().run()
    assert store.statuses("p", ids[1:]) == dict.fromkeys(ids[1:], "active")
