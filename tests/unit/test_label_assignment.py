"""Assignment of work and what annotators may see: each example gets the required number of
distinct annotators, no one labels an example twice, and no one sees others' labels first.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.errors import LabelError
from curation.labeling import (
    Label,
    annotation_progress,
    annotators_by_example,
    next_examples,
    visible_labels,
)

IDS = [f"e{i}" for i in range(6)]


def done(*pairs: tuple[str, str]) -> list[Label]:
    return [Label(ex, who, "verdict", "accept") for ex, who in pairs]


def test_next_skips_what_the_annotator_labelled_and_what_is_complete() -> None:
    labels = done(("e0", "ann"), ("e1", "bob"), ("e1", "cy"), ("e2", "bob"))
    # k = 2: e1 is complete (bob, cy); e0 is ann's own; e2 has one (bob) -> finish it first.
    assert next_examples(IDS, labels, "ann", annotators_per_example=2, limit=10) == [
        "e2",
        "e3",
        "e4",
        "e5",
    ]
    # bob labelled e1 and e2: e0 (started by ann) first, then the untouched ones in order.
    assert next_examples(IDS, labels, "bob", annotators_per_example=2, limit=10) == [
        "e0",
        "e3",
        "e4",
        "e5",
    ]


def test_spread_order_gives_every_example_a_first_label_first() -> None:
    labels = done(("e0", "ann"), ("e2", "bob"))
    assert next_examples(IDS, labels, "cy", annotators_per_example=2, limit=6, order="spread") == [
        "e1",
        "e3",
        "e4",
        "e5",
        "e0",
        "e2",
    ]


def test_in_progress_holds_count_and_own_hold_comes_first() -> None:
    labels = done(("e0", "ann"))
    holds = {"e1": {"bob"}, "e3": {"cy"}, "e4": {"ann"}}
    # k = 1: e0 done, e1 and e3 held by others; ann's own hold e4 comes first (resume).
    assert next_examples(
        IDS, labels, "ann", annotators_per_example=1, limit=5, in_progress=holds
    ) == ["e4", "e2", "e5"]
    # A hold by someone who has since labelled the example is not counted twice.
    labels2 = done(("e1", "bob"))
    assert next_examples(
        IDS, labels2, "cy", annotators_per_example=2, limit=1, in_progress={"e1": {"bob"}}
    ) == ["e1"]


def test_skipped_examples_come_last_in_queue_order() -> None:
    assert next_examples(
        IDS, [], "ann", annotators_per_example=1, limit=6, skipped={"e0", "e3"}
    ) == ["e1", "e2", "e4", "e5", "e0", "e3"]


def test_reviewer_and_imported_labels_do_not_count_as_annotators() -> None:
    labels = [
        Label("e0", "rev", "verdict", "accept", role="reviewer"),
        Label("e1", "category", "topic", "A", role="imported"),
    ]
    assert annotators_by_example(labels) == {}
    assert next_examples(IDS, labels, "ann", annotators_per_example=1, limit=2) == ["e0", "e1"]


def test_bad_arguments_are_named() -> None:
    with pytest.raises(LabelError, match="annotators_per_example must be a whole number >= 1"):
        next_examples(IDS, [], "ann", annotators_per_example=0)
    with pytest.raises(LabelError, match="order must be one of finish, spread"):
        next_examples(IDS, [], "ann", annotators_per_example=1, order="random")
    with pytest.raises(LabelError, match="annotator must be a name"):
        next_examples(IDS, [], " ", annotators_per_example=1)
    with pytest.raises(LabelError, match="limit must be a whole number >= 0"):
        next_examples(IDS, [], "ann", annotators_per_example=1, limit=-1)


@settings(max_examples=60, deadline=None)
@given(
    n_examples=st.integers(1, 30),
    n_people=st.integers(1, 6),
    k=st.integers(1, 4),
    batch=st.integers(1, 5),
    seed=st.integers(0, 10_000),
    order=st.sampled_from(["finish", "spread"]),
)
def test_simulated_team_covers_every_example_exactly_k_times(
    n_examples: int, n_people: int, k: int, batch: int, seed: int, order: str
) -> None:
    """Annotators ask for work in random turns, hold it, then label it; at the end every
    example has min(k, team size) distinct annotators, nobody labelled one twice."""
    rng = random.Random(seed)
    ids = [f"x{i}" for i in range(n_examples)]
    people = [f"p{i}" for i in range(n_people)]
    labels: list[Label] = []
    holds: dict[str, set[str]] = {}
    for _ in range(n_examples * k * 4 + 10):
        who = rng.choice(people)
        mine = [e for e, h in holds.items() if who in h]
        if mine and rng.random() < 0.6:  # finish one of the held examples
            ex = mine[0]
            holds[ex].discard(who)
            labels.append(Label(ex, who, "verdict", "accept"))
            continue
        for ex in next_examples(
            ids, labels, who, annotators_per_example=k, limit=batch, in_progress=holds, order=order
        ):
            holds.setdefault(ex, set()).add(who)
    # Everyone finishes what they hold, then works the queue dry.
    for ex, holders in holds.items():
        for who in sorted(holders):
            labels.append(Label(ex, who, "verdict", "accept"))
    holds.clear()
    for who in people:
        for ex in next_examples(ids, labels, who, annotators_per_example=k, limit=n_examples):
            labels.append(Label(ex, who, "verdict", "accept"))
    pairs = [(lab.example_id, lab.annotator) for lab in labels]
    assert len(pairs) == len(set(pairs)), "someone labelled an example twice"
    coverage = annotators_by_example(labels)
    assert {ex: len(coverage.get(ex, set())) for ex in ids} == {ex: min(k, n_people) for ex in ids}
    progress = annotation_progress(ids, labels, annotators_per_example=k)
    assert progress.complete == (n_examples if n_people >= k else 0)
    assert sum(progress.per_annotator.values()) == n_examples * min(k, n_people)


def test_annotation_progress_counts() -> None:
    labels = done(("e0", "ann"), ("e0", "bob"), ("e1", "ann"), ("zz", "ann"))
    progress = annotation_progress(IDS, labels, annotators_per_example=2)
    assert (progress.examples, progress.complete, progress.started, progress.untouched) == (
        6,
        1,
        1,
        4,
    )
    assert progress.done_fraction == pytest.approx(3 / 12)  # e0 counts 2, e1 counts 1
    assert progress.per_annotator == {"ann": 2, "bob": 1}  # "zz" is outside the queue
    assert progress.to_dict()["per_annotator"] == {"ann": 2, "bob": 1}
    assert annotation_progress([], [], annotators_per_example=1).done_fraction == 0.0


# ---------------------------------------------------------------- visibility


def test_others_labels_stay_hidden_until_the_viewer_gave_their_own() -> None:
    labels = [
        Label("e1", "bob", "topic", "A"),
        Label("e1", "bob", "verdict", "reject"),
        Label("e1", "rev", "topic", "B", role="reviewer"),
        Label("e1", "category", "topic", "A", role="imported"),
        Label("e2", "bob", "topic", "B"),
        Label("e2", "ann", "topic", "A"),
    ]
    seen = visible_labels(labels, viewer="ann")
    shown = {(lab.example_id, lab.annotator, lab.field) for lab in seen}
    # e1: ann gave nothing -> only the imported label (part of the data); e2: ann answered topic.
    assert shown == {("e1", "category", "topic"), ("e2", "bob", "topic"), ("e2", "ann", "topic")}
    hidden_imports = visible_labels(labels, viewer="ann", show_imported=False)
    assert ("e1", "category", "topic") not in {
        (lab.example_id, lab.annotator, lab.field) for lab in hidden_imports
    }
    # Once ann labels e1's topic, bob's topic and the reviewer's decision show, not bob's verdict.
    labels.append(Label("e1", "ann", "topic", "B"))
    shown = {
        (lab.example_id, lab.annotator, lab.field) for lab in visible_labels(labels, viewer="ann")
    }
    assert ("e1", "bob", "topic") in shown
    assert ("e1", "rev", "topic") in shown
    assert ("e1", "bob", "verdict") not in shown
    assert len(visible_labels(labels, viewer="rev", reviewer=True)) == len(labels)
