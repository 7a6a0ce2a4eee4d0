"""The shape of the `curation` command line: one module per command, every option described in
`--help`, `--project NAME` as the explicit way to name a project, clear usage errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from curation.cli import COMMANDS, build_parser, main
from tests.unit.store_helpers import write_alpaca

# command name -> the module of curation.cli that holds it
EXPECTED = {
    "import": "import_cmd",
    "stats": "stats",
    "dedup": "dedup",
    "export": "export",
    "pipeline": "pipeline",
    "quality": "quality",
    "pii": "pii",
    "db": "db",
    "jobs": "jobs",
    "audit": "audit",
    "label-issues": "label_issues",
    "agreement": "agreement",
    "labels": "labels",
    "label-schema": "label_schema",
}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _squeezed(text: str) -> str:
    """`text` without white space and hyphens, so wrapped help compares with the source."""
    return re.sub(r"[\s-]+", "", text)


def test_the_group_holds_exactly_one_command_per_module() -> None:
    group = build_parser()
    assert isinstance(group, click.Group)
    assert list(group.commands) == list(EXPECTED)
    assert [c.name for c in COMMANDS] == list(EXPECTED)
    for name, module in EXPECTED.items():
        callback = group.commands[name].callback
        assert callback is not None
        assert callback.__module__ == f"curation.cli.{module}", name


def test_the_group_help_lists_every_command(capsys) -> None:
    code, out, _ = _run(capsys, "--help")
    assert code == 0
    listed = re.findall(r"^  (\S+)  ", out, flags=re.M)
    assert listed == list(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_command_help_describes_each_option_and_argument(name: str, capsys) -> None:
    code, out, err = _run(capsys, name, "--help")
    assert code == 0, err
    assert out.startswith(f"Usage: curation {name} ")
    command = build_parser().commands[name]
    assert command.help and _squeezed(command.help) in _squeezed(out)
    for param in command.params:
        help_text = getattr(param, "help", None)
        assert help_text, f"{name}: {param.name} has no help text"
        assert _squeezed(help_text) in _squeezed(out), f"{name}: {param.name}"
        if isinstance(param, click.Option):
            for opt in param.opts:
                assert re.search(rf"(^|[\s,]){re.escape(opt)}\b", out), f"{name}: {opt}"
    usage = out.splitlines()[0]
    for piece in command.collect_usage_pieces(click.Context(command, info_name=name)):
        assert piece in usage, f"{name}: {piece}"  # every positional argument, by its metavar


def test_choices_defaults_and_required_options_are_kept(capsys) -> None:
    commands = build_parser().commands
    options = {p.name: p for p in commands["dedup"].params}
    assert options["method"].default == "near"
    assert isinstance(options["method"].type, click.Choice)
    assert list(options["method"].type.choices) == ["exact", "near", "semantic"]
    export = {p.name: p for p in commands["export"].params}
    assert export["preset"].default == "trl-messages" and export["out"].required
    assert export["eval_fraction"].default == 0.1
    stats = {p.name: p for p in commands["stats"].params}
    assert stats["project"].required
    code, _, err = _run(capsys, "stats")
    assert code == 2 and "Missing option '--project'" in err


@pytest.fixture()
def project_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> str:
    """A store holding project `demo` (6 examples), in a working folder without such a file."""
    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path / 'c.db'}"
    source = write_alpaca(tmp_path / "six.jsonl", 6)
    code, _, err = _run(capsys, "import", str(source), "--project", "demo", "--db", db, "--quiet")
    assert code == 0, err
    return db


# what each command's summary says when it worked on project `demo`
WORKED_ON_DEMO = {
    "dedup": "demo: near",
    "export": "wrote 5 train + 1 eval examples",
    "quality": "demo: 0 of 6 examples flagged",
    "audit": "demo: 6 examples audited",
}


def _target_extra(command: str, tmp_path: Path) -> list[str]:
    return {
        "dedup": [],
        "export": ["--out", str(tmp_path / "out"), "--eval-count", "1", "--preset", "alpaca"],
        "quality": ["--out", str(tmp_path / "flags.csv")],
        "audit": [],
    }[command]


@pytest.mark.parametrize("command", ["dedup", "export", "quality", "audit"])
def test_a_positional_project_name_works_with_a_deprecation_note(
    project_db: str, tmp_path: Path, capsys, command: str
) -> None:
    extra = _target_extra(command, tmp_path)
    code, out, err = _run(capsys, command, "demo", "--db", project_db, "--quiet", *extra)
    assert code == 0, err
    notes = [line for line in err.splitlines() if "deprecated" in line]
    assert notes == ["note: naming a project by position is deprecated; use --project demo"]
    assert WORKED_ON_DEMO[command] in out


@pytest.mark.parametrize("command", ["dedup", "export", "quality", "audit"])
def test_no_note_for_project_option_or_a_file(
    project_db: str, tmp_path: Path, capsys, command: str
) -> None:
    extra = _target_extra(command, tmp_path)
    code, _, err = _run(capsys, command, "--project", "demo", "--db", project_db, "--quiet", *extra)
    assert code == 0, err
    assert "deprecated" not in err
    if command == "export":
        extra = _target_extra(command, tmp_path / "file")
    code, _, err = _run(capsys, command, "six.jsonl", "--db", project_db, "--quiet", *extra)
    assert code == 0, err
    assert "deprecated" not in err


def test_the_note_leaves_the_json_report_alone(project_db: str, capsys) -> None:
    code, out, err = _run(capsys, "dedup", "demo", "--db", project_db, "--quiet", "--json")
    assert code == 0 and "deprecated" in err
    assert json.loads(out)["n_examples"] == 6


def test_an_unknown_option_is_a_clear_usage_error(capsys) -> None:
    code, out, err = _run(capsys, "dedup", "data.jsonl", "--no-such-option")
    assert code == 2 and out == ""
    assert "No such option" in err and "--no-such-option" in err
    assert "curation dedup --help" in err  # where to look next
    code, _, err = _run(capsys, "dedupe", "data.jsonl")
    assert code == 2 and "No such command 'dedupe'" in err


def test_a_bad_value_names_the_option_and_the_allowed_ones(capsys) -> None:
    code, _, err = _run(capsys, "dedup", "data.jsonl", "--method", "fuzzy")
    assert code == 2
    assert "--method" in err and "'fuzzy'" in err
    for method in ("exact", "near", "semantic"):
        assert f"'{method}'" in err
    code, _, err = _run(capsys, "dedup", "data.jsonl", "--threshold", "high")
    assert code == 2 and "--threshold" in err and "'high'" in err


def test_a_curation_error_prints_its_message_and_exits_2(tmp_path: Path, capsys) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    code, out, err = _run(capsys, "dedup", "--db", db)
    assert code == 2 and out == ""
    assert err == "error: Name what to work on: a data file, or --project NAME.\n"


def test_the_module_runs_as_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "curation.cli", "stats", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "--project" in done.stdout and "project name in the store" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "curation.cli", "stats", "--bogus"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "No such option" in done.stderr
