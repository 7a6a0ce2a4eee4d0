"""Schema version 3: the per-project index of metadata fields, filled from existing examples.

Frozen: the data step reads and writes through lightweight table stubs declared here, not the
live tables, and only the pure tallying helpers of `metadata_index`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    from curation.store.metadata_index import _row_values, _tally

    fields = op.create_table(
        "metadata_fields",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("n_examples", sa.Integer, nullable=False),
        sa.Column("types", sa.JSON, nullable=False),
        sa.Column("top_values", sa.JSON, nullable=False),
        sa.Column("more_values", sa.Boolean, nullable=False),
        sa.UniqueConstraint("project_id", "name", name="uq_metadata_fields_project_name"),
    )
    assert fields is not None
    projects = sa.table("projects", sa.column("id", sa.Integer))
    examples = sa.table(
        "examples",
        sa.column("project_id", sa.Integer),
        sa.column("pk", sa.Integer),
        sa.column("meta", sa.JSON),
    )
    conn = op.get_bind()
    for pid in list(conn.scalars(sa.select(projects.c.id))):
        metas = conn.scalars(
            sa.select(examples.c.meta).where(examples.c.project_id == pid).order_by(examples.c.pk)
        ).all()
        rows = [
            {"project_id": pid, "name": name, **_row_values(t.bounded(name))}
            for name, t in sorted(_tally(metas).items())
        ]
        if rows:
            conn.execute(sa.insert(fields), rows)
