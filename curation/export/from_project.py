"""Export from a stored project: select examples, reuse dedup clusters as split groups, gather
each step's numbers for the card and readiness, dry-run or write the plan, and log the export.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curation.dedup.project import DedupRun, load_run
from curation.errors import ExportError
from curation.export.bundle import ExportResult
from curation.export.card import CardInfo
from curation.export.plan import (
    DryRun,
    ExportOptions,
    ExportPlan,
    dry_run,
    plan_export,
    write_plan,
)
from curation.progress import ProgressFn
from curation.records import Example
from curation.store import ExampleFilter, Store

# needs_answer (no answer yet), duplicate, rejected, filtered and removed examples never go out
LABEL_PREFIX = "label."  # ``stratify_by="label.topic"``: the final labels of the field ``topic``
EXPORTABLE = ("active",)


@dataclass(slots=True)
class Selection:
    """Which examples an export takes, and how many each exclusion left out."""

    examples: list[Example]
    excluded: dict[str, int] = field(default_factory=dict)
    sources: list[str] | None = None
    metadata: dict[str, str] = field(default_factory=dict)


_STATUS_WORDS = {"needs_answer": "still need an answer"}


def excluded_words(excluded: dict[str, int]) -> str:
    """A selection's exclusions in words, e.g. ``3 still need an answer, 2 duplicate``."""
    return ", ".join(f"{n} {_STATUS_WORDS.get(k, k)}" for k, n in excluded.items())


def select_examples(
    store: Store,
    project: str,
    *,
    sources: Sequence[str] | None = None,
    metadata: dict[str, str] | None = None,
    verdicts: Sequence[str] | None = None,
) -> Selection:
    """Active examples of the project, optionally only some sources or one metadata value.

    ``excluded`` counts every other status (``needs_answer``: prompts still waiting for an
    answer; ``duplicate``, ``rejected``...) and the active examples outside the filter. With
    `verdicts` (``accept``...), only the examples whose FINAL label verdict is one of them
    (`curation.labeling.export.select_by_verdict`); the others are counted by verdict.
    """
    flt = ExampleFilter(statuses=list(EXPORTABLE), sources=sources or None, metadata=metadata or {})
    examples = [row.example for row in store.iter_examples(project, flt)]
    by_status = store.stats(project)["by_status"]
    excluded = {k: v for k, v in sorted(by_status.items()) if k not in EXPORTABLE and v}
    active = by_status.get("active", 0)
    if active - len(examples):
        excluded["not in the chosen sources/filter"] = active - len(examples)
    if verdicts:
        from curation.labeling.export import select_by_verdict

        examples, by_verdict = select_by_verdict(store, project, examples, verdicts)
        excluded.update(by_verdict)
    return Selection(examples, excluded, list(sources) if sources else None, dict(metadata or {}))


def dedup_groups(run: DedupRun | None, examples: Sequence[Example]) -> list[list[int]] | None:
    """The latest dedup run's clusters as index groups over `examples` (None if dedup never ran).

    Members that were marked duplicate are not exported, but the kept member still joins the
    rest of its cluster that is exported, so a cluster never straddles train and eval.
    """
    if run is None:
        return None
    position = {ex.id: i for i, ex in enumerate(examples)}
    groups = []
    for cluster in run.clusters:
        members = sorted({position[m] for m in cluster.members if m in position})
        if len(members) >= 2:
            groups.append(members)
    return groups


def curation_stats(store: Store, project: str, run: DedupRun | None = None) -> dict[str, Any]:
    """Numbers of every step run on the project, keyed by step in pipeline order; a step
    never run is absent.

    Each registered step (`curation.steps.steps`) gives its own block (`Step.stats`), from
    its latest saved run. `run` is accepted for compatibility and not needed: the dedup step
    reads the latest dedup run itself.
    """
    from curation.steps import steps

    out: dict[str, Any] = {}
    for step in steps:
        block = step.stats(store, project)
        if block is not None:
            out[step.name] = block
    return out


def plan_project_export(
    store: Store,
    project: str,
    settings: ExportOptions,
    *,
    sources: Sequence[str] | None = None,
    metadata: dict[str, str] | None = None,
    verdicts: Sequence[str] | None = None,
    progress: ProgressFn | None = None,
) -> tuple[Selection, ExportPlan, DedupRun | None]:
    """Select a project's examples and plan their export (`plan_export`).

    The latest dedup run's clusters are split groups beside the near-duplicate clusters the
    split computes itself. Returns the selection, the plan and that run (None if never run).

    Raises
    ------
    ExportError
        When no active example matches the selection, or the settings do not fit it.
    """
    selection = select_examples(
        store, project, sources=sources, metadata=metadata, verdicts=verdicts
    )
    if not selection.examples:
        raise ExportError(
            f"Nothing to export from {project!r}: no active examples match the selection."
        )
    stratify = settings.stratify_by or ""
    if stratify.startswith(LABEL_PREFIX):  # a final label field: the split reads metadata
        from curation.labeling.export import with_label_metadata

        selection.examples = with_label_metadata(
            store, project, selection.examples, [stratify.removeprefix(LABEL_PREFIX)]
        )
    run = load_run(store, project)
    plan = plan_export(
        selection.examples,
        settings,
        groups=dedup_groups(run, selection.examples),
        progress=progress,
    )
    return selection, plan, run


def dry_run_project(
    store: Store,
    project: str,
    settings: ExportOptions,
    *,
    sources: Sequence[str] | None = None,
    metadata: dict[str, str] | None = None,
    verdicts: Sequence[str] | None = None,
    card_info: CardInfo | None = None,
    progress: ProgressFn | None = None,
) -> DryRun:
    """What `export_project` with the same settings would write, measured without writing it.

    The counts are the line counts the export writes: both go through `plan_project_export`
    and `write_plan`; the dry run writes into a scratch folder that is removed afterwards.
    """
    _, plan, run = plan_project_export(
        store,
        project,
        settings,
        sources=sources,
        metadata=metadata,
        verdicts=verdicts,
        progress=progress,
    )
    return dry_run(plan, curation_stats=curation_stats(store, project, run), card_info=card_info)


def export_project(
    store: Store,
    project: str,
    out_dir: str | Path,
    preset: str,
    *,
    author: str,
    eval_fraction: float = 0.1,
    eval_count: int | None = None,
    seed: int = 0,
    stratify_by: str | None = None,
    holdout_sources: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
    metadata: dict[str, str] | None = None,
    verdicts: Sequence[str] | None = None,
    card_info: Any = None,
    tokenizer: Any = None,
    max_tokens: int | None = None,
    zip: bool = False,
    overwrite: bool = False,
    skip_unrepresentable: bool = False,
    sft_as_desirable: bool = False,
    allow_pii: bool = False,
    progress: ProgressFn | None = None,
    settings: ExportOptions | None = None,
) -> ExportResult:
    """Select, split (group-aware), write, validate and describe a project's export.

    Dedup clusters of the latest run are the split groups; without a run, the split computes
    near-duplicate clusters itself. Examples the preset cannot carry block the export, unless
    `skip_unrepresentable` leaves them out before the split (each listed as a warning with its
    id). `dry_run_project` with the same settings counts exactly what this writes. Pass
    ``settings`` instead of the split keywords to reuse the dry run's. Logs an `export` event.
    While PII findings remain (accepted but not scrubbed, or unreviewed with a high score) the
    export is refused unless `allow_pii`; the card reports them either way. `verdicts` keeps
    only the examples whose final label verdict is one of them (``accept``...).
    """
    if settings is not None and settings.preset != preset:
        raise ExportError(
            f"preset {preset!r} differs from the settings' preset {settings.preset!r}; "
            "pass the same one"
        )
    if settings is None:
        settings = ExportOptions(
            preset=preset,
            eval_fraction=eval_fraction,
            eval_count=eval_count,
            seed=seed,
            stratify_by=stratify_by,
            holdout_sources=tuple(holdout_sources or ()),
            skip_unrepresentable=skip_unrepresentable,
            max_tokens=max_tokens,
            tokenizer=tokenizer,
            sft_as_desirable=sft_as_desirable,
        )
    selection, plan, run = plan_project_export(
        store,
        project,
        settings,
        sources=sources,
        metadata=metadata,
        verdicts=verdicts,
        progress=progress,
    )
    stats = curation_stats(store, project, run)
    residual = int((stats.get("pii") or {}).get("residual") or 0)
    if residual and not allow_pii:
        raise ExportError(
            f"{residual} PII finding(s) remain in {project!r} (accepted but not scrubbed, or "
            "unreviewed with a high score): scrub or reject them on the PII scrub page, or "
            "choose to export anyway (--allow-pii; the card reports them)"
        )
    parameters = {
        "project": project,
        "sources": sorted(sources or []),
        "metadata_filter": dict(sorted((metadata or {}).items())),
        "split_groups": "near-duplicate clusters"
        + (" + latest dedup run" if run is not None else "")
        + " + shared prompts",
        "excluded": selection.excluded,
    }
    result = write_plan(
        plan,
        out_dir,
        parameters=parameters,
        curation_stats=stats,
        card_info=card_info,
        zip=zip,
        overwrite=overwrite,
    )
    store.log_event(
        project,
        "export",
        author,
        f"exported {result.train_count} train + {result.eval_count} eval examples as "
        f"{settings.preset}",
        {
            "out_dir": str(result.out_dir),
            "preset": settings.preset,
            "seed": settings.seed,
            "train": result.train_count,
            "eval": result.eval_count,
            "left_out": len(plan.left_out),
            "left_out_by_reason": plan.excluded_counts(),
        },
    )
    return result
