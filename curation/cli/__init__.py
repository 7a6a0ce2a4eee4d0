"""The `curation` command: the app's steps on files and projects, for data engineers.

Every command prints a human summary, or a JSON report with `--json`; long work shows progress.
One module per command; importing it registers the command.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from curation.cli import (  # noqa: F401 - importing a command module registers it
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
from curation.cli._common import COMMANDS, PRINTERS
from curation.errors import CurationError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="curation",
        description="Curate instruction-tuning data: import, deduplicate, export (and more).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_fn, configure, help_text) in COMMANDS.items():
        configure(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    fn = COMMANDS[args.command][0]
    try:
        report = fn(args)
    except CurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "json", False):
        print(json.dumps(report, indent=2, default=str, ensure_ascii=False))
    else:
        PRINTERS.get(args.command, lambda r: print(json.dumps(r, indent=2, default=str)))(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
