"""`curation import`: read files into a project of the store."""

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
    open_store,
    options,
    report_command,
    store_options,
)
from curation.errors import CurationError


def _unescape(template: str) -> str:
    """A template typed in a shell: ``\\n`` and ``\\t`` become a line break and a tab."""
    out, i = [], 0
    while i < len(template):
        pair = template[i : i + 2]
        if pair in ("\\n", "\\t", "\\\\"):
            out.append({"\\n": "\n", "\\t": "\t", "\\\\": "\\"}[pair])
            i += 2
        else:
            out.append(template[i])
            i += 1
    return "".join(out)


def _mapping_from_args(args: Args) -> Any:
    """The column mapping the ``--map-*`` and ``--drop-where`` options describe, or None."""
    from curation.formats import ColumnMapping
    from curation.formats.mapping import DropRule

    if not (args.map_user or args.map_assistant or args.map_template or args.drop_where):
        return None
    if not args.map_assistant or not (args.map_user or args.map_template):
        raise CurationError(
            "A column mapping needs --map-assistant and either --map-user or --map-template "
            "(--drop-where belongs to a mapping too)."
        )
    if args.map_user and args.map_template:
        raise CurationError(
            "Give --map-user or --map-template, not both: the template names its columns."
        )
    return ColumnMapping(
        user=[c.strip() for c in (args.map_user or "").split(",") if c.strip()],
        assistant=args.map_assistant,
        system=args.map_system,
        user_template=_unescape(args.map_template) if args.map_template else None,
        drop_where=tuple(DropRule.parse(rule) for rule in args.drop_where or ()),
    )


def _print_import(report: Report) -> None:
    from curation.formats.results import kinds_sentence

    for f in report["files"]:
        if f["already_imported"]:
            print(
                f"{f['file_name']}: already imported into {report['project']}; nothing added "
                "(use --allow-reimport to add its new records)"
            )
            continue
        reasons = ", ".join(f"{k}: {v}" for k, v in f["skipped_reasons"].items()) or "none"
        print(
            f"{f['file_name']}: {f['imported']} imported as {f['detected_format']}, "
            f"{f['skipped']} skipped ({reasons})"
        )
        kinds = kinds_sentence(f.get("kinds") or {})
        if kinds:
            rule = f.get("ratings_rule")
            how = f"; ranked {rule['rule']}, min margin {rule['min_margin']:g}" if rule else ""
            print(f"  in the file: {kinds}{how}")
        for issue in f["issues"][:20]:
            print(f"  {issue['message']}")  # messages start with their line or record number
        if len(f["issues"]) > 20:
            print(f"  … {len(f['issues']) - 20} more problems (see --json)")
        for w in f["warnings"]:
            print(f"  warning: {w}")
    print(f"total: {report['imported']} imported, {report['skipped']} skipped")


@report_command("import", "import files into a project", _print_import)
@options(
    argument("files", "files or dataset folders to import", nargs=-1, required=True),
    click.option(
        "--format", default="auto", help="auto (default) or a shape: alpaca, sharegpt, ..."
    ),
    click.option(
        "--map-user", default=None, help="comma-separated columns joined into the user turn"
    ),
    click.option(
        "--map-template",
        default=None,
        metavar="TEMPLATE",
        help="build the user turn from columns instead of --map-user, e.g. "
        "'Premise: {sentence1}\\nHypothesis: {sentence2}' (\\n is a line break, {{ a brace)",
    ),
    click.option("--map-assistant", default=None, help="column holding the answer"),
    click.option("--map-system", default=None, help="column holding the system prompt"),
    click.option(
        "--drop-where",
        multiple=True,
        metavar="RULE",
        help="leave out rows of a mapped table where COLUMN=VALUE (e.g. gold_label=-); also "
        "'COLUMN in [A, B]' or 'COLUMN is empty'; repeatable",
    ),
    click.option("--allow-reimport", is_flag=True, help="import a file seen before again"),
    click.option(
        "--ratings-rule",
        default="best-vs-worst",
        type=click.Choice(("best-vs-worst", "best-vs-random", "best-vs-second")),
        help="for completions rated one by one (UltraFeedback): which two make the pair "
        "(default best-vs-worst; best-vs-random is seeded by the record id)",
    ),
    click.option(
        "--min-margin",
        type=float,
        default=0.0,
        metavar="SCORE",
        help="with --ratings-rule: a pair whose scores differ by less is kept as a tie "
        "(default 0: only equal scores tie)",
    ),
    store_options(),
)
def cmd_import(args: Args) -> Report:
    from curation.formats import read_examples

    mapping = _mapping_from_args(args)
    store = open_store(args)
    author = author_of(args)
    store.ensure_project(args.project, author)
    files: list[dict[str, Any]] = []
    for path in args.files:
        progress = Progress(not args.quiet)
        try:
            result = read_examples(
                path,
                format=args.format,
                mapping=mapping,
                progress=progress.update,
                ratings_rule=args.ratings_rule,
                min_margin=args.min_margin,
            )
        finally:
            progress.close()
        if result.needs_mapping and mapping is None:
            raise CurationError(
                f"{path}: could not tell which columns hold the prompt and the answer "
                f"(columns: {', '.join(result.columns)}). Pass --map-assistant and --map-user "
                "(or --map-template)."
            )
        progress = Progress(not args.quiet)
        try:
            summary = store.add_import(
                args.project,
                result,
                author,
                allow_reimport=args.allow_reimport,
                progress=progress.counter(f"storing {os.path.basename(path)}"),
            )
        finally:
            progress.close()
        report = summary.to_dict()
        report["warnings"] = [w.message for w in result.warnings]
        report["kinds"] = result.kind_counts()  # of the file's examples, before the store's
        if result.ratings_rule is not None:
            report["ratings_rule"] = {"rule": result.ratings_rule, "min_margin": result.min_margin}
        files.append(report)
    return {
        "project": args.project,
        "files": files,
        "imported": sum(f["imported"] for f in files),
        "skipped": sum(f["skipped"] for f in files),
    }
