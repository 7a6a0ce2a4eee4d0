"""The `curation` command: the app's steps on files and projects, for data engineers.

A Click group of one command per module (registered in `COMMANDS`); every command prints a
human summary, or a JSON report with `--json`; long work shows progress on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from curation.cli import (
    agreement,
    audit,
    db,
    dedup,
    export,
    import_cmd,
    jobs,
    label_issues,
    label_schema,
    labels,
    pii,
    pipeline,
    quality,
    stats,
)
from curation.errors import CurationError

COMMANDS: list[click.Command] = [
    import_cmd.cmd_import,
    stats.cmd_stats,
    dedup.cmd_dedup,
    export.cmd_export,
    pipeline.cmd_pipeline,
    quality.cmd_quality,
    pii.cmd_pii,
    db.cmd_db,
    jobs.cmd_jobs,
    audit.cmd_audit,
    label_issues.cmd_label_issues,
    agreement.cmd_agreement,
    labels.cmd_labels,
    label_schema.cmd_label_schema,
]


class _Group(click.Group):
    """Lists the commands in `COMMANDS` order (the order of the steps), not alphabetically."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


def build_parser() -> click.Group:
    """The `curation` group with every command of `COMMANDS`."""
    group = _Group(
        name="curation",
        help="Curate instruction-tuning data: import, deduplicate, export (and more).",
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    for command in COMMANDS:
        group.add_command(command)
    return group


cli = build_parser()


def main(argv: Sequence[str] | None = None) -> int:
    """Run `curation` with `argv` (default: the process's arguments) and return its exit code:
    0 on success, 2 for a usage error (unknown option, bad value) or a `CurationError`, whose
    message is printed on stderr; 1 when interrupted."""
    try:
        code = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="curation",
            standalone_mode=False,
        )
    except click.ClickException as exc:  # usage errors: the usage line, then what is wrong
        exc.show()
        return exc.exit_code
    except click.Abort:
        print("Aborted!", file=sys.stderr)
        return 1
    except CurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return code if isinstance(code, int) else 0
