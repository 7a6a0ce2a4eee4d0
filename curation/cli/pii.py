"""`curation pii`: scan for personal data, scrub it, or keep a project's PII configuration."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from curation.cli._common import (
    PRINTERS,
    Progress,
    _common,
    _listed,
    _opened,
    _resolve_target,
    _store,
    _target_options,
    _write_jsonl,
    command,
    default_author,
)
from curation.errors import CurationError

# ---- pii --------------------------------------------------------------------------------


def _configure_pii(p: argparse.ArgumentParser) -> None:
    from curation.pii.config import OPERATORS

    p.add_argument(
        "action",
        choices=["scan", "scrub", "config"],
        help="find personal data, replace it, or show / save a project's PII configuration",
    )
    _target_options(p)
    p.add_argument(
        "--out",
        default=None,
        help="scan: findings JSONL (required); scrub: folder for the scrubbed JSONL and its "
        "record (required for a file; for a project it writes there instead of the store)",
    )
    p.add_argument("--operator", choices=OPERATORS, default="numbered", help="scrub: replacement")
    p.add_argument(
        "--entities", default=None, help="comma-separated entity types (default: the defaults)"
    )
    p.add_argument("--threshold", type=float, default=None, help="minimum finding score")
    p.add_argument(
        "--roles", default=None, help="comma-separated roles to scan (default: every turn)"
    )
    p.add_argument("--no-metadata", action="store_true", help="do not scan metadata texts")
    p.add_argument(
        "--config",
        default=None,
        metavar="PII.json",
        help="a PiiConfig as JSON: allow list, custom recognizers, model (a project's saved "
        "one is used when not given; `pii config --project P --config F` saves F)",
    )
    p.add_argument("--reset", action="store_true", help="config: back to the defaults")
    _common(p, project=False)


def _read_pii_config(path: str) -> dict[str, Any]:
    from curation.errors import PiiConfigError

    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise PiiConfigError(f"--config {path}: {exc}") from exc
    return data  # type: ignore[no-any-return]


def _pii_scanner(args: argparse.Namespace, saved: Any = None) -> Any:
    """The scanner the options ask for: --config, else the project's `saved` configuration."""
    from curation.pii import PiiConfig, PiiScanner

    base = saved
    if args.config is not None:
        base = PiiConfig.from_dict(_read_pii_config(args.config))
    args.roles_list = _listed(args.roles)
    return PiiScanner(entities=_listed(args.entities), score_threshold=args.threshold, config=base)


def _pii_config(args: argparse.Namespace) -> dict[str, Any]:
    """`pii config --project P [--config F | --reset]`: save, reset or show the configuration."""
    from curation.pii.project import project_pii_config, save_project_pii_config

    if args.project is None:
        raise CurationError("pii config works on a project: give --project NAME.")
    with _opened(args) as store:
        if args.config is not None or args.reset:
            data = None if args.config is None else _read_pii_config(args.config)
            save_project_pii_config(store, args.project, data, args.author or default_author())
        config = project_pii_config(store, args.project)
    return {"target": args.project, "action": "config", "config": config.to_dict()}


@command(
    "pii",
    "find personal data in a file or project (scan), or replace it consistently (scrub)",
    _configure_pii,
)
def cmd_pii(args: argparse.Namespace) -> dict[str, Any]:
    from curation.pii.batch import finding_rows, scan_dataset
    from curation.pii.project import scan_project, scrub_project

    if args.action == "config":
        return _pii_config(args)
    if args.action == "scan" and args.out is None:
        raise CurationError("pii scan needs --out FINDINGS.jsonl (one row per finding).")
    scanner = _pii_scanner(args)  # options are checked before any data is read
    kind = _resolve_target(args)
    if kind == "project" and args.config is None:
        from curation.pii.project import project_pii_config

        with _opened(args) as project_store:
            scanner = _pii_scanner(args, project_pii_config(project_store, args.target))
    if args.action == "scrub" and kind == "file" and args.out is None:
        raise CurationError("pii scrub of a file needs --out DIR for the scrubbed copy.")
    bar = Progress(not args.quiet)
    store = None if kind == "file" else _store(args)
    author = args.author or default_author()
    options = {"roles": args.roles_list, "include_metadata": not args.no_metadata}
    try:
        if store is None:
            from curation.formats import read_examples

            examples: list[Any] = list(read_examples(args.target).examples)
            scan = scan_dataset(scanner, examples, progress=bar, **options)
        else:
            examples = [r.example for r in store.iter_examples(args.target)]
            # a project's findings are kept: the PII page reviews them, export checks them
            scan = scan_project(
                store, args.target, scanner, author, progress=bar, examples=examples, **options
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
            _write_jsonl(args.out, finding_rows(scan))
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


def _pii_scrub_copy(
    args: argparse.Namespace, scanner: Any, scan: Any, examples: list[Any], bar: Progress
) -> dict[str, Any]:
    """Scrub into --out: the scrubbed JSONL, its record and the residual; the source stays."""
    from curation.pii.batch import scrub_dataset
    from curation.pii.operators import Scrubber, ScrubConfig, new_project_secret

    secret = os.environ.get("CURATION_PII_SECRET") or new_project_secret()
    scrubber = Scrubber(secret, config=ScrubConfig(operator=args.operator))
    done = scrub_dataset(scanner, scrubber, examples, scan, progress=bar)
    os.makedirs(args.out, exist_ok=True)
    scrubbed = {ex.id: ex for ex in done.changed}
    data = os.path.join(args.out, "scrubbed.jsonl")
    _write_jsonl(data, [scrubbed.get(ex.id, ex).to_dict() for ex in examples])
    _write_jsonl(os.path.join(args.out, "scrub_record.jsonl"), done.records)
    _write_jsonl(os.path.join(args.out, "residual.jsonl"), done.residual)
    return {
        "operator": args.operator,
        "examples_changed": len(done.changed),
        "replacements": done.n_replacements,
        "replaced_by_type": done.counts,
        "residual": len(done.residual),
        "out": data,
    }


def _print_pii(report: dict[str, Any]) -> None:
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


PRINTERS["pii"] = _print_pii
