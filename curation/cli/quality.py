"""`curation quality`: flag broken, truncated, refusing and malformed examples."""

from __future__ import annotations

from typing import Any

import click

from curation.cli._common import (
    Args,
    Progress,
    Report,
    author_of,
    open_store,
    options,
    report_command,
    resolve_target,
    store_options,
    target_options,
)
from curation.errors import CurationError


def _print_quality(report: Report) -> None:
    where = [f"{report['n_rows']} row(s) written to {report['out']}"] if report["out"] else []
    if report.get("run_id") is not None:
        where.append(f"saved as quality run {report['run_id']}")
    print(
        f"{report['target']}: {report['n_flagged']} of {report['n_examples']} examples flagged "
        f"({report['severity']}); {'; '.join(where)}"
    )
    for code, count in report["counts"].items():
        if count:
            print(f"  {code}: {count}")
    if report.get("n_errors"):
        print(f"warning: {report['n_errors']} check(s) raised on an example (see --json)")


@report_command(
    "quality", "flag broken, truncated, refusing and malformed examples", _print_quality
)
@options(
    target_options(),
    click.option("--out", default=None, help="CSV file: one row per flagged example and flag"),
    click.option(
        "--save",
        help="keep the run in the project (the Quality page, Browse's quality filter and the "
        "dataset card read the latest saved run); needs a project",
        is_flag=True,
    ),
    click.option(
        "--expect",
        default=None,
        metavar="STRUCTURE",
        help="answers must be json, yaml, sql, sql:DIALECT or regex:PATTERN",
    ),
    click.option(
        "--schema", default=None, metavar="SCHEMA.json", help="JSON Schema json answers must match"
    ),
    click.option("--sql-dialect", default=None, help="SQL dialect for --expect sql (sqlglot's)"),
    click.option(
        "--flags", default=None, help="comma-separated flag codes to run (default: every default)"
    ),
    store_options(project=False),
)
def cmd_quality(args: Args) -> Report:
    from curation.quality import QualityConfig, run_quality
    from curation.quality.report import expectations_from_options, write_flags_csv

    # Options are checked before any data is read, so a bad --schema fails fast.
    expectations = expectations_from_options(args.expect, args.schema, args.sql_dialect)
    flags = (
        None if args.flags is None else tuple(c.strip() for c in args.flags.split(",") if c.strip())
    )
    config = QualityConfig(flags=flags, expectations=expectations)
    if args.out is None and not args.save:
        raise CurationError("Say where the flags go: --out FLAGS.csv, --save, or both.")
    kind = resolve_target(args)
    if args.save and kind == "file":
        raise CurationError(
            f"--save keeps the run in a project, and {args.target!r} is a file: import it "
            "first (curation import FILE --project NAME), then run quality --project NAME --save."
        )
    bar = Progress(not args.quiet)

    run_id: int | None = None
    try:
        if kind == "file":
            from curation.formats import read_examples

            examples: list[Any] = list(read_examples(args.target, progress=bar.update).examples)
            result = run_quality(examples, config, progress=bar.update, total=len(examples))
        else:
            from curation.quality.project import check_project, save_quality_report

            store = open_store(args)
            try:
                result = check_project(store, args.target, config, progress=bar.update)
                if args.save:
                    author = author_of(args)
                    saved = save_quality_report(store, args.target, result, author=author)
                    run_id = saved.run_id
            finally:
                store.dispose()
    finally:
        bar.close()
    n_rows = write_flags_csv(result.rows, args.out) if args.out else len(result.rows)
    return {
        "target": args.target,
        "kind": kind,
        "out": args.out,
        "n_rows": n_rows,
        "run_id": run_id,
        **result.summary.to_dict(),
        "expectations": None if expectations is None else expectations.to_dict(),
        "n_errors": result.info.get("n_errors", 0),
    }
