"""Messages to people: each (assignment, step, person) is planned once, in a ReminderRecord,
and delivered per channel through the outbox, so a crash repeats at most the messages in flight
(one, or `REPORTFLOW_SEND_CONCURRENCY` for a cycle's requests) and the next sweep finishes what
it left."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from reportflow.core.clock import utcnow
from reportflow.core.config import get_settings
from reportflow.core.prefect_address import prefect_ui_url
from reportflow.cycle.links import expand_placeholders
from reportflow.models import (
    Cycle,
    CycleState,
    OutboxMessage,
    OutboxStatus,
    Person,
    ReminderRecord,
    SectionAssignment,
    session_scope,
)
from reportflow.notifications.outbox import (
    DEFAULT,
    Addressee,
    RowResult,
    Sender,
    attempt_limit,
    bounded_map,
    cancel,
    drain,
    enqueue,
    person_channels,
    retriable,
    wall_now,
)
from reportflow.notifications.sender import send_message

REQUEST_PREFIX = "request-"


@dataclass(frozen=True)
class Outgoing:
    assignment_id: int
    step_key: str
    person_code: str
    title: str
    body: str

    @property
    def kind(self) -> str:
        return "request" if self.step_key.startswith(REQUEST_PREFIX) else "reminder"

    @property
    def message_key(self) -> str:
        return f"a{self.assignment_id}:{self.step_key}:{self.person_code}"


@dataclass(frozen=True)
class Delivered:
    """What one delivery pass did with one message."""

    sent: bool = False
    """This pass sent to at least one channel and every channel now has it."""
    failed: list[RowResult] = field(default_factory=list)
    busy: list[RowResult] = field(default_factory=list)


def plan_once(session: Session, message: Outgoing) -> ReminderRecord | None:
    """The message's (assignment, step, person) row, written now if new; None once it is sent.

    Another sweep writing the same row at the same moment makes this one read that row.
    """
    key = (
        ReminderRecord.assignment_id == message.assignment_id,
        ReminderRecord.step_key == message.step_key,
        ReminderRecord.person_code == message.person_code,
    )
    record = session.exec(select(ReminderRecord).where(*key)).first()
    if record is None:
        record = ReminderRecord(
            assignment_id=message.assignment_id,
            step_key=message.step_key,
            person_code=message.person_code,
        )
        try:
            with session.begin_nested():
                session.add(record)
                session.flush()
        except IntegrityError:
            record = session.exec(select(ReminderRecord).where(*key)).one()
    return None if record.status == "sent" else record


def deliver_message(
    message: Outgoing, sender: Sender = send_message, max_attempts: object = DEFAULT
) -> Delivered:
    """Plan and enqueue (one transaction), then send each channel that does not have it yet."""
    planned = plan_message(message)
    if planned is None:
        return Delivered()
    return send_planned(planned, sender, max_attempts)


@dataclass(frozen=True)
class Planned:
    record_id: int
    row_ids: list[int]


def plan_message(message: Outgoing) -> Planned | None:
    """The message's record and outbox rows, written in one transaction; None once it is sent."""
    with session_scope() as session:
        record = plan_once(session, message)
        if record is None:
            return None
        person = session.get(Person, message.person_code)
        assignment = session.get(SectionAssignment, message.assignment_id)
        ids = enqueue(
            session,
            kind=message.kind,
            message_key=message.message_key,
            to=Addressee.person(person),
            title=message.title,
            body=message.body,
            cycle_id=assignment.cycle_id,
            reminder_id=record.id,
        )
        return Planned(record.id, ids)


def send_planned(
    planned: Planned, sender: Sender = send_message, max_attempts: object = DEFAULT
) -> Delivered:
    drained = drain(
        planned.row_ids,
        person_channels,
        compose=with_links,
        sender=sender,
        max_attempts=max_attempts,
    )
    complete = refresh_record(planned.record_id, drained.claimed_any)
    return Delivered(
        sent=complete and bool(drained.with_status("sent")),
        failed=drained.with_status("failed", "exhausted"),
        busy=drained.with_status("busy"),
    )


def deliver_all(messages: Sequence[Outgoing], sender: Sender = send_message) -> int:
    """Plans every message first, then sends them `REPORTFLOW_SEND_CONCURRENCY` at a time;
    returns how many this call sent.

    A kill loses nothing: every message is in the outbox before the first send, and the next
    sweep (or this step run again) sends what is left; a message is claimed before it is sent,
    so each goes out once, and only those in flight at the kill may go out twice.
    """
    planned = [p for p in map(plan_message, messages) if p is not None]
    deliveries = bounded_map(
        lambda p: send_planned(p, sender), planned, get_settings().send_concurrency
    )
    return sum(d.sent for d in deliveries)


def with_links(row: OutboxMessage) -> tuple[str, str, list[Path]]:
    """The stored message with each person's web link signed in at send time: a link is a
    bearer credential, so the database keeps only its placeholder."""
    return row.title, expand_placeholders(row.body or ""), [Path(p) for p in row.attachments]


def deliver(message: Outgoing, sender: Sender = send_message) -> bool:
    """Returns True if this call sent the message (to its last missing channel)."""
    return deliver_message(message, sender).sent


def refresh_record(record_id: int, attempted: bool) -> bool:
    """Brings the ReminderRecord in line with its outbox rows; True once every channel has it.

    "sent" is final: a pass that read the rows before another pass finished them cannot
    write an older status over it.
    """
    with session_scope() as session:
        rows = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.reminder_id == record_id,
                OutboxMessage.status != OutboxStatus.CANCELLED,
            )
        ).all()
        statuses = {row.status for row in rows}
        if rows and statuses == {OutboxStatus.SENT}:
            status = "sent"
        elif OutboxStatus.FAILED in statuses:
            status = "failed"
        elif rows:
            status = "claimed"
        else:
            status = "cancelled"
        values = {
            "status": status,
            "error": "; ".join(r.last_error for r in rows if r.status == OutboxStatus.FAILED),
            "delivered_channels": sorted(r.channel_key for r in rows if r.status == "sent"),
            "sent_at": utcnow() if status == "sent" else None,
        }
        session.execute(
            update(ReminderRecord)
            .where(ReminderRecord.id == record_id, ReminderRecord.status != "sent")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if attempted:
            session.execute(
                update(ReminderRecord)
                .where(ReminderRecord.id == record_id)
                .values(attempts=ReminderRecord.attempts + 1)
                .execution_options(synchronize_session=False)
            )
    return status == "sent"


@dataclass(frozen=True)
class Resumed:
    """Requests a crash or a failure had left, handled by a sweep."""

    sent: list[str]
    failed: list[tuple[str, RowResult]]
    busy: list[tuple[str, RowResult]]
    cancelled: int


def resume_requests(sender: Sender = send_message, max_attempts: object = DEFAULT) -> Resumed:
    """Sends the section requests (and "sent back" letters) left unsent; withdraws those no
    longer wanted (the section was handed in, or the cycle moved on)."""
    limit = attempt_limit(max_attempts)
    with session_scope() as session:
        rows = session.exec(
            select(OutboxMessage, ReminderRecord, SectionAssignment.state, Cycle.state, Cycle.round)
            .join(ReminderRecord, ReminderRecord.id == OutboxMessage.reminder_id)
            .join(SectionAssignment, SectionAssignment.id == ReminderRecord.assignment_id)
            .join(Cycle, Cycle.id == SectionAssignment.cycle_id)
            .where(OutboxMessage.kind == "request", retriable(wall_now(), limit))
            .order_by(OutboxMessage.id)
        ).all()
        wanted: dict[int, list[int]] = defaultdict(list)
        labels: dict[int, str] = {}
        stale: dict[int, list[int]] = defaultdict(list)
        for row, record, section_state, cycle_state, cycle_round in rows:
            current = (
                cycle_state == CycleState.COLLECTING
                and section_state != "submitted"
                and record.step_key == f"{REQUEST_PREFIX}r{cycle_round}"
            )
            (wanted if current else stale)[record.id].append(row.id)
            labels[record.id] = f"kỳ {row.cycle_id} · đề nghị viết phần · {record.person_code}"
        cancelled = 0
        for ids in stale.values():
            cancelled += cancel(
                session, ids, "không còn cần gửi: phần đã nộp hoặc kỳ đã sang bước khác"
            )
    for record_id in stale:
        refresh_record(record_id, False)
    planned = [Planned(record_id, ids) for record_id, ids in wanted.items()]
    deliveries = bounded_map(
        lambda p: send_planned(p, sender, max_attempts), planned, get_settings().send_concurrency
    )
    sent, failed, busy = [], [], []
    for p, delivered in zip(planned, deliveries, strict=True):
        label = labels[p.record_id]
        if delivered.sent:
            sent.append(label)
        failed += [(label, r) for r in delivered.failed]
        busy += [(label, r) for r in delivered.busy]
    return Resumed(sent, failed, busy, cancelled)


def cancel_reminders(due_today: Callable[[], set[tuple[int, str, str]]]) -> int:
    """Withdraws unsent reminders that are no longer due: a reminder is for its day (the next
    one says how late the section is then), and none is sent for a section handed in.

    ``due_today`` gives the (assignment, step, person) of the day's reminders; it is only
    asked when some reminder is unsent, which is rare."""
    with session_scope() as session:
        rows = session.exec(
            select(OutboxMessage.id, ReminderRecord)
            .join(ReminderRecord, ReminderRecord.id == OutboxMessage.reminder_id)
            .where(OutboxMessage.kind == "reminder", retriable(wall_now(), None))
        ).all()
    if not rows:
        return 0
    due = due_today()
    stale = {
        row_id: record.id
        for row_id, record in rows
        if (record.assignment_id, record.step_key, record.person_code) not in due
    }
    with session_scope() as session:
        cancelled = cancel(session, stale, "không còn cần gửi: đã qua ngày nhắc hoặc phần đã nộp")
    for record_id in set(stale.values()):
        refresh_record(record_id, False)
    return cancelled


def division_heads(session: Session, division_code: str) -> list[Person]:
    return list(
        session.exec(
            select(Person).where(Person.division_code == division_code, Person.role == "head")
        )
    )


def cycle_url(flow_run_id: str | None) -> str:
    if not flow_run_id:
        return ""
    return f"{prefect_ui_url()}/runs/flow-run/{flow_run_id}"


def phone_url(flow_run_id: str | None) -> str:
    """The same run in Prefect's V2 UI, which fits a phone (the classic UI draws the Resume
    dialog off the left edge of a phone's screen)."""
    if not flow_run_id:
        return ""
    return f"{prefect_ui_url()}/v2/runs/flow-run/{flow_run_id}"
