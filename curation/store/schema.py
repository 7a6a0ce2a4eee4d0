"""Tables of the project store and the ordered migrations that build them.

The schema is versioned: `schema_version` holds the number of the last migration applied, so a
newer app upgrades an older database in place and an older app refuses a newer one.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    select,
    text,
)

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, nullable=False),
)

projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("settings", JSON, nullable=False, default=dict),
)

imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("file_name", String(500), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("format", String(50), nullable=False),
    Column("container", String(50), nullable=False),
    Column("n_records", Integer, nullable=False),
    Column("n_imported", Integer, nullable=False),
    Column("n_skipped", Integer, nullable=False),
    Column("issues", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
    Index("ix_imports_project_sha", "project_id", "sha256"),
)

examples = Table(
    "examples",
    metadata,
    Column("pk", Integer, primary_key=True),
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("example_id", String(200), nullable=False),
    Column("import_id", ForeignKey("imports.id", ondelete="SET NULL"), nullable=True),
    Column("position", Integer, nullable=False),
    Column("source", String(500), nullable=False),
    Column("raw", JSON, nullable=False),
    Column("messages", JSON, nullable=False),
    Column("tools", Text, nullable=True),
    # revision 0007: candidates and KTO label (`Example.preference_payload`); NULL for SFT data
    Column("preference", JSON(none_as_null=True), nullable=True),
    Column("meta", JSON, nullable=False),
    Column("status", String(20), nullable=False, default="active"),
    Column("status_reason", Text, nullable=True),
    Column("duplicate_of", String(200), nullable=True),
    Column("revision", Integer, nullable=False, default=0),
    Column("content_hash", String(64), nullable=False),
    Column("search_text", Text, nullable=False),
    Column("answer_chars", Integer, nullable=False, default=0),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("project_id", "example_id", name="uq_examples_project_example"),
    Index("ix_examples_project_status", "project_id", "status"),
    Index("ix_examples_project_position", "project_id", "position"),
)

revisions = Table(
    "revisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("example_pk", ForeignKey("examples.pk", ondelete="CASCADE"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("messages", JSON, nullable=False),
    Column("tools", Text, nullable=True),
    Column("preference", JSON(none_as_null=True), nullable=True),  # revision 0007
    Column("author", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("example_pk", "revision", name="uq_revisions_example_revision"),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(50), nullable=False),
    Column("author", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("summary", Text, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("undone_by", Integer, nullable=True),
    Index("ix_events_project", "project_id", "id"),
)

# Added in schema version 2: saved results of step runs (dedup clusters, later audits...).
step_runs = Table(
    "step_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("step", String(50), nullable=False),
    Column("params", JSON, nullable=False),
    Column("result", JSON, nullable=False),
    Column("stats", JSON, nullable=False),
    Column("author", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_step_runs_project_step", "project_id", "step", "id"),
)

# Added in schema version 3: the per-project index of metadata fields (see metadata_index.py),
# kept up to date by imports and their undo, so pages list every field without a full scan.
metadata_fields = Table(
    "metadata_fields",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(500), nullable=False),
    Column("n_examples", Integer, nullable=False),
    Column("types", JSON, nullable=False),
    Column("top_values", JSON, nullable=False),
    Column("more_values", Boolean, nullable=False),
    UniqueConstraint("project_id", "name", name="uq_metadata_fields_project_name"),
)

# Added in revision 0004: PII findings of the latest scan of each text, with their review state.
# A finding names its text by location and sha256 (never the characters it covers); a finding
# whose text changed since (scrubbed or edited) no longer applies.
pii_findings = Table(
    "pii_findings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("example_pk", ForeignKey("examples.pk", ondelete="CASCADE"), nullable=False),
    Column("location", String(300), nullable=False),
    Column("finding_id", String(40), nullable=False),
    Column("entity_type", String(80), nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("recognizer", String(120), nullable=False),
    Column("text_sha256", String(64), nullable=False),
    Column("state", String(20), nullable=False),
    Column("reviewed_by", String(200), nullable=True),
    Column("scan_id", Integer, nullable=False),
    UniqueConstraint("project_id", "example_pk", "location", "finding_id", name="uq_pii_findings"),
    Index("ix_pii_findings_project_state", "project_id", "state"),
)

# Revision 0005: one row per (example, flag) of a step run (quality flags now), keyed by the
# example's pk so listings filter by a step's result in SQL (an EXISTS on the latest run).
step_results = Table(
    "step_results",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("run_id", ForeignKey("step_runs.id", ondelete="CASCADE"), nullable=False),
    Column("step", String(50), nullable=False),
    Column("example_pk", ForeignKey("examples.pk", ondelete="CASCADE"), nullable=False),
    Column("example_id", String(200), nullable=False),
    Column("code", String(100), nullable=False),
    Column("score", Float, nullable=True),
    Column("reason", Text, nullable=True),
    Column("suggestion", Text, nullable=True),
    Column("detail", JSON, nullable=False),
    Index("ix_step_results_run_code", "run_id", "code", "example_pk"),
    Index("ix_step_results_example", "example_pk", "run_id"),
)

# Revision 0006: background jobs (see curation/jobs/). A job is queued, claimed by one worker
# (running), then done, failed or cancelled. The partial unique index lets a project hold at most
# one queued-or-running job of a step; finished jobs of the same step stay as history.
JOB_STATES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE_JOB_STATES = ("queued", "running")
_ACTIVE_JOB = text("state IN ('queued', 'running')")

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("step", String(50), nullable=False),
    Column("params", JSON, nullable=False),
    Column("state", String(20), nullable=False),
    Column("progress_stage", String(200), nullable=False, default=""),
    Column("progress_done", Integer, nullable=False, default=0),
    Column("progress_total", Integer, nullable=True),
    Column("progress_message", Text, nullable=False, default=""),
    Column("author", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),
    Column("worker", String(300), nullable=True),
    Column("worker_host", String(255), nullable=True),
    Column("worker_pid", Integer, nullable=True),
    Column("cancel_requested", Boolean, nullable=False, default=False),
    Column("error", Text, nullable=True),
    Column("result", JSON, nullable=True),
    Index("ix_jobs_state", "state", "id"),
    Index("ix_jobs_project", "project_id", "id"),
    Index(
        "uq_jobs_one_active_step",
        "project_id",
        "step",
        unique=True,
        sqlite_where=_ACTIVE_JOB,
        postgresql_where=_ACTIVE_JOB,
    ),
)

# Revision 0008: labels, one row per value given to a field of an example by a person
# (``annotator``, ``reviewer``) or adopted from its metadata (``imported``); the newest live row
# per (example, annotator, field, role) wins, a NULL value clears the field (values are JSON text). Rows are never
# deleted: undoing the event that wrote them sets ``retracted``.
labels = Table(
    "labels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("example_pk", ForeignKey("examples.pk", ondelete="CASCADE"), nullable=False),
    Column("example_id", String(200), nullable=False),
    Column("field", String(100), nullable=False),
    Column("annotator", String(500), nullable=False),
    Column("role", String(20), nullable=False),
    # JSON text, not a JSON column: SQLite's NUMERIC affinity would turn the text 1 into 1
    Column("value", Text, nullable=True),
    Column("event_id", Integer, nullable=False),
    Column("retracted", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_labels_project_example", "project_id", "example_pk", "id"),
    Index("ix_labels_project_annotator", "project_id", "annotator", "role"),
    Index("ix_labels_event", "event_id"),
)

# Revision 0008: who holds an example open in the annotation queue (``open``, dropped when they
# label it or after `curation.store.labels.HOLD_MINUTES`) or skipped it (``skipped``: offered
# to them again only after everything else), one row per (example, annotator).
label_holds = Table(
    "label_holds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("example_pk", ForeignKey("examples.pk", ondelete="CASCADE"), nullable=False),
    Column("annotator", String(200), nullable=False),
    Column("state", String(20), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("project_id", "example_pk", "annotator", name="uq_label_holds"),
    Index("ix_label_holds_project_state", "project_id", "state"),
)


def _v1(conn: Connection) -> None:
    # the frozen revision, not the live tables (which have grown columns since), as a database
    # made before Alembic: without its version table
    from alembic import command

    from curation.store import migrations

    command.upgrade(migrations._config(conn), "0001")
    conn.execute(text("DROP TABLE alembic_version"))


def _v2(conn: Connection) -> None:
    metadata.create_all(conn, tables=[step_runs])


def _v3(conn: Connection) -> None:
    from curation.store.metadata_index import rebuild_index  # it imports these tables

    metadata.create_all(conn, tables=[metadata_fields])
    for pid in list(conn.scalars(select(projects.c.id))):
        rebuild_index(conn, int(pid))


# The pre-Alembic builders of versions 1-3, kept to make legacy databases in tests; the schema
# itself now grows by Alembic revisions (`curation/store/migrations/versions`).
MIGRATIONS: list[Callable[[Connection], None]] = [_v1, _v2, _v3]


def current_version(conn: Connection) -> int:
    """The schema version a database is at; 0 for an empty database."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    row = conn.execute(schema_version.select()).first()
    return int(row.version) if row else 0
