"""`curation label-issues`: suspected label errors, ranked by cleanlab."""

from __future__ import annotations

import click

from curation.cli._common import (
    Args,
    Progress,
    Report,
    author_of,
    opened,
    options,
    report_command,
    resolve_target,
    store_options,
    target_options,
)
from curation.errors import CurationError
from curation.labeling import FEATURE_KINDS


def _file_label_inputs(path: str, field: str) -> tuple[list[str], list[str], list[str | None]]:
    from curation.formats import read_examples

    examples = list(read_examples(path).examples)
    values = [ex.metadata.get(field) for ex in examples]
    if all(v is None or v == "" for v in values):
        keys = sorted({k for ex in examples for k in ex.metadata})
        raise CurationError(
            f"No record of {path} has a {field!r} field; its metadata fields: "
            f"{', '.join(keys[:20]) or 'none'}."
        )
    given = [None if v is None or v == "" else str(v) for v in values]
    return [ex.id for ex in examples], [ex.text("all") for ex in examples], given


_ISSUE_COLUMNS = [
    "rank",
    "example_id",
    "index",
    "given_label",
    "suggested_label",
    "quality_score",
    "reason",
]


def _print_label_issues(report: Report) -> None:
    where = [f"written to {report['out']}"] if report["out"] else []
    if report.get("run_id") is not None:
        where.append(f"saved as label-issue run {report['run_id']}")
    print(
        f"{report['target']}: {report['flagged']} suspected label error(s) in "
        f"{report['checked']} checked examples of {report['examples']} "
        f"(field {report['label_field']}; {report['features']}, {report['folds']} folds, "
        f"cross-validated accuracy {report['cv_accuracy']:.3f}); {'; '.join(where)}"
    )
    for row in report["issues"][:10]:
        print(
            f"  {row['example_id']}: {row['given_label']} -> {row['suggested_label']} "
            f"(quality {row['quality_score']:.3f})"
        )
    if report["unchecked_classes"]:
        rare = ", ".join(f"{k} ({v})" for k, v in report["unchecked_classes"].items())
        print(f"classes too small to learn (checked by the others' models only): {rare}")


@report_command(
    "label-issues",
    "find suspected label errors (cross-validated classifier ranked by cleanlab)",
    _print_label_issues,
)
@options(
    target_options(),
    click.option(
        "--label-field",
        required=True,
        metavar="FIELD",
        help="the label to check: a metadata field of the file, or of a project a label "
        "field (its final labels) or a metadata field",
    ),
    click.option("--out", default=None, help="CSV: one row per suspected error, worst first"),
    click.option(
        "--save",
        help="keep the run in the project (the Label page lists it; the label_issues queue "
        "filter reads it); needs a project",
        is_flag=True,
    ),
    click.option(
        "--features",
        default="auto",
        help="text features (auto: TF-IDF, plus sentence embeddings on up to 1,000 texts "
        "when the semantic extra is installed)",
        type=click.Choice(FEATURE_KINDS),
    ),
    click.option("--folds", type=int, default=None, help="cross-validation folds (by size)"),
    store_options(project=False),
)
def cmd_label_issues(args: Args) -> Report:
    from curation.labeling import LabelIssueConfig, rank_label_quality
    from curation.safecsv import write_csv

    if args.out is None and not args.save:
        raise CurationError("Say where the issues go: --out ISSUES.csv, --save, or both.")
    config = LabelIssueConfig(features=args.features, folds=args.folds)
    kind = resolve_target(args)
    if args.save and kind == "file":
        raise CurationError(
            f"--save keeps the run in a project, and {args.target!r} is a file: import it "
            "first (curation import FILE --project NAME), then run label-issues --project NAME."
        )
    bar = Progress(not args.quiet)
    run_id = None
    try:
        if kind == "file":
            ids, texts, given = _file_label_inputs(args.target, args.label_field)
            result = rank_label_quality(texts, given, config=config, progress=bar.update)
        else:
            from curation.labeling.project import label_issue_inputs, save_label_issues
            from curation.store.labels import newest_label_id

            with opened(args) as store:
                seen = newest_label_id(store, args.target)
                ids, texts, given = label_issue_inputs(store, args.target, args.label_field)
                result = rank_label_quality(texts, given, config=config, progress=bar.update)
                if args.save:
                    run_id = save_label_issues(
                        store,
                        args.target,
                        args.label_field,
                        ids,
                        given,
                        result,
                        author_of(args),
                        params={"features": args.features, "folds": args.folds},
                        max_label_id=seen,
                    )
    finally:
        bar.close()
    rows = [
        {
            "rank": rank,
            "example_id": ids[issue.index],
            "index": issue.index,
            "given_label": issue.given_label,
            "suggested_label": issue.suggested_label,
            "quality_score": round(issue.quality_score, 6),
            "reason": result.reasons[issue.index],
        }
        for rank, issue in enumerate(result.issues, start=1)
    ]
    if args.out:
        write_csv(rows, args.out, columns=list(rows[0]) if rows else _ISSUE_COLUMNS)
    info = result.info
    return {
        "target": args.target,
        "kind": kind,
        "label_field": args.label_field,
        "out": args.out,
        "run_id": run_id,
        "examples": len(ids),
        "checked": info.get("checked"),
        "flagged": len(rows),
        "classes": list(result.classes),
        "unchecked_classes": info.get("unchecked_classes", {}),
        "features": info.get("features"),
        "folds": info.get("folds"),
        "cv_accuracy": info.get("cv_accuracy"),
        "seconds": info.get("seconds"),
        "issues": rows[:20],
    }
