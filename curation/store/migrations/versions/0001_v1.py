"""Schema version 1: projects, imports, examples, revisions, events (frozen copy)."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table("schema_version", sa.Column("version", sa.Integer, nullable=False))
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("settings", sa.JSON, nullable=False),
    )
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("file_name", sa.String(500), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("format", sa.String(50), nullable=False),
        sa.Column("container", sa.String(50), nullable=False),
        sa.Column("n_records", sa.Integer, nullable=False),
        sa.Column("n_imported", sa.Integer, nullable=False),
        sa.Column("n_skipped", sa.Integer, nullable=False),
        sa.Column("issues", sa.JSON, nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_imports_project_sha", "imports", ["project_id", "sha256"])
    op.create_table(
        "examples",
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("example_id", sa.String(200), nullable=False),
        sa.Column(
            "import_id", sa.Integer, sa.ForeignKey("imports.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("raw", sa.JSON, nullable=False),
        sa.Column("messages", sa.JSON, nullable=False),
        sa.Column("tools", sa.Text, nullable=True),
        sa.Column("meta", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.Text, nullable=True),
        sa.Column("duplicate_of", sa.String(200), nullable=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("search_text", sa.Text, nullable=False),
        sa.Column("answer_chars", sa.Integer, nullable=False),
        sa.Column("updated_at", tz, nullable=False),
        sa.UniqueConstraint("project_id", "example_id", name="uq_examples_project_example"),
    )
    op.create_index("ix_examples_project_status", "examples", ["project_id", "status"])
    op.create_index("ix_examples_project_position", "examples", ["project_id", "position"])
    op.create_table(
        "revisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "example_pk",
            sa.Integer,
            sa.ForeignKey("examples.pk", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("messages", sa.JSON, nullable=False),
        sa.Column("tools", sa.Text, nullable=True),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.UniqueConstraint("example_pk", "revision", name="uq_revisions_example_revision"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("undone_by", sa.Integer, nullable=True),
    )
    op.create_index("ix_events_project", "events", ["project_id", "id"])
