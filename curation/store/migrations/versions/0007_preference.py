"""Revision 0007: preference and feedback data on examples and their revisions (frozen copy).

``preference`` holds an example's candidate answers with their ranks and its KTO
``desirable`` label (`Example.preference_payload`); NULL for plain instruction data, so every
existing row reads as it did.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    for table in ("examples", "revisions"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("preference", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    for table in ("examples", "revisions"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("preference")
