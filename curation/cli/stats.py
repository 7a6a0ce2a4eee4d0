"""`curation stats`: counts per status, source and step for a project."""

from __future__ import annotations

import argparse
from typing import Any

from curation.cli._common import (
    PRINTERS,
    _common,
    _store,
    command,
)

# ---- stats ------------------------------------------------------------------------------


def _configure_stats(p: argparse.ArgumentParser) -> None:
    _common(p)


@command("stats", "counts per status, source and step for a project", _configure_stats)
def cmd_stats(args: argparse.Namespace) -> dict[str, Any]:
    return _store(args).stats(args.project)


def _print_stats(report: dict[str, Any]) -> None:
    print(
        f"project {report['project']}: {report['total']} examples, {report['imports']} imports, "
        f"{report['edited']} edited"
    )
    for k, v in sorted(report["by_status"].items()):
        print(f"  {k}: {v}")
    if report.get("with_preference"):
        print(f"with candidate answers or a KTO label: {report['with_preference']}")
    print("sources:")
    for k, v in sorted(report["by_source"].items()):
        print(f"  {k}: {v}")
    print("steps run: " + (", ".join(report["steps_run"]) or "none"))


PRINTERS["stats"] = _print_stats
