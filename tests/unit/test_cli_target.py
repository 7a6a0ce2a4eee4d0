"""What `curation dedup` and `curation export` work on: a file, or a project by `--project`.

A name that is both an existing file and a project is refused instead of guessed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.cli import main
from tests.unit.store_helpers import write_alpaca


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture()
def clash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> str:
    """A working folder holding `data.jsonl` (3 records) and a project named `data.jsonl`
    (5 examples); returns the store URL."""
    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path / 'c.db'}"
    (tmp_path / "src").mkdir()
    source = write_alpaca(tmp_path / "src" / "five.jsonl", 5, tag=" in the project")
    code, _, err = _run(
        capsys, "import", str(source), "--project", "data.jsonl", "--db", db, "--quiet"
    )
    assert code == 0, err
    write_alpaca(tmp_path / "data.jsonl", 3, tag=" in the file")
    return db


@pytest.mark.parametrize("command", ["dedup", "export"])
def test_a_name_that_is_both_a_file_and_a_project_is_refused(
    clash: str, tmp_path: Path, capsys, command: str
) -> None:
    extra = ["--out", str(tmp_path / "out")] if command == "export" else []
    code, _, err = _run(capsys, command, "data.jsonl", "--db", clash, "--quiet", *extra)
    assert code == 2
    assert "both a file here and a project" in err
    assert "--project data.jsonl" in err and "./data.jsonl" in err
    assert not (tmp_path / "out").exists()


def test_dedup_takes_the_project_by_option_and_the_file_by_path(clash: str, capsys) -> None:
    code, out, err = _run(
        capsys, "dedup", "--project", "data.jsonl", "--db", clash, "--json", "--quiet"
    )
    assert code == 0, err
    assert json.loads(out)["n_examples"] == 5
    code, out, err = _run(capsys, "dedup", "./data.jsonl", "--db", clash, "--json", "--quiet")
    assert code == 0, err
    assert json.loads(out)["n_examples"] == 3


def test_export_takes_the_project_by_option_and_the_file_by_path(
    clash: str, tmp_path: Path, capsys
) -> None:
    common = ["--db", clash, "--json", "--quiet", "--eval-count", "1", "--preset", "alpaca"]
    code, out, err = _run(
        capsys, "export", "--project", "data.jsonl", "--out", str(tmp_path / "p"), *common
    )
    assert code == 0, err
    assert json.loads(out)["train"] + json.loads(out)["eval"] == 5
    code, out, err = _run(capsys, "export", "./data.jsonl", "--out", str(tmp_path / "f"), *common)
    assert code == 0, err
    assert json.loads(out)["train"] + json.loads(out)["eval"] == 3


def test_a_plain_project_name_and_a_plain_file_still_work(clash: str, tmp_path: Path, capsys):
    code, out, err = _run(capsys, "dedup", "src/five.jsonl", "--db", clash, "--json", "--quiet")
    assert code == 0, err
    assert json.loads(out)["n_examples"] == 5  # the file (the project has no such name)
    code, _, err = _run(
        capsys, "import", "src/five.jsonl", "--project", "other", "--db", clash, "--quiet"
    )
    assert code == 0, err
    code, out, err = _run(capsys, "dedup", "other", "--db", clash, "--json", "--quiet")
    assert code == 0, err
    assert json.loads(out)["run_id"] is not None  # ran on (and saved in) the project


def test_unknown_targets_and_both_forms_at_once_are_clear_errors(clash: str, capsys) -> None:
    code, _, err = _run(capsys, "dedup", "nope.jsonl", "--db", clash, "--quiet")
    assert code == 2
    assert "'nope.jsonl' is neither an existing file nor a project" in err
    assert "data.jsonl" in err  # the known projects are listed
    code, _, err = _run(
        capsys, "dedup", "data.jsonl", "--project", "data.jsonl", "--db", clash, "--quiet"
    )
    assert code == 2 and "not both" in err
    code, _, err = _run(capsys, "dedup", "--db", clash, "--quiet")
    assert code == 2 and "--project NAME" in err
    code, _, err = _run(capsys, "dedup", "--project", "missing", "--db", clash, "--quiet")
    assert code == 2 and "No project named 'missing'" in err
