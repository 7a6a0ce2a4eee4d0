"""`curation agreement`: inter-annotator agreement of a project."""

from __future__ import annotations

from typing import Any

import click

from curation.cli._common import (
    Args,
    Report,
    opened,
    options,
    report_command,
    store_options,
)


def _figure(fig: dict[str, Any]) -> str:
    value = "undefined" if fig["value"] is None else f"{fig['value']:.3f}"
    why = f" ({fig['note']})" if fig["note"] else ""
    return f"{value} on {fig['items']} item(s){why}"


def _print_agreement(report: Report) -> None:
    progress = report["progress"]
    print(
        f"project {report['project']}: {len(report['annotators'])} annotator(s); "
        f"{progress['complete']} of {progress['examples']} examples have "
        f"{progress['annotators_per_example']} annotator(s)"
    )
    print(f"overall Krippendorff's alpha (choice fields): {_figure(report['overall'])}")
    for name, f in report["fields"].items():
        print(f"{name} ({f['kind']}): alpha {_figure(f['alpha'])}")
        for pair in f["pairs"]:
            print(f"  kappa {' / '.join(pair['annotators'])}: {_figure(pair)}")
        for value, fig in f["per_value"].items():
            if fig["items"]:
                print(f"  {value}: alpha {_figure(fig)}")
        for group, fig in f["per_group"].items():
            print(f"  group {group}: alpha {_figure(fig)}")


@report_command(
    "agreement",
    "inter-annotator agreement: Krippendorff's alpha and Cohen's kappa per field and overall",
    _print_agreement,
)
@options(
    click.option(
        "--by",
        default=None,
        metavar="GROUP",
        help="agreement per group too: source, a label field (its final labels) or a "
        "metadata field",
    ),
    store_options(),
)
def cmd_agreement(args: Args) -> Report:
    from curation.labeling.project import project_agreement
    from curation.store.labels import queue_progress

    with opened(args) as store:
        report = project_agreement(store, args.project, group_by=args.by)
        progress = queue_progress(store, args.project)
    return {
        "project": args.project,
        "by": args.by,
        **report.to_dict(),
        "progress": progress.to_dict(),
    }
