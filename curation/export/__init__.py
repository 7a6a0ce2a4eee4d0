"""Export curated examples for trainers: splits, presets, validation, card, manifest, zip.

Pure core (no database, no UI); the app and the CLI call these functions.
"""

from __future__ import annotations

from curation.export.bundle import ExportResult, export_dataset, make_zip
from curation.export.card import CURATION_STEPS, CardInfo, build_card
from curation.export.conversation import Layout, Unrepresentable
from curation.export.issues import Issue, TokenStats, ValidationReport
from curation.export.leakage import LeakagePair, LeakageReport, leakage_check
from curation.export.plan import (
    DryRun,
    ExportPlan,
    ExportSettings,
    dry_run,
    plan_export,
    write_plan,
)
from curation.export.presets import Preset, get_preset, preset_names, register_preset
from curation.export.readiness import ReadinessItem, readiness_summary
from curation.export.representable import (
    FILE_LEVEL_CODES,
    Checked,
    Partition,
    check_example,
    partition_examples,
    record_issues,
)
from curation.export.split import SplitPlan, plan_split, split_examples
from curation.export.tokens import TokenCounter, estimate_tokens, resolve_token_counter
from curation.export.validate import json_signature, validate
from curation.export.writer import WriteResult, write_split

__all__ = [
    "CURATION_STEPS",
    "FILE_LEVEL_CODES",
    "CardInfo",
    "Checked",
    "DryRun",
    "ExportPlan",
    "ExportResult",
    "ExportSettings",
    "Issue",
    "Layout",
    "LeakagePair",
    "LeakageReport",
    "Partition",
    "Preset",
    "ReadinessItem",
    "SplitPlan",
    "TokenCounter",
    "TokenStats",
    "Unrepresentable",
    "ValidationReport",
    "WriteResult",
    "build_card",
    "check_example",
    "dry_run",
    "estimate_tokens",
    "export_dataset",
    "get_preset",
    "json_signature",
    "leakage_check",
    "make_zip",
    "partition_examples",
    "plan_export",
    "plan_split",
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
