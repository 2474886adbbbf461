"""The tables. Versions, decisions, reminders, dispatch attempts and audit events are append-only."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from reportflow.core.clock import utcnow


def _json_column() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


def _json_list_column() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


def _delivered_channels_column() -> Any:
    """Keys (`notifications.channels.channel_key`) of the channels that took the message, so a
    retry after one channel failed sends only to the channels still missing it."""
    return Field(default=None, sa_column=Column(JSON, nullable=True))


class CycleState(StrEnum):
    COLLECTING = "collecting"
    DRAFTING = "drafting"
    AWAITING_DECISION = "awaiting_decision"
    APPROVED = "approved"
    AWAITING_SIGNATURE = "awaiting_signature"
    NUMBERED = "numbered"
    DISPATCHING = "dispatching"
    DONE = "done"
    REJECTED = "rejected"

    @property
    def label_vi(self) -> str:
        return _CYCLE_STATE_VI[self]


_CYCLE_STATE_VI = {
    CycleState.COLLECTING: "đang nhận các phần",
    CycleState.DRAFTING: "đang tổng hợp dự thảo",
    CycleState.AWAITING_DECISION: "chờ Giám đốc quyết định",
    CycleState.APPROVED: "đã phê duyệt",
    CycleState.AWAITING_SIGNATURE: "chờ ký số",
    CycleState.NUMBERED: "đã cấp số",
    CycleState.DISPATCHING: "đang phát hành",
    CycleState.DONE: "đã phát hành",
    CycleState.REJECTED: "không phê duyệt",
}


class Division(SQLModel, table=True):
    code: str = Field(primary_key=True)
    name: str
    short_name: str = ""


class Person(SQLModel, table=True):
    code: str = Field(primary_key=True)
    name: str
    title: str = ""
    role: str = "member"
    division_code: str | None = Field(default=None, foreign_key="division.code")
    email: str | None = None
    apprise_urls: list[str] = _json_list_column()


class DefinitionSnapshot(SQLModel, table=True):
    """The exact definition a cycle was opened with, so later edits to the YAML change no open cycle."""

    __table_args__ = (UniqueConstraint("code", "sha256"),)
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True)
    sha256: str
    body: dict[str, Any] = _json_column()
    created_at: dt.datetime = Field(default_factory=utcnow)


class Cycle(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    definition_id: int = Field(foreign_key="definitionsnapshot.id")
    definition_code: str = Field(index=True)
    request_number: str
    request_date: dt.date
    request_sender: str
    request_subject: str = ""
    period_label: str
    period_kind: str | None = None
    """A `calendar.periods.PeriodKind` value; the cut-off dates are inclusive (Decree 09/2019)."""
    cutoff_start: dt.date | None = None
    cutoff_end: dt.date | None = None
    year: int
    deadline: dt.date
    internal_deadline: dt.date
    state: str = Field(default=CycleState.COLLECTING, index=True)
    round: int = 1
    flow_run_id: str | None = None
    opened_by: str
    opened_at: dt.datetime = Field(default_factory=utcnow)


class SectionAssignment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("cycle_id", "section_key"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    section_key: str
    title: str
    division_code: str = Field(foreign_key="division.code")
    due: dt.date
    state: str = "pending"
    """pending | submitted | returned"""
    return_comment: str = ""


class SectionVersion(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("assignment_id", "version_no"),
        UniqueConstraint("assignment_id", "submission_key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="sectionassignment.id", index=True)
    version_no: int
    blocks: list[dict[str, Any]] = _json_list_column()
    source_name: str
    source_format: str
    source_bytes: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str
    submitted_by: str = Field(foreign_key="person.code")
    submitted_at: dt.datetime = Field(default_factory=utcnow)
    submission_key: str | None = None
    """The web form's one-time key: the same confirm sent twice (a double click, a browser's
    resend) finds the version it stored instead of storing a second one."""


class IndicatorValue(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("cycle_id", "indicator_code", "version_no"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    indicator_code: str
    version_no: int
    value_text: str
    value_number: float | None = None
    note: str = ""
    division_code: str = Field(foreign_key="division.code")
    submitted_by: str = Field(foreign_key="person.code")
    submitted_at: dt.datetime = Field(default_factory=utcnow)


class RenderedDocument(SQLModel, table=True):
    """One draft per round and one final per cycle, each rendered once; its bytes are the
    `DocumentBlob` of its SHA-256, so every machine reads exactly the file that was rendered."""

    __table_args__ = (UniqueConstraint("cycle_id", "kind", "round"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    kind: str
    """draft | final"""
    round: int
    path: str
    """Where it was rendered, on the machine that rendered it; read it with `document_file`."""
    sha256: str
    section_versions: dict[str, int] | None = Field(default=None, sa_column=Column(JSON))
    """section key -> SectionVersion.id merged into it: the final is built from the approved
    draft's versions, never from whatever is newest."""
    indicator_values: dict[str, int] | None = Field(default=None, sa_column=Column(JSON))
    """indicator code -> IndicatorValue.id merged into it."""
    created_at: dt.datetime = Field(default_factory=utcnow)


class DocumentBlob(SQLModel, table=True):
    """A rendered document's bytes, stored under their SHA-256."""

    sha256: str = Field(primary_key=True)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow)


class Installation(SQLModel, table=True):
    """One row: this installation's id, so run keys never collide across installations that
    share a Prefect server, or with a database that was reset."""

    id: int = Field(default=1, primary_key=True)
    installation_id: str
    created_at: dt.datetime = Field(default_factory=utcnow)


class ApprovalCode(SQLModel, table=True):
    """A one-time code sent to the director's own channel; only its hash is stored."""

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    round: int
    person_code: str = Field(foreign_key="person.code")
    code_hash: str
    key_id: str | None = None
    """`signing.key_id()` of the key that made the hash: tells a wrong code from a wrong key."""
    issued_at: dt.datetime = Field(default_factory=utcnow)
    expires_at: dt.datetime
    used_at: dt.datetime | None = None
    draft_id: int | None = Field(default=None, foreign_key="rendereddocument.id")
    """The draft the code was sent with: a decision with it is about that draft only."""
    draft_sha256: str | None = None
    delivery: str | None = None
    """sending | sent | failed: the mail that carries it (its body is never stored)."""
    revoked_at: dt.datetime | None = None
    revoke_reason: str | None = None


class ApprovalDecision(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    round: int
    decision: str
    """approve | request_changes | reject"""
    approver_code: str = Field(foreign_key="person.code")
    approver_name: str
    comment: str = ""
    sections: dict[str, str] = _json_column()
    draft_id: int | None = Field(default=None, foreign_key="rendereddocument.id")
    draft_sha256: str | None = None
    decided_at: dt.datetime = Field(default_factory=utcnow)


class RegisterOpening(SQLModel, table=True):
    """The last number already used in a year before reportflow kept the register."""

    __table_args__ = (UniqueConstraint("issuing_body", "year"),)
    id: int | None = Field(default=None, primary_key=True)
    issuing_body: str
    year: int
    last_number: int


class RegisterEntry(SQLModel, table=True):
    """Sổ đăng ký văn bản đi (Decree 30/2020, art. 15-16)."""

    __table_args__ = (
        UniqueConstraint("issuing_body", "year", "number"),
        UniqueConstraint("cycle_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    issuing_body: str
    year: int
    number: int
    number_text: str
    doc_type: str
    summary: str
    signer: str
    issued_on: dt.date
    recipients: list[str] = _json_list_column()
    archive: str = ""
    """Who keeps the archive copy, e.g. "Lưu: VT, VP" (Decree 30's own register column: the
    archive is not a recipient)."""
    copies: int = 1
    cycle_id: int = Field(foreign_key="cycle.id")
    registered_at: dt.datetime = Field(default_factory=utcnow)
    signed_sha256: str = ""
    """The SHA-256 of the issued file with both digital signatures; empty while it is not
    signed, and for a report issued without digital signatures."""


class DispatchRecord(SQLModel, table=True):
    """The archive copy ("Lưu: VT"). Deliveries to recipients are `OutboxMessage` rows; rows
    here for recipients are from versions before the outbox."""

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    recipient_key: str
    recipient_label: str
    channel: str
    """Redacted form only."""
    attempt: int
    status: str
    """sending | sent | failed"""
    error: str = ""
    delivered_channels: list[str] | None = _delivered_channels_column()
    created_at: dt.datetime = Field(default_factory=utcnow)
    finished_at: dt.datetime | None = None


class ReminderRecord(SQLModel, table=True):
    """One row per (assignment, step, person): the unique key is what makes a reminder go out once."""

    __table_args__ = (UniqueConstraint("assignment_id", "step_key", "person_code"),)
    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="sectionassignment.id", index=True)
    step_key: str
    person_code: str = Field(foreign_key="person.code")
    status: str = "claimed"
    """claimed | sent | failed"""
    attempts: int = 0
    error: str = ""
    delivered_channels: list[str] | None = _delivered_channels_column()
    claimed_at: dt.datetime = Field(default_factory=utcnow)
    sent_at: dt.datetime | None = None


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    """No longer wanted: the section was handed in, the day's reminder passed, the channel was
    removed from the directory."""


class OutboxMessage(SQLModel, table=True):
    """One message to one channel of one recipient: the unit that is claimed, sent and marked.

    No URL or secret is stored: the URL is looked up again from the person or recipient at send
    time and matched by `channel_key`. ``body`` is None for a message whose text must not be
    stored (it holds a one-time code); its sender composes it when it drains the row.
    """

    __table_args__ = (
        UniqueConstraint("message_key", "recipient_kind", "recipient", "channel_key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int | None = Field(default=None, foreign_key="cycle.id", index=True)
    kind: str = Field(index=True)
    """request | reminder | dispatch | approval"""
    message_key: str
    recipient_kind: str = "person"
    """person (a `Person.code`) | recipient (a `RecipientSpec.key` of the cycle's definition)"""
    recipient: str
    reminder_id: int | None = Field(default=None, foreign_key="reminderrecord.id", index=True)
    channel_key: str
    channel: str
    """Redacted form only."""
    title: str = ""
    body: str | None = None
    attachments: list[str] = _json_list_column()
    status: str = Field(default=OutboxStatus.PENDING, index=True)
    lease_until: dt.datetime | None = None
    """Wall-clock UTC, never the product's (possibly frozen) clock. While "sending", nobody else
    may claim the row before it; a "pending" row still pending after it was left by a process
    that died between writing and sending it."""
    attempts: int = 0
    last_error: str = ""
    message_id: str = ""
    created_at: dt.datetime = Field(default_factory=utcnow)
    sent_at: dt.datetime | None = None


class AuditEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow)
    actor: str
    action: str
    cycle_id: int | None = Field(default=None, index=True)
    detail: dict[str, Any] = _json_column()


class WebLinkGeneration(SQLModel, table=True):
    """The generation of one person's web link to one assignment. A link carries the generation
    it was made with; revoking a link raises the generation, so every older link is refused."""

    __table_args__ = (UniqueConstraint("cycle_id", "section_key", "person_code"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    section_key: str
    person_code: str = Field(foreign_key="person.code")
    generation: int = 0
    revoked_at: dt.datetime | None = None
    revoked_by: str = ""
