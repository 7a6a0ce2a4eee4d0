"""`curation audit FILE_OR_PROJECT --report audit.html --json audit.json` on a real file and on a
project (with --save), as a data engineer runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.bias.project import load_audit_run
from curation.cli import main
from curation.formats import read_examples
from curation.store import Store
from tests.unit.test_bias_checks import skewed_examples


def _dolly_path(shared_data: Path) -> Path:
    return shared_data / "dolly" / "random_selection_20_top_100.json"


def test_audit_a_file_writes_html_and_json(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    html, out = tmp_path / "audit.html", tmp_path / "audit.json"
    code = main(
        [
            "audit",
            str(_dolly_path(shared_data)),
            "--report",
            str(html),
            "--json",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "100 examples audited" in printed
    data = json.loads(out.read_text(encoding="utf-8"))
    # the file's categories counted by hand: open_qa 39, classification 32, ... brainstorming 2
    balance = next(f for f in data["findings"] if f["check"] == "label_balance")
    assert (balance["field"], balance["group"], balance["n"]) == ("category", "open_qa", 39)
    assert balance["value"] == 19.5 and balance["severity"] == "critical"
    assert "<svg" in html.read_text(encoding="utf-8")


def test_json_to_stdout(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "audit",
            str(_dolly_path(shared_data)),
            "--json",
            "-",
            "--quiet",
            "--checks",
            "label_balance",
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["code"] for c in data["checks"]] == ["label_balance"]


def test_audit_a_project_and_save(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'store.db'}"
    path = tmp_path / "people.jsonl"
    rows = []
    for example, _status in skewed_examples():
        rows.append(
            {
                "id": example.id,
                "instruction": example.prompt,
                "output": example.response,
                "category": example.metadata["category"],
            }
        )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    store = Store(db)
    try:
        store.create_project("p", "ada")
        store.add_import("p", read_examples(path), "ada")
        rejected = [e.id for e, status in skewed_examples() if status == "rejected"]
        store.set_status("p", rejected, "rejected", "ada", "test")
        out = tmp_path / "a.json"
        code = main(
            [
                "audit",
                "--project",
                "p",
                "--db",
                db,
                "--save",
                "--json",
                str(out),
                "--quiet",
                "--author",
                "cli",
            ]
        )
        assert code == 0
        assert "saved as bias audit run" in capsys.readouterr().out
        run = load_audit_run(store, "p")
        assert run is not None and run.author == "cli"
        data = json.loads(out.read_text(encoding="utf-8"))
        assert [f["message"] for f in data["findings"]] == [f.message for f in run.report.findings]
        assert any(
            f["check"] == "outcome_disparity" and f["field"] == "status" for f in data["findings"]
        )
    finally:
        store.dispose()


def test_save_needs_a_project(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(_dolly_path(shared_data)), "--save", "--quiet"]) == 2
    assert "--save keeps the run in a project" in capsys.readouterr().err


def test_bad_config_fails_before_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", str(tmp_path / "missing.json"), "--checks", "nope"]) == 2
    assert "unknown bias check 'nope'" in capsys.readouterr().err
