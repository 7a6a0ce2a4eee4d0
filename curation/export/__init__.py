"""Export curated examples for trainers (SFT, preference pairs, KTO): splits, presets,
validation, card, manifest, zip. Pure core (no database, no UI); the app and CLI call it.
"""

from __future__ import annotations

from typing import Any

from curation.export.bundle import ExportResult, export_dataset, make_zip
from curation.export.card import CardInfo, build_card
from curation.export.conversation import Layout, Unrepresentable
from curation.export.issues import Issue, TokenStats, ValidationReport
from curation.export.leakage import LeakagePair, LeakageReport, leakage_check
from curation.export.pairs import LabelBalance, PairStats, label_balance, pair_stats
from curation.export.plan import (
    Composition,
    DryRun,
    ExportOptions,
    ExportPlan,
    ExportSettings,
    composition,
    dry_run,
    plan_export,
    write_plan,
)
from curation.export.presets import TASKS, Preset, get_preset, preset_names, register_preset
from curation.export.readiness import ReadinessItem, readiness_summary
from curation.export.representable import (
    FILE_LEVEL_CODES,
    LEFT_OUT_CODE,
    Checked,
    Partition,
    Prepared,
    check_example,
    left_out_counts,
    partition_examples,
    prepare_examples,
    record_issues,
)
from curation.export.split import SplitOptions, SplitPlan, plan_split, split_examples
from curation.export.tokens import TokenCounter, estimate_tokens, resolve_token_counter
from curation.export.validate import json_signature, validate
from curation.export.writer import WriteResult, write_split

__all__ = [
    "CURATION_STEPS",
    "FILE_LEVEL_CODES",
    "LEFT_OUT_CODE",
    "TASKS",
    "CardInfo",
    "Checked",
    "Composition",
    "DryRun",
    "ExportPlan",
    "ExportResult",
    "ExportOptions",
    "ExportSettings",
    "Issue",
    "LabelBalance",
    "Layout",
    "LeakagePair",
    "LeakageReport",
    "PairStats",
    "Partition",
    "Prepared",
    "Preset",
    "ReadinessItem",
    "SplitOptions",
    "SplitPlan",
    "TokenCounter",
    "TokenStats",
    "Unrepresentable",
    "ValidationReport",
    "WriteResult",
    "build_card",
    "check_example",
    "composition",
    "dry_run",
    "estimate_tokens",
    "export_dataset",
    "get_preset",
    "json_signature",
    "label_balance",
    "leakage_check",
    "left_out_counts",
    "make_zip",
    "pair_stats",
    "partition_examples",
    "plan_export",
    "plan_split",
    "prepare_examples",
    "preset_names",
    "readiness_summary",
    "record_issues",
    "register_preset",
    "resolve_token_counter",
    "split_examples",
    "validate",
    "write_plan",
    "write_split",
]


def __getattr__(name: str) -> Any:
    # ``CURATION_STEPS`` comes from the step registry when read (see `curation.export.card`)
    if name == "CURATION_STEPS":
        from curation.steps import steps

        return steps.names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
