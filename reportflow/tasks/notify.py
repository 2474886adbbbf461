"""Messages to people, each claimed in the database before it is sent so it goes out once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from reportflow.clock import utcnow
from reportflow.config import get_settings
from reportflow.models import Division, Person, ReminderRecord, SectionAssignment, session_scope
from reportflow.notifications.channels import channel_urls
from reportflow.notifications.sender import Delivery, send_message, send_to_channels
from reportflow.tasks.audit import record_event


@dataclass(frozen=True)
class Outgoing:
    assignment_id: int
    step_key: str
    person_code: str
    title: str
    body: str


def claim(session: Session, assignment_id: int, step_key: str, person_code: str) -> int | None:
    """Inserts the (assignment, step, person) row; None if another sweep already has it.

    A failed earlier attempt is claimed again; a claim whose sending was never confirmed
    (the process died) is not, since the message may have left: at most once.
    """
    existing = session.exec(
        select(ReminderRecord).where(
            ReminderRecord.assignment_id == assignment_id,
            ReminderRecord.step_key == step_key,
            ReminderRecord.person_code == person_code,
        )
    ).first()
    if existing is not None:
        if existing.status != "failed":
            return None
        updated = session.execute(
            ReminderRecord.__table__.update()
            .where(ReminderRecord.id == existing.id, ReminderRecord.status == "failed")
            .values(status="claimed", claimed_at=utcnow())
        )
        return existing.id if updated.rowcount == 1 else None
    record = ReminderRecord(assignment_id=assignment_id, step_key=step_key, person_code=person_code)
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        return None
    return record.id


def deliver(message: Outgoing, sender: Callable[..., Delivery] = send_message) -> bool:
    """Claim, commit, send, record. Returns True if this call sent it."""
    with session_scope() as session:
        record_id = claim(session, message.assignment_id, message.step_key, message.person_code)
        person = session.get(Person, message.person_code)
        already = session.get(ReminderRecord, record_id).delivered_channels if record_id else None
    if record_id is None:
        return False
    urls = channel_urls(person.email, list(person.apprise_urls))
    outcome = send_to_channels(
        urls, message.title, message.body, already=already or (), sender=sender
    )
    with session_scope() as session:
        record = session.get(ReminderRecord, record_id)
        record.status = "sent" if outcome.ok else "failed"
        record.attempts += 1
        record.error = "; ".join(outcome.errors)
        record.delivered_channels = sorted(outcome.delivered)
        record.sent_at = utcnow() if outcome.ok else None
        session.add(record)
        assignment = session.get(SectionAssignment, message.assignment_id)
        record_event(
            session,
            "reportflow",
            "notification.sent" if outcome.ok else "notification.failed",
            assignment.cycle_id,
            step=message.step_key,
            person=message.person_code,
            channels=outcome.channels,
        )
    return outcome.ok


def division_heads(session: Session, division_code: str) -> list[Person]:
    return list(
        session.exec(
            select(Person).where(Person.division_code == division_code, Person.role == "head")
        )
    )


def directors(session: Session) -> list[Person]:
    return list(session.exec(select(Person).where(Person.role == "director")))


def division_name(session: Session, code: str) -> str:
    division = session.get(Division, code)
    return division.name if division else code


def cycle_url(flow_run_id: str | None) -> str:
    if not flow_run_id:
        return ""
    return f"{get_settings().prefect_ui_url.rstrip('/')}/runs/flow-run/{flow_run_id}"
