"""Bias audit: coverage, skew and representation checks over a project's examples, with charts,
ranked findings and a self-contained report. Start at `run_audit`.

Names load on first use (PEP 562), so the jobs registry can name the audit's job step without
importing the checks, the quality helpers they reuse and numpy at the app's start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from curation.bias.base import (
        FINDING_FIELDS,
        SEVERITIES,
        AuditCheck,
        AuditRow,
        Bar,
        Chart,
        CheckOutput,
        CheckRegistry,
        Finding,
        registry,
    )
    from curation.bias.config import AuditConfig
    from curation.bias.data_set import AuditData, AuditSubject, LabelField
    from curation.bias.runner import (
        AuditReport,
        AuditSummary,
        CheckResult,
        run_audit,
        run_audit_data,
    )

_WHERE = {
    **dict.fromkeys(
        (
            "FINDING_FIELDS",
            "SEVERITIES",
            "AuditCheck",
            "AuditRow",
            "Bar",
            "Chart",
            "CheckOutput",
            "CheckRegistry",
            "Finding",
            "registry",
        ),
        "curation.bias.base",
    ),
    "AuditConfig": "curation.bias.config",
    **dict.fromkeys(("AuditData", "AuditSubject", "LabelField"), "curation.bias.data_set"),
    **dict.fromkeys(
        ("AuditReport", "AuditSummary", "CheckResult", "run_audit", "run_audit_data"),
        "curation.bias.runner",
    ),
}

__all__ = [
    "FINDING_FIELDS",
    "SEVERITIES",
    "AuditCheck",
    "AuditConfig",
    "AuditData",
    "AuditReport",
    "AuditRow",
    "AuditSubject",
    "AuditSummary",
    "Bar",
    "Chart",
    "CheckOutput",
    "CheckRegistry",
    "CheckResult",
    "Finding",
    "LabelField",
    "registry",
    "run_audit",
    "run_audit_data",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'curation.bias' has no attribute {name!r}")
    importlib.import_module("curation.bias.builtin")  # the registry holds the built-in checks
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
