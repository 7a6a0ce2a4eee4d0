"""Revision 0004: PII findings with their review state (frozen copy)."""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "pii_findings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "example_pk",
            sa.Integer,
            sa.ForeignKey("examples.pk", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("location", sa.String(300), nullable=False),
        sa.Column("finding_id", sa.String(40), nullable=False),
        sa.Column("entity_type", sa.String(80), nullable=False),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("end", sa.Integer, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("recognizer", sa.String(120), nullable=False),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("reviewed_by", sa.String(200), nullable=True),
        sa.Column("scan_id", sa.Integer, nullable=False),
        sa.UniqueConstraint(
            "project_id", "example_pk", "location", "finding_id", name="uq_pii_findings"
        ),
    )
    op.create_index("ix_pii_findings_project_state", "pii_findings", ["project_id", "state"])
