"""Undo on a real SQLite file and a real PostgreSQL database: newest first always works, and an
event whose examples were changed later (and not undone) is refused, naming who changed them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from curation.errors import ConflictError, NotFoundError, StoreError
from curation.records import Message
from curation.store import StatusChange, Store
from curation.store import schema as s
from tests.unit.store_helpers import seed_project


@pytest.fixture()
def store(db_url: str) -> Iterator[Store]:
    st = Store(db_url)
    yield st
    st.dispose()


def _import_event(store: Store) -> int:
    return int(store.events("p", kinds=["import"])[0]["id"])


def _edit(store: Store, ex_id: str, tag: str, author: str = "bob") -> int:
    current = store.get_example("p", ex_id)
    store.edit_messages(
        "p",
        ex_id,
        [Message(m.role, f"{m.content} [{tag}]") for m in current.example.messages],
        author,
        f"edit {tag}",
        expected_revision=current.revision,
    )
    return int(store.events("p", kinds=["edit"], limit=1)[0]["id"])


def _texts(store: Store, ex_id: str) -> list[str]:
    return [m.content for m in store.get_example("p", ex_id).example.messages]


# ---- import ----------------------------------------------------------------------------------


def _later_change(store: Store, kind: str, ex_id: str, other: str) -> int:
    if kind == "status":
        return store.set_status("p", [ex_id], "rejected", "bob", "wrong answer")
    if kind == "edit":
        return _edit(store, ex_id, "bob's fix")
    return store.apply_status_changes(  # a dedup decision, as the Deduplicate page makes it
        "p",
        {ex_id: StatusChange("duplicate", "near duplicate", other)},
        "bob",
        "dedup: {n} changed",
        event_kind="dedup",
    )


@pytest.mark.parametrize("kind", ["status", "edit", "dedup"])
def test_undo_import_is_refused_after_another_users_change(
    store: Store, tmp_path: Path, kind: str
) -> None:
    ids = seed_project(store, tmp_path, 10)
    imported = _import_event(store)
    later = _later_change(store, kind, ids[3], ids[0])

    with pytest.raises(ConflictError) as refused:
        store.undo("p", imported, "ada")
    message = str(refused.value)
    assert "1 of its 10 examples" in message
    assert ids[3] in message
    assert f"#{later}" in message and "bob" in message
    assert "undo" in message.lower()
    assert store.count_examples("p") == 10  # nothing was deleted

    store.undo("p", later, "bob")
    store.undo("p", imported, "ada")
    assert store.count_examples("p") == 0
    assert store.list_imports("p") == []


def test_undo_import_names_every_blocking_event(store: Store, tmp_path: Path) -> None:
    ids = seed_project(store, tmp_path, 10)
    imported = _import_event(store)
    first = store.set_status("p", ids[:2], "rejected", "bob", "bad")
    second = _edit(store, ids[5], "carol's fix", author="carol")
    with pytest.raises(ConflictError) as refused:
        store.undo("p", imported, "ada")
    message = str(refused.value)
    assert "3 of its 10 examples" in message
    assert "2 later events" in message
    assert f"#{first}" in message and f"#{second}" in message
    assert "carol" in message and "bob" in message


def test_undo_import_after_the_later_changes_were_undone(store: Store, tmp_path: Path) -> None:
    ids = seed_project(store, tmp_path, 5)
    imported = _import_event(store)
    edit = _edit(store, ids[0], "typo")
    status = store.set_status("p", [ids[1]], "filtered", "bob", "off-topic")
    store.undo("p", status, "bob")
    store.undo("p", edit, "bob")  # the example is back to its imported text (revision 2)
    assert store.get_example("p", ids[0]).revision == 2
    store.undo("p", imported, "ada")
    assert store.count_examples("p") == 0


def test_a_later_import_does_not_block_undoing_an_earlier_one(store: Store, tmp_path: Path) -> None:
    seed_project(store, tmp_path, 4)
    first = _import_event(store)
    (tmp_path / "second").mkdir()
    seed_project(store, tmp_path / "second", 3)  # another file into the same project
    store.undo("p", first, "ada")
    assert store.count_examples("p") == 3


# ---- newest first, for every kind ------------------------------------------------------------


def test_edits_undone_newest_first(store: Store, tmp_path: Path) -> None:
    ex_id = seed_project(store, tmp_path, 3)[0]
    original = _texts(store, ex_id)
    e1 = _edit(store, ex_id, "one")
    after_one = _texts(store, ex_id)
    e2 = _edit(store, ex_id, "two")

    with pytest.raises(ConflictError) as refused:
        store.undo("p", e1, "ada")
    assert f"#{e2}" in str(refused.value)
    assert "1 later event" in str(refused.value)

    store.undo("p", e2, "ada")
    assert _texts(store, ex_id) == after_one
    store.undo("p", e1, "ada")  # refused before: "edited again since"
    assert _texts(store, ex_id) == original
    assert [r["revision"] for r in store.revisions("p", ex_id)] == [0, 1, 2, 3, 4]


def test_status_changes_undone_newest_first(store: Store, tmp_path: Path) -> None:
    ids = seed_project(store, tmp_path, 3)
    s1 = store.set_status("p", ids[:2], "rejected", "ada", "bad")
    s2 = store.set_status("p", [ids[1]], "filtered", "bob", "off-topic")
    with pytest.raises(ConflictError, match=f"#{s2}"):
        store.undo("p", s1, "ada")
    store.undo("p", s2, "bob")
    assert store.get_example("p", ids[1]).status == "rejected"
    store.undo("p", s1, "ada")
    assert {e.status for e in store.list_examples("p", limit=None)} == {"active"}


def test_events_on_other_examples_do_not_block(store: Store, tmp_path: Path) -> None:
    ids = seed_project(store, tmp_path, 3)
    s1 = store.set_status("p", [ids[0]], "rejected", "ada", "bad")
    store.set_status("p", [ids[1]], "rejected", "bob", "bad too")
    _edit(store, ids[2], "unrelated")
    store.undo("p", s1, "ada")
    assert store.get_example("p", ids[0]).status == "active"
    assert store.get_example("p", ids[1]).status == "rejected"


def test_a_later_status_change_blocks_undoing_an_edit_and_the_reverse(
    store: Store, tmp_path: Path
) -> None:
    ex_id = seed_project(store, tmp_path, 2)[0]
    edit = _edit(store, ex_id, "fix")
    status = store.set_status("p", [ex_id], "rejected", "bob", "still bad")
    with pytest.raises(ConflictError, match=f"#{status}"):
        store.undo("p", edit, "ada")
    store.undo("p", status, "bob")
    store.undo("p", edit, "ada")

    status = store.set_status("p", [ex_id], "rejected", "bob", "bad")
    edit = _edit(store, ex_id, "rescued")
    with pytest.raises(ConflictError, match=f"#{edit}"):
        store.undo("p", status, "bob")


def test_a_mixture_undone_newest_first_leaves_the_project_empty(
    store: Store, tmp_path: Path
) -> None:
    ids = seed_project(store, tmp_path, 6)
    plan = [(_import_event(store), set(ids))]  # (event, the examples it touched)
    plan.append((_edit(store, ids[0], "a"), {ids[0]}))
    dedup = store.apply_status_changes(
        "p", {ids[0]: StatusChange("duplicate", "exact", ids[1])}, "ada", "{n}", event_kind="dedup"
    )
    plan.append((dedup, {ids[0]}))
    plan.append((_edit(store, ids[1], "b"), {ids[1]}))
    plan.append(
        (store.set_status("p", [ids[1], ids[2]], "rejected", "bob", "bad"), {ids[1], ids[2]})
    )
    plan.append((_edit(store, ids[0], "c"), {ids[0]}))
    plan.append((store.set_status("p", [ids[0]], "active", "carol", "restored"), {ids[0]}))
    plan.append((store.set_status("p", [ids[4]], "filtered", "carol", "off-topic"), {ids[4]}))

    while plan:
        for i, (older, touched) in enumerate(plan[:-1]):
            if any(touched & later for _, later in plan[i + 1 :]):
                with pytest.raises(ConflictError):
                    store.undo("p", older, "ada")
        newest, _ = plan.pop()
        store.undo("p", newest, "ada")
    assert store.count_examples("p") == 0


# ---- what undo refuses -----------------------------------------------------------------------


def test_undo_twice_names_the_undo(store: Store, tmp_path: Path) -> None:
    ids = seed_project(store, tmp_path, 2)
    ev = store.set_status("p", [ids[0]], "rejected", "ada", "bad")
    undo = store.undo("p", ev, "bob")
    with pytest.raises(StoreError, match=f"already undone by event #{undo}"):
        store.undo("p", ev, "carol")
    with pytest.raises(StoreError, match="cannot be undone"):
        store.undo("p", undo, "carol")
    with pytest.raises(NotFoundError, match="No event 999"):
        store.undo("p", 999, "carol")


def test_undo_refuses_when_the_examples_changed_outside_the_log(
    store: Store, tmp_path: Path
) -> None:
    """The second condition: the examples must be as the event left them (an older database may
    hold changes no event describes)."""
    ids = seed_project(store, tmp_path, 2)
    ev = store.set_status("p", [ids[0]], "rejected", "ada", "bad")
    with store.engine.begin() as conn:
        conn.execute(
            update(s.examples).where(s.examples.c.example_id == ids[0]).values(status="filtered")
        )
    with pytest.raises(ConflictError, match="changed by someone else since"):
        store.undo("p", ev, "ada")
    assert store.get_example("p", ids[0]).status == "filtered"
