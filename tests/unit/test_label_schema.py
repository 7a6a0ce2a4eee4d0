"""Label schemas: field kinds, validation of values, imported labels and the JSON round trip.

Expected values are written out by hand from the schema definitions in each test.
"""

from __future__ import annotations

import json

import pytest

from curation.errors import CurationError, LabelError
from curation.labeling import (
    ImportedLabel,
    LabelSchema,
    MultiChoiceField,
    PreferenceField,
    RatingField,
    SingleChoiceField,
    TextField,
    VerdictField,
    field_from_dict,
    field_from_metadata,
)


def full_schema(**overrides: object) -> LabelSchema:
    kwargs: dict[str, object] = {
        "fields": (
            SingleChoiceField("topic", ("Business", "Sci/Tech"), title="Topic"),
            MultiChoiceField("tags", ("toxic", "off-topic", "pii")),
            VerdictField(required=True),
            RatingField(),
            TextField(),
            PreferenceField(),
        ),
        "guidelines": "# Guidelines\n\nPick the **topic**.",
        "annotators_per_example": 2,
        "imported": (ImportedLabel("category", "topic"),),
    }
    kwargs.update(overrides)
    return LabelSchema(**kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------- round trip


def test_schema_round_trips_through_json_to_an_equal_schema() -> None:
    schema = full_schema(
        imported=(
            ImportedLabel("category", "topic"),
            ImportedLabel("label", "verdict", value_map={"True": "accept", "false": "reject"}),
        )
    )
    text = schema.to_json()
    back = LabelSchema.from_json(text)
    assert back == schema
    assert hash(back) == hash(schema)
    data = json.loads(text)
    assert data["version"] == 1
    assert data["annotators_per_example"] == 2
    assert data["fields"][0] == {
        "kind": "single_choice",
        "name": "topic",
        "title": "Topic",
        "options": ["Business", "Sci/Tech"],
    }
    assert data["fields"][2] == {"kind": "verdict", "name": "verdict", "required": True}
    assert data["imported"][1]["value_map"] == {"false": "reject", "true": "accept"}


def test_every_field_kind_round_trips_alone() -> None:
    for f in (
        SingleChoiceField("a", ("x", "y")),
        MultiChoiceField("b", ("x",), required=True),
        VerdictField("c", description="Is it usable?"),
        RatingField("d", low=0, high=10),
        TextField("e", max_length=50),
        PreferenceField("f", allow_tie=False),
    ):
        assert field_from_dict(f.to_dict()) == f


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"fields": [], "version": 1}, "at least one field"),
        ({"fields": [{"kind": "slider", "name": "x"}]}, "kind 'slider' is not one of"),
        ({"fields": [{"kind": "verdict", "name": "v", "colour": 1}]}, "unknown key(s) colour"),
        ({"fields": [{"kind": "single_choice", "name": "t"}]}, "field 't' (single_choice)"),
        ({"fields": [{"kind": "verdict"}], "extra": 1}, "unknown key(s) extra"),
        ({"fields": [{"kind": "verdict"}], "version": 2}, "version 2 is not supported"),
        ({"fields": "verdict"}, "'fields' must be a list"),
        (
            {"fields": [{"kind": "verdict"}], "imported": [{"metadata_key": "k", "field": "nope"}]},
            "fills field 'nope', which is not in the schema",
        ),
        ({"fields": [{"kind": "verdict"}], "annotators_per_example": 0}, "annotators_per_example"),
    ],
)
def test_from_dict_names_the_bad_key_or_value(data: dict, needle: str) -> None:
    with pytest.raises(LabelError) as info:
        LabelSchema.from_dict(data)
    assert needle in str(info.value)


def test_from_json_rejects_text_that_is_not_json() -> None:
    with pytest.raises(LabelError, match="not valid JSON"):
        LabelSchema.from_json("{fields: [")


def test_label_error_is_a_curation_error_and_a_value_error() -> None:
    with pytest.raises(CurationError):
        VerdictField(name="Bad Name")
    with pytest.raises(ValueError):
        VerdictField(name="Bad Name")


# ---------------------------------------------------------------- schema rules


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda: SingleChoiceField("t", ("only",)), "at least 2 options, got 1"),
        (lambda: SingleChoiceField("t", ("Yes", "yes")), "'yes' is given twice (as 'Yes')"),
        (lambda: SingleChoiceField("t", ("a", "  ")), "an option is empty"),
        (lambda: SingleChoiceField("t", "ab"), "options must be a list of texts"),
        (lambda: SingleChoiceField("t", ("a", 3)), "option 3 is not text"),
        (lambda: MultiChoiceField("t", ()), "at least 1 options, got 0"),
        (lambda: SingleChoiceField("1topic", ("a", "b")), "field name '1topic' is not allowed"),
        (lambda: RatingField(low=5, high=1), "the scale 5-1 is not allowed"),
        (lambda: RatingField(low=0, high=20), "the scale 0-20 is not allowed"),
        (lambda: RatingField(low=1.5), "low must be a whole number"),
        (lambda: TextField(max_length=0), "max_length must be a whole number"),
        (lambda: VerdictField(required="yes"), "required must be true or false"),
    ],
)
def test_field_definitions_are_validated(make: object, needle: str) -> None:
    with pytest.raises(LabelError) as info:
        make()  # type: ignore[operator]
    assert needle in str(info.value)


def test_options_are_stripped_and_keep_their_order() -> None:
    f = SingleChoiceField("t", (" Sports ", "Business"))
    assert f.options == ("Sports", "Business")


def test_schema_rejects_duplicate_names_two_preferences_and_two_imports_for_a_field() -> None:
    with pytest.raises(LabelError, match="'verdict' used more than once"):
        LabelSchema(fields=(VerdictField(), VerdictField()))
    with pytest.raises(LabelError, match="only one preference field"):
        LabelSchema(fields=(PreferenceField("a"), PreferenceField("b")))
    with pytest.raises(LabelError, match="filled by more than one imported"):
        full_schema(imported=(ImportedLabel("a", "topic"), ImportedLabel("b", "topic")))
    with pytest.raises(LabelError, match="guidelines must be markdown text"):
        full_schema(guidelines=None)


def test_schema_lookups() -> None:
    schema = full_schema()
    assert schema.field_names == ("topic", "tags", "verdict", "rating", "note", "preferred")
    assert schema.field("rating") == RatingField()
    assert schema.preference_field == PreferenceField()
    with pytest.raises(LabelError, match="no label field 'topics'; fields: topic, tags"):
        schema.field("topics")


# ---------------------------------------------------------------- values


def test_validate_labels_returns_canonical_values_in_field_order() -> None:
    schema = full_schema()
    out = schema.validate_labels(
        {
            "preferred": "tie",
            "note": "  check the date  ",
            "tags": ["pii", "toxic", "pii"],
            "rating": 4.0,
            "verdict": "needs_fix",
            "topic": "Sci/Tech",
        },
        n_candidates=2,
    )
    assert out == {
        "topic": "Sci/Tech",
        "tags": ("toxic", "pii"),
        "verdict": "needs_fix",
        "rating": 4,
        "note": "check the date",
        "preferred": "tie",
    }
    assert list(out) == ["topic", "tags", "verdict", "rating", "note", "preferred"]


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        (
            {"topic": "Sports"},
            "field 'topic': 'Sports' is not one of the allowed values: Business, Sci/Tech",
        ),
        ({"topic": "business"}, "'business' is not one of the allowed values"),
        (
            {"tags": ["toxic", "spam"]},
            "field 'tags': 'spam' is not among the allowed tags: toxic, off-topic, pii",
        ),
        ({"tags": "toxic"}, "is not a list of tags"),
        ({"verdict": "ok"}, "'ok' is not one of the allowed values: accept, needs_fix, reject"),
        ({"rating": 6}, "6 is outside the scale 1-5"),
        ({"rating": 2.5}, "2.5 is not a whole number"),
        ({"rating": True}, "True is not a whole number"),
        ({"note": 3}, "3 is not text"),
        ({"note": "x" * 5001}, "the note has 5001 characters; at most 5000"),
        ({"preferred": 2}, "2 is not allowed; give 0-1 or 'tie'"),
        ({"preferred": -1}, "-1 is not allowed"),
        ({"preferred": True}, "True is not allowed"),
        ({"colour": "red"}, "unknown label field(s) colour; fields: topic"),
    ],
)
def test_validate_labels_names_field_value_and_allowed_values(values: dict, needle: str) -> None:
    with pytest.raises(LabelError) as info:
        full_schema().validate_labels(values, n_candidates=2)
    assert needle in str(info.value)


def test_empty_values_are_left_out_but_an_empty_tag_list_is_an_answer() -> None:
    out = full_schema().validate_labels({"topic": None, "note": "   ", "tags": []})
    assert out == {"tags": ()}


def test_complete_annotation_needs_required_fields() -> None:
    schema = full_schema()
    with pytest.raises(LabelError, match="required field.*verdict"):
        schema.validate_labels({"topic": "Business"}, complete=True)
    assert schema.validate_labels({"verdict": "accept"}, complete=True) == {"verdict": "accept"}
    tags = LabelSchema(fields=(MultiChoiceField("tags", ("a", "b"), required=True),))
    with pytest.raises(LabelError, match="required field.*tags"):
        tags.validate_labels({"tags": []}, complete=True)


def test_preference_needs_candidates_and_is_required_only_on_pairs() -> None:
    schema = LabelSchema(fields=(PreferenceField(required=True), VerdictField()))
    with pytest.raises(LabelError, match="this example has 1 candidate answer"):
        schema.validate_labels({"preferred": 0}, n_candidates=1)
    # A plain example (no candidates) does not need the required preference.
    assert schema.validate_labels({"verdict": "reject"}, n_candidates=0, complete=True) == {
        "verdict": "reject"
    }
    with pytest.raises(LabelError, match="required field.*preferred"):
        schema.validate_labels({"verdict": "reject"}, n_candidates=3, complete=True)
    assert schema.validate_labels({"preferred": 2}, n_candidates=3) == {"preferred": 2}
    no_tie = LabelSchema(fields=(PreferenceField(allow_tie=False),))
    with pytest.raises(LabelError, match="a tie is not allowed here; give 0-1"):
        no_tie.validate_labels({"preferred": "tie"}, n_candidates=2)


def test_coerce_labels_reads_text_from_files() -> None:
    out = full_schema().coerce_labels(
        {
            "topic": " sci/tech ",
            "tags": "PII; toxic",
            "verdict": "Needs fix",
            "rating": "5",
            "preferred": "Tie",
        },
        n_candidates=2,
    )
    assert out == {
        "topic": "Sci/Tech",
        "tags": ("toxic", "pii"),
        "verdict": "needs_fix",
        "rating": 5,
        "preferred": "tie",
    }
    schema = full_schema()
    assert schema.coerce_labels({"tags": '["off-topic"]', "preferred": "1"}, n_candidates=2) == {
        "tags": ("off-topic",),
        "preferred": 1,
    }
    assert schema.coerce_labels({"verdict": "needs-fix", "rating": "2.0"}) == {
        "verdict": "needs_fix",
        "rating": 2,
    }
    with pytest.raises(LabelError, match="'four' is not a rating; give a whole number 1-5"):
        schema.coerce_labels({"rating": "four"})
    with pytest.raises(LabelError, match="'spam' is not one of the allowed values"):
        schema.coerce_labels({"tags": "toxic;spam"})


# ---------------------------------------------------------------- imported labels


def test_imported_labels_are_read_from_metadata_with_problems_reported() -> None:
    schema = full_schema(
        imported=(
            ImportedLabel("category", "topic"),
            ImportedLabel("label", "verdict", value_map={"true": "accept", "false": "reject"}),
            ImportedLabel("flags", "tags"),
        )
    )
    values, problems = schema.imported_labels(
        {"category": "business", "label": False, "flags": ["toxic"]}
    )
    assert values == {"topic": "Business", "verdict": "reject", "tags": ("toxic",)}
    assert problems == []
    values, problems = schema.imported_labels({"category": "Sports", "label": True})
    assert values == {"verdict": "accept"}
    assert len(problems) == 1
    assert "metadata 'category' = 'Sports'" in problems[0]
    assert "allowed values: Business, Sci/Tech" in problems[0]
    assert schema.imported_labels({"category": "", "other": 1}) == ({}, [])


def test_field_from_metadata_collects_distinct_values(shared_data) -> None:  # type: ignore[no-untyped-def]
    records = json.loads((shared_data / "dolly" / "random_selection_20_top_100.json").read_text())
    f = field_from_metadata("category", [r["category"] for r in records], title="Task")
    # The six categories present in this 100-record Dolly sample, sorted.
    assert f.options == (
        "brainstorming",
        "classification",
        "closed_qa",
        "general_qa",
        "information_extraction",
        "open_qa",
    )
    assert f.title == "Task"
    tags = field_from_metadata("flags", [["b", "a"], None, "a", True], multi=True)
    assert isinstance(tags, MultiChoiceField)
    assert tags.options == ("a", "b", "true")
