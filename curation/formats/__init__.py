"""Reading instruction data in every common container and shape into canonical `Example`s.

Public API: `read_examples`, `preview`, `detect_format`, `ColumnMapping`, `ImportResult`, `read_reference`.

Shapes (``SHAPES``, detected by ``format="auto"``): SFT ``alpaca``, ``dolly``, ``self-instruct``,
``prompt-completion``, ``sharegpt``, ``openai``; prompts still to answer ``prompt-only``,
``mt-bench``; preference pairs ``llama-factory-ranking``, ``trl-preference`` (explicit or
implicit prompt, HH-RLHF text), ``openai-preference``; ratings ``ultrafeedback`` (ranked by a
`RatingsRule`); KTO feedback ``trl-kto``, ``llama-factory-kto``, ``openai-kto``; and ``mapped``.
"""

from __future__ import annotations

from curation.formats.containers import CONTAINERS
from curation.formats.detect import detect_format
from curation.formats.mapping import ColumnMapping, suggest_mapping
from curation.formats.preference import RATINGS_RULES, RatingsRule
from curation.formats.reader import SHAPES, preview, read_examples
from curation.formats.reference import ReferenceItem, ReferenceSet, read_reference
from curation.formats.results import ImportIssue, ImportResult
from curation.formats.shapes import SHAPE_REGISTRY, register_shape

__all__ = [
    "CONTAINERS",
    "SHAPES",
    "SHAPE_REGISTRY",
    "RATINGS_RULES",
    "ColumnMapping",
    "ImportIssue",
    "ImportResult",
    "ReferenceItem",
    "RatingsRule",
    "ReferenceSet",
    "detect_format",
    "preview",
    "read_examples",
    "read_reference",
    "register_shape",
    "suggest_mapping",
]
