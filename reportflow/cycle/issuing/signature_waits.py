"""Runs waiting "chờ ký số" for a signer who signs on his own PC: his file, once kept, wakes the
run; the sweep wakes one whose wake was lost. Kept apart from `signing` so that the sweep does
not import the PDF signing library."""

from __future__ import annotations

import logging

from sqlmodel import func, select

from reportflow.cycle.cycles import get_cycle, signer_of
from reportflow.cycle.documents import find_document
from reportflow.cycle.wake import release_signature_wait
from reportflow.models import AuditEvent, Cycle, CycleState, session_scope

log = logging.getLogger(__name__)

WAITING = "signature.waiting"
SIGNER_SIGNED = "signature.signer"
TO_SIGN = "to-sign"
SIGNED_BY_SIGNER = "signed-by-signer"


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
