"""Quality flags: broken, truncated, refusing, looping and malformed-structure examples, found
without a model. Pure functions over examples; start at `run_quality`.
"""

import curation.quality.builtin  # noqa: F401  (registers the built-in checks)
from curation.quality.base import (
    KEEP,
    DatasetCheck,
    ExampleCheck,
    Flag,
    FlagRegistry,
    Keep,
    Location,
    QualityCheck,
    registry,
)
from curation.quality.config import QualityConfig
from curation.quality.runner import (
    QualityReport,
    QualityRow,
    QualitySummary,
    run_quality,
    run_quality_batches,
)
from curation.quality.settings import CheckSettings
from curation.quality.structure import (
    SQL_DIALECTS,
    STRUCTURE_KINDS,
    Expectation,
    StructureError,
    StructureExpectations,
)
from curation.quality.view import ExampleView

__all__ = [
    "KEEP",
    "SQL_DIALECTS",
    "STRUCTURE_KINDS",
    "CheckSettings",
    "DatasetCheck",
    "ExampleCheck",
    "ExampleView",
    "Expectation",
    "Flag",
    "FlagRegistry",
    "Keep",
    "Location",
    "QualityCheck",
    "QualityConfig",
    "QualityReport",
    "QualityRow",
    "QualitySummary",
    "StructureError",
    "StructureExpectations",
    "registry",
    "run_quality",
    "run_quality_batches",
]
