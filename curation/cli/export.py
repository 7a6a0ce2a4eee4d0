"""`curation export`: leak-free train / eval files for a trainer, from a file or project."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from curation.cli._common import (
    PRINTERS,
    Progress,
    _common,
    _resolve_target,
    _store,
    _target_options,
    command,
    default_author,
)
from curation.errors import CurationError
from curation.store import Store

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


PRINTERS["export"] = _print_export
PRINTERS["pipeline"] = _print_export
