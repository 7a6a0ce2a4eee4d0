"""`curation label-schema`: show or set a project's label schema and reviewers."""

from __future__ import annotations

import json

import click

from curation.cli._common import (
    Args,
    Report,
    author_of,
    listed,
    opened,
    options,
    report_command,
    store_options,
)
from curation.errors import CurationError


def _print_label_schema(report: Report) -> None:
    schema = report["schema"]
    if schema is None:
        print(f"project {report['project']}: no label schema yet (set one with --set FILE)")
        return
    print(
        f"project {report['project']}: {len(schema['fields'])} field(s), "
        f"{schema['annotators_per_example']} annotator(s) per example; reviewers: "
        f"{', '.join(report['reviewers'])}"
    )
    for f in schema["fields"]:
        options = f.get("options")
        shown = f": {', '.join(map(str, options))}" if options else ""
        print(f"  {f['name']} ({f['kind']}){shown}")
    for imp in schema["imported"]:
        print(f"  imported: {imp['field']} from metadata {imp['metadata_key']}")
    if report["adopted"]:
        a = report["adopted"]
        print(
            f"adopted {a['field']}: {a['n_labelled']} example(s); {len(a['problems'])} problem(s)"
        )
        for problem in a["problems"][:10]:
            print(f"  {problem}")


@report_command(
    "label-schema",
    "show or set a project's label schema, reviewers and imported labels",
    _print_label_schema,
)
@options(
    click.option("--set", default=None, metavar="SCHEMA.json", help="save this schema"),
    click.option(
        "--annotators-per-example", type=int, default=None, help="how many annotators each needs"
    ),
    click.option(
        "--guidelines", default=None, metavar="GUIDE.md", help="annotation guidelines (markdown)"
    ),
    click.option(
        "--reviewers", default=None, help="comma-separated names who may set final labels"
    ),
    click.option(
        "--adopt",
        default=None,
        metavar="KEY",
        help="adopt a metadata field as imported labels (kto_label: the KTO label)",
    ),
    click.option("--field", default=None, help="--adopt: the label field it fills"),
    click.option("--multi", help="--adopt: a multi-choice (tags) field", is_flag=True),
    click.option(
        "--value-map",
        default=None,
        metavar="JSON",
        help='--adopt: raw value -> label, e.g. \'{"true": "accept", "false": "reject"}\'',
    ),
    click.option(
        "--refresh-imported",
        help="write the adopted fields' imported labels again (after new imports)",
        is_flag=True,
    ),
    store_options(),
)
def cmd_label_schema(args: Args) -> Report:
    from curation.labeling import LabelSchema
    from curation.labeling import project as lp
    from curation.store import labels as label_store

    author = author_of(args)
    changed: list[str] = []
    with opened(args) as store:
        store.project_id(args.project)  # a clear error for an unknown project, first
        if args.set:
            try:
                with open(args.set, encoding="utf-8") as fh:
                    data = json.load(fh)
            except (OSError, ValueError) as exc:
                raise CurationError(f"--set {args.set}: {exc}") from exc
            lp.save_schema(store, args.project, data, author)
            changed.append("schema")
        if args.annotators_per_example is not None or args.guidelines is not None:
            current = lp.require_schema(store, args.project).to_dict()
            if args.annotators_per_example is not None:
                current["annotators_per_example"] = args.annotators_per_example
            if args.guidelines is not None:
                try:
                    with open(args.guidelines, encoding="utf-8") as fh:
                        current["guidelines"] = fh.read()
                except OSError as exc:
                    raise CurationError(f"--guidelines {args.guidelines}: {exc}") from exc
            lp.save_schema(store, args.project, LabelSchema.from_dict(current), author)
            changed.append("settings")
        if args.reviewers is not None:
            lp.set_reviewers(store, args.project, listed(args.reviewers) or [], author)
            changed.append("reviewers")
        adopted = None
        if args.adopt:
            try:
                value_map = json.loads(args.value_map) if args.value_map else None
            except ValueError as exc:
                raise CurationError(f"--value-map is not JSON: {exc}") from exc
            adopted = lp.adopt_metadata(
                store,
                args.project,
                args.adopt,
                author,
                field=args.field,
                multi=args.multi,
                value_map=value_map,
            ).to_dict()
            changed.append("imported")
        refreshed = None
        if args.refresh_imported:
            refreshed = lp.refresh_imported(store, args.project, author)
        schema = label_store.read_schema(store, args.project)
        names = label_store.reviewers(store, args.project)
    return {
        "project": args.project,
        "changed": changed,
        "schema": None if schema is None else schema.to_dict(),
        "reviewers": names,
        "adopted": adopted,
        "refresh_event": refreshed,
    }
