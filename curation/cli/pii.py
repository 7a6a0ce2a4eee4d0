"""`curation pii`: scan for personal data, scrub it, or keep a project's PII configuration."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from curation.cli._common import (
    Args,
    Progress,
    Report,
    argument,
    author_of,
    listed,
    open_store,
    opened,
    options,
    report_command,
    resolve_target,
    store_options,
    target_options,
    write_jsonl,
)
from curation.errors import CurationError
from curation.pii.config import OPERATORS


def _read_pii_config(path: str) -> dict[str, Any]:
    from curation.errors import PiiConfigError

    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise PiiConfigError(f"--config {path}: {exc}") from exc
    return data  # type: ignore[no-any-return]


def _pii_scanner(args: Args, saved: Any = None) -> Any:
    """The scanner the options ask for: --config, else the project's `saved` configuration."""
    from curation.pii import PiiConfig, PiiScanner

    base = saved
    if args.config is not None:
        base = PiiConfig.from_dict(_read_pii_config(args.config))
    args.roles_list = listed(args.roles)
    return PiiScanner(entities=listed(args.entities), score_threshold=args.threshold, config=base)


def _pii_config(args: Args) -> Report:
    """`pii config --project P [--config F | --reset]`: save, reset or show the configuration."""
    from curation.pii.project import project_pii_config, save_project_pii_config

    if args.project is None:
        raise CurationError("pii config works on a project: give --project NAME.")
    with opened(args) as store:
        if args.config is not None or args.reset:
            data = None if args.config is None else _read_pii_config(args.config)
            save_project_pii_config(store, args.project, data, author_of(args))
        config = project_pii_config(store, args.project)
    return {"target": args.project, "action": "config", "config": config.to_dict()}


def _pii_scrub_copy(
    args: Args, scanner: Any, scan: Any, examples: list[Any], bar: Progress
) -> Report:
    """Scrub into --out: the scrubbed JSONL, its record and the residual; the source stays."""
    from curation.pii.batch import scrub_dataset
    from curation.pii.operators import Scrubber, ScrubConfig, new_project_secret

    secret = os.environ.get("CURATION_PII_SECRET") or new_project_secret()
    scrubber = Scrubber(secret, config=ScrubConfig(operator=args.operator))
    done = scrub_dataset(scanner, scrubber, examples, scan, progress=bar.update)
    os.makedirs(args.out, exist_ok=True)
    scrubbed = {ex.id: ex for ex in done.changed}
    data = os.path.join(args.out, "scrubbed.jsonl")
    write_jsonl(data, [scrubbed.get(ex.id, ex).to_dict() for ex in examples])
    write_jsonl(os.path.join(args.out, "scrub_record.jsonl"), done.records)
    write_jsonl(os.path.join(args.out, "residual.jsonl"), done.residual)
    return {
        "operator": args.operator,
        "examples_changed": len(done.changed),
        "replacements": done.n_replacements,
        "replaced_by_type": done.counts,
        "residual": len(done.residual),
        "out": data,
    }


def _print_pii(report: Report) -> None:
    if report["action"] == "config":
        print(json.dumps(report["config"], indent=2, ensure_ascii=False))
        return
    types = ", ".join(f"{k} {v}" for k, v in report["by_type"].items()) or "none"
    print(
        f"{report['target']}: {report['findings']} PII findings in "
        f"{report['examples_with_findings']} of {report['examples']} examples ({types})"
    )
    if report["action"] == "scan":
        print(f"findings (positions and types, no values): {report['out']}")
        return
    where = report.get("out") or f"the store, event #{report.get('event')} (undo reverses it)"
    print(
        f"scrubbed with {report['operator']}: {report['replacements']} replacements in "
        f"{report['examples_changed']} examples -> {where}"
    )
    if report.get("metadata_findings_left"):
        print(
            f"warning: {report['metadata_findings_left']} findings in metadata are not changed "
            "in the store (revisions hold the conversation); they count in the residual"
        )
    print(f"residual after scrubbing: {report['residual']} findings")


@report_command(
    "pii",
    "find personal data in a file or project (scan), or replace it consistently (scrub)",
    _print_pii,
)
@options(
    argument(
        "action",
        "find personal data, replace it, or show / save a project's PII configuration",
        type=click.Choice(["scan", "scrub", "config"]),
    ),
    target_options(),
    click.option(
        "--out",
        default=None,
        help="scan: findings JSONL (required); scrub: folder for the scrubbed JSONL and its "
        "record (required for a file; for a project it writes there instead of the store)",
    ),
    click.option(
        "--operator", default="numbered", help="scrub: replacement", type=click.Choice(OPERATORS)
    ),
    click.option(
        "--entities", default=None, help="comma-separated entity types (default: the defaults)"
    ),
    click.option("--threshold", type=float, default=None, help="minimum finding score"),
    click.option(
        "--roles", default=None, help="comma-separated roles to scan (default: every turn)"
    ),
    click.option("--no-metadata", help="do not scan metadata texts", is_flag=True),
    click.option(
        "--config",
        default=None,
        metavar="PII.json",
        help="a PiiConfig as JSON: allow list, custom recognizers, model (a project's saved "
        "one is used when not given; `pii config --project P --config F` saves F)",
    ),
    click.option("--reset", help="config: back to the defaults", is_flag=True),
    store_options(project=False),
)
def cmd_pii(args: Args) -> Report:
    from curation.pii.batch import finding_rows, scan_dataset
    from curation.pii.project import scan_project, scrub_project

    if args.action == "config":
        return _pii_config(args)
    if args.action == "scan" and args.out is None:
        raise CurationError("pii scan needs --out FINDINGS.jsonl (one row per finding).")
    scanner = _pii_scanner(args)  # options are checked before any data is read
    kind = resolve_target(args)
    if kind == "project" and args.config is None:
        from curation.pii.project import project_pii_config

        with opened(args) as project_store:
            scanner = _pii_scanner(args, project_pii_config(project_store, args.target))
    if args.action == "scrub" and kind == "file" and args.out is None:
        raise CurationError("pii scrub of a file needs --out DIR for the scrubbed copy.")
    bar = Progress(not args.quiet)
    store = None if kind == "file" else open_store(args)
    author = author_of(args)
    scan_options = {"roles": args.roles_list, "include_metadata": not args.no_metadata}
    try:
        if store is None:
            from curation.formats import read_examples

            examples: list[Any] = list(read_examples(args.target).examples)
            scan = scan_dataset(scanner, examples, progress=bar.update, **scan_options)
        else:
            examples = [r.example for r in store.iter_examples(args.target)]
            # a project's findings are kept: the PII page reviews them, export checks them
            scan = scan_project(
                store,
                args.target,
                scanner,
                author,
                progress=bar.update,
                examples=examples,
                **scan_options,
            )
        report: dict[str, Any] = {
            "target": args.target,
            "kind": kind,
            "action": args.action,
            "examples": len(examples),
            "examples_with_findings": len(scan.examples_with_findings()),
            "findings": scan.n_findings,
            "by_type": scan.counts(),
        }
        if args.action == "scan":
            write_jsonl(args.out, finding_rows(scan))
            report["out"] = args.out
        elif store is not None and args.out is None:
            # every finding a reviewer did not reject, as one undoable event
            done = scrub_project(
                store, args.target, scanner, args.operator, author, accepted_only=False
            )
            report.update(done)
        else:
            report.update(_pii_scrub_copy(args, scanner, scan, examples, bar))
    finally:
        bar.close()
        scanner.close()
        if store is not None:
            store.dispose()
    return report
