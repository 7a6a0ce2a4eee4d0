"""`curation pipeline`: import, remove exact and near duplicates, and export in one go."""

from __future__ import annotations

import os
from typing import Any

import click

from curation.cli._common import (
    Args,
    Progress,
    Report,
    argument,
    author_of,
    options,
    report_command,
)
from curation.cli.export import (
    check_outputs,
    export_options,
    export_report,
    export_stored,
    print_export,
    write_zip,
)
from curation.store import Store


@report_command(
    "pipeline", "import, remove exact and near duplicates, and export in one go", print_export
)
@options(
    argument("inputs", "files or dataset folders", nargs=-1, required=True),
    click.option(
        "--project",
        default=None,
        help="keep the work in this project of the store (default: a throwaway store)",
    ),
    click.option("--keep", default="longest", help="keep policy for duplicate clusters"),
    click.option("--near-threshold", type=float, default=None, help="near-dup Jaccard threshold"),
    click.option(
        "--step",
        "steps",
        multiple=True,
        metavar="NAME",
        help="a registered step to run after dedup, before the export (repeatable; e.g. "
        "quality, audit, pii): its numbers go into the card and the readiness summary; a step "
        "that fails is reported and the others still run",
    ),
    export_options(),
)
def cmd_pipeline(args: Args) -> Report:
    import tempfile

    from curation.dedup.project import apply_policy, run_dedup
    from curation.formats import read_examples

    author = author_of(args)
    check_outputs(args)
    if args.steps:  # an unknown step or a bad name fails before anything is read
        from curation.steps import resolve_steps

        resolve_steps(list(args.steps))
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or (None if args.project else f"sqlite:///{os.path.join(tmp, 'pipeline.db')}")
        store = Store(db)
        project = args.project or "pipeline"
        store.ensure_project(project, author)
        progress = Progress(not args.quiet)
        steps: list[dict[str, Any]] = []
        try:
            imported = skipped = 0
            for path in args.inputs:
                summary = store.add_import(
                    project, read_examples(path, progress=progress.update), author
                )
                imported += summary.imported
                skipped += summary.skipped
            steps.append(
                {
                    "step": "import",
                    "files": len(args.inputs),
                    "imported": imported,
                    "skipped": skipped,
                }
            )
            for method, threshold in (("exact", None), ("near", args.near_threshold)):
                if store.count_examples(project) < 2:
                    break
                run = run_dedup(
                    store,
                    project,
                    method=method,
                    threshold=threshold,
                    author=author,
                    progress=progress.update,
                )
                before = store.stats(project)["by_status"].get("duplicate", 0)
                apply_policy(store, project, run, args.keep, author=author)
                after = store.stats(project)["by_status"].get("duplicate", 0)
                steps.append(
                    {
                        "step": f"dedup-{method}",
                        "clusters": len(run.clusters),
                        "removed": after - before,
                    }
                )
            if args.steps:
                from curation.steps import run_project_steps

                ran = run_project_steps(
                    store, project, list(args.steps), author=author, progress=progress.update
                )
                steps.extend(ran.to_dict()["steps"])
            result = export_stored(args, store, project, progress, author=author)
        finally:
            progress.close()
            store.dispose()
        report = export_report(result, {"target": project, "preset": args.preset, "steps": steps})
        report["zip"] = write_zip(args, result)
        return report
