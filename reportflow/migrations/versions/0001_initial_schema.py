"""Initial schema: the tables as `SQLModel.metadata.create_all` made them before migrations.

Revision ID: 0001
Revises:
Created: 2026-11-29

Written by autogenerate against an empty database, then kept as plain `sa.Table`s on a
`metadata` of its own: `reportflow.models.migrate` compares a database made by an earlier
version (by create_all, without an alembic_version table) with exactly this schema before it
stamps it 0001. Constraint names are left to the database, as create_all left them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import ops

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

metadata = sa.MetaData()

sa.Table(
    "division",
    metadata,
    sa.Column("code", sa.String(), nullable=False),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("short_name", sa.String(), nullable=False),
    sa.PrimaryKeyConstraint("code"),
)

sa.Table(
    "person",
    metadata,
    sa.Column("code", sa.String(), nullable=False),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("title", sa.String(), nullable=False),
    sa.Column("role", sa.String(), nullable=False),
    sa.Column("division_code", sa.String(), nullable=True),
    sa.Column("email", sa.String(), nullable=True),
    sa.Column("apprise_urls", sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(["division_code"], ["division.code"]),
    sa.PrimaryKeyConstraint("code"),
)

sa.Table(
    "definitionsnapshot",
    metadata,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("code", sa.String(), nullable=False),
    sa.Column("sha256", sa.String(), nullable=False),
    sa.Column("body", sa.JSON(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("code", "sha256"),
    sa.Index("ix_definitionsnapshot_code", "code"),
)

sa.Table(
    "cycle",
    metadata,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("definition_id", sa.Integer(), nullable=False),
    sa.Column("definition_code", sa.String(), nullable=False),
    sa.Column("request_number", sa.String(), nullable=False),
    sa.Column("request_date", sa.Date(), nullable=False),
    sa.Column("request_sender", sa.String(), nullable=False),
    sa.Column("request_subject", sa.String(), nullable=False),
    sa.Column("period_label", sa.String(), nullable=False),
    sa.Column("period_kind", sa.String(), nullable=True),
    sa.Column("cutoff_start", sa.Date(), nullable=True),
    sa.Column("cutoff_end", sa.Date(), nullable=True),
    sa.Column("year", sa.Integer(), nullable=False),
    sa.Column("deadline", sa.Date(), nullable=False),
    sa.Column("internal_deadline", sa.Date(), nullable=False),
    sa.Column("state", sa.String(), nullable=False),
    sa.Column("round", sa.Integer(), nullable=False),
    sa.Column("flow_run_id", sa.String(), nullable=True),
    sa.Column("opened_by", sa.String(), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["definition_id"], ["definitionsnapshot.id"]),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_cycle_definition_code", "definition_code"),
    sa.Index("ix_cycle_state", "state"),
)

sa.Table(
    "sectionassignment",
    metadata,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("cycle_id", sa.Integer(), nullable=False),
    sa.Column("section_key", sa.String(), nullable=False),
    sa.Column("title", sa.String(), nullable=False),
    sa.Column("division_code", sa.String(), nullable=False),
    sa.Column("due", sa.Date(), nullable=False),
    sa.Column("state", sa.String(), nullable=False),
    sa.Column("return_comment", sa.String(), nullable=False),
    sa.ForeignKeyConstraint(["cycle_id"], ["cycle.id"]),
    sa.ForeignKeyConstraint(["division_code"], ["division.code"]),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("cycle_id", "section_key"),
    sa.Index("ix_sectionassignment_cycle_id", "cycle_id"),
)

sa.Table(
    "sectionversion",
    metadata,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("assignment_id", sa.Integer(), nullable=False),
    sa.Column("version_no", sa.Integer(), nullable=False),
    sa.Column("blocks", sa.JSON(), nullable=False),
    sa.Column("source_name", sa.String(), nullable=False),
    sa.Column("source_format", sa.String(), nullable=False),
    sa.Column("source_bytes", sa.LargeBinary(), nullable=False),
    sa.Column("sha256", sa.String(), nullable=False),
    sa.Column("submitted_by", sa.String(), nullable=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["assignment_id"], ["sectionassignment.id"]),
    sa.ForeignKeyConstraint(["submitted_by"], ["person.code"]),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("assignment_id", "version_no"),
    sa.Index("ix_sectionversion_assignment_id", "assignment_id"),
)

sa.Table(
    "indicatorvalue",
    metadata,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("cycle_id", sa.Integer(), nullable=False),
    sa.Column("indicator_code", sa.String(), nullable=False),
    sa.Column("version_no", sa.Integer(), nullable=False),
    sa.Column("value_text", sa.String(), nullable=False),
    sa.Column("value_number", sa.Float(), nullable=True),
    sa.Column("note", sa.String(), nullable=False),
    sa.Column("division_code", sa.String(), nullable=False),
    sa.Column("submitted_by", sa.String(), nullable=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["cycle_id"], ["cycle.id"]),
    sa.ForeignKeyConstraint(["division_code"], ["division.code"]),
    sa.ForeignKeyConstraint(["submitted_by"], ["person.code"]),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("cycle_id", "indicator_code", "version_no"),
    sa.Index("ix_indicatorvalue_cycle_id", "cycle_id"),
)

sa.Table(
    "rendereddocument",
    metadata,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("cycle_id", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("round", sa.Integer(), nullable=False),
    sa.Column("path", sa.String(), nullable=False),
    sa.Column("sha256", sa.String(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["cycle_id"], ["cycle.id"]),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_rendereddocument_cycle_id", "cycle_id"),
)

sa.Table(
    "approvalcode",
    metadata,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("cycle_id", sa.Integer(), nullable=False),
    sa.Column("round", sa.Integer(), nullable=False),
    sa.Column("person_code", sa.String(), nullable=False),
    sa.Column("code_hash", sa.String(), nullable=False),
    sa.Column("key_id", sa.String(), nullable=True),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(["cycle_id"], ["cycle.id"]),
    sa.ForeignKeyConstraint(["person_code"], ["person.code"]),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_approvalcode_cycle_id", "cycle_id"),
)

sa.Table(
    "approvaldecision",
    metadata,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("cycle_id", sa.Integer(), nullable=False),
    sa.Column("round", sa.Integer(), nullable=False),
    sa.Column("decision", sa.String(), nullable=False),
    sa.Column("approver_code", sa.String(), nullable=False),
    sa.Column("approver_name", sa.String(), nullable=False),
    sa.Column("comment", sa.String(), nullable=False),
    sa.Column("sections", sa.JSON(), nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["approver_code"], ["person.code"]),
    sa.ForeignKeyConstraint(["cycle_id"], ["cycle.id"]),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_approvaldecision_cycle_id", "cycle_id"),
)

sa.Table(
    "registeropening",
    metadata,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("issuing_body", sa.String(), nullable=False),
    sa.Column("year", sa.Integer(), nullable=False),
    sa.Column("last_number", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("issuing_body", "year"),
)

sa.Table(
    "registerentry",
    metadata,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("issuing_body", sa.String(), nullable=False),
    sa.Column("year", sa.Integer(), nullable=False),
    sa.Column("number", sa.Integer(), nullable=False),
    sa.Column("number_text", sa.String(), nullable=False),
    sa.Column("doc_type", sa.String(), nullable=False),
    sa.Column("summary", sa.String(), nullable=False),
    sa.Column("signer", sa.String(), nullable=False),
    sa.Column("issued_on", sa.Date(), nullable=False),
    sa.Column("recipients", sa.JSON(), nullable=False),
    sa.Column("copies", sa.Integer(), nullable=False),
    sa.Column("cycle_id", sa.Integer(), nullable=False),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["cycle_id"], ["cycle.id"]),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("cycle_id"),
    sa.UniqueConstraint("issuing_body", "year", "number"),
)

sa.Table(
    "dispatchrecord",
    metadata,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("cycle_id", sa.Integer(), nullable=False),
    sa.Column("recipient_key", sa.String(), nullable=False),
    sa.Column("recipient_label", sa.String(), nullable=False),
    sa.Column("channel", sa.String(), nullable=False),
    sa.Column("attempt", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("error", sa.String(), nullable=False),
    sa.Column("delivered_channels", sa.JSON(), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(["cycle_id"], ["cycle.id"]),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_dispatchrecord_cycle_id", "cycle_id"),
)

sa.Table(
    "reminderrecord",
    metadata,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("assignment_id", sa.Integer(), nullable=False),
    sa.Column("step_key", sa.String(), nullable=False),
    sa.Column("person_code", sa.String(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("error", sa.String(), nullable=False),
    sa.Column("delivered_channels", sa.JSON(), nullable=True),
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(["assignment_id"], ["sectionassignment.id"]),
    sa.ForeignKeyConstraint(["person_code"], ["person.code"]),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("assignment_id", "step_key", "person_code"),
    sa.Index("ix_reminderrecord_assignment_id", "assignment_id"),
)

sa.Table(
    "auditevent",
    metadata,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(), nullable=False),
    sa.Column("action", sa.String(), nullable=False),
    sa.Column("cycle_id", sa.Integer(), nullable=True),
    sa.Column("detail", sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.Index("ix_auditevent_cycle_id", "cycle_id"),
)


def upgrade() -> None:
    for table in metadata.sorted_tables:
        op.invoke(ops.CreateTableOp.from_table(table))
        for index in sorted(table.indexes, key=lambda index: index.name):
            op.invoke(ops.CreateIndexOp.from_index(index))


def downgrade() -> None:
    for table in reversed(metadata.sorted_tables):
        op.drop_table(table.name)
