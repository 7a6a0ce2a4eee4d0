"""The one issue type: imports and exports hand back the same `Issue`, with a severity that
says what became of the record, and one helper makes the tables the pages show."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.errors import ValidationFailed
from curation.export.bundle import export_dataset
from curation.formats import ImportIssue, read_examples
from curation.issues import DEFAULT_COLUMNS, Issue, issue_rows

PLAIN = {"seed": 0, "parameters": {}, "curation_stats": {}}


def test_location_names_the_file_line_and_field() -> None:
    issue = Issue(7, "a-1", "empty_turn", "line 7: empty", file="d.jsonl", field="messages[1]")
    assert issue.location == "d.jsonl, line 7, messages[1]"
    assert Issue(None, None, "empty", "no records").location == ""
    assert Issue(None, None, "x", "y", file="f.csv").location == "f.csv"


def test_severity_is_checked() -> None:
    with pytest.raises(ValueError, match="severity must be one of error, warning, info"):
        Issue(1, None, "x", "y", severity="fatal")  # type: ignore[arg-type]


def test_rows_follow_the_columns_asked_for_and_stop_at_the_limit() -> None:
    issues = [Issue(i, f"id{i}", "bad", f"problem {i}", severity="warning") for i in range(1, 8)]
    rows = issue_rows(issues, limit=3)
    assert rows == [
        {"line": i, "id": f"id{i}", "code": "bad", "problem": f"problem {i}"} for i in (1, 2, 3)
    ]
    assert list(rows[0]) == list(DEFAULT_COLUMNS)
    custom = issue_rows(issues, {"where": "location", "level": "severity", "n": lambda i: -i.line})
    assert len(custom) == 7 and custom[0] == {"where": "line 1", "level": "warning", "n": -1}
    assert issue_rows(issues, limit=None)[-1]["line"] == 7


def test_an_import_reports_skipped_records_as_errors_and_changes_as_warnings(
    tmp_path: Path,
) -> None:
    long_id = "x" * 300
    lines = [
        json.dumps({"id": "ok", "instruction": "Say hi", "output": "Hi"}),
        "{not json",
        json.dumps({"id": long_id, "instruction": "Say bye", "output": "Bye"}),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read_examples(path)
    assert ImportIssue is Issue
    (error,) = result.errors
    assert (error.line, error.severity, error.code) == (2, "error", error.reason)
    (warning,) = [w for w in result.warnings if w.code == "id too long"]
    assert warning.severity == "warning" and warning.line == 3
    assert warning.example_id == warning.record_id and warning.example_id != long_id
    outcomes = {(r["line"], r["outcome"]) for r in result.problems()}
    assert outcomes == {(2, "skipped"), (3, "kept")}


def test_an_export_blocked_by_its_preset_carries_typed_issues(tmp_path: Path) -> None:
    examples = read_examples(
        Path(__file__).resolve().parents[2] / "sample_data" / "glaive_toolcall_en_demo.json"
    ).examples
    with pytest.raises(ValidationFailed) as caught:
        export_dataset(examples, [], tmp_path / "out", "alpaca", **PLAIN)
    report = caught.value.report
    assert report is not None and report.errors
    assert all(isinstance(i, Issue) and i.severity == "error" for i in report.errors)
    assert {i.code for i in report.errors} <= {"tool_calls_unsupported", "multi_turn_unsupported"}


def test_export_warnings_say_they_are_warnings(tmp_path: Path) -> None:
    examples = read_examples(
        Path(__file__).resolve().parents[2] / "sample_data" / "glaive_toolcall_en_demo.json"
    ).examples
    result = export_dataset(
        examples, [], tmp_path / "out", "alpaca", on_unrepresentable="skip", **PLAIN
    )
    skipped = [w for w in result.validation.warnings if w.code == "skipped_unrepresentable"]
    assert skipped and all(w.severity == "warning" for w in skipped)
    assert all(w.to_dict()["severity"] == "warning" for w in skipped)
