"""Numbers from the register of outgoing documents (Decree 30/2020, art. 15-16): once, after approval."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from reportflow.core.clock import today
from reportflow.core.errors import Conflict
from reportflow.cycle.cycles import cycle_definition, get_cycle, signer_of, template_context
from reportflow.definitions.loader import load_organisation
from reportflow.models import (
    Cycle,
    CycleState,
    RegisterEntry,
    RegisterOpening,
    session_scope,
)
from reportflow.models.audit import record_event
from reportflow.notifications.messages import render_string


def format_number(pattern: str, number: int) -> str:
    """Numbers below 10 get a leading zero: 05/BC-STTTT-VP."""
    return pattern.replace("{number}", f"{number:02d}")


def next_number(session: Session, issuing_body: str, year: int) -> int:
    used = session.exec(
        select(func.max(RegisterEntry.number)).where(
            RegisterEntry.issuing_body == issuing_body, RegisterEntry.year == year
        )
    ).one()
    opening = session.exec(
        select(RegisterOpening.last_number).where(
            RegisterOpening.issuing_body == issuing_body, RegisterOpening.year == year
        )
    ).first()
    return max(used or 0, opening or 0) + 1


def _register(session: Session, cycle: Cycle) -> RegisterEntry:
    existing = session.exec(select(RegisterEntry).where(RegisterEntry.cycle_id == cycle.id)).first()
    if existing:
        return existing
    if cycle.state != CycleState.APPROVED:
        raise Conflict(f"Kỳ báo cáo số {cycle.id} chưa được phê duyệt; không cấp số.")
    definition = cycle_definition(session, cycle)
    organisation = load_organisation()
    issued_on = today()
    number = next_number(session, organisation.issuing_body, issued_on.year)
    spec = signer_of(session, cycle)
    signer = next(p for p in organisation.people if p.code == spec.person)
    entry = RegisterEntry(
        issuing_body=organisation.issuing_body,
        year=issued_on.year,
        number=number,
        number_text=format_number(definition.number_pattern, number),
        doc_type=definition.doc_type,
        summary=render_string(definition.summary, **template_context(cycle)),
        signer=signer.name,
        issued_on=issued_on,
        recipients=[r.label for r in definition.recipients],
        archive=definition.archive_line.strip(),
        cycle_id=cycle.id,
    )
    session.add(entry)
    cycle.state = CycleState.NUMBERED
    session.add(cycle)
    record_event(
        session,
        "reportflow",
        "register.numbered",
        cycle.id,
        number=entry.number_text,
        signer=signer.name,
        signer_title=" ".join(spec.title_lines.split()),
    )
    session.flush()
    return entry


def assign_number(cycle_id: int, attempts: int = 5) -> RegisterEntry:
    """Idempotent: a cycle keeps the number it got; two cycles racing for one number retry."""
    for attempt in range(attempts):
        try:
            with session_scope() as session:
                return _register(session, get_cycle(session, cycle_id, for_update=True))
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def open_register(issuing_body: str, year: int, last_number: int) -> None:
    """Records the last number used before reportflow kept the register (installing mid-year)."""
    with session_scope() as session:
        row = session.exec(
            select(RegisterOpening).where(
                RegisterOpening.issuing_body == issuing_body, RegisterOpening.year == year
            )
        ).first() or RegisterOpening(issuing_body=issuing_body, year=year, last_number=0)
        row.last_number = last_number
        session.add(row)
        record_event(session, "admin", "register.opened", None, year=year, last_number=last_number)
