"""`curation db`: upgrade the store's schema, or show its revision."""

from __future__ import annotations

import click

from curation.cli._common import (
    Args,
    Report,
    argument,
    options,
    report_command,
)


def _print_db(report: Report) -> None:
    if "before" in report:
        print(
            f"{report['url']}: upgraded from {report['before'] or 'empty'} to {report['current']}"
        )
    else:
        print(
            f"{report['url']}: at revision {report['current'] or 'none'} (app head {report['head']})"
        )


@report_command(
    "db", "Database schema: upgrade to this app's revision, or show the current one.", _print_db
)
@options(
    argument("action", "upgrade to head, or show", type=click.Choice(["upgrade", "current"])),
    click.option("--url", default=None, help="database URL (default: CURATION_DB_URL)"),
    click.option("--json", help="print the report as JSON", is_flag=True),
)
def cmd_db(args: Args) -> Report:
    from curation.store.migrations import db_current, db_upgrade

    return db_upgrade(args.url) if args.action == "upgrade" else db_current(args.url)
