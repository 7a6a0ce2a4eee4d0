"""The `curation` command: the app's steps on files and projects, for data engineers.

Every command prints a human summary, or a JSON report with `--json`; long work shows progress.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import shlex
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from tqdm import tqdm

from curation.errors import CurationError
from curation.store import Store

Command = Callable[[argparse.Namespace], dict[str, Any]]
COMMANDS: dict[str, tuple[Command, Callable[[argparse.ArgumentParser], None], str]] = {}


def command(
    name: str, help_text: str, configure: Callable[[argparse.ArgumentParser], None]
) -> Callable[[Command], Command]:
    """Register `run(args) -> report` with the function that declares its arguments."""

    def register(fn: Command) -> Command:
        COMMANDS[name] = (fn, configure, help_text)
        return fn

    return register


def default_author() -> str:
    return os.environ.get("CURATION_USER") or getpass.getuser() or "cli"


def _store(args: argparse.Namespace) -> Store:
    return Store(args.db)


def _common(parser: argparse.ArgumentParser, *, project: bool = True) -> None:
    if project:
        parser.add_argument("--project", required=True, help="project name in the store")
    parser.add_argument(
        "--db", default=None, help="database URL (default: CURATION_DB_URL or ./.curation)"
    )
    parser.add_argument("--author", default=None, help="name recorded in the audit log")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


class Progress:
    """A tqdm bar per stage on stderr; callable as progress(done, total) or (stage, done, total)."""

    def __init__(self, enabled: bool, desc: str = "") -> None:
        self.enabled = enabled
        self.desc = desc
        self.bars: dict[str, tqdm] = {}

    def __call__(self, *args: Any) -> None:
        if not self.enabled:
            return
        stage, done, total = (self.desc, *args) if len(args) == 2 else args
        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(total=total, desc=stage, file=sys.stderr, leave=False)
        if total is not None and bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()


# ---- import -----------------------------------------------------------------------------


def _configure_import(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", help="files or dataset folders to import")
    p.add_argument(
        "--format", default="auto", help="auto (default) or a shape: alpaca, sharegpt, ..."
    )
    p.add_argument(
        "--map-user", default=None, help="comma-separated columns joined into the user turn"
    )
    p.add_argument(
        "--map-template",
        default=None,
        metavar="TEMPLATE",
        help="build the user turn from columns instead of --map-user, e.g. "
        "'Premise: {sentence1}\\nHypothesis: {sentence2}' (\\n is a line break, {{ a brace)",
    )
    p.add_argument("--map-assistant", default=None, help="column holding the answer")
    p.add_argument("--map-system", default=None, help="column holding the system prompt")
    p.add_argument(
        "--drop-where",
        action="append",
        default=None,
        metavar="RULE",
        help="leave out rows of a mapped table where COLUMN=VALUE (e.g. gold_label=-); also "
        "'COLUMN in [A, B]' or 'COLUMN is empty'; repeatable",
    )
    p.add_argument("--allow-reimport", action="store_true", help="import a file seen before again")
    p.add_argument(
        "--ratings-rule",
        default="best-vs-worst",
        choices=("best-vs-worst", "best-vs-random", "best-vs-second"),
        help="for completions rated one by one (UltraFeedback): which two make the pair "
        "(default best-vs-worst; best-vs-random is seeded by the record id)",
    )
    p.add_argument(
        "--min-margin",
        type=float,
        default=0.0,
        metavar="SCORE",
        help="with --ratings-rule: a pair whose scores differ by less is kept as a tie "
        "(default 0: only equal scores tie)",
    )
    _common(p)


@command("import", "import files into a project", _configure_import)
def cmd_import(args: argparse.Namespace) -> dict[str, Any]:
    from curation.formats import read_examples

    mapping = _mapping_from_args(args)
    store = _store(args)
    author = args.author or default_author()
    store.ensure_project(args.project, author)
    files: list[dict[str, Any]] = []
    for path in args.files:
        progress = Progress(not args.quiet, desc=f"read {os.path.basename(path)}")
        try:
            result = read_examples(
                path,
                format=args.format,
                mapping=mapping,
                progress=progress,
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
        progress = Progress(not args.quiet, desc=f"store {os.path.basename(path)}")
        try:
            summary = store.add_import(
                args.project, result, author, allow_reimport=args.allow_reimport, progress=progress
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


def _mapping_from_args(args: argparse.Namespace) -> Any:
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


def _print_import(report: dict[str, Any]) -> None:
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


# ---- stats ------------------------------------------------------------------------------


def _configure_stats(p: argparse.ArgumentParser) -> None:
    _common(p)


@command("stats", "counts per status, source and step for a project", _configure_stats)
def cmd_stats(args: argparse.Namespace) -> dict[str, Any]:
    return _store(args).stats(args.project)


def _print_stats(report: dict[str, Any]) -> None:
    print(
        f"project {report['project']}: {report['total']} examples, {report['imports']} imports, "
        f"{report['edited']} edited"
    )
    for k, v in sorted(report["by_status"].items()):
        print(f"  {k}: {v}")
    if report.get("with_preference"):
        print(f"with candidate answers or a KTO label: {report['with_preference']}")
    print("sources:")
    for k, v in sorted(report["by_source"].items()):
        print(f"  {k}: {v}")
    print("steps run: " + (", ".join(report["steps_run"]) or "none"))


# ---- what dedup and export work on: a file or a project ------------------------------------


def _target_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "target",
        nargs="?",
        default=None,
        help="a data file (or, when no such file exists, the name of a project)",
    )
    p.add_argument("--project", default=None, help="the project in the store to work on")


def _project_names(args: argparse.Namespace) -> list[str]:
    """Projects in the store `--db` names; none when its SQLite file does not exist yet."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from curation.store import default_db_url

    url = args.db or default_db_url()
    try:
        parsed = make_url(url)
    except ArgumentError:  # Store() below says what is wrong with it
        parsed = None
    if (
        parsed
        and parsed.get_backend_name() == "sqlite"
        and not os.path.exists(parsed.database or "")
    ):
        return []  # asking must not create an empty store as a side effect
    store = Store(url)
    try:
        return store.list_projects()
    finally:
        store.dispose()


def _resolve_target(args: argparse.Namespace) -> str:
    """Whether `dedup` / `export` work on a file or a project: returns "file" or "project".

    `--project NAME` always means the project. A positional target means the file when it
    exists, else the project; a name that is both an existing file and a project is refused
    rather than guessed (a path with a separator, such as ``./README.md``, is always the file).
    `args.target` is set to the file or project name.
    """
    if args.project is not None:
        if args.target is not None:
            raise CurationError(
                f"Give either a file ({args.target!r}) or --project {args.project!r}, not both."
            )
        args.target = args.project
        return "project"
    target = args.target
    if target is None:
        raise CurationError("Name what to work on: a data file, or --project NAME.")
    is_path = os.sep in target or "/" in target or bool(os.altsep and os.altsep in target)
    if os.path.exists(target):
        if is_path or target not in _project_names(args):
            return "file"
        raise CurationError(
            f"{target!r} is both a file here and a project in the store. Use --project "
            f"{shlex.quote(target)} for the project, or ./{target} for the file."
        )
    names = _project_names(args)
    if not is_path and target in names:
        return "project"
    known = ", ".join(names) or "none yet"
    raise CurationError(
        f"{target!r} is neither an existing file nor a project in the store (known projects: "
        f"{known}). Check the path, or name a project with --project NAME."
    )


# ---- dedup ------------------------------------------------------------------------------


def _configure_dedup(p: argparse.ArgumentParser) -> None:
    _target_options(p)
    p.add_argument("--method", choices=["exact", "near", "semantic"], default="near")
    p.add_argument(
        "--threshold", type=float, default=None, help="similarity threshold (method default)"
    )
    p.add_argument(
        "--fields",
        choices=["all", "user", "assistant"],
        default="all",
        help="text compared: whole conversation, user turns or assistant turns (for "
        "preference data: the chosen answer)",
    )
    p.add_argument(
        "--semantic-backend",
        choices=["auto", "sentence-transformers", "static", "tfidf"],
        default=None,
        help="--method semantic only: the sentence model (auto: the default), its static "
        "version (derived once, cached under CURATION_HOME; faster, see README), or TF-IDF",
    )
    p.add_argument(
        "--report",
        default=None,
        help="write the clusters (and, with --reference, the contamination list) as JSON",
    )
    p.add_argument(
        "--reference",
        default=None,
        metavar="REF",
        help="also check contamination against this reference set (an eval benchmark: MT-Bench "
        "question.jsonl, AlpacaEval, GSM8K, MATH, chat messages, a .txt with one item a line...)",
    )
    p.add_argument(
        "--reference-field",
        default=None,
        metavar="FIELD",
        help="the reference records' field holding the texts, when it cannot be told",
    )
    p.add_argument(
        "--reference-method",
        choices=["exact", "near"],
        default="near",
        help="contamination match: exact, or near (Jaccard, default)",
    )
    p.add_argument(
        "--reference-threshold",
        type=float,
        default=None,
        help="Jaccard threshold for --reference-method near (default 0.7)",
    )
    p.add_argument(
        "--reference-fields",
        choices=["user", "all", "assistant"],
        default="user",
        help="text of each example compared with the reference items (default: user turns)",
    )
    p.add_argument(
        "--flag-contaminated",
        action="store_true",
        help="projects only: mark examples matching a reference item as filtered (undoable)",
    )
    p.add_argument(
        "--apply",
        default=None,
        metavar="POLICY",
        help="projects only: resolve every cluster with a keep policy "
        "(first, longest, most-edited, best-labelled)",
    )
    _common(p, project=False)


@command("dedup", "find exact, near or semantic duplicates in a file or project", _configure_dedup)
def cmd_dedup(args: argparse.Namespace) -> dict[str, Any]:
    kind = _resolve_target(args)
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


def _semantic_options(args: argparse.Namespace) -> dict[str, Any] | None:
    """``{"backend": ...}`` from --semantic-backend (an error with another method)."""
    if args.semantic_backend is None:
        return None
    if args.method != "semantic":
        raise CurationError(
            f"--semantic-backend works with --method semantic, not --method {args.method}."
        )
    return {"backend": args.semantic_backend}


def _read_reference_option(args: argparse.Namespace) -> Any:
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


def _contamination_report(matches: list[Any], reference: Any, args: argparse.Namespace) -> Any:
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


def _dedup_file(
    args: argparse.Namespace, progress: Progress, reference: Any = None
) -> dict[str, Any]:
    from curation.dedup import cluster_conversations, find_example_contamination, role_texts_for
    from curation.dedup.project import kept_pairs, language_notes, semantic_languages
    from curation.formats import read_examples

    result = read_examples(args.target)
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
            progress=progress,
        )
        contamination = [m.to_dict() for m in matches]
        reference_report = _contamination_report(matches, reference, args)
    profile, options = semantic_languages(examples, args.method, _semantic_options(args))
    found = cluster_conversations(
        role_texts_for(examples, args.fields),
        args.method,
        args.threshold,
        progress=progress,
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
) -> dict[str, Any]:
    if contamination is None:
        return {}
    return {"reference": reference, "contamination": contamination}


def _dedup_project(
    args: argparse.Namespace, progress: Progress, reference: Any = None
) -> dict[str, Any]:
    from curation.dedup.project import apply_policy, check_contamination, run_dedup

    store = _store(args)
    author = args.author or default_author()
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
            progress=progress,
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
        progress=progress,
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


def _print_dedup(report: dict[str, Any]) -> None:
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


# ---- export and pipeline --------------------------------------------------------------


def _export_options(p: argparse.ArgumentParser) -> None:
    from curation.export import preset_names
    from curation.labeling.schema import VERDICTS

    p.add_argument(
        "--preset",
        choices=preset_names(),
        default="trl-messages",
        help="trainer format; preference pairs: trl-dpo, openai-dpo, llama-factory-ranking; "
        "labelled answers: trl-kto, llama-factory-kto",
    )
    p.add_argument("--eval-fraction", type=float, default=0.1, help="share of examples for eval")
    p.add_argument(
        "--eval-count", type=int, default=None, help="exact eval size (overrides fraction)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--stratify-by",
        default=None,
        help="metadata field to stratify the split by (label.FIELD: a final label field)",
    )
    p.add_argument(
        "--holdout-source",
        action="append",
        default=None,
        help="put every example of this source in eval (repeatable)",
    )
    p.add_argument("--max-tokens", type=int, default=None, help="token limit per example")
    p.add_argument(
        "--tokenizer", default=None, help="local tokenizer.json or folder (else estimate)"
    )
    p.add_argument("--name", default=None, help="dataset name for the card")
    p.add_argument("--license", default="other", help="Hub license id for the card")
    p.add_argument(
        "--zip",
        action="store_true",
        help="also write OUT.zip beside the folder (an existing file there is kept unless "
        "--overwrite and it is an earlier export's zip)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier export of this app in --out (and its zip); a folder holding "
        "anything else is never emptied",
    )
    p.add_argument(
        "--skip-unrepresentable",
        action="store_true",
        help="leave out examples the preset cannot carry (listed as warnings) instead of failing",
    )
    p.add_argument(
        "--sft-as-desirable",
        action="store_true",
        help="KTO presets: write conversations without a label as desirable answers instead "
        "of leaving them out",
    )
    p.add_argument(
        "--allow-pii",
        action="store_true",
        help="export a project although PII findings remain (accepted, or unreviewed and "
        "scoring high); without it such an export is refused",
    )
    p.add_argument(
        "--verdict",
        action="append",
        choices=list(VERDICTS),
        help="projects with a label schema: export only examples whose final verdict is this "
        "(repeat for several); the others are counted as left out",
    )
    p.add_argument("--out", required=True, help="output folder")
    _common(p, project=False)


def _configure_export(p: argparse.ArgumentParser) -> None:
    _target_options(p)
    _export_options(p)


def _split_progress(progress: Progress) -> Callable[[float, str], None]:
    return lambda fraction, message: progress("split", int(fraction * 100), 100)


def _card(args: argparse.Namespace, default_name: str) -> Any:
    from curation.export import CardInfo

    return CardInfo(
        pretty_name=args.name or default_name, license=args.license, label_field=args.stratify_by
    )


def _export_report(result: Any, extra: dict[str, Any]) -> dict[str, Any]:
    params = result.manifest.get("parameters", {})
    return {
        **extra,
        "out_dir": str(result.out_dir),
        "files": result.files,
        "train": result.train_count,
        "eval": result.eval_count,
        "left_out": result.manifest.get("left_out", {}),
        "not_exported": params.get("excluded", {}),
        "validation": result.validation.summary(),
        "leakage": result.leakage.summary(),
        "readiness": [item.to_dict() for item in result.readiness],
    }


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before any work, an --out folder or zip that the export may not replace."""
    from curation.export.bundle import check_zip_target, inspect_export_target, zip_path_for

    inspect_export_target(args.out).check(overwrite=args.overwrite)
    if args.zip:
        check_zip_target(zip_path_for(args.out), overwrite=args.overwrite)


def _write_zip(args: argparse.Namespace, result: Any) -> str | None:
    from curation.export.bundle import save_zip, zip_path_for

    if not (args.zip and result.zip_bytes):
        return None
    return str(save_zip(result.zip_bytes, zip_path_for(args.out), overwrite=args.overwrite))


def _export_stored(
    args: argparse.Namespace,
    store: Store,
    project: str,
    progress: Progress,
    *,
    author: str | None = None,
) -> Any:
    from curation.export.from_project import export_project

    return export_project(
        store,
        project,
        args.out,
        args.preset,
        author=author or args.author or default_author(),
        settings=_export_settings(args),
        card_info=_card(args, project),
        zip=args.zip,
        overwrite=args.overwrite,
        allow_pii=getattr(args, "allow_pii", False),
        verdicts=getattr(args, "verdict", None),
        progress=_split_progress(progress),
    )


def _export_settings(args: argparse.Namespace) -> Any:
    from curation.export import ExportSettings

    return ExportSettings(
        preset=args.preset,
        eval_fraction=args.eval_fraction,
        eval_count=args.eval_count,
        seed=args.seed,
        stratify_by=args.stratify_by,
        holdout_sources=tuple(args.holdout_source or ()),
        skip_unrepresentable=args.skip_unrepresentable,
        max_tokens=args.max_tokens,
        tokenizer=args.tokenizer,
        sft_as_desirable=args.sft_as_desirable,
    )


@command("export", "write leak-free train/validation files for a trainer", _configure_export)
def cmd_export(args: argparse.Namespace) -> dict[str, Any]:
    from curation.export import plan_export, write_plan

    kind = _resolve_target(args)
    _check_outputs(args)
    progress = Progress(not args.quiet)
    try:
        if kind == "file":
            from curation.formats import read_examples

            read = read_examples(args.target)
            if not read.examples:
                raise CurationError(f"{args.target}: no example could be read to export.")
            plan = plan_export(
                read.examples, _export_settings(args), progress=_split_progress(progress)
            )
            stats = {
                "import": {
                    "records_read": read.total_records,
                    "examples_imported": len(read.examples),
                    "records_skipped": read.skipped,
                }
            }
            result = write_plan(
                plan,
                args.out,
                parameters={"source": os.path.basename(args.target)},
                curation_stats=stats,
                card_info=_card(args, os.path.basename(args.target)),
                zip=args.zip,
                overwrite=args.overwrite,
            )
        else:
            result = _export_stored(args, _store(args), args.target, progress)
    finally:
        progress.close()
    report = _export_report(result, {"target": args.target, "preset": args.preset})
    report["zip"] = _write_zip(args, result)
    return report


def _print_export(report: dict[str, Any]) -> None:
    if "steps" in report:
        for step in report["steps"]:
            print(
                f"{step['step']}: " + ", ".join(f"{k} {v}" for k, v in step.items() if k != "step")
            )
    v = report["validation"]
    leak = report["leakage"]
    print(
        f"wrote {report['train']} train + {report['eval']} eval examples as {report['preset']} "
        f"to {report['out_dir']}: {', '.join(report['files'])}"
    )
    if report.get("left_out"):
        from curation.export.representable import left_out_text

        print(f"left out by the preset: {left_out_text(report['left_out'])}")
    if report.get("not_exported"):
        from curation.export.from_project import excluded_words

        print(f"not exported: {excluded_words(report['not_exported'])}")
    print(
        f"validation: {'ok' if v['ok'] else 'FAILED'}, warnings {v['warnings'] or 'none'}; "
        f"tokens {v['tokens']}{' (estimated)' if v['token_counts_are_estimates'] else ''}"
    )
    print(
        f"leakage: max train/eval similarity {leak['max_similarity']:.3f}, "
        f"{leak['pairs_over_threshold']} pair(s) at or above {leak['threshold']}"
    )
    for item in report["readiness"]:
        print(f"  [{item['status']}] {item['name']}: {item['message']}")
    if report.get("zip"):
        print(f"zip: {report['zip']}")


def _configure_pipeline(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", help="files or dataset folders")
    p.add_argument(
        "--project",
        default=None,
        help="keep the work in this project of the store (default: a throwaway store)",
    )
    p.add_argument("--keep", default="longest", help="keep policy for duplicate clusters")
    p.add_argument("--near-threshold", type=float, default=None, help="near-dup Jaccard threshold")
    _export_options(p)


@command(
    "pipeline",
    "import, remove exact and near duplicates, and export in one go",
    _configure_pipeline,
)
def cmd_pipeline(args: argparse.Namespace) -> dict[str, Any]:
    import tempfile

    from curation.dedup.project import apply_policy, run_dedup
    from curation.formats import read_examples

    author = args.author or default_author()
    _check_outputs(args)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or (None if args.project else f"sqlite:///{os.path.join(tmp, 'pipeline.db')}")
        store = Store(db)
        project = args.project or "pipeline"
        store.ensure_project(project, author)
        progress = Progress(not args.quiet)
        steps: list[dict[str, Any]] = []
        try:
            imported = skipped = 0
            for path in args.inputs:
                summary = store.add_import(project, read_examples(path, progress=progress), author)
                imported += summary.imported
                skipped += summary.skipped
            steps.append(
                {
                    "step": "import",
                    "files": len(args.inputs),
                    "imported": imported,
                    "skipped": skipped,
                }
            )
            for method, threshold in (("exact", None), ("near", args.near_threshold)):
                if store.count_examples(project) < 2:
                    break
                run = run_dedup(
                    store,
                    project,
                    method=method,
                    threshold=threshold,
                    author=author,
                    progress=progress,
                )
                before = store.stats(project)["by_status"].get("duplicate", 0)
                apply_policy(store, project, run, args.keep, author=author)
                after = store.stats(project)["by_status"].get("duplicate", 0)
                steps.append(
                    {
                        "step": f"dedup-{method}",
                        "clusters": len(run.clusters),
                        "removed": after - before,
                    }
                )
            result = _export_stored(args, store, project, progress, author=author)
        finally:
            progress.close()
            store.dispose()
        report = _export_report(result, {"target": project, "preset": args.preset, "steps": steps})
        report["zip"] = _write_zip(args, result)
        return report


# ---- quality ----------------------------------------------------------------------------


def _configure_quality(p: argparse.ArgumentParser) -> None:
    _target_options(p)
    p.add_argument("--out", default=None, help="CSV file: one row per flagged example and flag")
    p.add_argument(
        "--save",
        action="store_true",
        help="keep the run in the project (the Quality page, Browse's quality filter and the "
        "dataset card read the latest saved run); needs a project",
    )
    p.add_argument(
        "--expect",
        default=None,
        metavar="STRUCTURE",
        help="answers must be json, yaml, sql, sql:DIALECT or regex:PATTERN",
    )
    p.add_argument(
        "--schema", default=None, metavar="SCHEMA.json", help="JSON Schema json answers must match"
    )
    p.add_argument("--sql-dialect", default=None, help="SQL dialect for --expect sql (sqlglot's)")
    p.add_argument(
        "--flags", default=None, help="comma-separated flag codes to run (default: every default)"
    )
    _common(p, project=False)


@command("quality", "flag broken, truncated, refusing and malformed examples", _configure_quality)
def cmd_quality(args: argparse.Namespace) -> dict[str, Any]:
    from curation.quality import QualityConfig
    from curation.quality.report import (
        expectations_from_options,
        run_quality_with_progress,
        write_flags_csv,
    )

    # Options are checked before any data is read, so a bad --schema fails fast.
    expectations = expectations_from_options(args.expect, args.schema, args.sql_dialect)
    flags = (
        None if args.flags is None else tuple(c.strip() for c in args.flags.split(",") if c.strip())
    )
    config = QualityConfig(flags=flags, expectations=expectations)
    if args.out is None and not args.save:
        raise CurationError("Say where the flags go: --out FLAGS.csv, --save, or both.")
    kind = _resolve_target(args)
    if args.save and kind == "file":
        raise CurationError(
            f"--save keeps the run in a project, and {args.target!r} is a file: import it "
            "first (curation import FILE --project NAME), then run quality --project NAME --save."
        )
    bar = Progress(not args.quiet)

    def progress(update: Any) -> None:
        bar(update.stage, update.done, update.total)

    run_id: int | None = None
    try:
        if kind == "file":
            from curation.formats import read_examples

            examples: list[Any] = list(read_examples(args.target).examples)
            result = run_quality_with_progress(
                examples, config, progress=progress, total=len(examples)
            )
        else:
            from curation.quality.project import check_project, save_quality_report

            store = _store(args)
            try:
                result = check_project(store, args.target, config, progress=bar)
                if args.save:
                    author = args.author or default_author()
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


def _print_quality(report: dict[str, Any]) -> None:
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


def _listed(value: str | None) -> list[str] | None:
    """A comma-separated option as a list (None when not given)."""
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


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


@contextlib.contextmanager
def _opened(args: argparse.Namespace) -> Iterator[Store]:
    store = _store(args)
    try:
        yield store
    finally:
        store.dispose()


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


def _write_jsonl(path: str, rows: Sequence[dict[str, Any]]) -> None:
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


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


def _configure_db(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["upgrade", "current"], help="upgrade to head, or show")
    p.add_argument("--url", default=None, help="database URL (default: CURATION_DB_URL)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


@command(
    "db", "Database schema: upgrade to this app's revision, or show the current one.", _configure_db
)
def run_db(args: argparse.Namespace) -> dict[str, Any]:
    from curation.store.migrations import db_current, db_upgrade

    return db_upgrade(args.url) if args.action == "upgrade" else db_current(args.url)


def _print_db(report: dict[str, Any]) -> None:
    if "before" in report:
        print(
            f"{report['url']}: upgraded from {report['before'] or 'empty'} to {report['current']}"
        )
    else:
        print(
            f"{report['url']}: at revision {report['current'] or 'none'} (app head {report['head']})"
        )


def _configure_jobs(p: argparse.ArgumentParser) -> None:
    from curation.store.schema import JOB_STATES

    p.add_argument(
        "action",
        choices=["list", "cancel", "worker"],
        help="list jobs, cancel one, or run a worker that runs queued jobs",
    )
    p.add_argument("job_id", nargs="?", type=int, help="the job to cancel")
    _common(p, project=False)
    p.add_argument("--project", default=None, help="list only this project's jobs")
    p.add_argument(
        "--state", action="append", choices=JOB_STATES, help="list only jobs in this state"
    )
    p.add_argument("--limit", type=int, default=50, help="list at most this many (newest first)")
    p.add_argument("--once", action="store_true", help="worker: run what is queued, then exit")
    p.add_argument(
        "--poll", type=float, default=2.0, help="worker: seconds between looks for queued jobs"
    )


@command(
    "jobs",
    "Background jobs: list them, cancel one, or run a worker (for deployments; the app has one).",
    _configure_jobs,
)
def run_jobs(args: argparse.Namespace) -> dict[str, Any]:
    from curation.jobs import Worker, list_jobs, request_cancel

    store = _store(args)
    if args.action == "list":
        found = list_jobs(store, args.project, states=args.state, limit=args.limit)
        return {"action": "list", "jobs": [j.to_dict() for j in found]}
    if args.action == "cancel":
        if args.job_id is None:
            raise CurationError(
                "Give the job to cancel: `curation jobs cancel ID` (see jobs list)."
            )
        return {"action": "cancel", "job": request_cancel(store, args.job_id).to_dict()}
    import logging

    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, stream=sys.stderr)
    worker = Worker(store, label="cli", poll_every=args.poll)
    recovered = worker.recover()
    if args.once:
        return {"action": "worker", "recovered": recovered, "ran": worker.run_pending()}
    import contextlib
    import signal

    # SIGTERM: finish the current job, then stop. Ctrl-C: stop now, the job marked failed.
    signal.signal(signal.SIGTERM, lambda *_: worker.stop(timeout=0))
    with contextlib.suppress(KeyboardInterrupt):
        worker.serve()
    return {"action": "worker", "recovered": recovered, "ran": None}


def _print_jobs(report: dict[str, Any]) -> None:
    if report["action"] == "worker":
        ran = "" if report["ran"] is None else f"; ran {report['ran']} job(s)"
        print(f"recovered {len(report['recovered'])} job(s) whose worker had stopped{ran}")
        return
    if report["action"] == "cancel":
        job = report["job"]
        if job["state"] == "cancelled":
            print(f"job {job['id']}: cancelled")
        else:
            print(f"job {job['id']}: cancel requested; it stops at its next progress report")
        return
    if not report["jobs"]:
        print("no jobs")
    for job in report["jobs"]:
        total = job["total"]
        progress = f"{job['stage']} {job['done']}/{total}" if total else job["stage"]
        print(
            f"{job['id']:>5}  {job['state']:<9}  {job['step']:<8}  {job['project']}  "
            f"{progress or '-'}  by {job['author']}  {job['created_at'][:19]}"
        )
        if job["error"]:
            print(f"       error: {job['error']}")


PRINTERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "import": _print_import,
    "stats": _print_stats,
    "dedup": _print_dedup,
    "export": _print_export,
    "pipeline": _print_export,
    "quality": _print_quality,
    "pii": _print_pii,
    "db": _print_db,
    "jobs": _print_jobs,
}


# ---- audit ------------------------------------------------------------------------------


def _configure_audit(p: argparse.ArgumentParser) -> None:
    _target_options(p)
    p.add_argument("--report", default=None, metavar="AUDIT.html", help="write the HTML report")
    p.add_argument(
        "--json",
        dest="json_path",
        default=None,
        metavar="AUDIT.json",
        help="write the JSON report (top-level `findings`); `-` prints it instead of the summary",
    )
    p.add_argument(
        "--save",
        action="store_true",
        help="keep the run in the project (the Bias audit page, the dataset card and readiness "
        "read the latest saved run); needs a project",
    )
    p.add_argument("--checks", default=None, help="comma-separated check codes (default: all)")
    p.add_argument(
        "--label-fields",
        default=None,
        help="comma-separated metadata fields to treat as labels (default: detected)",
    )
    p.add_argument(
        "--config", default=None, metavar="AUDIT_CONFIG.json", help="an AuditConfig as JSON"
    )
    p.add_argument(
        "--db", default=None, help="database URL (default: CURATION_DB_URL or ./.curation)"
    )
    p.add_argument("--author", default=None, help="name recorded in the audit log (--save)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _audit_config(args: argparse.Namespace) -> Any:
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


@command(
    "audit", "bias audit: coverage, skew and representation, as HTML and JSON", _configure_audit
)
def cmd_audit(args: argparse.Namespace) -> dict[str, Any]:
    from curation.bias.report import report_json, write_html, write_json

    config = _audit_config(args)  # checked before any data is read
    kind = _resolve_target(args)
    if args.save and kind == "file":
        raise CurationError(
            f"--save keeps the run in a project, and {args.target!r} is a file: import it "
            "first (curation import FILE --project NAME), then run audit --project NAME --save."
        )
    bar = Progress(not args.quiet)

    def progress(update: Any) -> None:
        bar(update.stage, update.done, update.total)

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
            audit = run_audit(examples, config, progress=progress)
        else:
            from curation.bias.project import audit_project, save_audit_report

            store = _store(args)
            try:
                audit = audit_project(store, args.target, config, progress=progress)
                if args.save:
                    author = args.author or default_author()
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


def _print_audit(report: dict[str, Any]) -> None:
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


PRINTERS["audit"] = _print_audit


# ---- label: label-issues, agreement, labels export|import, label-schema ----------------------
# One block: each command's options, its run and its printer; registered in PRINTERS below it.


def _configure_label_issues(p: argparse.ArgumentParser) -> None:
    from curation.labeling import FEATURE_KINDS

    _target_options(p)
    p.add_argument(
        "--label-field",
        required=True,
        metavar="FIELD",
        help="the label to check: a metadata field of the file, or of a project a label "
        "field (its final labels) or a metadata field",
    )
    p.add_argument("--out", default=None, help="CSV: one row per suspected error, worst first")
    p.add_argument(
        "--save",
        action="store_true",
        help="keep the run in the project (the Label page lists it; the label_issues queue "
        "filter reads it); needs a project",
    )
    p.add_argument(
        "--features",
        choices=FEATURE_KINDS,
        default="auto",
        help="text features (auto: TF-IDF, plus sentence embeddings on up to 1,000 texts "
        "when the semantic extra is installed)",
    )
    p.add_argument("--folds", type=int, default=None, help="cross-validation folds (by size)")
    _common(p, project=False)


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


@command(
    "label-issues",
    "find suspected label errors (cross-validated classifier ranked by cleanlab)",
    _configure_label_issues,
)
def cmd_label_issues(args: argparse.Namespace) -> dict[str, Any]:
    from curation.labeling import LabelIssueConfig, rank_label_quality
    from curation.safecsv import write_csv

    if args.out is None and not args.save:
        raise CurationError("Say where the issues go: --out ISSUES.csv, --save, or both.")
    config = LabelIssueConfig(features=args.features, folds=args.folds)
    kind = _resolve_target(args)
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
            result = rank_label_quality(texts, given, config=config, progress=bar)
        else:
            from curation.labeling.project import label_issue_inputs, save_label_issues
            from curation.store.labels import newest_label_id

            with _opened(args) as store:
                seen = newest_label_id(store, args.target)
                ids, texts, given = label_issue_inputs(store, args.target, args.label_field)
                result = rank_label_quality(texts, given, config=config, progress=bar)
                if args.save:
                    run_id = save_label_issues(
                        store,
                        args.target,
                        args.label_field,
                        ids,
                        given,
                        result,
                        args.author or default_author(),
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


_ISSUE_COLUMNS = [
    "rank",
    "example_id",
    "index",
    "given_label",
    "suggested_label",
    "quality_score",
    "reason",
]


def _print_label_issues(report: dict[str, Any]) -> None:
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


def _configure_agreement(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--by",
        default=None,
        metavar="GROUP",
        help="agreement per group too: source, a label field (its final labels) or a "
        "metadata field",
    )
    _common(p)


@command(
    "agreement",
    "inter-annotator agreement: Krippendorff's alpha and Cohen's kappa per field and overall",
    _configure_agreement,
)
def cmd_agreement(args: argparse.Namespace) -> dict[str, Any]:
    from curation.labeling.project import project_agreement
    from curation.store.labels import queue_progress

    with _opened(args) as store:
        report = project_agreement(store, args.project, group_by=args.by)
        progress = queue_progress(store, args.project)
    return {
        "project": args.project,
        "by": args.by,
        **report.to_dict(),
        "progress": progress.to_dict(),
    }


def _figure(fig: dict[str, Any]) -> str:
    value = "undefined" if fig["value"] is None else f"{fig['value']:.3f}"
    why = f" ({fig['note']})" if fig["note"] else ""
    return f"{value} on {fig['items']} item(s){why}"


def _print_agreement(report: dict[str, Any]) -> None:
    progress = report["progress"]
    print(
        f"project {report['project']}: {len(report['annotators'])} annotator(s); "
        f"{progress['complete']} of {progress['examples']} examples have "
        f"{progress['annotators_per_example']} annotator(s)"
    )
    print(f"overall Krippendorff's alpha (choice fields): {_figure(report['overall'])}")
    for name, f in report["fields"].items():
        print(f"{name} ({f['kind']}): alpha {_figure(f['alpha'])}")
        for pair in f["pairs"]:
            print(f"  kappa {' / '.join(pair['annotators'])}: {_figure(pair)}")
        for value, fig in f["per_value"].items():
            if fig["items"]:
                print(f"  {value}: alpha {_figure(fig)}")
        for group, fig in f["per_group"].items():
            print(f"  group {group}: alpha {_figure(fig)}")


def _configure_labels(p: argparse.ArgumentParser) -> None:
    from curation.labeling import LABEL_ROLES

    p.add_argument("action", choices=["export", "import"], help="write labels out, or read some in")
    p.add_argument("file", nargs="?", default=None, help="import: a CSV or JSONL file of labels")
    p.add_argument("--out", default=None, help="export: the CSV or JSONL file to write")
    p.add_argument(
        "--final",
        action="store_true",
        help="export: the final labels (what export uses) instead of every person's labels",
    )
    p.add_argument(
        "--annotator",
        default=None,
        help="import: who gave the labels when the file has no annotator column",
    )
    p.add_argument(
        "--role",
        choices=LABEL_ROLES,
        default="annotator",
        help="import: the role of labels without a role column (default annotator)",
    )
    _common(p)


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


def _labels_from_rows(
    rows: list[dict[str, Any]], schema: Any, args: argparse.Namespace
) -> list[Any]:
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


@command(
    "labels",
    "labels as CSV or JSONL: export every person's labels (or the final ones), or import some",
    _configure_labels,
)
def cmd_labels(args: argparse.Namespace) -> dict[str, Any]:
    from curation.labeling.project import final_labels, require_schema
    from curation.safecsv import write_csv
    from curation.store import labels as label_store

    with _opened(args) as store:
        if args.action == "import":
            if not args.file:
                raise CurationError("Give the file to import: curation labels import FILE ...")
            schema = require_schema(store, args.project)
            labels = _labels_from_rows(_read_label_rows(args.file), schema, args)
            event = label_store.import_labels(
                store,
                args.project,
                labels,
                args.author or default_author(),
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
        _write_jsonl(args.out, [{k: r.get(k) for k in columns} for r in rows])
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


def _print_labels(report: dict[str, Any]) -> None:
    if report["action"] == "import":
        event = report["event"]
        tail = f"event #{event}" if event is not None else "nothing changed"
        print(
            f"{report['file']}: {report['labels_read']} label(s) read into {report['project']}; {tail}"
        )
    else:
        what = "final labels" if report["final"] else "labels"
        print(f"{report['project']}: {report['rows']} {what} written to {report['out']}")


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


PRINTERS.update(
    {
        "label-issues": _print_label_issues,
        "agreement": _print_agreement,
        "labels": _print_labels,
        "label-schema": _print_label_schema,
    }
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="curation",
        description="Curate instruction-tuning data: import, deduplicate, export (and more).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_fn, configure, help_text) in COMMANDS.items():
        configure(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    fn = COMMANDS[args.command][0]
    try:
        report = fn(args)
    except CurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "json", False):
        print(json.dumps(report, indent=2, default=str, ensure_ascii=False))
    else:
        PRINTERS.get(args.command, lambda r: print(json.dumps(r, indent=2, default=str)))(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
