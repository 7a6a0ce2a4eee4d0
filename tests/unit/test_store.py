"""Store tests on a real SQLite file and, when configured, a real PostgreSQL database.

Imports use real files from the shared data folder through the real readers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, text

from curation.errors import ConflictError, NotFoundError, StoreError
from curation.formats import read_examples
from curation.records import Message
from curation.store import ExampleFilter, Store
from curation.store import schema as s
from curation.store.migrations import head_revision


@pytest.fixture()
def store(db_url: str) -> Store:
    st = Store(db_url)
    yield st
    st.dispose()


def _identity(shared_data: Path):
    return read_examples(shared_data / "llamafactory" / "identity.json")


def test_sqlite_file_uses_wal(tmp_path: Path) -> None:
    st = Store(f"sqlite:///{tmp_path / 'a.db'}")
    with st.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    st.dispose()


def test_import_counts_and_reimport_is_detected(store: Store, shared_data: Path) -> None:
    records = json.loads((shared_data / "llamafactory" / "identity.json").read_text())
    store.create_project("p", "ada")
    first = store.add_import("p", _identity(shared_data), "ada")
    assert first.imported == len(records)
    assert store.count_examples("p") == len(records)

    again = store.add_import("p", _identity(shared_data), "ada")
    assert again.already_imported and again.imported == 0
    assert store.count_examples("p") == len(records)

    forced = store.add_import("p", _identity(shared_data), "ada", allow_reimport=True)
    assert forced.imported == 0
    assert forced.skipped_reasons.get("already in project") == len(records)
    assert store.count_examples("p") == len(records)
    assert len(store.list_imports("p")) == 2


def test_failed_import_leaves_nothing(store: Store, shared_data: Path) -> None:
    store.create_project("p", "ada")
    result = _identity(shared_data)
    result.examples[-1].raw = {"not json": object()}  # fails while writing the last batch
    with pytest.raises(Exception):  # noqa: B017 - any driver error; what matters is the rollback
        store.add_import("p", result, "ada")
    assert store.count_examples("p") == 0
    assert store.list_imports("p") == []


def test_edit_adds_revisions_and_undo_restores(store: Store, shared_data: Path) -> None:
    store.create_project("p", "ada")
    store.add_import("p", _identity(shared_data), "ada")
    first = store.list_examples("p", limit=1)[0]
    original = [m.to_dict() for m in first.example.messages]
    edited = [Message(m.role, m.content + " EDITED-MARKER") for m in first.example.messages]

    rev = store.edit_messages("p", first.id, edited, "bob", "fix wording", expected_revision=0)
    assert rev == 1
    assert store.get_example("p", first.id).example.messages[-1].content.endswith("EDITED-MARKER")
    assert store.count_examples("p", ExampleFilter(search="edited-marker")) == 1
    with pytest.raises(StoreError, match="changed by someone else"):
        store.edit_messages("p", first.id, edited, "carol", "stale", expected_revision=0)

    edit_event = store.events("p", kinds=["edit"])[0]
    assert edit_event["author"] == "bob"
    store.undo("p", edit_event["id"], "ada")
    restored = store.get_example("p", first.id)
    assert [m.to_dict() for m in restored.example.messages] == original
    assert [r["revision"] for r in store.revisions("p", first.id)] == [0, 1, 2]
    assert store.count_examples("p", ExampleFilter(search="edited-marker")) == 0


def test_status_change_undo_and_conflict(store: Store, shared_data: Path) -> None:
    store.create_project("p", "ada")
    store.add_import("p", _identity(shared_data), "ada")
    ids = [e.id for e in store.list_examples("p", limit=3)]
    ev = store.set_status("p", ids[1:], "duplicate", "ada", "duplicate", duplicate_of=ids[0])
    assert store.count_examples("p", ExampleFilter(statuses=["duplicate"])) == 2
    assert store.get_example("p", ids[1]).duplicate_of == ids[0]

    later = store.set_status("p", [ids[2]], "rejected", "bob", "bad answer")
    with pytest.raises(StoreError, match="changed since"):
        store.undo("p", ev, "ada")
    store.undo("p", later, "bob")
    store.undo("p", ev, "ada")
    assert store.count_examples("p", ExampleFilter(statuses=["active"])) == store.count_examples(
        "p"
    )
    with pytest.raises(StoreError, match="already undone"):
        store.undo("p", ev, "ada")


def test_undo_import_removes_its_examples(store: Store, shared_data: Path) -> None:
    store.create_project("p", "ada")
    store.add_import("p", _identity(shared_data), "ada")
    ev = store.events("p", kinds=["import"])[0]
    store.undo("p", ev["id"], "ada")
    assert store.count_examples("p") == 0
    assert store.add_import("p", _identity(shared_data), "ada").imported > 0


def test_filters(store: Store, shared_data: Path) -> None:
    store.create_project("p", "ada")
    store.add_import(
        "p", read_examples(shared_data / "dolly" / "random_selection_20_top_100.json"), "ada"
    )
    store.add_import("p", _identity(shared_data), "ada")
    dolly = json.loads((shared_data / "dolly" / "random_selection_20_top_100.json").read_text())
    n_open_qa = sum(1 for r in dolly if r["category"] == "open_qa")
    assert store.count_examples("p", ExampleFilter(metadata={"category": "open_qa"})) == n_open_qa
    assert store.count_examples("p", ExampleFilter(sources=["identity.json"])) == 91
    needle = "londonderry air"
    expected = sum(1 for r in dolly if needle in (r["instruction"] + r["response"]).casefold())
    assert expected > 0
    assert store.count_examples("p", ExampleFilter(search="Londonderry AIR")) == expected
    assert store.count_examples("p", ExampleFilter(search="100%_")) == 0
    page = store.list_examples("p", offset=90, limit=20)
    assert [e.position for e in page] == list(range(90, 110))


def test_author_is_required_and_unknown_project_is_named(store: Store) -> None:
    with pytest.raises(StoreError, match="author"):
        store.create_project("p", "  ")
    store.create_project("p", "ada")
    with pytest.raises(NotFoundError, match="Known projects: p"):
        store.count_examples("nope")


def test_older_schema_is_migrated_and_newer_is_refused(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        s.MIGRATIONS[0](conn)
        conn.execute(insert(s.schema_version).values(version=1))
        conn.execute(
            text(
                "INSERT INTO projects (name, created_at, created_by, settings) "
                "VALUES ('old', CURRENT_TIMESTAMP, 'ada', '{}')"
            )
        )
    engine.dispose()
    st = Store(db_url)
    assert st.schema_version() == int(head_revision())  # the legacy s.SCHEMA_VERSION stays 3
    assert st.list_projects() == ["old"]
    run = st.save_step_run("old", "dedup", {"method": "exact"}, {"clusters": []}, {}, "ada")
    assert st.latest_step_run("old", "dedup")["id"] == run
    with st.engine.begin() as conn:
        conn.execute(s.schema_version.update().values(version=99))
    st.dispose()
    with pytest.raises(StoreError, match="newer than this app"):
        Store(db_url)


def _overlapping_files(shared_data: Path, tmp_path: Path) -> list[Path]:
    """Real FastChat records: the whole file, a second file sharing 100 of its ids plus 50
    records under new ids, and identity.json."""
    fastchat = shared_data / "fastchat" / "dummy_conversation.json"
    records = json.loads(fastchat.read_text())
    second = records[:100] + [{**r, "id": f"copy_{r['id']}"} for r in records[100:150]]
    other = tmp_path / "fastchat_part.json"
    other.write_text(json.dumps(second))
    return [fastchat, other, shared_data / "llamafactory" / "identity.json"]


def test_plan_imports_counts_what_the_import_adds(
    store: Store, shared_data: Path, tmp_path: Path
) -> None:
    store.create_project("p", "ada")
    files = _overlapping_files(shared_data, tmp_path)
    store.add_import("p", read_examples(files[2]), "ada")  # identity.json is in already
    results = [read_examples(f) for f in files] + [read_examples(files[0])]  # fastchat twice
    plans = store.plan_imports("p", results)
    assert store.count_examples("p") == 91 and len(store.list_imports("p")) == 1  # wrote nothing
    n_fastchat = len(json.loads(files[0].read_text()))
    assert [p.new for p in plans] == [n_fastchat, 50, 0, 0]
    assert [p.in_earlier_file for p in plans] == [0, 100, 0, 0]
    assert [p.already_imported for p in plans] == [False, False, True, True]
    assert plans[2].earlier_import["created_by"] == "ada"
    assert plans[2].earlier_import["file_name"] == "identity.json"
    summaries = [store.add_import("p", r, "ada") for r in results]
    assert [s.imported for s in summaries] == [p.new for p in plans]
    assert [s.already_imported for s in summaries] == [p.already_imported for p in plans]
    for plan, summary in zip(plans, summaries, strict=True):
        if not plan.already_imported:
            assert summary.skipped == plan.skipped + plan.already_in_project + plan.in_earlier_file
    assert store.count_examples("p") == 91 + n_fastchat + 50


def test_plan_imports_with_reimport_counts_ids_already_in_the_project(
    store: Store, shared_data: Path
) -> None:
    store.create_project("p", "ada")
    store.add_import("p", _identity(shared_data), "ada")
    (plan,) = store.plan_imports("p", [_identity(shared_data)], allow_reimport=True)
    assert not plan.already_imported
    assert (plan.new, plan.already_in_project) == (0, 91)
    forced = store.add_import("p", _identity(shared_data), "ada", allow_reimport=True)
    assert forced.imported == plan.new
    assert forced.skipped_reasons["already in project"] == plan.already_in_project


def test_undo_preview_names_what_an_undo_changes_and_changes_nothing(
    store: Store, shared_data: Path
) -> None:
    store.create_project("p", "ada")
    store.add_import("p", _identity(shared_data), "ada")
    imported = store.events("p", kinds=["import"])[0]["id"]
    ids = [e.id for e in store.list_examples("p", limit=10)]
    preview = store.undo_preview("p", imported)
    assert (preview.kind, preview.n_examples, preview.needs_confirmation) == ("import", 91, True)
    assert preview.effect.startswith("removes the 91 examples imported from identity.json by ada")
    few = store.set_status("p", ids[:5], "rejected", "bob", "off-topic")
    preview = store.undo_preview("p", few)
    assert preview.n_examples == 5 and not preview.needs_confirmation
    assert preview.effect == "puts 5 examples back from 'rejected' to 'active'"
    many = store.set_status("p", ids[5:10], "duplicate", "bob", "dup", duplicate_of=ids[0])
    assert store.undo_preview("p", many).n_examples == 5
    first = store.get_example("p", ids[0])
    edited = [Message(m.role, m.content + " (edited)") for m in first.example.messages]
    store.edit_messages("p", ids[0], edited, "carol", "typo", expected_revision=0)
    edit = store.events("p", kinds=["edit"])[0]["id"]
    preview = store.undo_preview("p", edit)
    assert preview.effect == "restores the previous text of 1 example"
    # an undo that would be refused is refused by its preview too, naming the later events
    with pytest.raises(ConflictError, match=f"#{edit} \\(edit by carol\\)"):
        store.undo_preview("p", few)
    with pytest.raises(ConflictError, match="10 of its 91 examples"):
        store.undo_preview("p", imported)
    assert store.count_examples("p") == 91 and store.statuses("p", ids[:1]) == {ids[0]: "rejected"}

    big = store.set_status("p", ids[:6], "filtered", "bob", "contaminated")
    assert store.undo_preview("p", big).needs_confirmation
    assert store.undo_preview("p", big).effect == (
        "puts 5 examples back from 'filtered' to 'rejected', 1 example back from 'filtered' to "
        "'duplicate'"
    )
    store.undo("p", big, "ada")
    with pytest.raises(StoreError, match="already undone"):
        store.undo_preview("p", big)
    with pytest.raises(NotFoundError):
        store.undo_preview("p", 10_000)
