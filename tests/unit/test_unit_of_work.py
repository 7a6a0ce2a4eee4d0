"""The store's unit of work and its undo handlers, on a real SQLite file and a real PostgreSQL
database: one event per unit, rollback leaves nothing, no nesting, and every undo round-trips.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from curation.errors import ConflictError, NotFoundError, StoreError
from curation.formats import read_examples
from curation.labeling import LabelSchema, SingleChoiceField, VerdictField
from curation.pii.findings import Finding, text_sha256
from curation.records import Message
from curation.store import StatusChange, Store, UnitOfWork
from curation.store import labels as label_repo
from curation.store.pii_findings import list_findings, review_findings, save_findings
from curation.store.undo import UNDO_HANDLERS
from tests.unit.store_helpers import Outcome, attempt, run_threads, seed_project, write_alpaca

pytestmark = pytest.mark.timeout(600)


@pytest.fixture()
def store(db_url: str) -> Iterator[Store]:
    st = Store(db_url)
    yield st
    st.dispose()


def _messages(tag: str) -> list[Message]:
    return [Message("user", f"question {tag}"), Message("assistant", f"answer {tag}")]


def _snapshot(store: Store, project: str = "p") -> dict[str, Any]:
    """Everything an undo may put back: examples' text and status, imports, settings, labels,
    PII review states and the metadata index (revision numbers left out: undo adds one)."""
    examples = {
        e.id: (
            e.status,
            e.status_reason,
            e.duplicate_of,
            [m.to_dict() for m in e.example.messages],
            e.example.preference_payload(),
            e.example.tools,
        )
        for e in store.list_examples(project, limit=None)
    }
    return {
        "examples": examples,
        "imports": [(i["file_name"], i["sha256"]) for i in store.list_imports(project)],
        "settings": store.project_settings(project),
        "labels": sorted(
            (r.example_id, r.field, r.annotator, r.role, repr(r.value))
            for r in label_repo.list_labels(store, project)
        ),
        "findings": sorted((f.pk, f.state) for f in list_findings(store, project)),
        "metadata": [(f.name, f.count) for f in store.metadata_fields(project)],
    }


def _n_events(store: Store) -> int:
    return len(store.events("p", limit=10_000))


# ---- one unit, one event -----------------------------------------------------------------------


def test_a_unit_of_work_writes_one_event_for_all_its_changes(store: Store, tmp_path: Path) -> None:
    ids = seed_project(store, tmp_path, 4)
    before = _n_events(store)
    with store.session("p", "ada") as uow:
        assert isinstance(uow, UnitOfWork) and uow.pid == store.project_id("p")
        done = uow.statuses.apply(
            {ids[0]: StatusChange("rejected", "off-topic"), ids[1]: StatusChange("filtered", "x")}
        )
        new_rev = uow.revisions.edit(ids[2], _messages("fixed"), "typo")
        # the unit reads its own writes before they are committed
        assert uow.examples.get(ids[0]).status == "rejected"
        assert uow.revisions.history(ids[2])[-1]["revision"] == new_rev
        uow.describe("cleanup", "cleanup: {n} changes", ticket="T-1")
    assert len(done) == 2 and new_rev == 1
    events = store.events("p", limit=10_000)
    assert len(events) == before + 1
    ev = events[0]
    assert ev["id"] == uow.event_id
    assert (ev["kind"], ev["author"], ev["summary"]) == ("cleanup", "ada", "cleanup: 3 changes")
    assert ev["payload"]["ticket"] == "T-1"
    pks = {e.id: e.pk for e in store.get_examples("p", ids).values()}
    assert [ch["pk"] for ch in ev["payload"]["changes"]] == [pks[ids[0]], pks[ids[1]], pks[ids[2]]]
    assert ev["payload"]["changes"][2] == {"pk": pks[ids[2]], "from": 0, "to": 1}


def test_the_store_methods_still_write_one_event_each(store: Store, tmp_path: Path) -> None:
    ids = seed_project(store, tmp_path, 3)
    before = _n_events(store)
    event = store.set_status("p", ids, "rejected", "bob", "bad")
    rev = store.edit_messages("p", ids[0], _messages("e"), "bob", "fix")
    assert _n_events(store) == before + 2
    newest = store.events("p", limit=2)
    assert [e["kind"] for e in newest] == ["edit", "status"] and newest[1]["id"] == event
    assert newest[1]["summary"] == "bad: 3 example(s) set to rejected"
    assert rev == 1
    # an event's payload may use any key, also the names of the event's own columns
    logged = store.log_event("p", "export", "ada", "wrote", {"kind": "sft", "summary": "s"})
    assert store.events("p", limit=1)[0]["payload"] == {"kind": "sft", "summary": "s"}
    assert store.events("p", limit=1)[0]["id"] == logged


def test_a_failing_unit_leaves_no_rows_and_no_event(store: Store, tmp_path: Path) -> None:
    ids = seed_project(store, tmp_path, 3)
    start = _snapshot(store)
    n_events = _n_events(store)
    result = read_examples(write_alpaca(tmp_path / "more.jsonl", 5, tag=" more"))
    with pytest.raises(RuntimeError, match="half way"), store.session("p", "ada") as uow:
        assert uow.examples.add_import(result).imported == 5
        uow.statuses.apply({ids[0]: StatusChange("rejected", "bad")})
        uow.revisions.edit(ids[1], _messages("gone"), "edit")
        uow.settings.set("k", 1)
        uow.describe("cleanup", "never saved")
        assert uow.examples.count() == 8
        raise RuntimeError("half way")
    assert _snapshot(store) == start
    assert _n_events(store) == n_events
    assert store.revisions("p", ids[1]) == []
    # a refusal from a repository rolls back what the unit did before it too
    stale = pytest.raises(ConflictError, match="changed by someone else")
    with stale, store.session("p", "ada") as uow:
        uow.statuses.apply({ids[2]: StatusChange("filtered", "x")})
        uow.revisions.edit(ids[0], _messages("stale"), "edit", expected_revision=3)
    assert _snapshot(store) == start and _n_events(store) == n_events


def test_a_unit_that_changes_something_without_describing_it_saves_nothing(
    store: Store, tmp_path: Path
) -> None:
    ids = seed_project(store, tmp_path, 2)
    n_events = _n_events(store)
    undescribed = pytest.raises(StoreError, match="without saying what it was")
    with undescribed, store.session("p", "ada") as uow:
        uow.statuses.apply({ids[0]: StatusChange("rejected", "bad")})
    assert store.get_example("p", ids[0]).status == "active"
    assert _n_events(store) == n_events
    with store.session("p", "ada"):  # a unit that changes nothing writes no event
        pass
    assert _n_events(store) == n_events


def test_units_do_not_nest_and_the_refusal_leaves_the_outer_unit_working(
    store: Store, tmp_path: Path
) -> None:
    ids = seed_project(store, tmp_path, 2)
    with store.session("p", "ada") as uow:
        with pytest.raises(StoreError, match="do not nest"), store.session("p", "bob"):
            pass
        with pytest.raises(StoreError, match="do not nest"):  # a Store method opens one too
            store.set_status("p", [ids[1]], "rejected", "bob", "inner")
        uow.statuses.apply({ids[0]: StatusChange("rejected", "outer")})
        uow.describe("status", "outer: {n}")
    assert store.get_example("p", ids[0]).status == "rejected"
    assert store.get_example("p", ids[1]).status == "active"
    # after a unit that failed, the next one opens
    with pytest.raises(RuntimeError), store.session("p", "ada"):
        raise RuntimeError
    assert store.set_status("p", [ids[1]], "filtered", "bob", "after") > 0


def test_nesting_is_per_thread(store: Store, tmp_path: Path) -> None:
    """Another thread's unit is not nesting: it waits for the lock and then runs."""
    ids = seed_project(store, tmp_path, 2)
    opened = threading.Event()

    def other(i: int) -> Outcome:
        if i == 0:
            with store.session("p", "ada") as uow:
                opened.set()
                uow.statuses.apply({ids[0]: StatusChange("rejected", "first")})
                uow.describe("status", "first")
            return Outcome(value="done")
        opened.wait(30)
        return attempt(lambda: store.set_status("p", [ids[1]], "rejected", "bob", "second"))

    first, second = run_threads(2, other)
    assert first.value == "done" and second.ok, second.error
    assert store.statuses("p", ids) == {ids[0]: "rejected", ids[1]: "rejected"}


def test_a_session_names_what_is_wrong_with_it(store: Store, tmp_path: Path) -> None:
    ids = seed_project(store, tmp_path, 1)
    with pytest.raises(NotFoundError, match="No project named 'nope'"), store.session("nope", "a"):
        pass
    with pytest.raises(StoreError, match="author name is required"), store.session("p", "  "):
        pass
    with store.read_session("p") as reader:
        assert reader.examples.count() == 1
        with pytest.raises(StoreError, match="only reads"):
            reader.statuses.apply({ids[0]: StatusChange("rejected", "x")})
    with pytest.raises(StoreError, match="is closed"):
        reader.examples.count()
    assert store.get_example("p", ids[0]).status == "active"


# ---- every undo handler round-trips -------------------------------------------------------------

SCHEMA = LabelSchema(fields=(VerdictField(), SingleChoiceField("topic", ("a", "b"))))


def _import(store: Store, ids: list[str], tmp_path: Path) -> int:
    path = write_alpaca(tmp_path / "second.jsonl", 4, tag=" second")
    store.add_import("p", read_examples(path), "bob")
    return int(store.events("p", kinds=["import"], limit=1)[0]["id"])


def _status(store: Store, ids: list[str], tmp_path: Path) -> int:
    return store.set_status("p", ids[:3], "rejected", "bob", "off-topic")


def _quality(store: Store, ids: list[str], tmp_path: Path) -> int:
    changes = {i: StatusChange("filtered", "quality flag: blank") for i in ids[1:3]}
    return store.apply_status_changes("p", changes, "bob", "quality: {n}", event_kind="quality")


def _contamination(store: Store, ids: list[str], tmp_path: Path) -> int:
    return store.set_status("p", [ids[4]], "filtered", "bob", "eval", event_kind="contamination")


def _dedup(store: Store, ids: list[str], tmp_path: Path) -> int:
    changes = {i: StatusChange("duplicate", "exact", duplicate_of=ids[0]) for i in ids[1:4]}
    return store.apply_status_changes(
        "p", changes, "bob", "dedup: {n}", event_kind="dedup", extra={"run_id": 1}
    )


def _edit(store: Store, ids: list[str], tmp_path: Path) -> int:
    store.edit_messages("p", ids[2], _messages("edited"), "bob", "rewrite")
    return int(store.events("p", kinds=["edit"], limit=1)[0]["id"])


def _pii_scrub(store: Store, ids: list[str], tmp_path: Path) -> int:
    stored = store.get_examples("p", ids[:2])
    event = store.edit_many(
        "p",
        {i: (_messages(f"<PERSON> {i}"), stored[i].revision) for i in ids[:2]},
        "bob",
        "PII scrub (placeholder)",
        event_kind="pii_scrub",
        extra={"operator": "placeholder"},
    )
    assert event is not None
    return event


def _settings(store: Store, ids: list[str], tmp_path: Path) -> int:
    return store.set_project_setting("p", "dedup", {"threshold": 0.9}, "bob")


def _labels(store: Store, ids: list[str], tmp_path: Path) -> int:
    event = label_repo.annotate(store, "p", ids[1], {"verdict": "accept", "topic": "b"}, "bob")
    assert event is not None
    return event


def _pii_review(store: Store, ids: list[str], tmp_path: Path) -> int:
    found = list_findings(store, "p")
    event = review_findings(store, "p", {f.pk: "accepted" for f in found}, "bob")
    assert event is not None
    return event


def _mixed(store: Store, ids: list[str], tmp_path: Path) -> int:
    """A unit of a kind no handler is registered for, with status and revision changes."""
    with store.session("p", "bob") as uow:
        uow.statuses.apply(
            {ids[0]: StatusChange("rejected", "bad"), ids[3]: StatusChange("removed", "x")}
        )
        uow.revisions.edit(ids[0], _messages("zero"), "rewrite")
        uow.revisions.edit(ids[1], _messages("one"), "rewrite")
        uow.describe("cleanup", "cleanup of {n}")
    assert uow.event_id is not None
    return uow.event_id


CASES: dict[str, Callable[[Store, list[str], Path], int]] = {
    "import": _import,
    "status": _status,
    "quality": _quality,
    "contamination": _contamination,
    "dedup": _dedup,
    "edit": _edit,
    "pii_scrub": _pii_scrub,
    "settings": _settings,
    "labels": _labels,
    "pii_review": _pii_review,
    "cleanup": _mixed,
}


def test_every_registered_undo_handler_has_a_round_trip_case() -> None:
    assert set(UNDO_HANDLERS) == set(CASES) - {"cleanup"}


def _prepare(store: Store, tmp_path: Path) -> list[str]:
    """A project with history: an earlier edit, a setting, a label schema and PII findings."""
    ids = seed_project(store, tmp_path, 6)
    store.edit_messages("p", ids[2], _messages("first edit"), "ada", "first")
    store.set_project_setting("p", "dedup", {"threshold": 0.8}, "ada")
    store.set_project_setting("p", label_repo.SCHEMA_SETTING, SCHEMA.to_dict(), "ada")
    text = store.get_example("p", ids[5]).example.messages[0].content
    finding = Finding(0, 8, "PERSON", 0.9, "test", text_sha256(text))
    save_findings(store, "p", [(ids[5], "messages[0].content", finding)], "ada")
    return ids


@pytest.mark.parametrize("kind", sorted(CASES))
def test_undo_puts_back_the_state_before_the_event(store: Store, tmp_path: Path, kind: str) -> None:
    ids = _prepare(store, tmp_path)
    before = _snapshot(store)
    event = CASES[kind](store, ids, tmp_path)
    after = _snapshot(store)
    assert after != before, "the case changed nothing, so its undo proves nothing"
    assert store.events("p", limit=1)[0]["kind"] == kind
    preview = store.undo_preview("p", event)
    assert preview.kind == kind and _snapshot(store) == after  # a preview changes nothing
    undo_id = store.undo("p", event, "carol")
    assert _snapshot(store) == before
    ev = next(e for e in store.events("p", limit=100) if e["id"] == event)
    assert ev["undone_by"] == undo_id
    undo = store.events("p", limit=1)[0]
    assert (undo["id"], undo["kind"], undo["payload"]) == (undo_id, "undo", {"event": event})
    with pytest.raises(StoreError, match="already undone"):
        store.undo("p", event, "carol")


# ---- conflicts and batches ----------------------------------------------------------------------


def test_undo_is_refused_while_a_later_event_touched_the_same_examples(
    store: Store, tmp_path: Path
) -> None:
    ids = seed_project(store, tmp_path, 3)
    start = _snapshot(store)
    first = store.set_status("p", ids[:2], "rejected", "bob", "bad")
    store.edit_messages("p", ids[1], _messages("later"), "carol", "rewrite")
    later = int(store.events("p", kinds=["edit"], limit=1)[0]["id"])
    changed = _snapshot(store)
    with pytest.raises(ConflictError, match=rf"#{later} \(edit by carol\)"):
        store.undo("p", first, "ada")
    with pytest.raises(ConflictError, match=rf"#{later} \(edit by carol\)"):
        store.undo_preview("p", first)
    assert _snapshot(store) == changed
    assert all(e["undone_by"] is None for e in store.events("p", limit=100))
    # both in one batch: the later one goes first, so nothing blocks; one undo event for both
    undo_id = store.undo_events("p", [first, later], "ada")
    assert _snapshot(store) == start
    events = {e["id"]: e for e in store.events("p", limit=100)}
    assert events[first]["undone_by"] == events[later]["undone_by"] == undo_id
    assert events[undo_id]["payload"] == {"events": [later, first]}
    assert [e["kind"] for e in store.events("p", limit=1)] == ["undo"]


def test_a_refused_batch_undoes_nothing(store: Store, tmp_path: Path) -> None:
    ids = seed_project(store, tmp_path, 3)
    free = store.set_status("p", [ids[0]], "rejected", "bob", "a")
    blocked = store.set_status("p", [ids[1]], "rejected", "bob", "b")
    blocker = store.set_status("p", [ids[1]], "filtered", "carol", "c")
    changed = _snapshot(store)
    with pytest.raises(ConflictError, match=rf"event #{blocked}.*#{blocker} \(status by carol\)"):
        store.undo_events("p", [free, blocked], "ada")
    assert _snapshot(store) == changed
    assert all(e["undone_by"] is None for e in store.events("p", limit=100))
    with pytest.raises(StoreError, match="at least one event"):
        store.undo_events("p", [], "ada")


def test_undo_refuses_examples_changed_outside_the_log(store: Store, tmp_path: Path) -> None:
    """An edit whose text no longer holds (an import undone and redone, say) is refused."""
    ids = seed_project(store, tmp_path, 2)
    event = store.set_status("p", [ids[0]], "rejected", "bob", "bad")
    with store.session("p", "carol") as uow:  # a write that records no change: outside the log
        row = uow.examples.get(ids[0])
        uow.statuses.write(
            [(row.pk, {"status": "filtered", "status_reason": "y", "duplicate_of": None})]
        )
        uow.describe("export", "wrote a file")
    with pytest.raises(ConflictError, match="in a way no later event records"):
        store.undo("p", event, "ada")
    assert store.get_example("p", ids[0]).status == "filtered"


# ---- two people pressing undo at once ----------------------------------------------------------


@pytest.mark.parametrize("kind", ["status", "edit", "import"])
def test_two_concurrent_undos_of_one_event_exactly_one_wins(
    store: Store, tmp_path: Path, kind: str
) -> None:
    ids = seed_project(store, tmp_path, 4)
    for trial in range(3):
        before = _snapshot(store)
        if kind == "import":
            path = write_alpaca(tmp_path / f"t{trial}.jsonl", 3, tag=f" t{trial}")
            store.add_import("p", read_examples(path), "bob")
            event = int(store.events("p", kinds=["import"], limit=1)[0]["id"])
        else:
            event = CASES[kind](store, ids, tmp_path)
        n_revisions = len(store.revisions("p", ids[2]))
        start = threading.Barrier(2)

        def press(t: int, event: int = event, start: threading.Barrier = start) -> Outcome:
            start.wait()
            if t == 0:
                return attempt(lambda: store.undo("p", event, "ada"))
            return attempt(lambda: store.undo_events("p", [event], "carol"))

        outcomes = run_threads(2, press)
        raw = [repr(o.error) for o in outcomes if o.error and not isinstance(o.error, StoreError)]
        assert raw == []
        winners = [o for o in outcomes if o.ok]
        assert len(winners) == 1, (trial, outcomes)
        loser = next(o.error for o in outcomes if not o.ok)
        assert "already undone" in str(loser), loser
        assert _snapshot(store) == before
        undos = [
            e
            for e in store.events("p", kinds=["undo"], limit=1000)
            if event in (e["payload"].get("event"), *e["payload"].get("events", []))
        ]
        assert [u["id"] for u in undos] == [winners[0].value]
        if kind == "edit":  # the restore was written once, not once per press
            assert len(store.revisions("p", ids[2])) == n_revisions + 1
