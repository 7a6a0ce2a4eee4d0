"""`curation label-schema`: show or set a project's label schema and reviewers."""

from __future__ import annotations

import argparse
import json
from typing import Any

from curation.cli._common import (
    PRINTERS,
    _common,
    _listed,
    _opened,
    command,
    default_author,
)
from curation.errors import CurationError


def _configure_label_schema(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", default=None, metavar="SCHEMA.json", help="save this schema")
    p.add_argument(
        "--annotators-per-example", type=int, default=None, help="how many annotators each needs"
    )
    p.add_argument(
        "--guidelines", default=None, metavar="GUIDE.md", help="annotation guidelines (markdown)"
    )
    p.add_argument(
        "--reviewers", default=None, help="comma-separated names who may set final labels"
    )
    p.add_argument(
        "--adopt",
        default=None,
        metavar="KEY",
        help="adopt a metadata field as imported labels (kto_label: the KTO label)",
    )
    p.add_argument("--field", default=None, help="--adopt: the label field it fills")
    p.add_argument("--multi", action="store_true", help="--adopt: a multi-choice (tags) field")
    p.add_argument(
        "--value-map",
        default=None,
        metavar="JSON",
        help='--adopt: raw value -> label, e.g. \'{"true": "accept", "false": "reject"}\'',
    )
    p.add_argument(
        "--refresh-imported",
        action="store_true",
        help="write the adopted fields' imported labels again (after new imports)",
    )
    _common(p)


@command(
    "label-schema",
    "show or set a project's label schema, reviewers and imported labels",
    _configure_label_schema,
)
def cmd_label_schema(args: argparse.Namespace) -> dict[str, Any]:
    from curation.labeling import LabelSchema
    from curation.labeling import project as lp
    from curation.store import labels as label_store

    author = args.author or default_author()
    changed: list[str] = []
    with _opened(args) as store:
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
            lp.set_reviewers(store, args.project, _listed(args.reviewers) or [], author)
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


def _print_label_schema(report: dict[str, Any]) -> None:
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


PRINTERS["label-schema"] = _print_label_schema
