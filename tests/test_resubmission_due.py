"""A section sent back keeps the report's own deadline (issue 21, part 5): by default it is due
again on the earlier of two working days after the send-back and one working day before the
report is due; the director may pick another day; with no working day left, the mail, the form
and the director's summary say so."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from reportflow.cli import app
from reportflow.core.config import reload_settings
from reportflow.core.errors import UserError
from reportflow.cycle.deciding.decide import send_decision
from reportflow.cycle.deciding.decision_view import decision_description
from reportflow.cycle.deciding.resubmission import resubmission_due
from reportflow.cycle.steps import request_sections
from reportflow.demo.run import wait_until
from reportflow.models import ApprovalDecision, Person, SectionAssignment, session_scope
from reportflow.runtime.smtp_sink import message_text
from tests.test_code_lockout import awaiting

__all__ = ["awaiting"]

DEADLINE = dt.date(2020, 6, 8)  # a Monday: the sample report is due at the planning department


@pytest.mark.parametrize(
    ("sent_back", "due", "no_day_left"),
    [
        (dt.date(2020, 6, 1), dt.date(2020, 6, 3), False),  # Mon: two working days later
        (dt.date(2020, 6, 3), dt.date(2020, 6, 5), False),  # Wed: both rules give Friday
        (dt.date(2020, 6, 4), dt.date(2020, 6, 5), False),  # Thu: Friday, before the deadline
        (dt.date(2020, 6, 5), dt.date(2020, 6, 5), True),  # Fri: no working day is left
        (dt.date(2020, 6, 6), dt.date(2020, 6, 6), True),  # Sat: the same
    ],
)
def test_the_default_day_is_the_earlier_of_the_two(sent_back, due, no_day_left):
    found = resubmission_due(sent_back, DEADLINE)
    assert (found.day, found.no_day_left) == (due, no_day_left)
    assert bool(found.warning_vi()) == no_day_left


def test_a_holiday_is_not_a_working_day_left():
    """2 September 2020 (Wednesday) is National Day: a send-back on Tuesday 1 September for a
    report due on Thursday 3 September leaves no working day before it."""
    found = resubmission_due(dt.date(2020, 9, 1), dt.date(2020, 9, 3))
    assert found.no_day_left and found.day == dt.date(2020, 9, 1)
    assert "03/9/2020" in found.warning_vi()


def test_a_chosen_day_after_the_deadline_is_said_to_put_it_at_risk():
    found = resubmission_due(dt.date(2020, 6, 1), DEADLINE, chosen=dt.date(2020, 6, 9))
    assert found.day == dt.date(2020, 6, 9)
    assert "nộp muộn" in found.warning_vi()


@pytest.fixture
def frozen(request, monkeypatch) -> None:
    """The clock stopped at the parameter's moment, before the cycle is opened."""
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", request.param)
    reload_settings()


JUNE_1 = pytest.mark.parametrize("frozen", ["2020-06-01T09:00:00+07:00"], indirect=True)
JUNE_5 = pytest.mark.parametrize("frozen", ["2020-06-05T09:00:00+07:00"], indirect=True)


def _returned() -> list[tuple[str, dt.date]]:
    with session_scope() as session:
        rows = session.exec(
            select(SectionAssignment).where(SectionAssignment.state == "returned")
        ).all()
        return [(a.section_key, a.due) for a in rows]


@JUNE_5
def test_a_send_back_on_the_last_day_is_due_that_day_and_the_mail_says_so(frozen, awaiting):
    waiting = awaiting
    cycle_id, code, smtp = waiting["cycle"], waiting["code"], waiting["smtp"]
    description = decision_description(cycle_id)
    assert "Hạn nộp báo cáo có nguy cơ trễ" in description and "08/6/2020" in description
    assert "hạn gửi lại **05/6/2020** (bỏ trống ô Hạn gửi lại)" in description

    send_decision(cycle_id, code, ["bcvt=Bổ sung số liệu bưu chính quý II"], False, "")
    assert _returned() == [("bcvt", dt.date(2020, 6, 5))]
    request_sections(cycle_id)
    mail = wait_until(
        lambda: [m for m in smtp.messages() if "đề nghị chỉnh sửa" in str(m["Subject"])],
        20,
        "the send-back mail",
    )
    text = message_text(mail[0])
    assert str(mail[0]["Subject"]).endswith("] Giám đốc đề nghị chỉnh sửa: Bưu chính – Viễn thông")
    assert "Hạn gửi lại: ngày 05/6/2020" in text
    assert "Lưu ý: Không còn ngày làm việc nào trước hạn nộp báo cáo (08/6/2020)" in text


@JUNE_1
def test_the_director_picks_the_day_on_the_command_line(frozen, awaiting):
    waiting = awaiting
    cycle_id, code = waiting["cycle"], waiting["code"]
    args = ["approve", str(cycle_id), "--code", code, "--changes", "bcvt=Bổ sung", "--due"]
    refused = CliRunner().invoke(app, [*args, "31/02/2020"])
    assert refused.exit_code == 2 and "không phải ngày hợp lệ" in refused.output
    past = CliRunner().invoke(app, [*args, "29/5/2020"])
    assert past.exit_code == 2 and "đã qua" in past.output
    with session_scope() as session:
        assert session.exec(select(ApprovalDecision)).all() == []
    done = CliRunner().invoke(app, [*args, "04/6/2020"])
    assert done.exit_code == 0, done.output
    assert _returned() == [("bcvt", dt.date(2020, 6, 4))]


@JUNE_1
def test_the_default_on_the_first_day_of_the_week_is_two_working_days_later(frozen, awaiting):
    waiting = awaiting
    send_decision(waiting["cycle"], waiting["code"], ["bcvt=Bổ sung"], False, "")
    assert _returned() == [("bcvt", dt.date(2020, 6, 3))]


@JUNE_1
def test_a_due_day_without_a_send_back_is_refused_before_anything(frozen, awaiting):
    waiting = awaiting
    with pytest.raises(UserError, match="chỉ dùng khi trả lại"):
        send_decision(waiting["cycle"], waiting["code"], [], False, "", due="04/6/2020")


@JUNE_1
def test_the_send_back_mail_names_the_deputy_who_decided(frozen, awaiting):
    """The mail names the title of whoever sent the section back (issue 21, part 6)."""
    with session_scope() as session:
        director = session.get(Person, "giamdoc")
        director.title = "Phó Giám đốc"
        session.add(director)
    send_decision(awaiting["cycle"], awaiting["code"], ["bcvt=Bổ sung"], False, "")
    request_sections(awaiting["cycle"])
    mail = wait_until(
        lambda: [
            m for m in awaiting["smtp"].messages() if "đề nghị chỉnh sửa" in str(m["Subject"])
        ],
        20,
        "the send-back mail",
    )
    assert "Phó Giám đốc đề nghị chỉnh sửa" in str(mail[0]["Subject"])
    assert "Phó Giám đốc đề nghị chỉnh sửa phần" in message_text(mail[0])
