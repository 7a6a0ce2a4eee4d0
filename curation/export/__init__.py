"""Export curated examples for trainers: splits, presets, validation, card, manifest, zip.

Pure core (no database, no UI); the app and the CLI call these functions.
"""

from __future__ import annotations

from curation.export.bundle import ExportResult, export_dataset, make_zip
from curation.export.card import CURATION_STEPS, CardInfo, build_card
from curation.export.conversation import Layout, Unrepresentable
from curation.export.issues import Issue, TokenStats, ValidationReport
from curation.export.leakage import LeakagePair, LeakageReport, leakage_check
from curation.export.presets import Preset, get_preset, preset_names, register_preset
from curation.export.readiness import ReadinessItem, readiness_summary
from curation.export.split import SplitPlan, plan_split, split_examples
from curation.export.tokens import TokenCounter, estimate_tokens, resolve_token_counter
from curation.export.validate import json_signature, validate
from curation.export.writer import WriteResult, write_split

__all__ = [
    "CURATION_STEPS",
    "CardInfo",
    "ExportResult",
    "Issue",
    "Layout",
    "LeakagePair",
    "LeakageReport",
    "Preset",
    "ReadinessItem",
    "SplitPlan",
    "TokenCounter",
    "TokenStats",
    "Unrepresentable",
    "ValidationReport",
    "WriteResult",
    "build_card",
    "estimate_tokens",
    "export_dataset",
    "get_preset",
    "json_signature",
    "leakage_check",
    "make_zip",
    "plan_split",
    "preset_names",
    "readiness_summary",
    "register_preset",
    "resolve_token_counter",
    "split_examples",
    "validate",
    "write_split",
]
