"""`curation dedup`: exact, near or semantic duplicates, and contamination, in a file or project."""

from __future__ import annotations

import json
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


def _semantic_options(args: Args) -> dict[str, Any] | None:
    """``{"backend": ...}`` from --semantic-backend (an error with another method)."""
    if args.semantic_backend is None:
        return None
    if args.method != "semantic":
        raise CurationError(
            f"--semantic-backend works with --method semantic, not --method {args.method}."
        )
    return {"backend": args.semantic_backend}


def _read_reference_option(args: Args) -> Any:
    """The --reference set, read before any work so a bad file fails fast (None without it)."""
    from curation.errors import ReferenceFieldError
    from curation.formats import read_reference

    if args.reference is None:
        if args.reference_field or args.flag_contaminated:
            option = "--reference-field" if args.reference_field else "--flag-contaminated"
            raise CurationError(f"{option} needs --reference REF (the reference set to check).")
        return None
    try:
        return read_reference(args.reference, field=args.reference_field)
    except ReferenceFieldError as exc:
        fields = ", ".join(exc.candidates) or "none"
        raise CurationError(f"{exc} Pass --reference-field with one of: {fields}.") from exc


def _contamination_report(matches: list[Any], reference: Any, args: Args) -> Any:
    from curation.dedup import DEFAULT_NEAR_THRESHOLD

    threshold = args.reference_threshold
    return {
        **reference.summary(),
        "method": args.reference_method,
        "threshold": None
        if args.reference_method == "exact"
        else (DEFAULT_NEAR_THRESHOLD if threshold is None else threshold),
        "fields": args.reference_fields,
        "n_contaminated": len(matches),
    }


def _dedup_file(args: Args, progress: Progress, reference: Any = None) -> Report:
    from curation.dedup import cluster_conversations, find_example_contamination, role_texts_for
    from curation.dedup.project import kept_pairs, language_notes, semantic_languages
    from curation.formats import read_examples

    result = read_examples(args.target, progress=progress.update)
    examples = result.examples
    contamination: list[dict[str, Any]] | None = None
    reference_report = None
    if reference is not None:
        matches = find_example_contamination(
            examples,
            reference,
            method=args.reference_method,
            threshold=args.reference_threshold,
            fields=args.reference_fields,
            progress=progress.update,
        )
        contamination = [m.to_dict() for m in matches]
        reference_report = _contamination_report(matches, reference, args)
    profile, options = semantic_languages(examples, args.method, _semantic_options(args))
    found = cluster_conversations(
        role_texts_for(examples, args.fields),
        args.method,
        args.threshold,
        progress=progress.update,
        **options,
    )

    def listed(groups: list[Any]) -> list[dict[str, Any]]:
        return [
            {
                "members": [examples[i].id for i in c.members],
                "rows": list(c.members),
                "pairs": [
                    [examples[i].id, examples[j].id, round(sim, 4)]
                    for i, j, sim in kept_pairs(c.pairs)
                ],
            }
            for c in groups
        ]

    clusters = listed(found.clusters)
    return {
        "target": args.target,
        "method": found.method,
        "threshold": found.threshold,
        "backend": found.backend,
        "fields": args.fields,
        "n_examples": len(examples),
        "n_clusters": len(clusters),
        "n_duplicates": sum(len(c["members"]) - 1 for c in clusters),
        "clusters": clusters,
        "same_prompt": listed(found.same_prompt),
        "stats": found.stats,
        **_contamination_fields(contamination, reference_report),
        **language_notes(profile, found.backend),
    }


def _contamination_fields(
    contamination: list[dict[str, Any]] | None, reference: dict[str, Any] | None
) -> Report:
    if contamination is None:
        return {}
    return {"reference": reference, "contamination": contamination}


def _dedup_project(args: Args, progress: Progress, reference: Any = None) -> Report:
    from curation.dedup.project import apply_policy, check_contamination, run_dedup

    store = open_store(args)
    author = author_of(args)
    contamination: list[dict[str, Any]] | None = None
    reference_report = None
    if reference is not None:  # before dedup, on the same active examples
        checked = check_contamination(
            store,
            args.target,
            reference,
            method=args.reference_method,
            threshold=args.reference_threshold,
            fields=args.reference_fields,
            flag=args.flag_contaminated,
            author=author,
            progress=progress.update,
        )
        contamination = checked["hits"]
        reference_report = {
            **_contamination_report(contamination, reference, args),
            "event_id": checked["event_id"],
        }
    run = run_dedup(
        store,
        args.target,
        method=args.method,
        threshold=args.threshold,
        fields=args.fields,
        author=author,
        progress=progress.update,
        options=_semantic_options(args),
    )
    event_id = (
        apply_policy(store, args.target, run, args.apply, author=author) if args.apply else None
    )
    return {
        "target": args.target,
        "run_id": run.run_id,
        "method": run.method,
        "threshold": run.threshold,
        "backend": run.backend,
        "fields": run.fields,
        "n_examples": run.n_examples,
        "n_clusters": len(run.clusters),
        "n_duplicates": run.n_duplicates,
        "applied_policy": args.apply,
        "event_id": event_id,
        "clusters": [
            {"members": c.members, "pairs": [list(p) for p in c.pairs]} for c in run.clusters
        ],
        "same_prompt": [
            {"members": c.members, "pairs": [list(p) for p in c.pairs]} for c in run.same_prompt
        ],
        "warnings": run.warnings,
        "stats": run.stats,
        **_contamination_fields(contamination, reference_report),
    }


def _print_dedup(report: Report) -> None:
    threshold = "" if report["threshold"] is None else f" at {report['threshold']:g}"
    print(
        f"{report['target']}: {report['method']}{threshold} on {report['fields']} text "
        f"({report['backend']}): {report['n_clusters']} clusters, {report['n_duplicates']} "
        f"duplicates among {report['n_examples']} examples"
    )
    for c in report["clusters"][:10]:
        print(
            f"  {len(c['members'])} x "
            + ", ".join(c["members"][:6])
            + (" …" if len(c["members"]) > 6 else "")
        )
    if "contamination" in report:
        ref = report["reference"]
        threshold = "" if ref["threshold"] is None else f" at {ref['threshold']:g}"
        print(
            f"contamination ({ref['method']}{threshold}, {ref['fields']} text) against "
            f"{ref['n_items']} reference item(s) from {ref['source']} (field {ref['field']}): "
            f"{len(report['contamination'])} example(s) match"
        )
        for hit in report["contamination"][:10]:
            print(
                f"  {hit['example_id']} ~ {hit['reference_location'] or 'reference'} "
                f"({hit['similarity']:.3f}): {' '.join(hit['reference_text'].split())[:80]}"
            )
        if ref.get("event_id"):
            print(f"marked them filtered (event {ref['event_id']}; undo it from the Activity page)")
    if report.get("same_prompt"):
        print(
            f"same prompt, different answers (not duplicates, never removed by --apply): "
            f"{len(report['same_prompt'])} group(s)"
        )
        for c in report["same_prompt"][:10]:
            print("  " + ", ".join(c["members"][:6]) + (" …" if len(c["members"]) > 6 else ""))
    for warning in report.get("warnings") or []:
        print(f"warning: {warning}")
    if report.get("applied_policy"):
        print(
            f"applied keep policy {report['applied_policy']!r} (event {report['event_id']}; "
            "undo it from the Activity page)"
        )


@report_command(
    "dedup", "find exact, near or semantic duplicates in a file or project", _print_dedup
)
@options(
    target_options(),
    click.option(
        "--method",
        default="near",
        type=click.Choice(["exact", "near", "semantic"]),
        help="exact (same normalised text), near (MinHash LSH, default) or semantic (embeddings)",
    ),
    click.option(
        "--threshold", type=float, default=None, help="similarity threshold (method default)"
    ),
    click.option(
        "--fields",
        default="all",
        help="text compared: whole conversation, user turns or assistant turns (for "
        "preference data: the chosen answer)",
        type=click.Choice(["all", "user", "assistant"]),
    ),
    click.option(
        "--semantic-backend",
        default=None,
        help="--method semantic only: the sentence model (auto: the default), its static "
        "version (derived once, cached under CURATION_HOME; faster, see README), or TF-IDF",
        type=click.Choice(["auto", "sentence-transformers", "static", "tfidf"]),
    ),
    click.option(
        "--report",
        default=None,
        help="write the clusters (and, with --reference, the contamination list) as JSON",
    ),
    click.option(
        "--reference",
        default=None,
        metavar="REF",
        help="also check contamination against this reference set (an eval benchmark: MT-Bench "
        "question.jsonl, AlpacaEval, GSM8K, MATH, chat messages, a .txt with one item a line...)",
    ),
    click.option(
        "--reference-field",
        default=None,
        metavar="FIELD",
        help="the reference records' field holding the texts, when it cannot be told",
    ),
    click.option(
        "--reference-method",
        default="near",
        help="contamination match: exact, or near (Jaccard, default)",
        type=click.Choice(["exact", "near"]),
    ),
    click.option(
        "--reference-threshold",
        type=float,
        default=None,
        help="Jaccard threshold for --reference-method near (default 0.7)",
    ),
    click.option(
        "--reference-fields",
        default="user",
        help="text of each example compared with the reference items (default: user turns)",
        type=click.Choice(["user", "all", "assistant"]),
    ),
    click.option(
        "--flag-contaminated",
        help="projects only: mark examples matching a reference item as filtered (undoable)",
        is_flag=True,
    ),
    click.option(
        "--apply",
        default=None,
        metavar="POLICY",
        help="projects only: resolve every cluster with a keep policy "
        "(first, longest, most-edited, best-labelled)",
    ),
    store_options(project=False),
)
def cmd_dedup(args: Args) -> Report:
    kind = resolve_target(args)
    reference = _read_reference_option(args)
    progress = Progress(not args.quiet)
    try:
        if kind == "file":
            if args.apply or args.flag_contaminated:
                option = "--apply" if args.apply else "--flag-contaminated"
                raise CurationError(f"{option} works on projects; import the file first.")
            report = _dedup_file(args, progress, reference)
        else:
            report = _dedup_project(args, progress, reference)
    finally:
        progress.close()
    if args.report:
        with open(args.report, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2, ensure_ascii=False, default=str)
    return report
