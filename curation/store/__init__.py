"""The project store: projects, imports, examples, revisions, step runs and the audit log.

SQLite (WAL) under `.curation/` by default, PostgreSQL when `CURATION_DB_URL` is set; every
write is a unit of work (`Store.session`) with one audit event.
"""

from curation.store.metadata_index import MetadataField
from curation.store.session import UnitOfWork
from curation.store.step_results import ANY_FLAG, QUALITY_STEP, StepResult
from curation.store.store import (
    STATUSES,
    ExampleFilter,
    ImportPlan,
    ImportSummary,
    StatusChange,
    Store,
    StoredExample,
    UndoPreview,
    default_db_url,
)

__all__ = [
    "ANY_FLAG",
    "QUALITY_STEP",
    "STATUSES",
    "ExampleFilter",
    "ImportPlan",
    "ImportSummary",
    "MetadataField",
    "StatusChange",
    "StepResult",
    "Store",
    "StoredExample",
    "UndoPreview",
    "UnitOfWork",
    "default_db_url",
]
