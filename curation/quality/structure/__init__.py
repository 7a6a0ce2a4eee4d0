"""Structured outputs: declared expectations (JSON / JSON Schema, YAML, SQL, regex) and their
validators with error positions, and the checks on answers and on tool-call arguments.
"""

from curation.quality.structure.expectations import (
    FENCE_RULES,
    STRUCTURE_KINDS,
    Expectation,
    StructureExpectations,
)
from curation.quality.structure.validators import (
    SQL_DIALECTS,
    StructureError,
    schema_validator,
    validate_json,
    validate_regex,
    validate_sql,
    validate_yaml,
)

__all__ = [
    "FENCE_RULES",
    "SQL_DIALECTS",
    "STRUCTURE_KINDS",
    "Expectation",
    "StructureError",
    "StructureExpectations",
    "schema_validator",
    "validate_json",
    "validate_regex",
    "validate_sql",
    "validate_yaml",
]
