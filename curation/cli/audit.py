"""`curation audit`: the bias audit of a file or project, as HTML and JSON."""

from __future__ import annotations

import json
from typing import Any

import click

from curation.cli._common import (
    Args,
    Progress,
    Report,
    author_of,
    db_option,
    open_store,
    options,
    quiet_option,
    report_command,
    resolve_target,
    target_options,
)
from curation.errors import CurationError


def _audit_config(args: Args) -> Any:
    from curation.bias import AuditConfig

    data: dict[str, Any] = {}
    if args.config:
        try:
            with open(args.config, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError) as exc:
            raise CurationError(
                f"Cannot read the audit configuration {args.config}: {exc}"
            ) from exc
        if not isinstance(data, dict):
            raise CurationError(f"{args.config} must hold a JSON object (an AuditConfig).")
    if args.checks:
        data["checks"] = [c.strip() for c in args.checks.split(",") if c.strip()]
    if args.label_fields:
        data["label_fields"] = [c.strip() for c in args.label_fields.split(",") if c.strip()]
    try:
        return AuditConfig.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise CurationError(f"Bad audit configuration: {exc}") from exc


def _print_audit(report: Report) -> None:
    if report["json"] == "-":
        return  # stdout holds the JSON report
    written = [p for p in (report["report"], report["json"]) if p]
    if report.get("run_id") is not None:
        written.append(f"saved as bias audit run {report['run_id']}")
    counts = ", ".join(f"{n} {s}" for s, n in report["counts"].items())
    print(
        f"{report['target']}: {report['n_examples']} examples audited; findings: {counts}"
        + (f"; {'; '.join(written)}" if written else "")
    )
    for finding in report["findings"]:
        if finding["severity"] != "info":
            print(f"  {finding['severity']}: {finding['message']}")
    if report["failed"]:
        print(f"warning: check(s) failed: {', '.join(report['failed'])} (see the report)")


@report_command(
    "audit", "bias audit: coverage, skew and representation, as HTML and JSON", _print_audit
)
@options(
    target_options(),
    click.option("--report", default=None, metavar="AUDIT.html", help="write the HTML report"),
    click.option(
        "--json",
        "json_path",
        default=None,
        metavar="AUDIT.json",
        help="write the JSON report (top-level `findings`); `-` prints it instead of the summary",
    ),
    click.option(
        "--save",
        help="keep the run in the project (the Bias audit page, the dataset card and readiness "
        "read the latest saved run); needs a project",
        is_flag=True,
    ),
    click.option("--checks", default=None, help="comma-separated check codes (default: all)"),
    click.option(
        "--label-fields",
        default=None,
        help="comma-separated metadata fields to treat as labels (default: detected)",
    ),
    click.option(
        "--config", default=None, metavar="AUDIT_CONFIG.json", help="an AuditConfig as JSON"
    ),
    db_option(),
    click.option("--author", default=None, help="name recorded in the audit log (--save)"),
    quiet_option(),
)
def cmd_audit(args: Args) -> Report:
    from curation.bias.report import report_json, write_html, write_json

    config = _audit_config(args)  # checked before any data is read
    kind = resolve_target(args)
    if args.save and kind == "file":
        raise CurationError(
            f"--save keeps the run in a project, and {args.target!r} is a file: import it "
            "first (curation import FILE --project NAME), then run audit --project NAME --save."
        )
    bar = Progress(not args.quiet)

    run_id: int | None = None
    try:
        if kind == "file":
            from curation.bias import run_audit
            from curation.formats import read_examples

            examples = list(read_examples(args.target).examples)
            if not examples:
                raise CurationError(
                    f"No example read from {args.target}; check its format (curation import "
                    "says why records are skipped)."
                )
            audit = run_audit(examples, config, progress=bar.update)
        else:
            from curation.bias.project import audit_project, save_audit_report

            store = open_store(args)
            try:
                audit = audit_project(store, args.target, config, progress=bar.update)
                if args.save:
                    author = author_of(args)
                    run_id = save_audit_report(store, args.target, audit, author=author).run_id
            finally:
                store.dispose()
    finally:
        bar.close()
    if args.report:
        write_html(audit, args.report, title=f"Bias audit: {args.target}")
    if args.json_path == "-":
        print(json.dumps(report_json(audit), indent=2, ensure_ascii=False, default=str))
    elif args.json_path:
        write_json(audit, args.json_path)
    return {
        "target": args.target,
        "kind": kind,
        "report": args.report,
        "json": args.json_path,
        "run_id": run_id,
        **audit.summary.to_dict(),
        "findings": [f.to_dict() for f in audit.findings],
    }
