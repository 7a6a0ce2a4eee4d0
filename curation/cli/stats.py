"""`curation stats`: counts per status, source and step for a project."""

from __future__ import annotations

from curation.cli._common import Args, Report, open_store, report_command, store_options


def _print_stats(report: Report) -> None:
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


@report_command("stats", "counts per status, source and step for a project", _print_stats)
@store_options()
def cmd_stats(args: Args) -> Report:
    return open_store(args).stats(args.project)
