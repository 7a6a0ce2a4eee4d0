"""The project store: projects, imports, examples, revisions, step runs and the audit log.

SQLite (WAL) under `.curation/` by default, PostgreSQL when `CURATION_DB_URL` is set.
"""

from curation.store.metadata_index import MetadataField
from curation.store.store import (
    STATUSES,
    ExampleFilter,
    ImportSummary,
    StatusChange,
    Store,
    StoredExample,
    default_db_url,
)

__all__ = [
    "STATUSES",
    "ExampleFilter",
    "ImportSummary",
    "MetadataField",
    "StatusChange",
    "Store",
    "StoredExample",
    "default_db_url",
]
