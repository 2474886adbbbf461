"""The reminder sweep: which open sections are due a step of the ladder today, and sending them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, select

from reportflow.calendar.ladder import DEFAULT_LADDER, ResolvedStep, due_step
from reportflow.calendar.working_days import WorkingCalendar
from reportflow.clock import today as clock_today
from reportflow.models import Cycle, CycleState, SectionAssignment, session_scope
from reportflow.notifications.messages import render_message
from reportflow.tasks.cycles import cycle_definition
from reportflow.tasks.notify import (
    Outgoing,
    cycle_url,
    deliver,
    directors,
    division_heads,
    division_name,
)

OPEN_SECTION_STATES = ("pending", "returned")


@dataclass(frozen=True)
class PlannedReminder:
    cycle_id: int
    section_key: str
    division: str
    person_code: str
    step: ResolvedStep
    message: Outgoing


def plan_reminders(
    session: Session, on: dt.date | None = None, calendar: WorkingCalendar | None = None
) -> list[PlannedReminder]:
    on = on or clock_today()
    calendar = calendar or WorkingCalendar()
    rows = session.exec(
        select(SectionAssignment, Cycle)
        .join(Cycle, Cycle.id == SectionAssignment.cycle_id)
        .where(
            Cycle.state == CycleState.COLLECTING,
            SectionAssignment.state.in_(OPEN_SECTION_STATES),
        )
        .order_by(Cycle.id, SectionAssignment.id)
    ).all()
    planned = []
    definitions = {}
    for assignment, cycle in rows:
        step = due_step(DEFAULT_LADDER, assignment.due, on, calendar)
        if step is None:
            continue
        if cycle.id not in definitions:
            definitions[cycle.id] = cycle_definition(session, cycle)
        people = division_heads(session, assignment.division_code)
        if step.copy_director:
            people += directors(session)
        for person in people:
            title, body = render_message(
                "reminder",
                report_name=definitions[cycle.id].name,
                period_label=cycle.period_label,
                person=person,
                section_title=assignment.title,
                section_key=assignment.section_key,
                division_name=division_name(session, assignment.division_code),
                due=assignment.due,
                days_left=step.working_days_left,
                cycle_id=cycle.id,
                cycle_url=cycle_url(cycle.flow_run_id),
                copy_director=step.copy_director,
            )
            planned.append(
                PlannedReminder(
                    cycle.id,
                    assignment.section_key,
                    assignment.division_code,
                    person.code,
                    step,
                    Outgoing(assignment.id, step.key, person.code, title, body),
                )
            )
    return planned


def send_due_reminders(on: dt.date | None = None) -> list[PlannedReminder]:
    """Sends every due reminder not sent before; returns the ones this sweep sent."""
    with session_scope() as session:
        planned = plan_reminders(session, on)
    return [p for p in planned if deliver(p.message)]
