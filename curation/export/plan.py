"""Plan an export before anything is written: what the preset carries, what is left out, the split.

The readiness dry run and the real export both go through `plan_export`, so their counts agree.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curation.errors import ExportError, ValidationFailed
from curation.export.bundle import ExportResult, export_dataset
from curation.export.card import CardInfo
from curation.export.issues import Issue, ValidationReport
from curation.export.leakage import leakage_check
from curation.export.presets import get_preset
from curation.export.readiness import ReadinessItem, readiness_summary
from curation.export.representable import (
    error_codes,
    left_out_counts,
    left_out_text,
    left_out_warnings,
    partition_examples,
    prepare_examples,
)
from curation.export.split import SplitOptions, SplitPlan
from curation.progress import ProgressFn
from curation.records import Example

NOTHING_TO_EXPORT = "nothing_to_export"  # the preset leaves every selected example out


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """How an export is made: the trainer preset, the split, and examples the preset cannot carry.

    One frozen object used by the core, the CLI, the Export page and the export job, and written
    into ``manifest.json`` (`parameters`). ``ExportSettings`` is its former name.

    Attributes
    ----------
    preset:
        A registered preset name (see `preset_names`).
    eval_fraction, eval_count, seed, stratify_by, holdout_sources:
        The split: see `SplitOptions` (``split`` gives them as one). 0.1 gives 50 eval examples
        out of 500: below about 50 the eval loss is too noisy to show overfitting (see
        `readiness_summary`). The held-out sources go to eval on top of the target size.
    skip_unrepresentable:
        Leave out examples the preset cannot carry (each listed with its id and reason) instead
        of blocking the export on them. Left out *before* the split, so the eval size asked for
        is the eval size written. Examples a preset leaves out by design (a tie in a pair
        preset, an undesirable answer in an SFT one: `Preset.prepare`) never block; they are
        counted by reason either way.
    sft_as_desirable:
        For KTO presets: write conversations without a label as desirable answers instead of
        leaving them out (``no_label``). Ignored by other presets.
    max_tokens:
        Per-example token limit for warnings; the preset's default when None.
    tokenizer:
        A local ``tokenizer.json`` (or folder) to count tokens with; an estimate when None.
    """

    preset: str
    eval_fraction: float = 0.1
    eval_count: int | None = None
    seed: int = 0
    stratify_by: str | None = None
    holdout_sources: tuple[str, ...] = ()
    skip_unrepresentable: bool = False
    max_tokens: int | None = None
    tokenizer: str | None = None
    sft_as_desirable: bool = False

    def __post_init__(self) -> None:
        get_preset(self.preset)  # raises ExportError naming the registered presets
        split = SplitOptions(  # checks the split's values
            self.eval_fraction, self.eval_count, self.seed, self.stratify_by, self.holdout_sources
        )
        object.__setattr__(self, "holdout_sources", split.holdout_sources)
        object.__setattr__(self, "stratify_by", split.stratify_by)
        if self.max_tokens is not None and (
            isinstance(self.max_tokens, bool)
            or not isinstance(self.max_tokens, int)
            or self.max_tokens <= 0
        ):
            raise ExportError(f"max_tokens must be a positive integer, not {self.max_tokens!r}")

    @property
    def split(self) -> SplitOptions:
        """The split options alone."""
        return SplitOptions(
            self.eval_fraction, self.eval_count, self.seed, self.stratify_by, self.holdout_sources
        )

    def parameters(self) -> dict[str, Any]:
        """The options as JSON values, for the manifest (the tokenizer's path left out)."""
        return {
            "preset": self.preset,
            **self.split.parameters(),
            "skip_unrepresentable": self.skip_unrepresentable,
            "max_tokens": self.max_tokens,
            "sft_as_desirable": self.sft_as_desirable,
        }

    def to_dict(self) -> dict[str, Any]:
        """Every option as JSON values (job parameters): `parameters` plus the tokenizer."""
        return {**self.parameters(), "tokenizer": self.tokenizer}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExportOptions:
        """The inverse of `to_dict`; an unknown key or a bad value is an `ExportError`."""
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ExportError(
                f"unknown export option(s) {', '.join(unknown)}; use {', '.join(known)}"
            )
        if not isinstance(data.get("preset"), str):
            raise ExportError("export options need a 'preset' (text)")
        values = dict(data)
        if isinstance(values.get("holdout_sources"), list):
            values["holdout_sources"] = tuple(values["holdout_sources"])
        try:
            return cls(**values)
        except TypeError as exc:
            raise ExportError(f"export options: {exc}") from exc


ExportSettings = ExportOptions  # its former name, kept for callers


@dataclass(slots=True)
class ExportPlan:
    """What an export will write, decided before writing.

    Attributes
    ----------
    settings:
        The settings the plan was made with.
    train, eval:
        The examples each file will hold, in line order: exactly what is written.
    unrepresentable:
        Errors of the examples the preset cannot carry (each names its example). With
        ``skip_unrepresentable`` they are left out; otherwise they block the export.
    split:
        The split plan of the carried examples (ids, groups kept together, targets).
    n_selected:
        Examples the plan started from.
    excluded:
        One ``left_out`` warning per example the preset leaves out by design (`Preset.prepare`:
        a tie in a pair preset, an undesirable answer in an SFT one), ``cause`` its reason.
        They never block; the manifest, card and readiness count them by reason.
    """

    settings: ExportOptions
    train: list[Example]
    eval: list[Example]
    unrepresentable: list[Issue] = field(default_factory=list)
    split: SplitPlan = field(default_factory=lambda: SplitPlan([], []))
    n_selected: int = 0
    excluded: list[Issue] = field(default_factory=list)

    @property
    def train_count(self) -> int:
        return len(self.train)

    @property
    def eval_count(self) -> int:
        return len(self.eval)

    @property
    def unrepresentable_ids(self) -> list[str]:
        """Ids of the examples the preset cannot carry, each once."""
        return list(dict.fromkeys(i.example_id for i in self.unrepresentable if i.example_id))

    @property
    def blocking(self) -> list[Issue]:
        """Errors that stop the export: the unrepresentable examples, unless they are skipped."""
        return [] if self.settings.skip_unrepresentable else list(self.unrepresentable)

    @property
    def left_out(self) -> list[Issue]:
        """One ``skipped_unrepresentable`` warning per example left out (when skipping)."""
        return left_out_warnings(self.unrepresentable) if self.settings.skip_unrepresentable else []

    def excluded_counts(self) -> dict[str, int]:
        """Reason -> number of examples the preset leaves out by design."""
        return left_out_counts(self.excluded)

    def excluded_text(self) -> str:
        """The left-out reasons in words, or ``""`` when nothing is left out by design."""
        return left_out_text(self.excluded_counts())

    def unrepresentable_codes(self) -> dict[str, int]:
        """Error code -> number of examples the preset cannot carry for it."""
        return error_codes(self.unrepresentable)

    def codes_text(self) -> str:
        """The codes in words, e.g. ``last_not_assistant x97, role_order x3`` (or ``none``)."""
        return ", ".join(f"{c} x{k}" for c, k in self.unrepresentable_codes().items()) or "none"

    def reasons_text(self) -> str:
        """Why examples do not go out: the unrepresentable codes and the left-out reasons."""
        parts = [self.codes_text()] if self.unrepresentable else []
        if self.excluded:
            parts.append("left out: " + self.excluded_text())
        return "; ".join(parts) or "none"

    def blocked_report(self) -> ValidationReport:
        """A validation report holding the blocking errors (what `ValidationFailed` carries)."""
        return ValidationReport(preset=self.settings.preset, errors=self.blocking)


def _remap_groups(
    groups: Sequence[Sequence[int]] | None, origin: Sequence[int], kept: Sequence[int]
) -> list[list[int]]:
    """Index groups over the selection, re-expressed over the carried rows.

    ``origin[r]`` is the selected example row ``r`` comes from and ``kept`` the rows carried;
    rows from one example (a KTO pair's two rows) form a group of their own.
    """
    position = {row: new for new, row in enumerate(kept)}
    rows_of: dict[int, list[int]] = {}
    for row, source in enumerate(origin):
        if row in position:
            rows_of.setdefault(source, []).append(position[row])
    out = [members for members in rows_of.values() if len(members) >= 2]
    for g in groups or ():
        members = sorted({m for i in g for m in rows_of.get(i, ())})
        if len(members) >= 2:
            out.append(members)
    return out


def as_desirable(example: Example) -> Example:
    """An unlabelled conversation labelled desirable (`ExportOptions.sft_as_desirable`)."""
    if example.kind != "sft":
        return example
    return dataclasses.replace(example, desirable=True)


@dataclass(frozen=True, slots=True)
class Composition:
    """What a selection holds and what a preset makes of it, before any split or check.

    Attributes
    ----------
    kinds:
        Examples by `Example.kind`: ``preference``, ``feedback``, ``sft``, ``needs_answer``.
    rows:
        Rows the preset would write (a KTO preset writes a pair as two rows), before the
        per-row checks.
    left_out:
        Reason -> examples the preset leaves out by design.
    as_prompt_and_chosen:
        Preference examples an SFT preset writes as their prompt plus the chosen answer.
    """

    kinds: dict[str, int]
    rows: int
    left_out: dict[str, int]
    as_prompt_and_chosen: int = 0

    @property
    def has_preference_data(self) -> bool:
        """True when any example is a preference or feedback (KTO) example."""
        return bool(self.kinds.get("preference") or self.kinds.get("feedback"))

    def left_out_text(self) -> str:
        return left_out_text(self.left_out)


def composition(
    examples: Sequence[Example], preset: str, *, sft_as_desirable: bool = False
) -> Composition:
    """Count what ``preset`` writes of ``examples`` and what it leaves out, and why.

    The same `Preset.prepare` as `plan_export`, without the per-row checks or the split: the
    export page shows it as soon as a preset is chosen; the dry run then gives exact counts.
    """
    chosen = get_preset(preset)
    kinds: dict[str, int] = {}
    for ex in examples:
        kinds[ex.kind] = kinds.get(ex.kind, 0) + 1
    source = list(examples)
    if sft_as_desirable and chosen.task == "kto":
        source = [as_desirable(ex) for ex in source]
    prepared = prepare_examples(chosen, source)
    as_sft = sum(1 for ex in prepared.rows if ex.candidates) if chosen.task == "sft" else 0
    return Composition(
        dict(sorted(kinds.items())), len(prepared.rows), left_out_counts(prepared.left_out), as_sft
    )


def plan_export(
    examples: Sequence[Example],
    settings: ExportOptions,
    *,
    groups: Sequence[Sequence[int]] | None = None,
    group_by_duplicates: bool = True,
    progress: ProgressFn | None = None,
) -> ExportPlan:
    """Decide what an export writes: the examples the preset carries, split group-aware.

    Every example first goes through `Preset.prepare` (`prepare_examples`): what the preset
    leaves out by design is counted in ``excluded``, and a KTO preset's pair becomes two rows.
    The rows go through `partition_examples` (the same per-row check the writer and the
    validator apply), then the carried ones are split with `plan_split`. The rows the preset
    cannot carry are left out of the split in both modes, so the counts of a blocked plan are
    what ticking "leave them out" writes.

    Parameters
    ----------
    examples:
        The selected examples, unique ids.
    settings:
        Preset, split and skip settings.
    groups:
        Index groups over ``examples`` that must share a split (e.g. dedup clusters).
    group_by_duplicates:
        Also keep near-duplicate clusters computed on the spot together (see `split_examples`).
    progress:
        A `curation.progress.ProgressFn`, sent the split's stages (see `split_examples`).

    Returns
    -------
    ExportPlan

    Raises
    ------
    ExportError
        For an empty selection, bad split settings, or holdout sources that match nothing.
    """
    if not examples:
        raise ExportError("Nothing to export: the selection holds no example.")
    preset = get_preset(settings.preset)
    source = list(examples)
    if settings.sft_as_desirable and preset.task == "kto":
        source = [as_desirable(ex) for ex in source]
    prepared = prepare_examples(preset, source)
    rows = prepared.rows
    partition = partition_examples(preset, rows)
    left = set(partition.left_out_ids)
    kept = [r for r, ex in enumerate(rows) if ex.id not in left]
    carried = [rows[r] for r in kept]
    if not carried:
        return ExportPlan(
            settings,
            [],
            [],
            partition.errors,
            n_selected=len(examples),
            excluded=prepared.left_out,
        )
    split = settings.split.plan(
        carried,
        group_by_duplicates=group_by_duplicates,
        groups=_remap_groups(groups, prepared.origin, kept),
        progress=progress,
    )
    by_id = {ex.id: ex for ex in carried}
    return ExportPlan(
        settings,
        [by_id[i] for i in split.train_ids],
        [by_id[i] for i in split.eval_ids],
        partition.errors,
        split,
        len(examples),
        prepared.left_out,
    )


def _blocked_message(plan: ExportPlan) -> str:
    first = plan.blocking[0]
    return (
        f"{len(plan.unrepresentable_ids)} example(s) cannot be written as {plan.settings.preset} "
        f"({plan.codes_text()}); first: {first.message}. Fix or remove them, leave them out "
        f"(skip_unrepresentable / --skip-unrepresentable: {plan.train_count} train + "
        f"{plan.eval_count} eval would be written), or choose another preset."
    )


def write_plan(
    plan: ExportPlan,
    out_dir: str | Path,
    *,
    parameters: Mapping[str, Any],
    curation_stats: Mapping[str, Any],
    card_info: CardInfo | None = None,
    zip: bool = False,
    overwrite: bool = False,
    created_at: str | None = None,
    allow_blocked: bool = False,
) -> ExportResult:
    """Write exactly the planned files with `export_dataset` (validated, card, manifest).

    Parameters
    ----------
    plan:
        From `plan_export`.
    out_dir, zip, overwrite, created_at:
        See `export_dataset`.
    parameters:
        Recorded in the manifest beside the plan's settings.
    curation_stats, card_info:
        For the card and readiness (see `export_dataset`).
    allow_blocked:
        Write the carried examples even when unrepresentable ones block (the dry run does, in a
        scratch folder, to measure tokens and file rules too); never for a real export.

    Raises
    ------
    ValidationFailed
        When unrepresentable examples block the plan (nothing is written), or validation of
        the written files finds errors (file rules; ``out_dir`` is untouched).
    """
    if plan.blocking and not allow_blocked:
        raise ValidationFailed(_blocked_message(plan), plan.blocked_report())
    if not (plan.train or plan.eval):
        raise ExportError(
            f"Nothing to export: none of the {plan.n_selected} selected examples can be written "
            f"as {plan.settings.preset} ({plan.reasons_text()}); choose another preset."
        )
    s = plan.settings
    params = {
        **dict(parameters),
        **s.parameters(),
        "left_out": len(plan.left_out),
        "left_out_by_reason": plan.excluded_counts(),
    }
    return export_dataset(
        plan.train,
        plan.eval,
        out_dir,
        s.preset,
        seed=s.seed,
        parameters=params,
        curation_stats=curation_stats,
        card_info=card_info,
        split_stats=plan.split.stats(),
        zip=zip,
        tokenizer=s.tokenizer,
        max_tokens=s.max_tokens,
        # Every planned example passed the writer's own check: anything failing now is a bug,
        # and failing beats writing fewer examples than the readiness summary promised.
        on_unrepresentable="error",
        left_out=[*plan.excluded, *plan.left_out],
        overwrite=overwrite,
        created_at=created_at,
    )


@dataclass(slots=True)
class DryRun:
    """What an export would write, measured by writing it to a scratch folder.

    Attributes
    ----------
    plan:
        The plan; its ``train_count`` / ``eval_count`` are the line counts the export writes.
    report:
        Validation of the scratch files plus the blocking unrepresentable examples: errors (the
        export is blocked while there are any), warnings, token statistics.
    readiness:
        The readiness summary of exactly the planned splits.
    """

    plan: ExportPlan
    report: ValidationReport
    readiness: list[ReadinessItem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the export would be written as planned."""
        return not self.report.errors

    @property
    def train_count(self) -> int:
        return self.plan.train_count

    @property
    def eval_count(self) -> int:
        return self.plan.eval_count

    @property
    def file_errors(self) -> list[Issue]:
        """Errors of the files as a whole (schema across files...): leaving out cannot fix them."""
        unrepresentable = {id(i) for i in self.plan.unrepresentable}
        return [
            i
            for i in self.report.errors
            if id(i) not in unrepresentable and i.code != NOTHING_TO_EXPORT
        ]

    def summary(self) -> dict[str, Any]:
        """Counts, left-out and blocking examples by code, and readiness, as JSON values."""
        return {
            "preset": self.plan.settings.preset,
            "ok": self.ok,
            "train": self.train_count,
            "eval": self.eval_count,
            "selected": self.plan.n_selected,
            "unrepresentable": self.plan.unrepresentable_codes(),
            "left_out": self.plan.excluded_counts(),
            "skip_unrepresentable": self.plan.settings.skip_unrepresentable,
            "validation": self.report.summary(),
            "readiness": [item.to_dict() for item in self.readiness],
        }


def dry_run(
    plan: ExportPlan,
    *,
    curation_stats: Mapping[str, Any],
    card_info: CardInfo | None = None,
) -> DryRun:
    """Write the plan to a scratch folder and validate it: the export's outcome, without output.

    The carried examples are written even when unrepresentable ones block, so one dry run
    reports the blocking examples, the file rules and the token budget together.
    """
    if not (plan.train or plan.eval):
        report = plan.blocked_report()
        if not report.errors:
            report.errors = list(plan.unrepresentable) or [
                Issue(
                    None,
                    None,
                    NOTHING_TO_EXPORT,
                    f"none of the {plan.n_selected} selected examples can be written as "
                    f"{plan.settings.preset} (left out: {plan.excluded_text() or 'none'})",
                )
            ]
        items = readiness_summary(
            [],
            [],
            stats=curation_stats,
            left_out=plan.excluded_counts(),
            task=get_preset(plan.settings.preset).task,
        )
        return DryRun(plan, report, items)
    with tempfile.TemporaryDirectory(prefix="curation-dry-run-") as scratch:
        try:
            result = write_plan(
                plan,
                Path(scratch) / "dry-run",
                parameters={},
                curation_stats=curation_stats,
                card_info=card_info,
                allow_blocked=True,
            )
        except ValidationFailed as exc:
            report = (
                exc.report
                if isinstance(exc.report, ValidationReport)
                else ValidationReport(preset=plan.settings.preset)
            )
            items = readiness_summary(
                plan.train,
                plan.eval,
                stats=curation_stats,
                tokens=report.tokens,
                leakage=leakage_check(plan.train, plan.eval),
                left_out=plan.excluded_counts(),
                task=get_preset(plan.settings.preset).task,
            )
        else:
            report, items = result.validation, result.readiness
    report.errors[:0] = plan.blocking
    return DryRun(plan, report, items)
