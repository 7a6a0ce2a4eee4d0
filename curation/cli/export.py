"""`curation export`: leak-free train / eval files for a trainer, from a file or project."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click

from curation.cli._common import (
    Args,
    F,
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
from curation.export import preset_names
from curation.labeling.schema import VERDICTS
from curation.store import Store


def export_options() -> Callable[[F], F]:
    """The options of an export: trainer preset, split, card, output folder."""
    return options(
        click.option(
            "--preset",
            default="trl-messages",
            help="trainer format; preference pairs: trl-dpo, openai-dpo, llama-factory-ranking; "
            "labelled answers: trl-kto, llama-factory-kto",
            type=click.Choice(preset_names()),
        ),
        click.option("--eval-fraction", type=float, default=0.1, help="share of examples for eval"),
        click.option(
            "--eval-count", type=int, default=None, help="exact eval size (overrides fraction)"
        ),
        click.option(
            "--seed",
            type=int,
            default=0,
            help="seed of the train/eval split (same seed, same split)",
        ),
        click.option(
            "--stratify-by",
            default=None,
            help="metadata field to stratify the split by (label.FIELD: a final label field)",
        ),
        click.option(
            "--holdout-source",
            help="put every example of this source in eval (repeatable)",
            multiple=True,
        ),
        click.option("--max-tokens", type=int, default=None, help="token limit per example"),
        click.option(
            "--tokenizer", default=None, help="local tokenizer.json or folder (else estimate)"
        ),
        click.option("--name", default=None, help="dataset name for the card"),
        click.option("--license", default="other", help="Hub license id for the card"),
        click.option(
            "--zip",
            help="also write OUT.zip beside the folder (an existing file there is kept unless "
            "--overwrite and it is an earlier export's zip)",
            is_flag=True,
        ),
        click.option(
            "--overwrite",
            help="replace an earlier export of this app in --out (and its zip); a folder holding "
            "anything else is never emptied",
            is_flag=True,
        ),
        click.option(
            "--skip-unrepresentable",
            help="leave out examples the preset cannot carry (listed as warnings) instead of failing",
            is_flag=True,
        ),
        click.option(
            "--sft-as-desirable",
            help="KTO presets: write conversations without a label as desirable answers instead "
            "of leaving them out",
            is_flag=True,
        ),
        click.option(
            "--allow-pii",
            help="export a project although PII findings remain (accepted, or unreviewed and "
            "scoring high); without it such an export is refused",
            is_flag=True,
        ),
        click.option(
            "--verdict",
            help="projects with a label schema: export only examples whose final verdict is this "
            "(repeat for several); the others are counted as left out",
            type=click.Choice(list(VERDICTS)),
            multiple=True,
        ),
        click.option("--out", required=True, help="output folder"),
        store_options(project=False),
    )


def card(args: Args, default_name: str) -> Any:
    from curation.export import CardInfo

    return CardInfo(
        pretty_name=args.name or default_name, license=args.license, label_field=args.stratify_by
    )


def export_report(result: Any, extra: dict[str, Any]) -> Report:
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


def check_outputs(args: Args) -> None:
    """Refuse, before any work, an --out folder or zip that the export may not replace."""
    from curation.export.bundle import check_zip_target, inspect_export_target, zip_path_for

    inspect_export_target(args.out).check(overwrite=args.overwrite)
    if args.zip:
        check_zip_target(zip_path_for(args.out), overwrite=args.overwrite)


def write_zip(args: Args, result: Any) -> str | None:
    from curation.export.bundle import save_zip, zip_path_for

    if not (args.zip and result.zip_bytes):
        return None
    return str(save_zip(result.zip_bytes, zip_path_for(args.out), overwrite=args.overwrite))


def export_stored(
    args: Args,
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
        author=author or author_of(args),
        settings=export_settings(args),
        card_info=card(args, project),
        zip=args.zip,
        overwrite=args.overwrite,
        allow_pii=getattr(args, "allow_pii", False),
        verdicts=getattr(args, "verdict", None),
        progress=progress.update,
    )


def export_settings(args: Args) -> Any:
    from curation.export import ExportOptions

    return ExportOptions(
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


def print_export(report: Report) -> None:
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


@report_command("export", "write leak-free train/validation files for a trainer", print_export)
@options(
    target_options(),
    export_options(),
)
def cmd_export(args: Args) -> Report:
    from curation.export import plan_export, write_plan

    kind = resolve_target(args)
    check_outputs(args)
    progress = Progress(not args.quiet)
    try:
        if kind == "file":
            from curation.formats import read_examples

            read = read_examples(args.target, progress=progress.update)
            if not read.examples:
                raise CurationError(f"{args.target}: no example could be read to export.")
            plan = plan_export(read.examples, export_settings(args), progress=progress.update)
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
                card_info=card(args, os.path.basename(args.target)),
                zip=args.zip,
                overwrite=args.overwrite,
            )
        else:
            result = export_stored(args, open_store(args), args.target, progress)
    finally:
        progress.close()
    report = export_report(result, {"target": args.target, "preset": args.preset})
    report["zip"] = write_zip(args, result)
    return report
