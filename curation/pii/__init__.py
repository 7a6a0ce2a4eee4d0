"""PII detection and scrubbing: `PiiScanner` finds, operators replace, nothing raw is kept.

Pure functions over texts; the store, the review page and the CLI call them.
"""

from curation.pii.cache import FindingCache
from curation.pii.config import (
    DEFAULT_ENTITIES,
    DEFAULT_SCORE_THRESHOLD,
    DIRECT_IDENTIFIERS,
    ENTITY_TYPES,
    CustomRecognizerSpec,
    PatternSpec,
    PiiConfig,
)
from curation.pii.findings import Finding, text_sha256
from curation.pii.scanner import PiiScanner, residual_findings, resolve_overlaps
from curation.progress import ProgressFn

__all__ = [
    "DEFAULT_ENTITIES",
    "DEFAULT_SCORE_THRESHOLD",
    "DIRECT_IDENTIFIERS",
    "ENTITY_TYPES",
    "CustomRecognizerSpec",
    "Finding",
    "FindingCache",
    "PatternSpec",
    "PiiConfig",
    "PiiScanner",
    "ProgressFn",
    "residual_findings",
    "resolve_overlaps",
    "text_sha256",
]
