"""Eight real threads writing at once to a real SQLite file and a real PostgreSQL database.

Barriers line the writers up on the same example, so each round has exactly one right outcome.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from curation.errors import ConflictError, StoreError
from curation.formats import read_examples
from curation.records import Message
from curation.store import STATUSES, StatusChange, Store
from tests.unit.store_helpers import (
    N_WRITERS,
    Outcome,
    attempt,
    run_threads,
    seed_project,
    write_alpaca,
)

pytestmark = pytest.mark.timeout(600)


@pytest.fixture()
def store(db_url: str) -> Iterator[Store]:
    st = Store(db_url)
    yield st
    st.dispose()


def _messages(tag: str) -> list[Message]:
    return [Message("user", f"question edited by {tag}"), Message("assistant", f"answer {tag}")]


def _state(status: str, reason: str | None, duplicate_of: str | None) -> dict[str, Any]:
    return {"status": status, "status_reason": reason, "duplicate_of": duplicate_of}


def _raw(outcomes: list[Outcome]) -> list[str]:
    """Failures that are not the store's own clear errors (what a user must never see)."""
    return [
        repr(o.error)
        for o in outcomes
        if o.error is not None and not isinstance(o.error, StoreError)
    ]


# ---- edits: compare-and-set on the revision -------------------------------------------------


def test_stale_edits_are_refused_when_eight_writers_edit_one_example(
    store: Store, tmp_path: Path
) -> None:
    ex_id = seed_project(store, tmp_path, 3)[1]
    rounds = 10
    line_up = threading.Barrier(N_WRITERS)
    read_done = threading.Barrier(N_WRITERS)

    def writer(t: int) -> list[tuple[int, int, Outcome]]:
        seen: list[tuple[int, int, Outcome]] = []
        for r in range(rounds):
            line_up.wait()
            revision = store.get_example("p", ex_id).revision
            read_done.wait()  # everyone read the same revision; now all write at once
            outcome = attempt(
                lambda t=t, r=r, revision=revision: store.edit_messages(
                    "p",
                    ex_id,
                    _messages(f"t{t} r{r}"),
                    f"user{t}",
                    "edit",
                    expected_revision=revision,
                )
            )
            seen.append((r, revision, outcome))
        return seen

    per_thread = run_threads(N_WRITERS, writer)
    outcomes = [o for seen in per_thread for _, _, o in seen]
    assert _raw(outcomes) == []
    failures = [o.error for o in outcomes if not o.ok]
    assert all(isinstance(e, ConflictError) for e in failures), failures
    assert all("changed by someone else since" in str(e) for e in failures)

    accepted = [(r, rev, o.value) for seen in per_thread for r, rev, o in seen if o.ok]
    # every writer of round r read revision r; exactly one of them may win the round
    assert sorted(r for r, _, _ in accepted) == list(range(rounds))
    assert sorted(rev for _, rev, _ in accepted) == list(range(rounds))
    assert sorted(new for _, _, new in accepted) == list(range(1, rounds + 1))
    assert len(failures) == rounds * (N_WRITERS - 1)

    final = store.get_example("p", ex_id)
    assert final.revision == len(accepted) == rounds
    assert [h["revision"] for h in store.revisions("p", ex_id)] == list(range(rounds + 1))
    events = sorted(store.events("p", kinds=["edit"], limit=1000), key=lambda e: e["id"])
    chain = [(e["payload"]["changes"][0]["from"], e["payload"]["changes"][0]["to"]) for e in events]
    assert chain == [(i, i + 1) for i in range(rounds)]


def test_free_running_writers_lose_no_edit(store: Store, tmp_path: Path) -> None:
    """Each writer retries on a clash until it has made its edits: nothing lost, nothing raw."""
    ex_id = seed_project(store, tmp_path, 2)[0]
    per_writer = 4
    start = threading.Barrier(N_WRITERS)

    def writer(t: int) -> tuple[list[int], list[Outcome]]:
        start.wait()
        based_on: list[int] = []
        failures: list[Outcome] = []
        while len(based_on) < per_writer and len(failures) < 400:  # a bug must not hang
            revision = store.get_example("p", ex_id).revision
            o = attempt(
                lambda revision=revision: store.edit_messages(
                    "p", ex_id, _messages(f"t{t}"), f"user{t}", "edit", expected_revision=revision
                )
            )
            if o.ok:
                based_on.append(revision)
            else:
                failures.append(o)
        return based_on, failures

    results = run_threads(N_WRITERS, writer)
    failures = [o for _, fs in results for o in fs]
    assert _raw(failures) == []
    assert all(isinstance(o.error, ConflictError) for o in failures)
    based_on = sorted(r for rs, _ in results for r in rs)
    # no two accepted edits were based on the same revision: none overwrote another unseen
    assert based_on == list(range(N_WRITERS * per_writer))
    assert store.get_example("p", ex_id).revision == N_WRITERS * per_writer


# ---- status changes: the before-state is read under the write lock --------------------------


def test_logged_before_states_replay_exactly_under_eight_writers(
    store: Store, tmp_path: Path
) -> None:
    a, b = seed_project(store, tmp_path, 4)[:2]
    rounds = 25  # 200 events, each changing both examples
    line_up = threading.Barrier(N_WRITERS)

    def writer(t: int) -> list[Outcome]:
        seen = []
        for r in range(rounds):
            status = STATUSES[(t + r) % len(STATUSES)]
            reason = f"writer {t} round {r}"  # unique, so every call really changes both
            changes = {
                a: StatusChange(status, reason),
                b: StatusChange(status, reason, a if status == "duplicate" else None),
            }
            line_up.wait()
            seen.append(
                attempt(
                    lambda changes=changes, t=t: store.apply_status_changes(
                        "p", changes, f"user{t}", "{n} changed"
                    )
                )
            )
        return seen

    outcomes = [o for seen in run_threads(N_WRITERS, writer) for o in seen]
    assert _raw(outcomes) == []
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]

    events = sorted(store.events("p", kinds=["status"], limit=10_000), key=lambda e: e["id"])
    assert len(events) == N_WRITERS * rounds
    current = {pk: _state("active", None, None) for pk in _pks(store, [a, b])}
    stale = 0
    for ev in events:
        assert len(ev["payload"]["changes"]) == 2
        for ch in ev["payload"]["changes"]:
            if ch["before"] != current[ch["pk"]]:
                stale += 1
            current[ch["pk"]] = ch["after"]
    assert stale == 0
    stored = store.get_examples("p", [a, b])
    for ex in stored.values():
        assert current[ex.pk] == _state(ex.status, ex.status_reason, ex.duplicate_of)


def test_large_overlapping_status_changes_in_opposite_orders_do_not_deadlock(
    store: Store, tmp_path: Path
) -> None:
    """More examples than one locking batch (2,000), named in opposite orders by the writers:
    locks are taken in primary-key order, so PostgreSQL finds no deadlock to break."""
    ids = seed_project(store, tmp_path, 2_300)
    start = threading.Barrier(N_WRITERS)

    def writer(t: int) -> Outcome:
        order = ids if t % 2 else ids[::-1]
        changes = {i: StatusChange("filtered" if t % 2 else "rejected", f"bulk {t}") for i in order}
        start.wait()
        return attempt(lambda: store.apply_status_changes("p", changes, f"user{t}", "{n} bulk"))

    outcomes = run_threads(N_WRITERS, writer)
    assert [repr(o.error) for o in outcomes if not o.ok] == []
    events = sorted(store.events("p", kinds=["status"], limit=100), key=lambda e: e["id"])
    assert len(events) == N_WRITERS
    assert all(len(e["payload"]["changes"]) == len(ids) for e in events)
    for earlier, later in zip(events, events[1:], strict=False):
        after = {ch["pk"]: ch["after"] for ch in earlier["payload"]["changes"]}
        assert all(ch["before"] == after[ch["pk"]] for ch in later["payload"]["changes"])


def _pks(store: Store, ids: list[str]) -> list[int]:
    found = store.get_examples("p", ids)
    return [found[i].pk for i in ids]


# ---- undo: one winner ------------------------------------------------------------------------


def test_eight_people_pressing_undo_on_one_event_exactly_one_wins(
    store: Store, tmp_path: Path
) -> None:
    ids = seed_project(store, tmp_path, 3)
    for trial in range(4):
        event = store.set_status("p", [ids[0]], "rejected", "bob", f"off-topic {trial}")
        start = threading.Barrier(N_WRITERS)

        def press(t: int, event: int = event, start: threading.Barrier = start) -> Outcome:
            start.wait()
            return attempt(lambda: store.undo("p", event, f"user{t}"))

        outcomes = run_threads(N_WRITERS, press)
        assert _raw(outcomes) == []
        winners = [o for o in outcomes if o.ok]
        assert len(winners) == 1, trial
        losers = [o.error for o in outcomes if not o.ok]
        assert all("already undone" in str(e) for e in losers), losers
        undos = [
            e
            for e in store.events("p", kinds=["undo"], limit=1000)
            if e["payload"]["event"] == event
        ]
        assert [u["id"] for u in undos] == [winners[0].value]
        assert store.get_example("p", ids[0]).status == "active"


def test_undo_racing_a_new_change_never_loses_the_change(store: Store, tmp_path: Path) -> None:
    """Either the undo comes first (and the change's before-state is the restored one) or it is
    refused because of the change; never both applied with a stale before-state."""
    ids = seed_project(store, tmp_path, 2)
    for trial in range(6):
        event = store.set_status("p", [ids[0]], "rejected", "bob", f"bad {trial}")
        start = threading.Barrier(2)

        def act(
            t: int, event: int = event, trial: int = trial, start: threading.Barrier = start
        ) -> Outcome:
            start.wait()
            if t == 0:
                return attempt(lambda: store.undo("p", event, "ada"))
            return attempt(
                lambda: store.set_status("p", [ids[0]], "filtered", "carol", f"filter {trial}")
            )

        undo, change = run_threads(2, act)
        assert _raw([undo, change]) == []
        assert change.ok
        ch = store.events("p", kinds=["status"], limit=1)[0]["payload"]["changes"][0]
        if undo.ok:
            assert ch["before"] == _state("active", None, None)
        else:
            assert "later event" in str(undo.error)
            assert ch["before"]["status"] == "rejected"
        assert store.get_example("p", ids[0]).status == "filtered"
        # clean up for the next trial, newest first
        store.undo("p", store.events("p", kinds=["status"], limit=1)[0]["id"], "carol")
        if not undo.ok:
            store.undo("p", event, "ada")
        assert store.get_example("p", ids[0]).status == "active"


# ---- projects and imports ----------------------------------------------------------------------


def test_eight_creators_of_one_project_name_one_wins(store: Store) -> None:
    start = threading.Barrier(N_WRITERS)

    def create(t: int) -> Outcome:
        start.wait()
        return attempt(lambda: store.create_project("shared", f"user{t}"))

    outcomes = run_threads(N_WRITERS, create)
    assert _raw(outcomes) == []
    assert sum(o.ok for o in outcomes) == 1
    assert all("already exists" in str(o.error) for o in outcomes if not o.ok)
    assert store.list_projects() == ["shared"]
    assert len(store.events("shared", kinds=["create_project"])) == 1

    start2 = threading.Barrier(N_WRITERS)

    def ensure(t: int) -> Outcome:
        start2.wait()
        return attempt(lambda: store.ensure_project("other", f"user{t}"))

    ensured = run_threads(N_WRITERS, ensure)
    assert [o.error for o in ensured if not o.ok] == []
    assert len({o.value for o in ensured}) == 1


def test_eight_imports_into_one_project_at_once(store: Store, tmp_path: Path) -> None:
    store.create_project("p", "ada")
    sizes = [5 + t for t in range(N_WRITERS)]
    results = [
        read_examples(write_alpaca(tmp_path / f"part{t}.jsonl", sizes[t], tag=f" part {t}"))
        for t in range(N_WRITERS)
    ]
    start = threading.Barrier(N_WRITERS)

    def importer(t: int) -> Outcome:
        start.wait()
        return attempt(lambda: store.add_import("p", results[t], f"user{t}"))

    outcomes = run_threads(N_WRITERS, importer)
    assert _raw(outcomes) == []
    assert [o.value.imported for o in outcomes] == sizes
    stored = store.list_examples("p", limit=None)
    assert len(stored) == sum(sizes)
    # positions are the import order: unique and gap-free, so keyset paging sees every example
    assert sorted(e.position for e in stored) == list(range(sum(sizes)))
    assert len(list(store.iter_examples("p", batch=7))) == sum(sizes)


def test_the_same_file_imported_twice_at_once_is_stored_once(store: Store, tmp_path: Path) -> None:
    store.create_project("p", "ada")
    result = read_examples(write_alpaca(tmp_path / "same.jsonl", 20))
    start = threading.Barrier(N_WRITERS)

    def importer(t: int) -> Outcome:
        start.wait()
        return attempt(lambda: store.add_import("p", result, f"user{t}"))

    outcomes = run_threads(N_WRITERS, importer)
    assert _raw(outcomes) == []
    assert sorted(o.value.already_imported for o in outcomes) == [False] + [True] * 7
    assert store.count_examples("p") == 20
    assert len(store.list_imports("p")) == 1
