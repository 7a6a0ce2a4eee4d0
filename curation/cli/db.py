"""`curation db`: upgrade the store's schema, or show its revision."""

from __future__ import annotations

import argparse
from typing import Any

from curation.cli._common import (
    PRINTERS,
    command,
)


def _configure_db(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["upgrade", "current"], help="upgrade to head, or show")
    p.add_argument("--url", default=None, help="database URL (default: CURATION_DB_URL)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


@command(
    "db", "Database schema: upgrade to this app's revision, or show the current one.", _configure_db
)
def run_db(args: argparse.Namespace) -> dict[str, Any]:
    from curation.store.migrations import db_current, db_upgrade

    return db_upgrade(args.url) if args.action == "upgrade" else db_current(args.url)


def _print_db(report: dict[str, Any]) -> None:
    if "before" in report:
        print(
            f"{report['url']}: upgraded from {report['before'] or 'empty'} to {report['current']}"
        )
    else:
        print(
            f"{report['url']}: at revision {report['current'] or 'none'} (app head {report['head']})"
        )


PRINTERS["db"] = _print_db
