"""Labelling a stored project: the saved schema, metadata adopted as imported labels (Dolly's
categories, KTO labels), what an annotator may see, bulk actions, final labels and review,
agreement with hand-computed answers, the label check with planted errors, and what export reads.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from curation.errors import ConflictError, JobError, LabelError
from curation.formats import read_examples
from curation.jobs import Worker, submit
from curation.labeling import (
    LabelIssueConfig,
    LabelSchema,
    MultiChoiceField,
    PreferenceField,
    SingleChoiceField,
    VerdictField,
)
from curation.labeling import export as label_export
from curation.labeling import project as lp
from curation.store import ExampleFilter, Store
from curation.store import labels as repo

pytestmark = pytest.mark.timeout(600)

SCHEMA = LabelSchema(
    fields=(
        VerdictField(),
        SingleChoiceField("topic", ("sports", "science")),
        MultiChoiceField("tags", ("short", "math")),
    ),
    annotators_per_example=2,
    guidelines="# Topic\nPick **sports** or **science**.",
)

SPORTS = [
    "The striker scored a late goal and the football club won the league match",
    "Our goalkeeper saved a penalty in the football cup final at the stadium",
    "The tennis player won the match in straight sets at the grass court open",
    "The football team trained hard before the derby match at their home stadium",
    "A late goal from the winger gave the club the cup in front of a full stadium",
    "The tennis champion served well and won the final match of the open",
    "The coach praised the football players after the league match ended in a draw",
    "Fans filled the stadium to watch the club play the cup semi final match",
    "The striker signed for a new football club before the league season",
    "The tennis open final went to five sets before the champion won the match",
    "The club captain lifted the cup after the football final at the stadium",
    "The goalkeeper and the defenders kept a clean sheet in the league match",
    "The winger crossed and the striker headed a goal in the football derby",
    "The tennis player lost the open semi final match after a long rally",
    "The football league title was decided by a late goal in the final match",
]
SCIENCE = [
    "The physicist measured the energy of the electron in the laboratory experiment",
    "Chemists observed the reaction of the acid with the metal in the laboratory",
    "The biologist studied the cell membrane under the microscope in the laboratory",
    "An experiment measured how the electron energy changes in a magnetic field",
    "The chemist heated the acid solution and measured the reaction rate",
    "Researchers used the microscope to study the cell nucleus and its proteins",
    "The physicist repeated the experiment to measure the energy of the photon",
    "The laboratory experiment showed the reaction of the metal with oxygen",
    "The biologist measured how the cell divides in the laboratory culture",
    "A new microscope let the researchers see the protein inside the cell",
    "The chemist measured the acid concentration before the reaction started",
    "Physicists measured the photon and electron energy in the new experiment",
    "The laboratory team studied the cell under the electron microscope",
    "The reaction of the acid and the metal released energy in the experiment",
    "The researchers measured the protein in the cell with a laboratory assay",
]
FLIPPED = {3: "science", 21: "sports"}  # texts 3 (sports) and 21 (science 6) labelled wrong


@pytest.fixture()
def store(db_url: str) -> Iterator[Store]:
    st = Store(db_url)
    yield st
    st.dispose()


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _project(store: Store, tmp_path: Path, n: int = 6, schema: LabelSchema = SCHEMA) -> list[str]:
    rows = [
        {"id": f"e{i}", "instruction": f"Question {i}?", "output": f"Answer {i}.", "src": i % 2}
        for i in range(n)
    ]
    store.create_project("p", "ada")
    store.add_import("p", read_examples(_write_jsonl(tmp_path / "rows.jsonl", rows)), "ada")
    lp.save_schema(store, "p", schema, "ada")
    return [f"e{i}" for i in range(n)]


def _topic_project(store: Store, tmp_path: Path) -> list[str]:
    texts = SPORTS + SCIENCE
    rows = []
    for i, text in enumerate(texts):
        truth = "sports" if i < len(SPORTS) else "science"
        rows.append(
            {"id": f"t{i}", "instruction": text, "output": "Noted.", "topic": FLIPPED.get(i, truth)}
        )
    store.create_project("p", "ada")
    store.add_import("p", read_examples(_write_jsonl(tmp_path / "topics.jsonl", rows)), "ada")
    lp.save_schema(store, "p", SCHEMA, "ada")
    lp.adopt_metadata(store, "p", "topic", "ada")
    return [f"t{i}" for i in range(len(texts))]


# ---- schema and imported labels ---------------------------------------------------------------


def test_schema_is_a_project_setting_that_undo_restores(store: Store, tmp_path: Path) -> None:
    store.create_project("p", "ada")
    with pytest.raises(LabelError, match="no label schema yet"):
        lp.require_schema(store, "p")
    event = lp.save_schema(store, "p", SCHEMA.to_dict(), "ada")
    assert lp.require_schema(store, "p") == SCHEMA
    with pytest.raises(LabelError, match="annotators_per_example must be a whole number 1-50"):
        lp.save_schema(store, "p", {**SCHEMA.to_dict(), "annotators_per_example": 0}, "ada")
    store.undo("p", event, "ada")
    assert repo.read_schema(store, "p") is None
    lp.set_reviewers(store, "p", ["  bob ", "cy", ""], "ada")
    assert repo.reviewers(store, "p") == ["ada", "bob", "cy"]


def test_dolly_categories_become_imported_labels_apart_from_people(
    store: Store, shared_data: Path
) -> None:
    path = shared_data / "dolly" / "random_selection_20_top_100.json"
    records = json.loads(path.read_text(encoding="utf-8"))
    expected = Counter(r["category"] for r in records)
    store.create_project("p", "ada")
    store.add_import("p", read_examples(path), "ada")
    result = lp.adopt_metadata(store, "p", "category", "ada")
    assert (result.field, result.created, result.n_labelled, result.problems) == (
        "category",
        True,
        len(records),
        [],
    )
    schema = lp.require_schema(store, "p")
    assert schema.field("category").options == tuple(sorted(expected))  # type: ignore[attr-defined]
    labels = repo.list_labels(store, "p")
    assert {(r.role, r.annotator) for r in labels} == {("imported", "category")}
    assert Counter(r.value for r in labels) == expected
    finals = lp.final_labels(store, "p")
    assert {f["category"].status for f in finals.values()} == {"imported"}
    # imported labels are not annotators: no one has labelled yet, and agreement counts no one
    assert repo.queue_ids(store, "p", label_state="unlabelled") == [
        ex.id for ex in store.iter_examples("p")
    ]
    assert lp.project_agreement(store, "p").annotators == ()
    # adopting again changes nothing; undo goes newest first: labels, then the schema
    again = lp.adopt_metadata(store, "p", "category", "ada")
    assert (again.schema_event, again.labels_event) == (None, None)
    store.undo("p", result.labels_event, "ada")  # type: ignore[arg-type]
    store.undo("p", result.schema_event, "ada")  # type: ignore[arg-type]
    assert repo.list_labels(store, "p") == [] and repo.read_schema(store, "p") is None


def test_a_kto_label_is_adopted_as_a_verdict(store: Store, tmp_path: Path) -> None:
    rows = [
        {"prompt": "Say hi.", "completion": "Hi!", "label": True},
        {"prompt": "Say bye.", "completion": "No.", "label": False},
        {"prompt": "Count to two.", "completion": "One, two.", "label": True},
    ]
    store.create_project("p", "ada")
    store.add_import("p", read_examples(_write_jsonl(tmp_path / "kto.jsonl", rows)), "ada")
    result = lp.adopt_metadata(store, "p", lp.KTO_SOURCE, "ada", field="verdict")
    assert result.n_labelled == 3 and result.created
    assert lp.require_schema(store, "p").field("verdict").kind == "verdict"
    by_prompt = {ex.example.prompt: ex.id for ex in store.iter_examples("p")}
    values = {r.example_id: r.value for r in repo.list_labels(store, "p")}
    assert values == {
        by_prompt["Say hi."]: "accept",
        by_prompt["Say bye."]: "reject",
        by_prompt["Count to two."]: "accept",
    }


# ---- what an annotator sees -------------------------------------------------------------------


def test_no_one_sees_others_labels_on_a_field_before_giving_their_own(
    store: Store, tmp_path: Path
) -> None:
    ids = _project(store, tmp_path)
    repo.annotate(store, "p", ids[0], {"verdict": "accept", "topic": "sports"}, "bob")
    view = lp.annotation_view(store, "p", ids[0], "cy")
    assert view.mine == {} and view.others == [] and view.annotators == 1
    repo.annotate(store, "p", ids[0], {"topic": "science"}, "cy")
    view = lp.annotation_view(store, "p", ids[0], "cy")
    assert view.mine == {"topic": "science"}
    # cy gave a topic, so sees bob's topic; not bob's verdict, which cy has not given
    assert [(r.annotator, r.field, r.value) for r in view.others] == [("bob", "topic", "sports")]
    review = lp.annotation_view(store, "p", ids[0], "ada", review_mode=True)
    assert sorted((r.annotator, r.field) for r in review.others) == [
        ("bob", "topic"),
        ("bob", "verdict"),
        ("cy", "topic"),
    ]
    assert review.final["topic"].status == "unresolved"
    assert review.final["verdict"].status == "pending"  # one of the two annotators needed
    # the view's tokens are the ones writes check
    assert view.my_version == repo.example_version(
        store, "p", ids[0], annotator="cy", role="annotator"
    )
    assert review.version == repo.example_version(store, "p", ids[0])


def test_suggestions_are_shown_apart_and_never_count_as_labels(
    store: Store, tmp_path: Path
) -> None:
    ids = _topic_project(store, tmp_path)
    view = lp.annotation_view(store, "p", ids[3], "bob")
    assert view.mine == {} and view.others == [] and view.annotators == 0
    assert [(s.field, s.value, s.source) for s in view.suggestions] == [
        ("topic", "science", "from the data")
    ]
    ranked_ids, given, result = lp.run_label_issues(
        store, "p", "topic", config=LabelIssueConfig(features="tfidf")
    )
    lp.save_label_issues(store, "p", "topic", ranked_ids, given, result, "ada")
    view = lp.annotation_view(store, "p", ids[3], "bob")
    assert ("topic", "sports", "the label check") in [
        (s.field, s.value, s.source) for s in view.suggestions
    ]
    assert repo.queue_ids(store, "p", label_state="unlabelled")[:4] == ids[:4]


def test_a_preference_is_given_only_on_examples_with_candidates(
    store: Store, tmp_path: Path
) -> None:
    pairs = [{"prompt": "Name a colour.", "chosen": "Blue.", "rejected": "Seven."}]
    kto = [{"prompt": "Name a fruit.", "completion": "Apple.", "label": True}]
    store.create_project("p", "ada")
    store.add_import("p", read_examples(_write_jsonl(tmp_path / "pref.jsonl", pairs)), "ada")
    store.add_import("p", read_examples(_write_jsonl(tmp_path / "kto.jsonl", kto)), "ada")
    lp.save_schema(
        store, "p", LabelSchema(fields=(VerdictField(), PreferenceField(required=True))), "ada"
    )
    pair, single = (ex.id for ex in store.iter_examples("p"))
    with pytest.raises(LabelError, match="required field"):
        repo.annotate(store, "p", pair, {"verdict": "accept"}, "bob")
    repo.annotate(store, "p", pair, {"verdict": "accept", "preferred": 1}, "bob")
    with pytest.raises(LabelError, match="'tie' is not allowed|not allowed; give 0-1"):
        repo.annotate(store, "p", pair, {"preferred": 2}, "bob")
    with pytest.raises(LabelError, match="only examples with two or more take a preference"):
        repo.annotate(store, "p", single, {"preferred": 0}, "bob")
    repo.annotate(store, "p", single, {"verdict": "reject"}, "bob")  # not required here
    assert {r.example_id: r.value for r in repo.list_labels(store, "p", fields=["preferred"])} == {
        pair: 1
    }


# ---- bulk, final labels, review ---------------------------------------------------------------


def test_bulk_verdict_on_a_filtered_queue_is_one_undoable_event(
    store: Store, tmp_path: Path
) -> None:
    ids = _project(store, tmp_path, n=12)
    event, n = lp.bulk_action(
        store,
        "p",
        ExampleFilter(statuses=["active"], search="question 1"),
        "verdict",
        "reject",
        "ada",
    )
    # "question 1" matches e1, e10, e11
    assert n == 3 and event is not None
    assert {r.example_id for r in repo.list_labels(store, "p")} == {"e1", "e10", "e11"}
    assert len(store.events("p", kinds=["labels"])) == 1
    event2, n2 = lp.bulk_action(
        store, "p", None, "tags", "math", "ada", label_state="mine", mode="add"
    )
    assert n2 == 3
    assert {r.value for r in repo.list_labels(store, "p", fields=["tags"])} == {("math",)}
    store.undo("p", event2, "ada")  # type: ignore[arg-type]
    store.undo("p", event, "ada")
    assert repo.list_labels(store, "p") == []
    assert ids[0] == "e0"


def test_votes_become_final_labels_and_disagreements_go_to_review(
    store: Store, tmp_path: Path
) -> None:
    ids = _project(store, tmp_path, n=4)
    for who in ("bob", "cy"):
        repo.annotate(store, "p", ids[0], {"verdict": "accept", "tags": ["short"]}, who)
    repo.annotate(store, "p", ids[1], {"verdict": "accept"}, "bob")
    repo.annotate(store, "p", ids[1], {"verdict": "reject"}, "cy")
    repo.annotate(store, "p", ids[2], {"verdict": "accept"}, "bob")
    finals = lp.final_labels(store, "p")
    assert (finals[ids[0]]["verdict"].status, finals[ids[0]]["verdict"].value) == (
        "unanimous",
        "accept",
    )
    assert finals[ids[0]]["tags"].value == ("short",)
    assert finals[ids[1]]["verdict"].status == "unresolved"
    assert finals[ids[2]]["verdict"].status == "pending"
    assert lp.disagreements(store, "p") == [ids[1]]
    seen = lp.annotation_view(store, "p", ids[1], "ada", review_mode=True).version
    repo.annotate(store, "p", ids[1], {"verdict": "needs_fix"}, "cy")  # cy changes meanwhile
    with pytest.raises(ConflictError, match="changed since you opened it"):
        repo.review(store, "p", ids[1], {"verdict": "reject"}, "ada", expected=seen)
    seen = lp.annotation_view(store, "p", ids[1], "ada", review_mode=True).version
    event = repo.review(store, "p", ids[1], {"verdict": "reject"}, "ada", expected=seen)
    final = lp.final_labels(store, "p")[ids[1]]["verdict"]
    assert (final.status, final.value, final.decided_by) == ("reviewed", "reject", "ada")
    assert lp.disagreements(store, "p") == []
    store.undo("p", event, "ada")  # type: ignore[arg-type]
    assert lp.disagreements(store, "p") == [ids[1]]


def test_agreement_matches_hand_computed_kappa_and_alpha(store: Store, tmp_path: Path) -> None:
    ids = _project(store, tmp_path, n=4)
    bob = ["accept", "accept", "reject", "reject"]
    cy = ["accept", "reject", "reject", "reject"]
    for eid, b, c in zip(ids, bob, cy, strict=True):
        repo.annotate(store, "p", eid, {"verdict": b}, "bob")
        repo.annotate(store, "p", eid, {"verdict": c}, "cy")
    report = lp.project_agreement(store, "p", group_by="src")
    verdict = report.fields["verdict"]
    # p_o = 3/4, p_e = 1/2 * 1/4 + 1/2 * 3/4 = 1/2: kappa = (3/4 - 1/2) / (1 - 1/2) = 1/2
    (pair,) = verdict.pairs
    assert pair.annotators == ("bob", "cy") and pair.items == 4
    assert pair.value == pytest.approx(0.5)
    # 8 values (3 accept, 5 reject), one disagreeing unit: alpha = 1 - 7 * 2 / (2 * 3 * 5)
    assert verdict.alpha.value == pytest.approx(1 - 14 / 30)
    assert verdict.alpha.items == 4
    # per group (metadata "src": e0, e2 -> 0; e1, e3 -> 1): group 0 agrees on both units;
    # group 1 has values a, r, r, r with one disagreeing unit: 1 - 3 * 2 / (2 * 1 * 3) = 0
    assert (verdict.per_group["0"].value, verdict.per_group["0"].items) == (1.0, 2)
    assert verdict.per_group["1"].value == pytest.approx(0.0)
    assert report.annotators == ("bob", "cy")


# ---- label errors -----------------------------------------------------------------------------


def test_planted_label_errors_are_found_suggested_and_decided(store: Store, tmp_path: Path) -> None:
    ids = _topic_project(store, tmp_path)
    ranked_ids, given, result = lp.run_label_issues(
        store, "p", "topic", config=LabelIssueConfig(features="tfidf")
    )
    assert ranked_ids == ids
    flagged = {ranked_ids[i.index]: i.suggested_label for i in result.issues}
    assert flagged.get("t3") == "sports" and flagged.get("t21") == "science"
    worst_two = {ranked_ids[i.index] for i in result.issues[:2]}
    assert worst_two == {"t3", "t21"}
    run_id = lp.save_label_issues(store, "p", "topic", ranked_ids, given, result, "ada")
    assert repo.label_issue_run(store, "p")["id"] == run_id  # type: ignore[index]
    queue = repo.queue_ids(store, "p", label_state="label_issues")
    assert {"t3", "t21"} <= set(queue)
    items = {i.example_id: i for i in lp.label_issue_items(store, "p")}
    assert (items["t3"].given, items["t3"].suggested, items["t3"].decision) == (
        "science",
        "sports",
        None,
    )
    accepted = lp.decide_label_issue(store, "p", "t3", "ada", accept=True)
    lp.decide_label_issue(store, "p", "t21", "ada", accept=False)
    items = {i.example_id: i for i in lp.label_issue_items(store, "p")}
    assert (items["t3"].decision, items["t21"].decision) == ("accepted", "kept")
    assert not {"t3", "t21"} & set(repo.queue_ids(store, "p", label_state="label_issues"))
    final = lp.final_labels(store, "p", example_ids=["t3"])["t3"]["topic"]
    assert (final.value, final.status) == ("sports", "reviewed")
    store.undo("p", accepted, "ada")  # type: ignore[arg-type]
    assert "t3" in repo.queue_ids(store, "p", label_state="label_issues")
    assert lp.final_labels(store, "p", example_ids=["t3"])["t3"]["topic"].value == "science"
    with pytest.raises(LabelError, match="not among the latest label check"):
        lp.decide_label_issue(store, "p", "t0", "ada", accept=True)


def test_the_label_check_runs_as_a_background_job(store: Store, tmp_path: Path) -> None:
    _topic_project(store, tmp_path)
    with pytest.raises(JobError, match="Name the label field"):
        submit(store, "p", "label_issues", {}, author="ada")
    with pytest.raises(JobError, match="Unknown features"):
        submit(store, "p", "label_issues", {"field": "topic", "features": "bert"}, author="ada")
    job = submit(store, "p", "label_issues", {"field": "topic", "features": "tfidf"}, author="ada")
    done = Worker(store, progress_every=0).run_once()
    assert done is not None and done.id == job.id and done.state == "done", done and done.error
    assert done.result is not None and done.result["flagged"] >= 2
    assert done.result["checked"] == 30
    assert {"t3", "t21"} <= {i.example_id for i in lp.label_issue_items(store, "p")}
    assert done.stage  # progress was reported


# ---- what export reads ------------------------------------------------------------------------


def test_export_reads_final_labels_only(store: Store, tmp_path: Path) -> None:
    ids = _project(store, tmp_path, n=5)
    for who in ("bob", "cy"):
        repo.annotate(store, "p", ids[0], {"verdict": "accept", "topic": "sports"}, who)
        repo.annotate(store, "p", ids[1], {"verdict": "reject", "topic": "science"}, who)
    repo.annotate(store, "p", ids[2], {"verdict": "accept", "topic": "sports"}, "bob")
    repo.annotate(store, "p", ids[2], {"verdict": "reject", "topic": "sports"}, "cy")
    repo.annotate(store, "p", ids[3], {"verdict": "accept"}, "bob")  # pending: one of two
    examples = [ex.example for ex in store.iter_examples("p")]

    kept, excluded = label_export.select_by_verdict(store, "p", examples)
    assert [ex.id for ex in kept] == [ids[0]]
    assert excluded == {"no final verdict": 3, "verdict reject": 1}
    kept, _ = label_export.select_by_verdict(
        store, "p", examples, ["accept", "reject"], keep_unlabelled=True
    )
    assert len(kept) == 5

    assert label_export.label_strata(store, "p", "topic", ids) == {
        ids[0]: "sports",
        ids[1]: "science",
        ids[2]: "sports",
        ids[3]: "(missing)",
        ids[4]: "(missing)",
    }
    marked = label_export.with_label_metadata(store, "p", examples, ["topic"])
    assert marked[0].metadata["label.topic"] == "sports" and "label.topic" not in marked[4].metadata
    assert "label.topic" not in examples[0].metadata  # the given objects are left alone

    summary = label_export.label_summary(store, "p")
    assert summary is not None and summary.examples == 5
    verdict = next(f for f in summary.fields if f.field == "verdict")
    assert verdict.distribution == {"accept": 1, "reject": 1}
    assert verdict.statuses == {"unanimous": 2, "pending": 1, "unresolved": 1, "missing": 1}
    # 3 units, values (a, a), (r, r), (a, r): 6 values, 3 a / 3 r; 1 - 5 * 2 / (2 * 3 * 3)
    assert verdict.alpha == pytest.approx(1 - 10 / 18) and verdict.alpha_items == 3
    card = summary.card_stats()
    assert card["unresolved"] == 1 and card["annotators"] == 2
    assert any(note.startswith("verdict: accept 1, reject 1") for note in card["notes"])
    # overall, pooled over verdict and topic: 6 units, 12 values (verdict 3 a / 3 r, topic 4
    # sports / 2 science), one disagreeing unit: 1 - 11 * 2 / (144 - 9 - 9 - 16 - 4) = 0.792
    assert summary.overall_alpha == pytest.approx(1 - 22 / 106)
    items = {i["name"]: i for i in summary.readiness_items()}
    assert items["labels: disagreements"]["status"] == "warn"
    assert items["labels: agreement"]["status"] == "warn"  # tentative: 0.667 <= alpha < 0.8
    assert "## Labels" in summary.card_markdown()
