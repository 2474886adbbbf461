"""submission key: the same web confirm sent twice stores one version

Revision ID: 0005
Revises: 0004
Created: 2026-12-03 11:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sectionversion", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission_key", sa.String(), nullable=True))
        batch_op.create_unique_constraint(
            "uq_sectionversion_assignment_id_submission_key", ["assignment_id", "submission_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("sectionversion", schema=None) as batch_op:
        batch_op.drop_constraint("uq_sectionversion_assignment_id_submission_key", type_="unique")
        batch_op.drop_column("submission_key")
