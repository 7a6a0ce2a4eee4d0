"""The label commands: `label-issues` on a file and a project, `agreement`, `labels export |
import` (CSV and JSONL, long and wide) and `label-schema`, with clear errors for bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from curation.cli import main
from curation.formats import read_examples
from curation.labeling import (
    LabelSchema,
    MultiChoiceField,
    SingleChoiceField,
    TextField,
    VerdictField,
)
from curation.labeling import project as lp
from curation.store import Store
from curation.store import labels as repo
from tests.unit.test_label_project import FLIPPED, SCIENCE, SPORTS

pytestmark = pytest.mark.timeout(600)

SCHEMA = LabelSchema(
    fields=(
        VerdictField(),
        SingleChoiceField("topic", ("sports", "science")),
        MultiChoiceField("tags", ("short", "math")),
        TextField(),
    ),
    annotators_per_example=2,
)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _topics(path: Path) -> Path:
    rows = []
    for i, text in enumerate(SPORTS + SCIENCE):
        truth = "sports" if i < len(SPORTS) else "science"
        rows.append(
            {"id": f"t{i}", "instruction": text, "output": "Noted.", "topic": FLIPPED.get(i, truth)}
        )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture()
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def _store_project(db: str, tmp_path: Path, n: int = 4) -> Store:
    store = Store(db)
    rows = [{"id": f"e{i}", "instruction": f"Question {i}?", "output": f"{i}."} for i in range(n)]
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    store.create_project("p", "ada")
    store.add_import("p", read_examples(path), "ada")
    lp.save_schema(store, "p", SCHEMA, "ada")
    return store


# ---- label-issues ---------------------------------------------------------------------------


def test_label_issues_on_a_file_ranks_the_planted_errors_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], db: str
) -> None:
    data = _topics(tmp_path / "topics.jsonl")
    out = tmp_path / "issues.csv"
    code, printed, err = _run(
        capsys,
        "label-issues",
        str(data),
        "--label-field",
        "topic",
        "--out",
        str(out),
        "--features",
        "tfidf",
        "--db",
        db,
        "--quiet",
    )
    assert code == 0, err
    rows = _csv(out)
    assert list(rows[0]) == [
        "rank",
        "example_id",
        "index",
        "given_label",
        "suggested_label",
        "quality_score",
        "reason",
    ]
    top = {(r["example_id"], r["given_label"], r["suggested_label"]) for r in rows[:2]}
    assert top == {("t3", "science", "sports"), ("t21", "sports", "science")}
    scores = [float(r["quality_score"]) for r in rows]
    assert scores == sorted(scores)
    assert f"{len(rows)} suspected label error(s) in 30 checked examples of 30" in printed


def test_label_issues_on_a_project_saves_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], db: str
) -> None:
    store = Store(db)
    store.create_project("p", "ada")
    store.add_import("p", read_examples(_topics(tmp_path / "topics.jsonl")), "ada")
    lp.save_schema(store, "p", SCHEMA, "ada")
    lp.adopt_metadata(store, "p", "topic", "ada")
    code, printed, err = _run(
        capsys,
        "label-issues",
        "--project",
        "p",
        "--label-field",
        "topic",
        "--save",
        "--features",
        "tfidf",
        "--db",
        db,
        "--json",
        "--quiet",
        "--author",
        "bob",
    )
    assert code == 0, err
    report = json.loads(printed)
    assert report["kind"] == "project" and report["run_id"] is not None
    assert report["checked"] == 30
    run = repo.label_issue_run(store, "p")
    assert run is not None and run["id"] == report["run_id"] and run["author"] == "bob"
    assert {"t3", "t21"} <= {i.example_id for i in lp.label_issue_items(store, "p")}
    store.dispose()


def test_label_issues_errors_say_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], db: str
) -> None:
    data = _topics(tmp_path / "topics.jsonl")
    code, _, err = _run(
        capsys, "label-issues", str(data), "--label-field", "mood", "--out", "x", "--db", db
    )
    assert code == 2 and "has a 'mood' field; its metadata fields: id, topic" in err
    code, _, err = _run(capsys, "label-issues", str(data), "--label-field", "topic", "--db", db)
    assert code == 2 and "--out ISSUES.csv, --save, or both" in err
    code, _, err = _run(
        capsys, "label-issues", str(data), "--label-field", "topic", "--save", "--db", db
    )
    assert code == 2 and "is a file: import it first" in err


# ---- agreement ------------------------------------------------------------------------------


def test_agreement_reports_hand_computed_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], db: str
) -> None:
    store = _store_project(db, tmp_path)
    for eid, b, c in zip(
        ["e0", "e1", "e2", "e3"],
        ["accept", "accept", "reject", "reject"],
        ["accept", "reject", "reject", "reject"],
        strict=True,
    ):
        repo.annotate(store, "p", eid, {"verdict": b}, "bob")
        repo.annotate(store, "p", eid, {"verdict": c}, "cy")
    store.dispose()
    code, printed, err = _run(capsys, "agreement", "--project", "p", "--db", db, "--json")
    assert code == 0, err
    report = json.loads(printed)
    verdict = report["fields"]["verdict"]
    assert verdict["pairs"][0]["value"] == pytest.approx(0.5)  # kappa: (3/4 - 1/2) / (1/2)
    assert verdict["alpha"]["value"] == pytest.approx(1 - 14 / 30)
    assert verdict["alpha"]["items"] == 4
    assert report["progress"]["complete"] == 4
    code, printed, _ = _run(capsys, "agreement", "--project", "p", "--db", db)
    assert "verdict (verdict): alpha 0.533 on 4 item(s)" in printed
    assert "kappa bob / cy: 0.500 on 4 item(s)" in printed
    code, _, err = _run(capsys, "agreement", "--project", "nope", "--db", db)
    assert code == 2 and "No project named 'nope'" in err


# ---- labels export | import -----------------------------------------------------------------


def _labelled(db: str, tmp_path: Path) -> Store:
    store = _store_project(db, tmp_path)
    repo.annotate(store, "p", "e0", {"verdict": "accept", "tags": ["short", "math"]}, "bob")
    repo.annotate(store, "p", "e0", {"verdict": "accept", "topic": "sports"}, "cy")
    repo.annotate(store, "p", "e1", {"verdict": "reject"}, "bob")
    repo.annotate(
        store, "p", "e1", {"verdict": "needs_fix", "note": "=1+1 looks like a formula"}, "cy"
    )
    return store


def _label_set(store: Store) -> set[tuple[Any, ...]]:
    return {
        (r.example_id, r.annotator, r.role, r.field, r.value) for r in repo.list_labels(store, "p")
    }


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_labels_round_trip_through_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], db: str, suffix: str
) -> None:
    store = _labelled(db, tmp_path)
    before = _label_set(store)
    assert ("e1", "cy", "annotator", "note", "=1+1 looks like a formula") in before
    out = tmp_path / f"labels.{suffix}"
    code, printed, err = _run(
        capsys, "labels", "export", "--project", "p", "--out", str(out), "--db", db
    )
    assert code == 0, err
    assert f"p: {len(before)} labels written" in printed
    # a second project with the same examples takes them in, as labels made elsewhere would be
    for event in store.events("p", kinds=["labels"]):
        store.undo("p", event["id"], "ada")
    assert repo.list_labels(store, "p") == []
    code, printed, err = _run(capsys, "labels", "import", str(out), "--project", "p", "--db", db)
    assert code == 0, err
    assert _label_set(store) == before
    assert "label(s) read into p; event #" in printed
    store.dispose()


def test_final_labels_export_and_wide_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], db: str
) -> None:
    store = _labelled(db, tmp_path)
    out = tmp_path / "final.csv"
    code, _, err = _run(
        capsys, "labels", "export", "--project", "p", "--out", str(out), "--final", "--db", db
    )
    assert code == 0, err
    rows = {(r["example_id"], r["field"]): r for r in _csv(out)}
    assert (rows[("e0", "verdict")]["value"], rows[("e0", "verdict")]["status"]) == (
        "accept",
        "unanimous",
    )
    assert (
        rows[("e1", "verdict")]["status"] == "unresolved" and rows[("e1", "verdict")]["value"] == ""
    )
    assert json.loads(rows[("e1", "verdict")]["votes"]) == [["needs_fix", 1], ["reject", 1]]
    assert rows[("e0", "topic")]["status"] == "pending"  # cy only, of the two needed
    # a spreadsheet of another tool's labels: one column per field, the annotator given
    wide = tmp_path / "wide.csv"
    wide.write_text("example_id,verdict,tags\ne2,Accept,short;math\ne3,needs fix,\n", "utf-8")
    code, _, err = _run(
        capsys, "labels", "import", str(wide), "--project", "p", "--annotator", "ext", "--db", db
    )
    assert code == 0, err
    got = {
        (r.example_id, r.field, r.value) for r in repo.list_labels(store, "p", annotators=["ext"])
    }
    assert got == {
        ("e2", "verdict", "accept"),
        ("e2", "tags", ("short", "math")),
        ("e3", "verdict", "needs_fix"),
    }
    bad = tmp_path / "bad.csv"
    bad.write_text("example_id,field,value\ne2,topic,politics\n", "utf-8")
    code, _, err = _run(
        capsys, "labels", "import", str(bad), "--project", "p", "--annotator", "x", "--db", db
    )
    assert code == 2 and "row 2 (e2)" in err and "'politics' is not one of" in err
    code, _, err = _run(capsys, "labels", "import", str(bad), "--project", "p", "--db", db)
    assert code == 2 and "no annotator" in err
    store.dispose()


# ---- label-schema ---------------------------------------------------------------------------


def test_label_schema_sets_shows_and_adopts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], db: str
) -> None:
    store = Store(db)
    store.create_project("p", "ada")
    rows = [
        {"id": "a", "instruction": "Kick the ball?", "output": "Yes.", "category": "Sports"},
        {"id": "b", "instruction": "Split the atom?", "output": "No.", "category": "science"},
    ]
    path = tmp_path / "cat.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    store.add_import("p", read_examples(path), "ada")
    store.dispose()
    code, printed, _ = _run(capsys, "label-schema", "--project", "p", "--db", db)
    assert code == 0 and "no label schema yet" in printed
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(json.dumps(SCHEMA.to_dict()), "utf-8")
    guide = tmp_path / "guide.md"
    guide.write_text("# How\nBe kind.", "utf-8")
    code, printed, err = _run(
        capsys,
        "label-schema",
        "--project",
        "p",
        "--set",
        str(schema_file),
        "--annotators-per-example",
        "3",
        "--guidelines",
        str(guide),
        "--reviewers",
        "bob, cy",
        "--adopt",
        "category",
        "--db",
        db,
        "--json",
    )
    assert code == 0, err
    report = json.loads(printed)
    assert report["changed"] == ["schema", "settings", "reviewers", "imported"]
    assert report["schema"]["annotators_per_example"] == 3
    assert report["schema"]["guidelines"] == "# How\nBe kind."
    assert report["reviewers"] == ["ada", "bob", "cy"]
    assert report["adopted"]["n_labelled"] == 2 and report["adopted"]["field"] == "category"
    category = next(f for f in report["schema"]["fields"] if f["name"] == "category")
    assert category["options"] == ["science", "Sports"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"fields": [{"kind": "rating", "name": "r", "low": 5, "high": 1}]}))
    code, _, err = _run(capsys, "label-schema", "--project", "p", "--set", str(bad), "--db", db)
    assert code == 2 and "the scale 5-1 is not allowed" in err
