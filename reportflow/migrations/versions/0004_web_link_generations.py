"""web link generations: revoking a division head's web link raises its generation

Revision ID: 0004
Revises: 0003
Created: 2026-11-29 09:38:09.354901
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "weblinkgeneration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("section_key", sa.String(), nullable=False),
        sa.Column("person_code", sa.String(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["cycle.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_code"],
            ["person.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cycle_id", "section_key", "person_code"),
    )
    with op.batch_alter_table("weblinkgeneration", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_weblinkgeneration_cycle_id"), ["cycle_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("weblinkgeneration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_weblinkgeneration_cycle_id"))

    op.drop_table("weblinkgeneration")
