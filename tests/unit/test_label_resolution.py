"""Final labels: reviewer wins, else unanimous, else majority with a minimum, else unresolved;
imported labels when nobody labelled; labels history (latest wins); the Label record itself.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from curation.errors import LabelError
from curation.labeling import (
    Label,
    LabelSchema,
    MultiChoiceField,
    RatingField,
    ResolutionRule,
    SingleChoiceField,
    TextField,
    VerdictField,
    check_labels,
    latest_labels,
    resolve_field,
    resolve_final_labels,
)

T0 = datetime(2024, 5, 1, tzinfo=UTC)
SCHEMA = LabelSchema(
    fields=(
        SingleChoiceField("topic", ("A", "B", "C")),
        VerdictField(),
        MultiChoiceField("tags", ("x", "y", "z")),
        RatingField(),
        TextField(),
    ),
    annotators_per_example=2,
)
RULE = ResolutionRule()


def votes_for(**by: object) -> dict[str, object]:
    return dict(by)


@pytest.mark.parametrize(
    ("votes", "expected"),
    [
        ({"a": "A", "b": "A"}, ("A", "unanimous")),
        ({"a": "A", "b": "B"}, (None, "unresolved")),  # 1-1: no majority
        ({"a": "A", "b": "A", "c": "B"}, ("A", "majority")),  # 2 of 3
        ({"a": "A", "b": "B", "c": "C"}, (None, "unresolved")),  # 1-1-1
        ({"a": "A", "b": "A", "c": "B", "d": "B"}, (None, "unresolved")),  # tie at the top
        ({"a": "A"}, (None, "pending")),  # fewer than the 2 required
        ({}, (None, "pending")),
    ],
)
def test_vote_rules(votes: dict, expected: tuple) -> None:
    value, status, _, decided_by = resolve_field(votes, kind="single_choice", rule=RULE, required=2)
    assert (value, status) == expected
    assert decided_by is None


def test_reviewer_wins_over_any_votes_and_imported_fills_in_when_nobody_voted() -> None:
    value, status, tally, who = resolve_field(
        {"a": "A", "b": "A"}, kind="single_choice", rule=RULE, required=2, reviewer=("rev", "C")
    )
    assert (value, status, who) == ("C", "reviewed", "rev")
    assert tally == (("A", 2),)
    assert resolve_field(
        {}, kind="single_choice", rule=RULE, required=2, imported=("category", "B")
    )[:2] == ("B", "imported")
    no_import = ResolutionRule(use_imported=False)
    assert resolve_field(
        {}, kind="single_choice", rule=no_import, required=2, imported=("category", "B")
    )[:2] == (None, "pending")
    # Votes beat the imported label, even when they disagree with each other.
    assert resolve_field(
        {"a": "A", "b": "C"}, kind="single_choice", rule=RULE, required=2, imported=("k", "B")
    )[:2] == (None, "unresolved")


def test_majority_minimum_and_share() -> None:
    two_thirds = ResolutionRule(min_share=2 / 3)
    votes = {"a": "A", "b": "A", "c": "B"}
    assert resolve_field(votes, kind="verdict", rule=two_thirds, required=2)[:2] == (
        None,
        "unresolved",
    )  # 2/3 is not more than 2/3
    three_votes = ResolutionRule(min_votes=3)
    votes4 = {"a": "A", "b": "A", "c": "B", "d": "A"}
    assert resolve_field(votes4, kind="verdict", rule=three_votes, required=2)[:2] == (
        "A",
        "majority",
    )
    assert resolve_field(votes, kind="verdict", rule=three_votes, required=2)[:2] == (
        None,
        "unresolved",
    )
    one = ResolutionRule(min_annotators=1)
    assert resolve_field({"a": "B"}, kind="verdict", rule=one, required=1)[:2] == ("B", "unanimous")


def test_tags_are_decided_tag_by_tag() -> None:
    options = ("x", "y", "z")
    same = {"a": ("x", "y"), "b": ("x", "y")}
    assert resolve_field(same, kind="multi_choice", rule=RULE, required=2, options=options)[:2] == (
        ("x", "y"),
        "unanimous",
    )
    # x 3/3 in, y 2/3 in, z 1/3 out.
    three = {"a": ("x", "y"), "b": ("x", "z"), "c": ("x", "y")}
    value, status, tally, _ = resolve_field(
        three, kind="multi_choice", rule=RULE, required=2, options=options
    )
    assert (value, status) == (("x", "y"), "majority")
    assert tally == (("x", 3), ("y", 2), ("z", 1))
    # y is 1 of 2: neither in nor out -> unresolved.
    split = {"a": ("x", "y"), "b": ("x",)}
    assert resolve_field(split, kind="multi_choice", rule=RULE, required=2, options=options)[
        :2
    ] == (
        None,
        "unresolved",
    )


def test_rule_settings_are_validated() -> None:
    with pytest.raises(LabelError, match="min_votes must be a whole number >= 1"):
        ResolutionRule(min_votes=0)
    with pytest.raises(LabelError, match=r"min_share must be a number in \[0, 1\)"):
        ResolutionRule(min_share=1.0)
    with pytest.raises(LabelError, match="min_annotators"):
        ResolutionRule(min_annotators=0)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_resolve_final_labels_over_a_project() -> None:
    labels = [
        Label("e1", "ann", "topic", "A", at(0)),
        Label("e1", "bob", "topic", "B", at(1)),
        Label("e1", "bob", "topic", "A", at(2)),  # bob changed his mind: unanimous now
        Label("e2", "ann", "topic", "A", at(0)),
        Label("e2", "bob", "topic", "B", at(0)),
        Label("e2", "rev", "topic", "B", at(5), role="reviewer"),
        Label("e2", "rev2", "topic", "C", at(3), role="reviewer"),  # older reviewer label
        Label("e3", "ann", "topic", "C", at(0)),  # one of two required
        Label("e4", "category", "topic", "B", role="imported"),
        Label("e1", "ann", "note", "check"),  # notes are never voted on
        Label("e2", "rev", "note", "fixed the date", at(6), role="reviewer"),
        Label("e1", "ann", "gone", "x"),  # a field no longer in the schema
        Label("e5", "ann", "rating", 4, at(0)),
        Label("e5", "bob", "rating", 4, at(0)),
        Label("e5", "cy", "rating", 2, at(0)),
    ]
    finals = {(f.example_id, f.field): f for f in resolve_final_labels(labels, SCHEMA)}
    assert list(finals) == [
        ("e1", "topic"),
        ("e2", "topic"),
        ("e3", "topic"),
        ("e4", "topic"),
        ("e2", "note"),
        ("e5", "rating"),
    ]
    assert (finals["e1", "topic"].value, finals["e1", "topic"].status) == ("A", "unanimous")
    assert finals["e1", "topic"].annotators == ("ann", "bob")
    e2 = finals["e2", "topic"]
    assert (e2.value, e2.status, e2.decided_by) == ("B", "reviewed", "rev")
    assert e2.votes == (("A", 1), ("B", 1))
    assert (finals["e3", "topic"].value, finals["e3", "topic"].status) == (None, "pending")
    assert finals["e3", "topic"].resolved is False
    e4 = finals["e4", "topic"]
    assert (e4.value, e4.status, e4.decided_by, e4.resolved) == ("B", "imported", "category", True)
    assert finals["e2", "note"].value == "fixed the date"
    assert (finals["e5", "rating"].value, finals["e5", "rating"].status) == (4, "majority")
    assert finals["e5", "rating"].to_dict()["votes"] == [[4, 2], [2, 1]]


def test_latest_labels_keep_the_newest_per_person_and_field() -> None:
    labels = [
        Label("e1", "ann", "topic", "A", at(3)),
        Label("e1", "ann", "topic", "B", at(1)),  # older, given later in the list
        Label("e1", "ann", "verdict", "accept", None),
        Label("e1", "ann", "verdict", "reject", None),  # same (missing) time: later one wins
        Label("e1", "ann", "topic", "C", at(3)),  # same time as "A": later in the list wins
    ]
    latest = latest_labels(labels)
    assert [(lab.field, lab.value) for lab in latest] == [("topic", "C"), ("verdict", "reject")]


def test_label_records_and_check_labels() -> None:
    assert Label("e1", "ann", "tags", ["x", "y"]).value == ("x", "y")  # type: ignore[arg-type]
    with pytest.raises(LabelError, match="role 'boss' is not one of annotator, reviewer, imported"):
        Label("e1", "ann", "topic", "A", role="boss")
    with pytest.raises(LabelError, match="annotator must be a name"):
        Label("e1", "", "topic", "A")
    with pytest.raises(LabelError, match="needs an example id"):
        Label("", "ann", "topic", "A")
    checked = check_labels([Label("e1", "ann", "tags", ("z", "x"))], SCHEMA)
    assert checked[0].value == ("x", "z")
    with pytest.raises(LabelError, match="label by 'ann' on 'e1': field 'topic': 'D' is not one"):
        check_labels([Label("e1", "ann", "topic", "D")], SCHEMA)
    with pytest.raises(LabelError, match="has an empty value"):
        check_labels([Label("e1", "ann", "note", "  ")], SCHEMA)
