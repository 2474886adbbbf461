"""One reminder sweep's "decide and queue" phase over 10,000 open sections, on SQLite.

Sending is left out (it is network time): the figure is `plan_reminders`, which decides the
step and the recipients of every due section and renders every message. The baseline does the
same work with a query per assignment (the assignment, its cycle, its heads, the directors, the
division), as the sweep did before, and must plan exactly the same reminders.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import cycle as round_robin
from typing import TypeVar

from sqlalchemy import insert
from sqlmodel import Session, select

from bench.results import Row
from reportflow.calendar.working_days import WorkingCalendar
from reportflow.core.config import reload_settings
from reportflow.cycle.organisation import sync_organisation
from reportflow.cycle.reminding.reminders import (
    OPEN_SECTION_STATES,
    OpenSection,
    PlannedReminder,
    Recipient,
    ReminderTemplate,
    decide,
    plan_reminders,
    recipients_for,
    section_reminders,
)
from reportflow.definitions.loader import definition_digest, load_definition, load_organisation
from reportflow.definitions.schema import ReportDefinition
from reportflow.models import (
    Cycle,
    CycleState,
    DefinitionSnapshot,
    Division,
    Person,
    SectionAssignment,
    get_engine,
    init_db,
)

CYCLES = 100
SECTIONS_PER_CYCLE = 100
SWEEP_DAY = dt.date(2026, 5, 12)
"""A Tuesday with no holiday near it."""
OFFSETS = (-3, -1, 0, 1, 2, 3)
"""Working days past the due date, one per cycle in turn: every section is due a step."""
GOAL_S = 1.0
DEFINITION = "ktxh-6-thang"

T = TypeVar("T")


@dataclass(frozen=True)
class BenchResult:
    assignments: int
    messages: int
    planned_s: float
    naive_s: float

    @property
    def ratio(self) -> float:
        return self.naive_s / self.planned_s


@contextmanager
def temporary_database() -> Iterator[None]:
    saved = os.environ.get("REPORTFLOW_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="reportflow-bench-") as folder:
        os.environ["REPORTFLOW_DATABASE_URL"] = f"sqlite:///{folder}/bench.db"
        reload_settings()
        try:
            init_db()
            yield
        finally:
            get_engine().dispose()
            if saved is None:
                os.environ.pop("REPORTFLOW_DATABASE_URL", None)
            else:
                os.environ["REPORTFLOW_DATABASE_URL"] = saved
            reload_settings()


def _snapshot(session: Session, definition: ReportDefinition) -> int:
    snapshot = DefinitionSnapshot(
        code=definition.code,
        sha256=definition_digest(definition),
        body=definition.model_dump(mode="json"),
    )
    session.add(snapshot)
    session.flush()
    return snapshot.id


def populate(cycles: int, sections: int, on: dt.date) -> None:
    """Bulk-inserts ``cycles`` collecting cycles of ``sections`` pending sections each."""
    organisation = load_organisation()
    definition = load_definition(DEFINITION)
    calendar = WorkingCalendar()
    owners = sorted({p.division for p in organisation.people if p.role == "head"})
    with Session(get_engine()) as session:
        sync_organisation(session, organisation)
        definition_id = _snapshot(session, definition)
        offsets = round_robin(OFFSETS)
        cycle_rows, section_rows = [], []
        owner_of = round_robin(owners)
        for cycle_id in range(1, cycles + 1):
            due = calendar.add_working_days(on, -next(offsets))
            cycle_rows.append(_cycle_row(cycle_id, definition_id, due))
            section_rows += [
                _section_row(cycle_id, n, next(owner_of), due) for n in range(1, sections + 1)
            ]
        connection = session.connection()
        connection.execute(insert(Cycle), cycle_rows)
        connection.execute(insert(SectionAssignment), section_rows)
        session.commit()


def _cycle_row(cycle_id: int, definition_id: int, due: dt.date) -> dict:
    return dict(
        id=cycle_id,
        definition_id=definition_id,
        definition_code=DEFINITION,
        request_number=f"{cycle_id}/BENCH",
        request_date=due - dt.timedelta(days=20),
        request_sender="Sở Kế hoạch và Đầu tư",
        request_subject="",
        period_label="6 tháng đầu năm",
        year=due.year,
        deadline=due + dt.timedelta(days=5),
        internal_deadline=due,
        state=CycleState.COLLECTING.value,
        round=1,
        flow_run_id=None,
        opened_by="chanhvp",
        opened_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )


def _section_row(cycle_id: int, number: int, division: str, due: dt.date) -> dict:
    return dict(
        cycle_id=cycle_id,
        section_key=f"muc-{number:03d}",
        title=f"Mục {number} của kỳ {cycle_id}",
        division_code=division,
        due=due,
        state="pending",
        return_comment="",
    )


def naive_plan(session: Session, on: dt.date) -> list[PlannedReminder]:
    """The same plan as the sweep made it before: queries for each assignment, no memo."""
    calendar = WorkingCalendar()
    template = ReminderTemplate.load()
    ids = session.exec(
        select(SectionAssignment.id)
        .join(Cycle, Cycle.id == SectionAssignment.cycle_id)
        .where(
            Cycle.state == CycleState.COLLECTING,
            SectionAssignment.state.in_(OPEN_SECTION_STATES),
        )
        .order_by(SectionAssignment.cycle_id, SectionAssignment.id)
    ).all()
    definitions: dict[int, ReportDefinition] = {}
    planned: list[PlannedReminder] = []
    for assignment_id in ids:
        assignment = session.exec(
            select(SectionAssignment).where(SectionAssignment.id == assignment_id)
        ).one()
        cycle = session.exec(select(Cycle).where(Cycle.id == assignment.cycle_id)).one()
        if cycle.definition_id not in definitions:
            snapshot = session.get(DefinitionSnapshot, cycle.definition_id)
            definitions[cycle.definition_id] = ReportDefinition.model_validate(snapshot.body)
        definition = definitions[cycle.definition_id]
        section = OpenSection(
            assignment.id,
            cycle.id,
            assignment.section_key,
            assignment.title,
            assignment.division_code,
            assignment.due,
            cycle.definition_id,
            cycle.period_label,
            cycle.year,
            cycle.round,
            cycle.flow_run_id,
        )
        decision = decide(section, definition.ladder(), on, calendar)
        if decision is None:
            continue
        heads = _people(session, Person.division_code == assignment.division_code, "head")
        directors = _people(session, True, "director") if decision.step.copy_director else []
        division = session.get(Division, assignment.division_code)
        planned += section_reminders(
            template,
            definition,
            section,
            decision,
            recipients_for(heads, directors, decision.step),
            division.name,
        )
    return planned


def _people(session: Session, condition, role: str) -> list[Recipient]:
    query = select(Person).where(condition, Person.role == role).order_by(Person.code)
    return [Recipient(p.code, p.name, p.title, p.role) for p in session.exec(query)]


def timed(run: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start


def _in_fresh_session(plan: Callable[[Session, dt.date], T], on: dt.date) -> T:
    with Session(get_engine()) as session:
        return plan(session, on)


def run(
    cycles: int = CYCLES, sections: int = SECTIONS_PER_CYCLE, on: dt.date = SWEEP_DAY
) -> BenchResult:
    with temporary_database():
        populate(cycles, sections, on)
        planned, planned_s = timed(lambda: _in_fresh_session(plan_reminders, on))
        naive, naive_s = timed(lambda: _in_fresh_session(naive_plan, on))
    if planned != naive:
        raise AssertionError("plan_reminders and the per-assignment baseline disagree")
    return BenchResult(cycles * sections, len(planned), planned_s, naive_s)


def main() -> list[Row]:
    result = run()
    verdict = "met" if result.planned_s < GOAL_S else "NOT MET"
    print(
        f"\nReminder sweep, decide and queue on SQLite ({result.assignments:,} open sections = "
        f"{CYCLES} cycles × {SECTIONS_PER_CYCLE}; {result.messages:,} messages rendered, none sent)"
    )
    print(f"  plan_reminders (one pass)         {result.planned_s:6.3f} s")
    print(f"  query per assignment (baseline)   {result.naive_s:6.3f} s")
    print(
        f"  ratio baseline/plan_reminders     {result.ratio:6.1f} ×   "
        f"(goal: plan_reminders < {GOAL_S:g} s: {verdict})"
    )
    return [
        Row(
            id="R1",
            figure=(
                f"reminder sweep, decide and queue, {result.assignments:,} open sections on "
                f"SQLite ({result.messages:,} messages rendered)"
            ),
            goal=f"< {GOAL_S:g} s",
            measured=result.planned_s,
            unit="s",
            baseline=result.naive_s,
            baseline_label="a query per section",
            meets_goal=result.planned_s < GOAL_S,
        )
    ]


if __name__ == "__main__":
    main()
