"""`curation labels`: export or import labels as CSV or JSONL."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from curation.cli._common import (
    Args,
    Report,
    argument,
    author_of,
    opened,
    options,
    report_command,
    store_options,
    write_jsonl,
)
from curation.errors import CurationError
from curation.labeling import LABEL_ROLES

_LABEL_COLUMNS = ["example_id", "field", "value", "annotator", "role", "time"]


_FINAL_COLUMNS = ["example_id", "field", "value", "status", "decided_by", "annotators", "votes"]


def _csv_cell(value: Any) -> Any:
    return ";".join(value) if isinstance(value, tuple | list) else value


def _read_label_rows(path: str) -> list[dict[str, Any]]:
    import csv

    from curation.safecsv import FORMULA_PREFIXES, NEUTRALISER

    try:
        if path.lower().endswith((".jsonl", ".ndjson", ".json")):
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
            if path.lower().endswith(".json"):
                data = json.loads(text)
                return [dict(r) for r in (data if isinstance(data, list) else [data])]
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, ValueError) as exc:
        raise CurationError(f"Cannot read labels from {path}: {exc}") from exc

    def restore(cell: Any) -> Any:  # undo the CSV writer's formula guard
        if isinstance(cell, str) and len(cell) > 1 and cell[0] == NEUTRALISER:
            return cell[1:] if cell[1] in FORMULA_PREFIXES else cell
        return cell

    return [{k: restore(v) for k, v in row.items() if k is not None} for row in rows]


def _labels_from_rows(rows: list[dict[str, Any]], schema: Any, args: Args) -> list[Any]:
    """Long rows (example_id, field, value[, annotator, role]) or wide rows (example_id and one
    column per label field); values are read leniently, as text from files (`coerce_labels`)."""
    from curation.errors import LabelError
    from curation.labeling import Label

    out = []
    for line, row in enumerate(rows, start=2):
        where = f"row {line}"
        eid = str(row.get("example_id") or row.get("id") or "").strip()
        if not eid:
            raise LabelError(f"{where}: no example_id")
        who = str(row.get("annotator") or args.annotator or "").strip()
        if not who:
            raise LabelError(
                f"{where}: no annotator; add an annotator column or give --annotator NAME"
            )
        role = str(row.get("role") or args.role).strip()
        if "field" in row:
            pairs = {str(row["field"]): row.get("value")}
        else:
            pairs = {k: v for k, v in row.items() if k in schema.field_names}
            if not pairs:
                raise LabelError(
                    f"{where}: no label column; use field and value columns, or columns named "
                    f"after the label fields ({', '.join(schema.field_names)})"
                )
        try:
            values = schema.coerce_labels(pairs)
        except LabelError as exc:
            raise LabelError(f"{where} ({eid}): {exc}") from exc
        out += [Label(eid, who, name, value, role=role) for name, value in values.items()]
    return out


def _print_labels(report: Report) -> None:
    if report["action"] == "import":
        event = report["event"]
        tail = f"event #{event}" if event is not None else "nothing changed"
        print(
            f"{report['file']}: {report['labels_read']} label(s) read into {report['project']}; {tail}"
        )
    else:
        what = "final labels" if report["final"] else "labels"
        print(f"{report['project']}: {report['rows']} {what} written to {report['out']}")


@report_command(
    "labels",
    "labels as CSV or JSONL: export every person's labels (or the final ones), or import some",
    _print_labels,
)
@options(
    argument(
        "action", "write labels out, or read some in", type=click.Choice(["export", "import"])
    ),
    argument("file", "import: a CSV or JSONL file of labels", default=None, required=False),
    click.option("--out", default=None, help="export: the CSV or JSONL file to write"),
    click.option(
        "--final",
        help="export: the final labels (what export uses) instead of every person's labels",
        is_flag=True,
    ),
    click.option(
        "--annotator",
        default=None,
        help="import: who gave the labels when the file has no annotator column",
    ),
    click.option(
        "--role",
        default="annotator",
        help="import: the role of labels without a role column (default annotator)",
        type=click.Choice(LABEL_ROLES),
    ),
    store_options(),
)
def cmd_labels(args: Args) -> Report:
    from curation.labeling.project import final_labels, require_schema
    from curation.safecsv import write_csv
    from curation.store import labels as label_store

    with opened(args) as store:
        if args.action == "import":
            if not args.file:
                raise CurationError("Give the file to import: curation labels import FILE ...")
            schema = require_schema(store, args.project)
            labels = _labels_from_rows(_read_label_rows(args.file), schema, args)
            event = label_store.import_labels(
                store,
                args.project,
                labels,
                author_of(args),
                source=os.path.basename(args.file),
            )
            return {
                "project": args.project,
                "action": "import",
                "file": args.file,
                "labels_read": len(labels),
                "event": event,
            }
        if not args.out:
            raise CurationError("Give the file to write: curation labels export --out FILE.")
        if args.final:
            rows: list[dict[str, Any]] = [
                final.to_dict()
                for by_field in final_labels(store, args.project).values()
                for final in by_field.values()
            ]
            columns = _FINAL_COLUMNS
        else:
            rows = [
                {**r.to_dict(), "time": r.created_at.isoformat()}
                for r in label_store.list_labels(store, args.project)
            ]
            columns = _LABEL_COLUMNS
    if args.out.lower().endswith((".jsonl", ".ndjson")):
        write_jsonl(args.out, [{k: r.get(k) for k in columns} for r in rows])
    else:
        cells = [
            {
                k: json.dumps(r.get(k), ensure_ascii=False) if k == "votes" else _csv_cell(r.get(k))
                for k in columns
            }
            for r in rows
        ]
        write_csv(cells, args.out, columns=columns)
    return {
        "project": args.project,
        "action": "export",
        "out": args.out,
        "final": args.final,
        "rows": len(rows),
    }
