"""Revision 0005: per-example results of step runs (quality flags), keyed by example (frozen copy).

Self-contained: it only creates the table and its indexes; existing runs keep their JSON results.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "step_results",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("step_runs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("step", sa.String(50), nullable=False),
        sa.Column(
            "example_pk",
            sa.Integer,
            sa.ForeignKey("examples.pk", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("example_id", sa.String(200), nullable=False),
        sa.Column("code", sa.String(100), nullable=False),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("suggestion", sa.Text, nullable=True),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_step_results_run_code", "step_results", ["run_id", "code", "example_pk"])
    op.create_index("ix_step_results_example", "step_results", ["example_pk", "run_id"])
