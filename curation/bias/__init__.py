"""Bias audit: coverage, skew and representation checks over a project's examples, with charts,
ranked findings and a self-contained report. Start at `run_audit`.
"""

import curation.bias.builtin  # noqa: F401  (registers the built-in checks)
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
from curation.bias.runner import AuditReport, AuditSummary, CheckResult, run_audit, run_audit_data

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
