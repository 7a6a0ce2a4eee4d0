"""The labels repository on a real SQLite file and a real PostgreSQL database: values checked
against the saved schema, newest live row wins, one event per write, undo, the queue's holds,
and real threads labelling, claiming and reviewing at once.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from curation.errors import ConflictError, LabelError, NotFoundError, StoreError
from curation.labeling import (
    Label,
    LabelSchema,
    MultiChoiceField,
    RatingField,
    SingleChoiceField,
    TextField,
    VerdictField,
)
from curation.store import ExampleFilter, Store
from curation.store import labels as repo
from curation.store import schema as s
from tests.unit.store_helpers import N_WRITERS, Outcome, attempt, run_threads, seed_project

pytestmark = pytest.mark.timeout(600)

SCHEMA = LabelSchema(
    fields=(
        VerdictField(),
        SingleChoiceField("topic", ("sports", "science", "arts")),
        MultiChoiceField("tags", ("short", "math", "unsafe")),
    ),
    annotators_per_example=2,
)


@pytest.fixture()
def store(db_url: str) -> Iterator[Store]:
    st = Store(db_url)
    yield st
    st.dispose()


def _project(store: Store, tmp_path: Path, n: int = 5, schema: LabelSchema = SCHEMA) -> list[str]:
    ids = seed_project(store, tmp_path, n)
    store.set_project_setting("p", repo.SCHEMA_SETTING, schema.to_dict(), "ada")
    return ids


def _values(store: Store, example_id: str, annotator: str, role: str = "annotator") -> dict:
    return {
        r.field: r.value
        for r in repo.list_labels(store, "p", example_ids=[example_id])
        if r.annotator == annotator and r.role == role
    }


# ---- writes and reads ----------------------------------------------------------------------


def test_an_annotation_is_one_event_and_a_full_one_clears_what_was_left_out(
    store: Store, tmp_path: Path
) -> None:
    ids = _project(store, tmp_path)
    first = repo.annotate(
        store, "p", ids[0], {"verdict": "accept", "topic": "science", "tags": ["math"]}, "bob"
    )
    assert first is not None
    assert _values(store, ids[0], "bob") == {
        "verdict": "accept",
        "topic": "science",
        "tags": ("math",),
    }
    event = store.events("p", kinds=["labels"])[0]
    assert event["id"] == first and event["author"] == "bob"
    assert event["payload"]["n_labels"] == 3 and event["payload"]["examples"] == [ids[0]]
    # the same annotation again changes nothing: no event
    assert (
        repo.annotate(
            store, "p", ids[0], {"verdict": "accept", "topic": "science", "tags": ["math"]}, "bob"
        )
        is None
    )
    # a full annotation without the topic clears it (one row with no value); tags as given
    second = repo.annotate(store, "p", ids[0], {"verdict": "reject", "tags": []}, "bob")
    assert _values(store, ids[0], "bob") == {"verdict": "reject", "tags": ()}
    assert store.events("p", kinds=["labels"])[0]["payload"]["n_labels"] == 3
    history = repo.list_labels(store, "p", example_ids=[ids[0]], history=True)
    assert [(r.field, r.value, r.event_id) for r in history][-3:] == [
        ("verdict", "reject", second),
        ("topic", None, second),
        ("tags", (), second),
    ]
    # partial: only the given field changes
    repo.annotate(store, "p", ids[0], {"topic": "arts"}, "bob", partial=True)
    assert _values(store, ids[0], "bob") == {"verdict": "reject", "topic": "arts", "tags": ()}


def test_values_are_checked_against_the_saved_schema(store: Store, tmp_path: Path) -> None:
    ids = _project(store, tmp_path)
    with pytest.raises(LabelError, match="'politics' is not one of the allowed values"):
        repo.annotate(store, "p", ids[0], {"topic": "politics"}, "bob")
    with pytest.raises(LabelError, match="unknown label field"):
        repo.annotate(store, "p", ids[0], {"mood": "happy"}, "bob")
    with pytest.raises(LabelError, match="has no value"):
        repo.annotate(store, "p", ids[0], {"topic": "  "}, "bob")
    with pytest.raises(NotFoundError, match="No example"):
        repo.annotate(store, "p", "nope", {"topic": "arts"}, "bob")
    with pytest.raises(StoreError, match="author name is required"):
        repo.annotate(store, "p", ids[0], {"topic": "arts"}, " ")
    assert repo.list_labels(store, "p") == []
    assert store.events("p", kinds=["labels"]) == []


def test_numbers_and_texts_read_back_as_given(store: Store, tmp_path: Path) -> None:
    # SQLite's NUMERIC affinity would turn a stored "4" into 4 in a JSON column; values are
    # JSON text, so a rating stays the number 4 and a note "4" stays text
    schema = LabelSchema(fields=(RatingField(), TextField(), SingleChoiceField("n", ("1", "2"))))
    ids = _project(store, tmp_path, n=1, schema=schema)
    repo.annotate(store, "p", ids[0], {"rating": 4, "note": "4", "n": "2"}, "bob")
    assert _values(store, ids[0], "bob") == {"rating": 4, "note": "4", "n": "2"}
    assert [type(r.value) for r in repo.list_labels(store, "p")] == [int, str, str]


def test_no_schema_says_how_to_set_one(store: Store, tmp_path: Path) -> None:
    ids = seed_project(store, tmp_path, 2)
    with pytest.raises(LabelError, match="no label schema yet"):
        repo.annotate(store, "p", ids[0], {"verdict": "accept"}, "bob")


def test_a_write_on_stale_labels_is_refused(store: Store, tmp_path: Path) -> None:
    ids = _project(store, tmp_path)
    seen = repo.example_version(store, "p", ids[0], annotator="bob", role="annotator")
    assert seen == "0:0"
    repo.annotate(store, "p", ids[0], {"verdict": "accept"}, "bob", expected=seen)
    # bob's other tab still shows the old state
    with pytest.raises(ConflictError, match="changed elsewhere since you opened it"):
        repo.annotate(store, "p", ids[0], {"verdict": "reject"}, "bob", expected=seen)
    assert _values(store, ids[0], "bob") == {"verdict": "accept"}
    # another annotator's label does not make bob's view stale
    now = repo.example_version(store, "p", ids[0], annotator="bob", role="annotator")
    repo.annotate(store, "p", ids[0], {"verdict": "reject"}, "cy")
    repo.annotate(store, "p", ids[0], {"verdict": "needs_fix"}, "bob", expected=now)
    assert _values(store, ids[0], "bob") == {"verdict": "needs_fix"}


def test_undo_newest_first_and_a_later_label_blocks_an_older_undo(
    store: Store, tmp_path: Path
) -> None:
    ids = _project(store, tmp_path)
    one = repo.annotate(store, "p", ids[0], {"verdict": "accept", "topic": "arts"}, "bob")
    two = repo.annotate(store, "p", ids[0], {"verdict": "reject", "topic": "arts"}, "bob")
    assert one is not None and two is not None
    with pytest.raises(ConflictError, match=f"Cannot undo event #{one}.*#{two}"):
        store.undo("p", one, "ada")
    store.undo("p", two, "ada")
    assert _values(store, ids[0], "bob") == {"verdict": "accept", "topic": "arts"}
    store.undo("p", one, "ada")
    assert _values(store, ids[0], "bob") == {}
    with pytest.raises(StoreError, match="already undone"):
        store.undo("p", one, "ada")
    # retracted rows stay in the table, never in the history of live rows
    assert repo.list_labels(store, "p", history=True) == []
    # another person's later label on the same field does not block
    three = repo.annotate(store, "p", ids[1], {"verdict": "accept"}, "bob")
    repo.annotate(store, "p", ids[1], {"verdict": "reject"}, "cy")
    assert three is not None
    store.undo("p", three, "ada")
    assert _values(store, ids[1], "bob") == {} and _values(store, ids[1], "cy") == {
        "verdict": "reject"
    }


def test_bulk_is_one_event_and_one_undo(store: Store, tmp_path: Path) -> None:
    ids = _project(store, tmp_path, n=6)
    repo.annotate(store, "p", ids[0], {"verdict": "reject", "tags": ["short"]}, "ada")
    event = repo.bulk_label(store, "p", ids[:4], "tags", "math", "ada", mode="add")
    assert event is not None
    assert _values(store, ids[0], "ada")["tags"] == ("short", "math")
    assert [_values(store, i, "ada").get("tags") for i in ids[1:5]] == [("math",)] * 3 + [None]
    assert store.events("p", kinds=["labels"])[0]["payload"]["n_examples"] == 4
    verdict = repo.bulk_label(store, "p", ids, "verdict", "accept", "ada")
    assert {_values(store, i, "ada")["verdict"] for i in ids} == {"accept"}
    store.undo("p", verdict, "ada")  # type: ignore[arg-type]
    assert [_values(store, i, "ada").get("verdict") for i in ids] == ["reject"] + [None] * 5
    store.undo("p", event, "ada")
    assert _values(store, ids[0], "ada") == {"verdict": "reject", "tags": ("short",)}
    with pytest.raises(LabelError, match="works on tags"):
        repo.bulk_label(store, "p", ids, "topic", "arts", "ada", mode="add")
    with pytest.raises(LabelError, match="not one of the allowed"):
        repo.bulk_label(store, "p", ids, "verdict", "maybe", "ada")


def test_only_reviewers_set_final_labels(store: Store, tmp_path: Path) -> None:
    ids = _project(store, tmp_path)
    with pytest.raises(LabelError, match="'bob' may not set final labels: reviewers are ada"):
        repo.review(store, "p", ids[0], {"verdict": "accept"}, "bob")
    store.set_project_setting("p", repo.REVIEWERS_SETTING, ["bob"], "ada")
    assert repo.reviewers(store, "p") == ["ada", "bob"]
    repo.review(store, "p", ids[0], {"verdict": "accept"}, "bob")
    assert _values(store, ids[0], "bob", role="reviewer") == {"verdict": "accept"}
    repo.review(store, "p", ids[0], {"verdict": None}, "bob")  # withdrawn: the votes decide
    assert _values(store, ids[0], "bob", role="reviewer") == {}
    with pytest.raises(LabelError, match="there is no label field 'mood'"):
        repo.review(store, "p", ids[0], {"mood": None}, "bob")
    final = [Label(ids[1], "cy", "verdict", "reject", role="reviewer")]
    with pytest.raises(LabelError, match="'cy' may not set final labels"):
        repo.import_labels(store, "p", final, "cy")
    repo.import_labels(store, "p", final, "bob")  # a reviewer brings them in
    assert _values(store, ids[1], "cy", role="reviewer") == {"verdict": "reject"}
    with pytest.raises(LabelError, match="may not set final labels"):
        repo.bulk_label(store, "p", ids, "verdict", "accept", "cy", role="reviewer")


def test_import_labels_is_all_or_nothing(store: Store, tmp_path: Path) -> None:
    ids = _project(store, tmp_path)
    good = [Label(ids[0], "zed", "topic", "arts"), Label(ids[1], "zed", "verdict", "reject")]
    with pytest.raises(LabelError, match="label by 'zed' on .*'nope' is not one of"):
        repo.import_labels(store, "p", [*good, Label(ids[2], "zed", "topic", "nope")], "ada")
    with pytest.raises(NotFoundError, match="missing-id"):
        repo.import_labels(store, "p", [*good, Label("missing-id", "zed", "topic", "arts")], "ada")
    assert repo.list_labels(store, "p") == []
    event = repo.import_labels(store, "p", good, "ada", source="other-tool.csv")
    assert [(r.example_id, r.field, r.value) for r in repo.list_labels(store, "p")] == [
        (ids[0], "topic", "arts"),
        (ids[1], "verdict", "reject"),
    ]
    assert "other-tool.csv" in store.events("p", kinds=["labels"])[0]["summary"]
    store.undo("p", event, "ada")  # type: ignore[arg-type]
    assert repo.list_labels(store, "p") == []


def test_imported_values_are_replaced_as_a_whole(store: Store, tmp_path: Path) -> None:
    ids = _project(store, tmp_path, n=3)
    repo.write_imported(
        store,
        "p",
        {ids[0]: {"topic": "arts"}, ids[1]: {"topic": "science"}},
        {"topic": "category"},
        "ada",
        fields=["topic"],
    )
    # the metadata changed: ids[0] has no value any more, ids[2] got one
    repo.write_imported(
        store,
        "p",
        {ids[1]: {"topic": "science"}, ids[2]: {"topic": "sports"}},
        {"topic": "category"},
        "ada",
        fields=["topic"],
    )
    got = {(r.example_id, r.value, r.annotator, r.role) for r in repo.list_labels(store, "p")}
    assert got == {
        (ids[1], "science", "category", "imported"),
        (ids[2], "sports", "category", "imported"),
    }
    assert store.events("p", kinds=["labels"])[0]["payload"]["n_labels"] == 2


# ---- the queue -------------------------------------------------------------------------------


def test_queue_filters_count_annotators_against_the_schema(store: Store, tmp_path: Path) -> None:
    ids = _project(store, tmp_path, n=4)  # two annotators per example
    repo.annotate(store, "p", ids[0], {"verdict": "accept"}, "bob")
    repo.annotate(store, "p", ids[0], {"verdict": "accept"}, "cy")
    repo.annotate(store, "p", ids[1], {"verdict": "reject"}, "bob")
    assert repo.queue_ids(store, "p", label_state="unlabelled") == ids[2:]
    assert repo.queue_ids(store, "p", label_state="started") == [ids[1]]
    assert repo.queue_ids(store, "p", label_state="complete") == [ids[0]]
    assert repo.queue_ids(store, "p", label_state="mine", annotator="cy") == [ids[0]]
    assert repo.queue_ids(store, "p", label_state="not_mine", annotator="bob") == ids[2:]
    assert repo.count_queue(store, "p", label_state=["not_mine", "started"], annotator="cy") == 1
    assert (
        repo.neighbour_in_queue(store, "p", ids[0], label_state="not_mine", annotator="bob")
        == (ids[2])
    )
    assert repo.neighbour_in_queue(store, "p", ids[3], step=-1) == ids[2]
    assert repo.neighbour_in_queue(store, "p", ids[3]) is None
    # the store's own filters apply too: a rejected example leaves the default (active) queue
    store.set_status("p", [ids[2]], "rejected", "ada", "off topic")
    assert repo.queue_ids(store, "p", label_state="unlabelled") == [ids[3]]
    assert repo.queue_ids(store, "p", ExampleFilter(), label_state="unlabelled") == ids[2:]
    progress = repo.queue_progress(store, "p")
    assert (progress.examples, progress.complete, progress.started, progress.untouched) == (
        3,
        1,
        1,
        1,
    )
    assert progress.per_annotator == {"bob": 2, "cy": 1}
    assert progress.done_fraction == pytest.approx(3 / 6)


def test_large_label_sets_filter_through_a_subquery(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _project(store, tmp_path, n=4)
    repo.bulk_label(store, "p", ids[:3], "verdict", "accept", "bob")
    literal = repo.queue_ids(store, "p", label_state="not_mine", annotator="bob")
    monkeypatch.setattr(repo, "_LITERAL_IN_MAX", 1)  # three pks: past the literal list
    assert repo.queue_ids(store, "p", label_state="not_mine", annotator="bob") == literal
    assert literal == [ids[3]]
    assert repo.queue_ids(store, "p", label_state="mine", annotator="bob") == ids[:3]
    assert repo.claim_next(store, "p", "bob") == ids[3]


def test_claims_hand_each_example_to_as_many_annotators_as_it_needs(
    store: Store, tmp_path: Path
) -> None:
    ids = _project(store, tmp_path, n=3)  # k = 2
    assert repo.claim_next(store, "p", "bob") == ids[0]
    # finish first: cy gets the example bob holds open, dee the next one
    assert repo.claim_next(store, "p", "cy") == ids[0]
    assert repo.claim_next(store, "p", "dee") == ids[1]
    assert repo.open_holds(store, "p") == {ids[0]: ["bob", "cy"], ids[1]: ["dee"]}
    # a reload resumes one's own open example
    assert repo.claim_next(store, "p", "bob") == ids[0]
    repo.annotate(store, "p", ids[0], {"verdict": "accept"}, "bob")
    assert repo.open_holds(store, "p") == {ids[0]: ["cy"], ids[1]: ["dee"]}
    assert repo.claim_next(store, "p", "bob") == ids[1]
    # skipped: offered again only after everything else
    repo.skip(store, "p", ids[1], "bob")
    assert repo.claim_next(store, "p", "bob") == ids[2]
    repo.annotate(store, "p", ids[2], {"verdict": "accept"}, "bob")
    assert repo.claim_next(store, "p", "bob") == ids[1]
    assert repo.release_holds(store, "p", "bob") == 1
    with pytest.raises(LabelError, match="order must be"):
        repo.claim_next(store, "p", "bob", order="random")


def _random_state(store: Store, ids: list[str], rng: random.Random) -> dict[str, Any]:
    """Labels and holds written straight into the tables, and what the core is given."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import delete, insert, select

    people = ["ann", "bob", "cy", "dee"]
    k = rng.randint(1, 3)
    store.set_project_setting(
        "p",
        repo.SCHEMA_SETTING,
        LabelSchema((VerdictField(),), annotators_per_example=k).to_dict(),
        "ada",
    )
    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        conn.execute(delete(s.labels))
        conn.execute(delete(s.label_holds))
        pks = dict(conn.execute(select(s.examples.c.example_id, s.examples.c.pk)).all())
        pid = store.project_id("p")
        labels, holds, skipped, label_rows, hold_rows = [], {}, {}, [], []
        for eid in ids:
            for who in people:
                roll = rng.random()
                if roll < 0.3:
                    labels.append(Label(eid, who, "verdict", "accept"))
                    label_rows.append(
                        {
                            "project_id": pid,
                            "example_pk": pks[eid],
                            "example_id": eid,
                            "field": "verdict",
                            "annotator": who,
                            "role": "annotator",
                            "value": '"accept"',
                            "event_id": 0,
                            "retracted": False,
                            "created_at": now,
                        }
                    )
                elif roll < 0.45:
                    stale = rng.random() < 0.3
                    when = now - timedelta(minutes=repo.HOLD_MINUTES + 5) if stale else now
                    hold_rows.append(
                        {
                            "project_id": pid,
                            "example_pk": pks[eid],
                            "annotator": who,
                            "state": "open",
                            "updated_at": when,
                        }
                    )
                    if not stale:
                        holds.setdefault(eid, []).append(who)
                elif roll < 0.55:
                    hold_rows.append(
                        {
                            "project_id": pid,
                            "example_pk": pks[eid],
                            "annotator": who,
                            "state": "skipped",
                            "updated_at": now,
                        }
                    )
                    skipped.setdefault(who, set()).add(eid)
        if label_rows:
            conn.execute(insert(s.labels), label_rows)
        if hold_rows:
            conn.execute(insert(s.label_holds), hold_rows)
    return {"k": k, "labels": labels, "holds": holds, "skipped": skipped}


@pytest.mark.parametrize("seed", range(3))
def test_the_fast_queue_paths_equal_the_core_rules(store: Store, tmp_path: Path, seed: int) -> None:
    from curation.labeling import annotation_progress, next_examples

    ids = _project(store, tmp_path, n=9)
    for i in range(12):
        rng = random.Random(seed * 1000 + i)
        state = _random_state(store, ids, rng)
        expected = annotation_progress(ids, state["labels"], annotators_per_example=state["k"])
        assert repo.queue_progress(store, "p") == expected
        who = rng.choice(["ann", "bob", "cy", "dee", "eve"])
        order = rng.choice(["finish", "spread"])
        mine_first = next_examples(
            ids,
            state["labels"],
            who,
            annotators_per_example=state["k"],
            in_progress=state["holds"],
            skipped=state["skipped"].get(who, set()),
            order=order,
        )
        got = repo.claim_next(store, "p", who, order=order)
        assert got == (mine_first[0] if mine_first else None), (seed, i, state, who, order)


# ---- several people at once ------------------------------------------------------------------


def test_eight_annotators_claiming_at_once_never_overshoot(store: Store, tmp_path: Path) -> None:
    one = LabelSchema(fields=(VerdictField(),), annotators_per_example=1)
    ids = _project(store, tmp_path, n=5, schema=one)
    barrier = threading.Barrier(N_WRITERS)

    def work(i: int) -> Outcome:
        barrier.wait()
        return attempt(lambda: repo.claim_next(store, "p", f"annotator{i}"))

    outcomes = run_threads(N_WRITERS, work)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    claimed = [o.value for o in outcomes if o.value is not None]
    assert sorted(claimed) == sorted(ids)  # five examples, each to exactly one annotator
    assert sum(o.value is None for o in outcomes) == N_WRITERS - len(ids)


def test_eight_annotators_labelling_one_example_at_once_all_count(
    store: Store, tmp_path: Path
) -> None:
    ids = _project(store, tmp_path, n=2)
    barrier = threading.Barrier(N_WRITERS)

    def work(i: int) -> Outcome:
        seen = repo.example_version(store, "p", ids[0], annotator=f"a{i}", role="annotator")
        barrier.wait()
        verdict = "accept" if i % 2 else "reject"
        return attempt(
            lambda: repo.annotate(store, "p", ids[0], {"verdict": verdict}, f"a{i}", expected=seen)
        )

    outcomes = run_threads(N_WRITERS, work)
    assert all(o.ok and o.value is not None for o in outcomes), [o.error for o in outcomes]
    rows = repo.list_labels(store, "p", example_ids=[ids[0]])
    assert sorted(r.annotator for r in rows) == sorted(f"a{i}" for i in range(N_WRITERS))
    assert len({o.value for o in outcomes}) == N_WRITERS  # one event each


def test_one_annotator_in_eight_tabs_saves_once(store: Store, tmp_path: Path) -> None:
    ids = _project(store, tmp_path, n=2)
    seen = repo.example_version(store, "p", ids[0], annotator="bob", role="annotator")
    barrier = threading.Barrier(N_WRITERS)
    verdicts = [
        "accept",
        "reject",
        "needs_fix",
        "accept",
        "reject",
        "needs_fix",
        "accept",
        "reject",
    ]

    def work(i: int) -> Outcome:
        barrier.wait()
        return attempt(
            lambda: repo.annotate(
                store, "p", ids[0], {"verdict": verdicts[i]}, "bob", expected=seen
            )
        )

    outcomes = run_threads(N_WRITERS, work)
    winners = [i for i, o in enumerate(outcomes) if o.ok]
    assert len(winners) == 1
    assert all(isinstance(o.error, ConflictError) for o in outcomes if not o.ok)
    assert _values(store, ids[0], "bob") == {"verdict": verdicts[winners[0]]}


def test_a_reviewer_never_decides_on_votes_changed_meanwhile(store: Store, tmp_path: Path) -> None:
    ids = _project(store, tmp_path, n=2)
    for round_ in range(4):
        repo.annotate(store, "p", ids[0], {"verdict": "accept"}, "bob")
        repo.annotate(store, "p", ids[0], {"verdict": "reject"}, "cy")
        seen = repo.example_version(store, "p", ids[0])
        barrier = threading.Barrier(2)
        flip = "needs_fix" if round_ % 2 else "accept"

        def work(i: int, seen: str = seen, flip: str = flip, barrier: Any = barrier) -> Outcome:
            barrier.wait()
            if i == 0:
                return attempt(
                    lambda: repo.review(
                        store, "p", ids[0], {"verdict": "reject"}, "ada", expected=seen
                    )
                )
            return attempt(lambda: repo.annotate(store, "p", ids[0], {"verdict": flip}, "cy"))

        reviewer, annotator = run_threads(2, work)
        assert annotator.ok, annotator.error
        rows = repo.list_labels(store, "p", example_ids=[ids[0]])
        cy = next(r for r in rows if r.annotator == "cy")
        assert cy.value == flip
        if reviewer.ok:  # the review committed first: it saw the votes as they were
            decided = next(r for r in rows if r.role == "reviewer")
            assert decided.id < cy.id
        else:
            assert isinstance(reviewer.error, ConflictError)
        repo.review(store, "p", ids[0], {"verdict": None}, "ada")
