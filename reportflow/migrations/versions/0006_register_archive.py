"""register archive: the archive copy ("Lưu: VT, VP") is kept apart from the recipients

Decree 30's register of outgoing documents has a column of its own for who keeps the archive
copy ("Đơn vị, người nhận bản lưu"); the archive is not a recipient. Entries made before this
revision held the archive line as their last recipient: it moves to the new column.

Revision ID: 0006
Revises: 0005
Created: 2026-12-04 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ENTRIES = sa.table(
    "registerentry",
    sa.column("id", sa.Integer()),
    sa.column("recipients", sa.JSON()),
    sa.column("archive", sa.String()),
)


def _is_archive(line: str) -> bool:
    return line.removeprefix("- ").strip().startswith("Lưu")


def upgrade() -> None:
    with op.batch_alter_table("registerentry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("archive", sa.String(), nullable=False, server_default=""))
    connection = op.get_bind()
    for entry_id, recipients in connection.execute(sa.select(_ENTRIES.c.id, _ENTRIES.c.recipients)):
        kept = [r for r in recipients or [] if not _is_archive(r)]
        archive = [r for r in recipients or [] if _is_archive(r)]
        if archive:
            connection.execute(
                _ENTRIES.update()
                .where(_ENTRIES.c.id == entry_id)
                .values(recipients=kept, archive=archive[-1].removeprefix("- ").strip())
            )


def downgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_ENTRIES.c.id, _ENTRIES.c.recipients, _ENTRIES.c.archive)
    ).all()
    for entry_id, recipients, archive in rows:
        if archive:
            connection.execute(
                _ENTRIES.update()
                .where(_ENTRIES.c.id == entry_id)
                .values(recipients=[*(recipients or []), archive])
            )
    with op.batch_alter_table("registerentry", schema=None) as batch_op:
        batch_op.drop_column("archive")
