"""Reading instruction data in every common container and shape into canonical `Example`s.

Public API: `read_examples`, `preview`, `detect_format`, `ColumnMapping`, `ImportResult`.
"""

from __future__ import annotations

from curation.formats.containers import CONTAINERS
from curation.formats.detect import detect_format
from curation.formats.mapping import ColumnMapping, suggest_mapping
from curation.formats.reader import SHAPES, preview, read_examples
from curation.formats.results import ImportIssue, ImportResult
from curation.formats.shapes import SHAPE_REGISTRY, register_shape

__all__ = [
    "CONTAINERS",
    "SHAPES",
    "SHAPE_REGISTRY",
    "ColumnMapping",
    "ImportIssue",
    "ImportResult",
    "detect_format",
    "preview",
    "read_examples",
    "register_shape",
    "suggest_mapping",
]
