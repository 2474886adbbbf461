"""Draft binding, document blobs, installation id.

Codes and decisions record the draft they were about; a draft is rendered once per round and the
final once per cycle (unique), with the versions it merged; rendered bytes live in the database.
Rows rendered more than once by earlier versions are kept, renamed `<kind>-superseded`.

Revision ID: 0002
Revises: 0001
Created: 2026-11-29 09:05:49.062695
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _keep_only_newest_render() -> None:
    rendered = sa.table(
        "rendereddocument",
        sa.column("id", sa.Integer),
        sa.column("cycle_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("round", sa.Integer),
    )
    newest = (
        sa.select(sa.func.max(rendered.c.id))
        .group_by(rendered.c.cycle_id, rendered.c.kind, rendered.c.round)
        .scalar_subquery()
    )
    op.execute(
        rendered.update()
        .where(rendered.c.id.not_in(newest))
        .values(kind=rendered.c.kind + "-superseded")
    )


def upgrade() -> None:
    _keep_only_newest_render()
    op.create_table(
        "documentblob",
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "installation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("approvalcode", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("draft_sha256", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("delivery", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("revoke_reason", sa.String(), nullable=True))
        batch_op.create_foreign_key(
            "fk_approvalcode_draft", "rendereddocument", ["draft_id"], ["id"]
        )

    with op.batch_alter_table("approvaldecision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("draft_sha256", sa.String(), nullable=True))
        batch_op.create_foreign_key(
            "fk_approvaldecision_draft", "rendereddocument", ["draft_id"], ["id"]
        )

    with op.batch_alter_table("rendereddocument", schema=None) as batch_op:
        batch_op.add_column(sa.Column("section_versions", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("indicator_values", sa.JSON(), nullable=True))
        batch_op.create_unique_constraint("uq_rendereddocument_once", ["cycle_id", "kind", "round"])


def downgrade() -> None:
    with op.batch_alter_table("rendereddocument", schema=None) as batch_op:
        batch_op.drop_constraint("uq_rendereddocument_once", type_="unique")
        batch_op.drop_column("indicator_values")
        batch_op.drop_column("section_versions")

    with op.batch_alter_table("approvaldecision", schema=None) as batch_op:
        batch_op.drop_constraint("fk_approvaldecision_draft", type_="foreignkey")
        batch_op.drop_column("draft_sha256")
        batch_op.drop_column("draft_id")

    with op.batch_alter_table("approvalcode", schema=None) as batch_op:
        batch_op.drop_constraint("fk_approvalcode_draft", type_="foreignkey")
        batch_op.drop_column("revoke_reason")
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("delivery")
        batch_op.drop_column("draft_sha256")
        batch_op.drop_column("draft_id")

    op.drop_table("installation")
    op.drop_table("documentblob")
