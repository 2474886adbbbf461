"""The ladder and the office hours come from the report definition; a returned section starts afresh."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from sqlmodel import select

from reportflow.calendar import VN_TZ, LadderStep
from reportflow.core.config import SAMPLES_DIR
from reportflow.cycle.cycles import open_cycle
from reportflow.cycle.reminding.reminders import plan_reminders, send_due_reminders
from reportflow.definitions.loader import load_definition
from reportflow.definitions.schema import DefinitionError
from reportflow.models import Cycle, ReminderRecord, SectionAssignment, session_scope
from reportflow.notifications.sender import Delivery
from tests.factories import SAMPLE_REQUEST, open_sample_cycle, use_definitions

SAMPLE = SAMPLES_DIR / "ktxh-6-thang.yaml"
CUSTOM_LADDER = [
    {"at": -2},
    {"at": 1, "repeat_daily": True},
    {"copy_director_from": 3},
]


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment in June 2020, Hà Nội time."""
    return dt.datetime(2020, 6, day, hour, minute, tzinfo=VN_TZ)


class Recorder:
    """A sender that accepts everything and remembers (url, title).

    These tests are about which steps fire for whom and when, over many simulated days; real
    delivery through the SMTP sink is covered by test_reminders_calendar and _exactly_once."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def __call__(self, url: str, title: str, body: str) -> Delivery:
        self.sent.append((url, title))
        return Delivery("mailto://test/***", True)


def write_definition(folder: Path, code: str, text_extra: str = "", **fields) -> None:
    data = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    data.update(code=code, **fields)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False) + text_extra
    (folder / f"{code}.yaml").write_text(text, encoding="utf-8")


def open_custom_cycle(code: str) -> int:
    with session_scope() as session:
        return open_cycle(session, code, SAMPLE_REQUEST, "chanhvp").id


def reminders_by_day(cycle_id: int, section: str, days: list[dt.date]) -> dict:
    found = {}
    with session_scope() as session:
        for day in days:
            planned = [
                p
                for p in plan_reminders(session, day)
                if p.cycle_id == cycle_id and p.section_key == section
            ]
            if planned:
                found[day] = (planned[0].step.key, [p.person_code for p in planned])
    return found


FRIDAY_29_5_TO_MONDAY_8_6 = [dt.date(2020, 5, 29) + dt.timedelta(days=n) for n in range(11)]


def test_definition_without_ladder_uses_the_default():
    definition = load_definition("ktxh-6-thang")
    # The default: T-3, T-1, the due day, every working day once overdue, the
    # director copied from T+2; office hours 07:30-17:00.
    assert definition.ladder() == (
        LadderStep("t-3", -3, tone="friendly"),
        LadderStep("t-1", -1, tone="friendly"),
        LadderStep("t0", 0, tone="firm"),
        LadderStep("t+1", 1, repeat_daily=True, tone="urgent"),
        LadderStep("t+2", 2, repeat_daily=True, copy_director=True, tone="urgent"),
    )
    assert (definition.office_hours.start, definition.office_hours.end) == (
        dt.time(7, 30),
        dt.time(17, 0),
    )


def test_plan_follows_each_cycles_own_ladder(database, tmp_path):
    write_definition(tmp_path, "custom-ladder", reminder_ladder=CUSTOM_LADDER)
    use_definitions(tmp_path)
    assert load_definition("custom-ladder").ladder() == (
        LadderStep("t-2", -2, tone="friendly"),
        LadderStep("t+1", 1, repeat_daily=True, tone="urgent"),
        LadderStep("t+3", 3, repeat_daily=True, copy_director=True, tone="urgent"),
    )
    default_id = open_sample_cycle()
    custom_id = open_custom_cycle("custom-ladder")

    # Due Wednesday 03/6/2020: 29/5 is T-3, 01/6 T-2, 02/6 T-1, 04/6 T+1, 05/6 T+2, 08/6 T+3.
    assert reminders_by_day(custom_id, "thanh-tra", FRIDAY_29_5_TO_MONDAY_8_6) == {
        dt.date(2020, 6, 1): ("t-2", ["chanhtt"]),
        dt.date(2020, 6, 4): ("t+1", ["chanhtt"]),
        dt.date(2020, 6, 5): ("t+2", ["chanhtt"]),
        dt.date(2020, 6, 8): ("t+3", ["chanhtt", "giamdoc"]),
    }
    assert reminders_by_day(default_id, "thanh-tra", FRIDAY_29_5_TO_MONDAY_8_6) == {
        dt.date(2020, 5, 29): ("t-3", ["chanhtt"]),
        dt.date(2020, 6, 2): ("t-1", ["chanhtt"]),
        dt.date(2020, 6, 3): ("t0", ["chanhtt"]),
        dt.date(2020, 6, 4): ("t+1", ["chanhtt"]),
        dt.date(2020, 6, 5): ("t+2", ["chanhtt", "giamdoc"]),
        dt.date(2020, 6, 8): ("t+3", ["chanhtt", "giamdoc"]),
    }


def test_default_office_hours_bound_the_sweep(database):
    open_sample_cycle()
    with session_scope() as session:
        due_count = {
            moment.strftime("%H:%M"): len(plan_reminders(session, at=moment))
            for moment in (at(5, 7, 29), at(5, 7, 30), at(5, 16, 59), at(5, 17, 0))
        }
    assert due_count == {"07:29": 0, "07:30": 24, "16:59": 24, "17:00": 0}

    recorder = Recorder()
    assert send_due_reminders(now=at(5, 3), sender=recorder) == []
    assert send_due_reminders(now=at(5, 17, 30), sender=recorder) == []
    assert recorder.sent == []
    with session_scope() as session:
        assert session.exec(select(ReminderRecord)).all() == []


def test_office_hours_are_per_definition(database, tmp_path):
    write_definition(tmp_path, "morning-only", office_hours={"start": "08:00", "end": "11:30"})
    use_definitions(tmp_path)
    default_id = open_sample_cycle()
    morning_id = open_custom_cycle("morning-only")

    def swept(moment: dt.datetime) -> set[int]:
        return {p.cycle_id for p in send_due_reminders(now=moment, sender=Recorder())}

    assert swept(at(5, 7, 45)) == {default_id}
    assert swept(at(5, 11, 30)) == set()
    assert swept(at(5, 11, 29)) == {morning_id}


def test_the_day_is_the_date_in_vietnam(database, tmp_path):
    write_definition(tmp_path, "early", office_hours={"start": "06:00", "end": "17:00"})
    use_definitions(tmp_path)
    open_custom_cycle("early")
    # 23:30 UTC on 04/6 is 06:30 on Friday 05/6 in Hà Nội: T+2, not Thursday's T+1.
    sent = send_due_reminders(now=dt.datetime(2020, 6, 4, 23, 30, tzinfo=dt.UTC), sender=Recorder())
    assert {p.step_key for p in sent} == {"r1:2020-06-03:t+2"}


def test_a_naive_moment_is_refused(database):
    with pytest.raises(ValueError, match="timezone-aware"):
        send_due_reminders(now=dt.datetime(2020, 6, 5, 9, 0))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("reminder_ladder: [{at: soon}]\n", "thang nhắc việc không hợp lệ"),
        ("reminder_ladder: [{at: 1, when: later}]\n", "thang nhắc việc không hợp lệ"),
        ("office_hours: {start: '07:30', end: 17:00}\n", "dấu nháy"),
        ("office_hours: {start: '17:00', end: '07:30'}\n", "phải trước giờ kết thúc"),
        ("office_hours: {start: '7h30', end: '17:00'}\n", "không hợp lệ"),
    ],
)
def test_bad_ladder_or_office_hours_is_refused_on_load(
    tmp_path, restore_environment, extra, message
):
    write_definition(tmp_path, "bad", text_extra=extra)
    use_definitions(tmp_path)
    with pytest.raises(DefinitionError, match=message):
        load_definition("bad")


def test_a_returned_section_gets_a_fresh_ladder(database):
    cycle_id = open_sample_cycle()
    recorder = Recorder()
    send_due_reminders(now=at(5, 9), sender=recorder)
    with session_scope() as session:
        cycle = session.get(Cycle, cycle_id)
        for assignment in session.exec(
            select(SectionAssignment).where(SectionAssignment.cycle_id == cycle_id)
        ):
            if assignment.section_key == "thanh-tra":
                assignment.state, assignment.due = "returned", dt.date(2020, 6, 9)
            else:
                assignment.state = "submitted"
            session.add(assignment)
        cycle.round = 2
        session.add(cycle)

    # New due Tuesday 09/6: 10/6 is T+1, 11/6 T+2 again, with the director copied again.
    sent = send_due_reminders(now=at(11, 9), sender=recorder)
    assert [(p.person_code, p.step_key) for p in sent] == [
        ("chanhtt", "r2:2020-06-09:t+2"),
        ("giamdoc", "r2:2020-06-09:t+2"),
    ]
    with session_scope() as session:
        keys = session.exec(
            select(ReminderRecord.step_key, ReminderRecord.person_code)
            .join(SectionAssignment, SectionAssignment.id == ReminderRecord.assignment_id)
            .where(SectionAssignment.section_key == "thanh-tra")
        ).all()
    assert sorted(keys) == [
        ("r1:2020-06-03:t+2", "chanhtt"),
        ("r1:2020-06-03:t+2", "giamdoc"),
        ("r2:2020-06-09:t+2", "chanhtt"),
        ("r2:2020-06-09:t+2", "giamdoc"),
    ]
