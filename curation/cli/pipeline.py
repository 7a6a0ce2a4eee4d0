"""`curation pipeline`: import, remove exact and near duplicates, and export in one go."""

from __future__ import annotations

import argparse
import os
from typing import Any

from curation.cli._common import (
    Progress,
    command,
    default_author,
)
from curation.cli.export import (
    _check_outputs,
    _export_options,
    _export_report,
    _export_stored,
    _write_zip,
)
from curation.store import Store


def _configure_pipeline(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", help="files or dataset folders")
    p.add_argument(
        "--project",
        default=None,
        help="keep the work in this project of the store (default: a throwaway store)",
    )
    p.add_argument("--keep", default="longest", help="keep policy for duplicate clusters")
    p.add_argument("--near-threshold", type=float, default=None, help="near-dup Jaccard threshold")
    _export_options(p)


@command(
    "pipeline",
    "import, remove exact and near duplicates, and export in one go",
    _configure_pipeline,
)
def cmd_pipeline(args: argparse.Namespace) -> dict[str, Any]:
    import tempfile

    from curation.dedup.project import apply_policy, run_dedup
    from curation.formats import read_examples

    author = args.author or default_author()
    _check_outputs(args)
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
                summary = store.add_import(project, read_examples(path, progress=progress), author)
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
                    progress=progress,
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
            result = _export_stored(args, store, project, progress, author=author)
        finally:
            progress.close()
            store.dispose()
        report = _export_report(result, {"target": project, "preset": args.preset, "steps": steps})
        report["zip"] = _write_zip(args, result)
        return report
