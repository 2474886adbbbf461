"""register signed_sha256: the register keeps the SHA-256 of the issued, signed PDF

Entries made before this revision were issued unsigned: their column stays empty.

Revision ID: 0007
Revises: 0006
Created: 2026-12-07 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("registerentry", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("signed_sha256", sa.String(), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("registerentry", schema=None) as batch_op:
        batch_op.drop_column("signed_sha256")
