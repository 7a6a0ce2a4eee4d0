"""Export from a stored project: select examples, reuse dedup clusters as split groups, gather
each step's numbers for the dataset card and readiness summary, and log the export.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curation.dedup.project import DedupRun, load_run, unresolved_duplicates
from curation.errors import ExportError
from curation.records import Example
from curation.store import ExampleFilter, Store

EXPORTABLE = ("active",)  # duplicate, rejected, filtered and removed examples never go out


@dataclass(slots=True)
class Selection:
    """Which examples an export takes, and how many each exclusion left out."""

    examples: list[Example]
    excluded: dict[str, int] = field(default_factory=dict)
    sources: list[str] | None = None
    metadata: dict[str, str] = field(default_factory=dict)


def select_examples(
    store: Store,
    project: str,
    *,
    sources: Sequence[str] | None = None,
    metadata: dict[str, str] | None = None,
) -> Selection:
    """Active examples of the project, optionally only some sources or one metadata value."""
    flt = ExampleFilter(statuses=list(EXPORTABLE), sources=sources or None, metadata=metadata or {})
    examples = [row.example for row in store.iter_examples(project, flt)]
    by_status = store.stats(project)["by_status"]
    excluded = {k: v for k, v in sorted(by_status.items()) if k not in EXPORTABLE and v}
    active = by_status.get("active", 0)
    if active - len(examples):
        excluded["not in the chosen sources/filter"] = active - len(examples)
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


def curation_stats(store: Store, project: str, run: DedupRun | None) -> dict[str, Any]:
    """Numbers of every step run on the project, keyed by step; a step never run is absent.

    `run` is the project's latest dedup run (`load_run`), None when dedup never ran.
    """

    stats = store.stats(project)
    by_status = stats["by_status"]
    imports = store.list_imports(project)
    out: dict[str, Any] = {
        "import": {
            "files": len(imports),
            "records_read": sum(i["n_records"] for i in imports),
            "examples_imported": stats["total"],
            "records_skipped": sum(i["n_skipped"] for i in imports),
            "examples_edited": stats["edited"],
            "rejected": by_status.get("rejected", 0),
            "filtered": by_status.get("filtered", 0),
        }
    }
    if run is not None:
        unresolved = unresolved_duplicates(store, project, run)
        active = by_status.get("active", 0)
        out["dedup"] = {
            "method": run.method,
            "threshold": run.threshold if run.threshold is not None else "-",
            "text_compared": run.fields,
            "clusters": len(run.clusters),
            "duplicates_removed": by_status.get("duplicate", 0),
            "duplicates_remaining": unresolved,
            "duplicate_rate": round(unresolved / active, 4) if active else 0.0,
            "notes": f"backend {run.backend}",
        }
    return out


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
    card_info: Any = None,
    tokenizer: Any = None,
    max_tokens: int | None = None,
    zip: bool = False,
    overwrite: bool = False,
    skip_unrepresentable: bool = False,
    progress: Callable[..., None] | None = None,
) -> Any:
    """Select, split (group-aware), write, validate and describe a project's export.

    Dedup clusters of the latest run are the split groups; without a run, the split computes
    near-duplicate clusters itself. Examples the preset cannot carry block the export, unless
    `skip_unrepresentable` leaves them out (each listed as a warning with its id). Returns the
    `ExportResult`; logs an `export` event.
    """
    from curation.export import export_dataset, split_examples

    selection = select_examples(store, project, sources=sources, metadata=metadata)
    if not selection.examples:
        raise ExportError(
            f"Nothing to export from {project!r}: no active examples match the selection."
        )
    run = load_run(store, project)
    groups = dedup_groups(run, selection.examples)
    train, eval_ = split_examples(
        selection.examples,
        eval_fraction,
        seed,
        stratify_by=stratify_by,
        group_by_duplicates=True,
        eval_count=eval_count,
        groups=groups,
        holdout_sources=holdout_sources,
        progress=progress,
    )
    parameters = {
        "project": project,
        "preset": preset,
        "eval_fraction": eval_fraction,
        "eval_count": eval_count,
        "seed": seed,
        "stratify_by": stratify_by,
        "holdout_sources": sorted(holdout_sources or []),
        "sources": sorted(sources or []),
        "metadata_filter": dict(sorted((metadata or {}).items())),
        "split_groups": "near-duplicate clusters"
        + (" + latest dedup run" if groups is not None else "")
        + " + shared prompts",
        "excluded": selection.excluded,
    }
    result = export_dataset(
        train,
        eval_,
        out_dir,
        preset,
        seed=seed,
        parameters=parameters,
        curation_stats=curation_stats(store, project, run),
        card_info=card_info,
        zip=zip,
        tokenizer=tokenizer,
        max_tokens=max_tokens,
        overwrite=overwrite,
        on_unrepresentable="skip" if skip_unrepresentable else "error",
    )
    store.log_event(
        project,
        "export",
        author,
        f"exported {result.train_count} train + {result.eval_count} eval examples as {preset}",
        {
            "out_dir": str(result.out_dir),
            "preset": preset,
            "seed": seed,
            "train": result.train_count,
            "eval": result.eval_count,
        },
    )
    return result
