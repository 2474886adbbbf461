"""The reminder sweep: which open sections are due a step of the ladder today, and sending them.

One sweep reads everything it needs in a handful of queries (open sections with their cycle,
people, divisions, definition snapshots), so planning stays fast with thousands of sections.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Template
from sqlmodel import Session, select

from reportflow.calendar.ladder import LadderStep, ResolvedStep, due_step, in_office_hours
from reportflow.calendar.working_days import VN_TZ, WorkingCalendar
from reportflow.core.clock import now as clock_now
from reportflow.core.clock import today as clock_today
from reportflow.cycle.cycles import period_with_year
from reportflow.cycle.issuing.dispatch import resume_dispatches
from reportflow.cycle.reminding.planned_messages import (
    Outgoing,
    cancel_reminders,
    cycle_url,
    deliver_message,
    resume_requests,
)
from reportflow.definitions.figure_sections import is_figures_key
from reportflow.definitions.schema import ReportDefinition
from reportflow.models import (
    Cycle,
    CycleState,
    DefinitionSnapshot,
    Division,
    Person,
    ReminderRecord,
    SectionAssignment,
    session_scope,
)
from reportflow.notifications.messages import template_environment, vn_date, vn_weekday
from reportflow.notifications.outbox import DEFAULT, RowResult
from reportflow.notifications.sender import Delivery, send_message

OPEN_SECTION_STATES = ("pending", "returned")
REMINDER_TEMPLATE = "messages/reminder.j2"
STATUS_VI = {
    "sent": "đã gửi",
    "claimed": "chưa xác nhận đã gửi (đang gửi hoặc bị ngắt giữa chừng; kênh chưa nhận sẽ được gửi lại)",
    "failed": "lần trước gửi lỗi, sẽ gửi lại",
    "cancelled": "không gửi nữa (đã qua ngày nhắc hoặc phần đã nộp)",
}
UNSENT = (None, "claimed", "failed")
NOT_SENT_VI = "chưa gửi"


@dataclass(frozen=True)
class PlannedReminder:
    cycle_id: int
    section_key: str
    division: str
    person_code: str
    step: ResolvedStep
    message: Outgoing
    due: dt.date
    """The section's due date as set; ``step.due`` is the working day it counts from."""
    person_name: str
    person_title: str
    division_name: str
    reason: str
    copied: bool
    """The director, copied on a late section rather than its owner."""

    @property
    def step_key(self) -> str:
        return self.message.step_key

    @property
    def record_key(self) -> tuple[int, str, str]:
        return (self.message.assignment_id, self.message.step_key, self.person_code)


@dataclass(frozen=True)
class OpenSection:
    """An assignment still to be written, with what its reminders need from its cycle."""

    assignment_id: int
    cycle_id: int
    section_key: str
    title: str
    division_code: str
    due: dt.date
    definition_id: int
    period_label: str
    year: int
    round: int
    flow_run_id: str | None


@dataclass(frozen=True)
class Recipient:
    code: str
    name: str
    title: str
    role: str


@dataclass(frozen=True)
class Decision:
    step: ResolvedStep
    key: str
    reason: str


def reminder_key(round_no: int, due: dt.date, step: ResolvedStep) -> str:
    """The send-once key: a section sent back gets a new round and due date, hence fresh keys."""
    return f"r{round_no}:{due.isoformat()}:{step.key}"


def offset_label(offset: int) -> str:
    return "T" if offset == 0 else f"T{offset:+d}"


def days_phrase(working_days_left: int) -> str:
    if working_days_left > 0:
        return f"còn {working_days_left} ngày làm việc"
    if working_days_left == 0:
        return "hôm nay là hạn"
    return f"quá hạn {-working_days_left} ngày làm việc"


def reason_text(due: dt.date, step: ResolvedStep, ladder: Sequence[LadderStep]) -> str:
    """Why this reminder goes out today, e.g. "hạn 03/6/2020, quá hạn 2 ngày làm việc; ..."."""
    parts = [f"hạn {vn_date(due)}"]
    if step.due != due:
        parts[0] += f" (ngày nghỉ, tính đến hết ngày {vn_date(step.due)})"
    parts[0] += f", {days_phrase(step.working_days_left)}"
    rung = f"bước {offset_label(step.step.offset)} của thang nhắc"
    if step.step.offset != -step.working_days_left:
        rung += f", nhắc lại mỗi ngày làm việc từ {offset_label(step.step.offset)}"
    parts.append(rung)
    copy_from = next((s.offset for s in ladder if s.copy_director), None)
    if copy_from is not None:
        verb = "đồng gửi" if step.copy_director else "sẽ đồng gửi"
        parts.append(f"từ {offset_label(copy_from)} {verb} Giám đốc")
    return "; ".join(parts)


def decide(
    section: OpenSection, ladder: Sequence[LadderStep], on: dt.date, calendar: WorkingCalendar
) -> Decision | None:
    step = due_step(ladder, section.due, on, calendar)
    if step is None:
        return None
    return Decision(
        step, reminder_key(section.round, section.due, step), reason_text(section.due, step, ladder)
    )


def dated(day: dt.date) -> str:
    return f"{vn_date(day)} ({vn_weekday(day)})"


def section_context(
    definition: ReportDefinition, section: OpenSection, decision: Decision, division_name: str
) -> dict[str, Any]:
    """What every recipient's message about this section shares, formatted once."""
    step = decision.step
    return {
        "report_name": definition.name,
        "period_label": period_with_year(section.period_label, section.year),
        "section_title": section.title,
        "section_key": section.section_key,
        "is_figures": is_figures_key(section.section_key),
        "division_name": division_name,
        "due_text": dated(section.due),
        "effective_due_text": "" if step.due == section.due else dated(step.due),
        "days_left": step.working_days_left,
        "cycle_id": section.cycle_id,
        "cycle_url": cycle_url(section.flow_run_id),
        "copy_director": step.copy_director,
    }


@dataclass(frozen=True)
class ReminderTemplate:
    """reminder.j2 compiled once per sweep.

    ``Template.render`` copies the environment's globals into a new dict on every call, which
    is half its cost here; they are merged once and each context is passed as shared.
    """

    template: Template
    base: dict[str, Any]

    @classmethod
    def load(cls) -> ReminderTemplate:
        template = template_environment().get_template(REMINDER_TEMPLATE)
        return cls(template, dict(template.globals))

    def render(self, variables: dict[str, Any]) -> tuple[str, str]:
        """(title, body), split as ``render_message`` splits them."""
        context = self.template.new_context({**self.base, **variables}, shared=True)
        environment = self.template.environment
        try:
            text = environment.concat(self.template.root_render_func(context))
        except Exception:
            environment.handle_exception()
        title, _, body = text.partition("\n")
        return title.strip(), body.strip() + "\n"


def person_variables(person: Recipient, submit_by: str) -> dict[str, Any]:
    return {
        "addressee": f"{person.title} {person.name}".strip(),
        "copied": person.role == "director",
        "submit_by": submit_by,
    }


def section_reminders(
    template: ReminderTemplate,
    definition: ReportDefinition,
    section: OpenSection,
    decision: Decision,
    people: Iterable[Recipient],
    division_name: str,
) -> list[PlannedReminder]:
    people = list(people)
    owner = next((p.code for p in people if p.role != "director"), "[mã người gửi]")
    context = section_context(definition, section, decision, division_name)
    planned = []
    for person in people:
        copied = person.role == "director"
        title, body = template.render(
            context | person_variables(person, owner if copied else person.code)
        )
        planned.append(
            PlannedReminder(
                cycle_id=section.cycle_id,
                section_key=section.section_key,
                division=section.division_code,
                person_code=person.code,
                step=decision.step,
                message=Outgoing(section.assignment_id, decision.key, person.code, title, body),
                due=section.due,
                person_name=person.name,
                person_title=person.title,
                division_name=division_name,
                reason=decision.reason,
                copied=copied,
            )
        )
    return planned


def recipients_for(
    heads: Sequence[Recipient], directors: Sequence[Recipient], step: ResolvedStep
) -> list[Recipient]:
    return [*heads, *directors] if step.copy_director else list(heads)


def collecting_cycle_ids() -> list[int]:
    """The cycles a sweep looks at: those still collecting sections."""
    with session_scope() as session:
        return list(
            session.exec(
                select(Cycle.id).where(Cycle.state == CycleState.COLLECTING).order_by(Cycle.id)
            )
        )


def open_sections(session: Session) -> list[OpenSection]:
    rows = session.exec(
        select(
            SectionAssignment.id,
            SectionAssignment.cycle_id,
            SectionAssignment.section_key,
            SectionAssignment.title,
            SectionAssignment.division_code,
            SectionAssignment.due,
            Cycle.definition_id,
            Cycle.period_label,
            Cycle.year,
            Cycle.round,
            Cycle.flow_run_id,
        )
        .join(Cycle, Cycle.id == SectionAssignment.cycle_id)
        .where(
            Cycle.state == CycleState.COLLECTING,
            SectionAssignment.state.in_(OPEN_SECTION_STATES),
        )
        .order_by(SectionAssignment.cycle_id, SectionAssignment.id)
    ).all()
    return [OpenSection(*row) for row in rows]


@dataclass(frozen=True)
class Directory:
    """Heads per division, directors and division names, read once per sweep."""

    heads: dict[str, list[Recipient]]
    directors: list[Recipient]
    division_names: dict[str, str]

    @classmethod
    def load(cls, session: Session) -> Directory:
        heads: dict[str, list[Recipient]] = defaultdict(list)
        directors = []
        for person in session.exec(select(Person).order_by(Person.code)):
            recipient = Recipient(person.code, person.name, person.title, person.role)
            if person.role == "head" and person.division_code:
                heads[person.division_code].append(recipient)
            elif person.role == "director":
                directors.append(recipient)
        names = {d.code: d.name for d in session.exec(select(Division))}
        return cls(dict(heads), directors, names)

    def division_name(self, code: str) -> str:
        return self.division_names.get(code, code)


def load_definitions(session: Session, ids: Iterable[int]) -> dict[int, ReportDefinition]:
    wanted = set(ids)
    if not wanted:
        return {}
    snapshots = session.exec(select(DefinitionSnapshot).where(DefinitionSnapshot.id.in_(wanted)))
    return {s.id: ReportDefinition.model_validate(s.body) for s in snapshots}


def office_open(
    definition: ReportDefinition, moment: dt.datetime, calendar: WorkingCalendar
) -> bool:
    hours = definition.office_hours
    return in_office_hours(moment, calendar, hours.start, hours.end)


def local_date(moment: dt.datetime) -> dt.date:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the sweep needs a timezone-aware moment")
    return moment.astimezone(VN_TZ).date()


def plan_reminders(
    session: Session,
    on: dt.date | None = None,
    calendar: WorkingCalendar | None = None,
    at: dt.datetime | None = None,
) -> list[PlannedReminder]:
    """Every reminder due on ``on`` for the open sections of collecting cycles.

    With ``at`` (timezone-aware), ``on`` defaults to its date in Vietnam and the cycles whose
    report's office hours do not contain ``at`` are left out.
    """
    on = on or (local_date(at) if at is not None else clock_today())
    calendar = calendar or WorkingCalendar()
    sections = open_sections(session)
    definitions = load_definitions(session, {s.definition_id for s in sections})
    ladders = {key: definition.ladder() for key, definition in definitions.items()}
    if at is not None:
        closed = {k for k, d in definitions.items() if not office_open(d, at, calendar)}
        sections = [s for s in sections if s.definition_id not in closed]
    directory = Directory.load(session)
    template = ReminderTemplate.load()
    decisions: dict[tuple[int, dt.date, int], Decision | None] = {}
    planned: list[PlannedReminder] = []
    for section in sections:
        cache_key = (section.definition_id, section.due, section.round)
        if cache_key not in decisions:
            decisions[cache_key] = decide(section, ladders[section.definition_id], on, calendar)
        decision = decisions[cache_key]
        if decision is None:
            continue
        people = recipients_for(
            directory.heads.get(section.division_code, []), directory.directors, decision.step
        )
        planned += section_reminders(
            template,
            definitions[section.definition_id],
            section,
            decision,
            people,
            directory.division_name(section.division_code),
        )
    return planned


@dataclass(frozen=True)
class Problem:
    """A message a sweep could not send (or found held by another sender), redacted."""

    what: str
    channel: str
    reason: str


def problems(what: str, rows: Iterable[RowResult]) -> list[Problem]:
    return [Problem(what, r.channel, r.error) for r in rows]


@dataclass
class SweepReport:
    sent: list[PlannedReminder] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)
    """Requests and dispatches a crash or an outage had left, sent now."""
    failed: list[Problem] = field(default_factory=list)
    held: list[Problem] = field(default_factory=list)
    """Being sent by another process, or left by one that died (sent again after its lease)."""

    @property
    def attempted(self) -> bool:
        return bool(self.sent or self.resent or self.failed or self.held)


def planned_label(p: PlannedReminder) -> str:
    return f"kỳ {p.cycle_id} · {p.section_key} · {p.person_code} · bước {p.step_key}"


def sweep(
    now: dt.datetime | None = None,
    sender: Callable[..., Delivery] = send_message,
    retry_failed: bool = False,
) -> SweepReport:
    """One pass over everything due: requests and dispatches left unsent by a crash or an
    outage, then the reminders due now (outside a report's office hours, or on a day off,
    none of its reminders). ``retry_failed`` also retries messages that failed as often as
    `outbox_max_attempts` allows."""
    moment = now or clock_now()
    limit = None if retry_failed else DEFAULT
    report = SweepReport()
    resumed = resume_requests(sender, limit)
    report.resent += resumed.sent
    for what, row in resumed.failed:
        report.failed += problems(what, [row])
    for what, row in resumed.busy:
        report.held += problems(what, [row])
    with session_scope() as session:
        planned = plan_reminders(session, at=moment)
    for p in planned:
        delivered = deliver_message(p.message, sender, limit)
        if delivered.sent:
            report.sent.append(p)
        report.failed += problems(planned_label(p), delivered.failed)
        report.held += problems(planned_label(p), delivered.busy)
    cancel_reminders(lambda: _due_today(moment))
    for cycle_id, outcome in resume_dispatches(limit).items():
        report.resent += [f"kỳ {cycle_id} · phát hành · {key}" for key in outcome.sent]
        for row in outcome.problems:
            target = report.held if row.status == "busy" else report.failed
            target += problems(f"kỳ {cycle_id} · phát hành · {row.recipient}", [row])
    return report


def _due_today(moment: dt.datetime) -> set[tuple[int, str, str]]:
    with session_scope() as session:
        return {p.record_key for p in plan_reminders(session, local_date(moment))}


def send_due_reminders(
    now: dt.datetime | None = None, sender: Callable[..., Delivery] = send_message
) -> list[PlannedReminder]:
    """Sends every due reminder not sent before; returns the ones this sweep sent."""
    return sweep(now, sender).sent


def record_statuses(
    session: Session, planned: Sequence[PlannedReminder]
) -> dict[tuple[int, str, str], str]:
    """The status of the ReminderRecord already written for each planned reminder, if any."""
    ids = sorted({p.message.assignment_id for p in planned})
    statuses = {}
    for start in range(0, len(ids), 500):
        rows = session.exec(
            select(ReminderRecord).where(ReminderRecord.assignment_id.in_(ids[start : start + 500]))
        )
        for row in rows:
            statuses[(row.assignment_id, row.step_key, row.person_code)] = row.status
    return statuses


def describe(planned: PlannedReminder, status: str | None) -> list[str]:
    who = f"{planned.person_code} – {planned.person_name}"
    if planned.person_title:
        who += f" ({planned.person_title})"
    if planned.copied:
        who += ", đồng gửi"
    return [
        f"Kỳ {planned.cycle_id} · phần {planned.section_key} của {planned.division_name} · "
        f"{who} · bước {planned.step_key} · {days_phrase(planned.step.working_days_left)} · "
        f"{STATUS_VI.get(status, NOT_SENT_VI)}",
        f"    Lý do: {planned.reason}",
    ]


def dry_run_lines(session: Session, moment: dt.datetime | None = None) -> list[str]:
    """What a sweep at ``moment`` would send, and why; reads only."""
    moment = moment or clock_now()
    on = local_date(moment)
    planned = plan_reminders(session, on)
    sendable = {p.record_key for p in plan_reminders(session, at=moment)}
    statuses = record_statuses(session, planned)
    lines = [f"Nhắc việc đến hạn ngày {vn_date(on)} (xem thử, không gửi, không ghi gì):"]
    for p in planned:
        lines += describe(p, statuses.get(p.record_key))
    pending = [p for p in planned if statuses.get(p.record_key) in UNSENT]
    held = [p for p in pending if p.record_key not in sendable]
    if held:
        lines.append(
            f"{len(held)} nhắc việc chưa gửi được lúc {moment.astimezone(VN_TZ):%H:%M}: "
            "ngoài giờ hành chính hoặc ngày nghỉ; sẽ gửi khi quét trong giờ hành chính."
        )
    lines.append(f"Tổng: {len(planned)} nhắc việc đến hạn hôm nay, {len(pending)} chưa gửi.")
    return lines
