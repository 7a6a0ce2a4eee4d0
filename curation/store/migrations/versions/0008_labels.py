"""Revision 0008: the labels table and the annotation queue's holds (frozen copy).

Labels are one row per value given (example, field, annotator, role, time), kept forever: the
newest live row wins, an undo marks rows ``retracted``. Holds say who has an example open or
skipped it, so several annotators at once never get more people on an example than it needs.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def _project_and_example() -> list[sa.Column]:
    return [
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
    ]


def upgrade() -> None:
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer, primary_key=True),
        *_project_and_example(),
        sa.Column("example_id", sa.String(200), nullable=False),
        sa.Column("field", sa.String(100), nullable=False),
        sa.Column("annotator", sa.String(500), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("value", sa.Text, nullable=True),  # JSON text (SQLite would read 1 as a number)
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("retracted", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_labels_project_example", "labels", ["project_id", "example_pk", "id"])
    op.create_index("ix_labels_project_annotator", "labels", ["project_id", "annotator", "role"])
    op.create_index("ix_labels_event", "labels", ["event_id"])
    op.create_table(
        "label_holds",
        sa.Column("id", sa.Integer, primary_key=True),
        *_project_and_example(),
        sa.Column("annotator", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("project_id", "example_pk", "annotator", name="uq_label_holds"),
    )
    op.create_index("ix_label_holds_project_state", "label_holds", ["project_id", "state"])


def downgrade() -> None:
    op.drop_table("label_holds")
    op.drop_table("labels")
