"""`curation quality FILE_OR_PROJECT --out flags.csv`: one CSV row per flag, on a file and a
project, with declared structures and clear errors for bad options."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from curation.cli import main

RECORDS = [
    ("Give the user record as JSON.", '{"name": "Ann", "age": 3}'),
    ("Give the pet record as JSON.", '{"name": "Rex", "age": }'),
    ("Tell me how to bake bread.", "As an AI language model, I cannot help with that."),
    ("Give the car record as JSON.", '{"name": "Volvo", "age": "old"}'),
]


def _write(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for user, answer in RECORDS:
            messages = [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
            fh.write(json.dumps({"messages": messages}) + "\n")
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_quality_on_a_file_writes_one_row_per_flag(tmp_path: Path, capsys) -> None:
    data = _write(tmp_path / "data.jsonl")
    out = tmp_path / "flags.csv"
    code, printed, err = _run(capsys, "quality", str(data), "--out", str(out), "--expect", "json")
    assert code == 0, err
    rows = _rows(out)
    assert list(rows[0]) == ["id", "flag", "score", "reason", "kind", "suggestion", "location"]
    by_flag = {(r["id"].rsplit("-", 1)[1], r["flag"]) for r in rows}
    # Row 1 breaks JSON, row 2 refuses (and is no JSON), rows 0 and 3 are valid JSON.
    assert ("000001", "invalid_structure") in by_flag
    assert ("000002", "refusal") in by_flag
    assert not any(i in ("000000", "000003") for i, _ in by_flag)
    broken = next(r for r in rows if r["flag"] == "invalid_structure" and r["id"].endswith("1"))
    assert "line 1, column 24" in broken["reason"]
    assert json.loads(broken["location"])["column"] == 24
    assert float(broken["score"]) == 0.0
    assert "2 of 4 examples flagged" in printed
    assert "invalid_structure: 2" in printed and "refusal: 1" in printed


def test_schema_file_flags_answers_that_do_not_match(tmp_path: Path, capsys) -> None:
    data = _write(tmp_path / "data.jsonl")
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"age": {"type": "integer"}}}))
    out = tmp_path / "flags.csv"
    code, _, err = _run(
        capsys, "quality", str(data), "--out", str(out), "--schema", str(schema), "--quiet"
    )
    assert code == 0, err
    structure = {r["id"][-1] for r in _rows(out) if r["flag"] == "invalid_structure"}
    assert structure == {"1", "2", "3"}  # 3: "age" is a string


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--expect", "xml"], "unknown structure 'xml'"),
        (["--expect", "regex:(unclosed"], "(unclosed"),
        (["--expect", "sql", "--sql-dialect", "klingon"], "klingon"),
        (["--expect", "yaml", "--sql-dialect", "sqlite"], "--sql-dialect"),
        (["--schema", "missing.json"], "missing.json"),
        (["--schema", "BAD"], "not JSON: Expecting"),
        (["--expect", "sql", "--schema", "GOOD"], "--schema applies"),
    ],
)
def test_bad_structure_options_are_clear_errors_and_write_nothing(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, options: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.json").write_text('{"type": ')
    (tmp_path / "good.json").write_text('{"type": "object"}')
    options = [{"BAD": "bad.json", "GOOD": "good.json"}.get(o, o) for o in options]
    data = _write(tmp_path / "data.jsonl")
    out = tmp_path / "flags.csv"
    code, _, err = _run(capsys, "quality", str(data), "--out", str(out), *options)
    assert code == 2
    assert err.startswith("error: ") and message in err
    assert not out.exists()


def test_quality_on_a_project(tmp_path: Path, capsys) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    data = _write(tmp_path / "data.jsonl")
    code, _, err = _run(capsys, "import", str(data), "--project", "p", "--db", db, "--quiet")
    assert code == 0, err
    out = tmp_path / "flags.csv"
    code, printed, err = _run(
        capsys, "quality", "--project", "p", "--db", db, "--out", str(out), "--json", "--quiet"
    )
    assert code == 0, err
    report = json.loads(printed)
    assert report["kind"] == "project" and report["n_examples"] == 4
    assert report["counts"]["refusal"] == 1
    assert report["counts"].get("invalid_structure", 0) == 0  # nothing declared
    assert [r["flag"] for r in _rows(out)] == ["refusal"]


def test_save_keeps_the_run_for_the_page_browse_and_card(tmp_path: Path, capsys) -> None:
    from curation.store import ExampleFilter, Store
    from tests.unit.quality_helpers import write_known_bad

    db = f"sqlite:///{tmp_path / 's.db'}"
    data = write_known_bad(tmp_path / "bad.jsonl")
    code, _, err = _run(capsys, "import", str(data), "--project", "p", "--db", db, "--quiet")
    assert code == 0, err
    code, printed, err = _run(
        capsys, "quality", "--project", "p", "--db", db, "--save", "--author", "cli-ann", "--quiet"
    )
    assert code == 0, err
    assert "3 of 5 examples flagged" in printed and "saved as quality run 1" in printed
    store = Store(db)
    try:
        assert store.step_result_counts("p", "quality")["refusal"] == 2
        assert store.count_examples("p", ExampleFilter(quality_flag="empty_answer")) == 1
        assert store.latest_step_run("p", "quality")["author"] == "cli-ann"
        store.set_status("p", ["q2"], "rejected", "ada", "refuses")
    finally:
        store.dispose()
    # a project run checks the active examples only, and --out and --save go together
    out = tmp_path / "flags.csv"
    code, printed, err = _run(
        capsys, "quality", "p", "--db", db, "--save", "--out", str(out), "--json", "--quiet"
    )
    assert code == 0, err
    report = json.loads(printed)
    assert report["run_id"] == 2 and report["n_examples"] == 4
    assert [r["id"] for r in _rows(out) if r["flag"] == "refusal"] == ["q4"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--save"], "--save keeps the run in a project"),
        ([], "--out FLAGS.csv, --save, or both"),
    ],
)
def test_save_needs_a_project_and_somewhere_to_go(
    tmp_path: Path, capsys, options: list[str], message: str
) -> None:
    data = _write(tmp_path / "data.jsonl")
    code, _, err = _run(
        capsys, "quality", str(data), "--db", f"sqlite:///{tmp_path / 's.db'}", *options
    )
    assert code == 2 and message in err
