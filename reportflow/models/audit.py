"""The audit trail: who did what, when, in the same transaction as the action itself."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from reportflow.models.tables import AuditEvent


def record_event(
    session: Session, actor: str, action: str, cycle_id: int | None = None, **detail: Any
) -> AuditEvent:
    event = AuditEvent(actor=actor, action=action, cycle_id=cycle_id, detail=detail)
    session.add(event)
    return event
