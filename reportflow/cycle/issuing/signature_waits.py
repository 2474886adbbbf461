"""Runs waiting "chờ ký số" for a signer who signs on his own PC: his file, once kept, wakes the
run; the sweep wakes one whose wake was lost. Kept apart from `signing` so that the sweep does
not import the PDF signing library."""

from __future__ import annotations

import logging

from sqlmodel import func, select

from reportflow.core.errors import UserError
from reportflow.cycle.cycles import cycle_definition, get_cycle, period_with_year, signer_of
from reportflow.cycle.documents import find_document
from reportflow.cycle.wake import release_signature_wait
from reportflow.models import AuditEvent, Cycle, CycleState, Person, session_scope
from reportflow.notifications.messages import render_message
from reportflow.notifications.outbox import Addressee, drain, enqueue, person_channels

log = logging.getLogger(__name__)

WAITING = "signature.waiting"
SIGNER_SIGNED = "signature.signer"
TO_SIGN = "to-sign"
SIGNED_BY_SIGNER = "signed-by-signer"


class AwaitingOwnSignature(UserError):
    """The signer signs on his own PC: the run waits for his file (he has his own mail)."""


def mail_clerks(cycle_id: int, reason: str, wait_key: str) -> None:
    """Tells the clerks (role "clerk") why the cycle waits "chờ ký số" and what to run, once per
    wait. Never raises: the wait is recorded already, and `reportflow status` shows it."""
    try:
        with session_scope() as session:
            cycle = get_cycle(session, cycle_id)
            report_name = cycle_definition(session, cycle).name
            ids = []
            for clerk in session.exec(select(Person).where(Person.role == "clerk")):
                title, body = render_message(
                    "signature_wait",
                    report_name=report_name,
                    period_label=period_with_year(cycle.period_label, cycle.year),
                    person=clerk,
                    cycle_id=cycle_id,
                    reason=reason,
                    deadline=cycle.deadline,
                )
                ids += enqueue(
                    session,
                    kind="signature-wait",
                    message_key=f"signature-wait:c{cycle_id}:{wait_key}",
                    to=Addressee.person(clerk),
                    title=title,
                    body=body,
                    cycle_id=cycle_id,
                )
        drain(ids, person_channels)
    except Exception:  # noqa: BLE001 - logged; the wait itself is recorded
        log.exception("Kỳ %s: chưa báo được Văn thư về việc chờ ký số.", cycle_id)


def awaits_own_signature(cycle_id: int, person_code: str) -> bool:
    """The cycle waits for this person to sign the prepared file on his own PC."""
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id)
        return (
            cycle.state == CycleState.AWAITING_SIGNATURE
            and signer_of(session, cycle).person == person_code
            and find_document(session, cycle_id, TO_SIGN) is not None
            and find_document(session, cycle_id, SIGNED_BY_SIGNER) is None
        )


def wake_after_signed_file(cycle_id: int) -> bool:
    """The signer's file is kept already: a failure here is logged, and the sweep wakes the run."""
    try:
        return release_signature_wait(cycle_id)
    except Exception as exc:  # noqa: BLE001 - the signed file is committed whatever happens here
        log.warning(
            "Kỳ %s: đã lưu bản đã ký, nhưng chưa đánh thức được quy trình (%s); lần quét tới "
            "sẽ đánh thức.",
            cycle_id,
            str(exc)[:200],
        )
        return False


def release_signed_waits() -> list[int]:
    """The cycles whose run waited for the signer's signature and was woken now: his file came
    after the run began to wait. A run waiting for the agency's key (the signer's file came
    first) is left to the clerk's `reportflow sign retry`: a retry there may count against the
    token's PIN."""
    with session_scope() as session:
        rows = session.exec(
            select(AuditEvent.cycle_id, AuditEvent.action, func.max(AuditEvent.id))
            .join(Cycle, Cycle.id == AuditEvent.cycle_id)
            .where(
                Cycle.state == CycleState.AWAITING_SIGNATURE,
                AuditEvent.action.in_([WAITING, SIGNER_SIGNED]),
            )
            .group_by(AuditEvent.cycle_id, AuditEvent.action)
        ).all()
    latest: dict[int, dict[str, int]] = {}
    for cycle_id, action, event_id in rows:
        latest.setdefault(cycle_id, {})[action] = event_id
    due = [c for c, seen in latest.items() if seen.get(SIGNER_SIGNED, 0) > seen.get(WAITING, 0)]
    return [cycle_id for cycle_id in due if release_signature_wait(cycle_id)]
