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
