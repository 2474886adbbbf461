"""`reportflow remind --dry-run`: who, which step, how late, why, whether already sent; it
sends nothing and writes nothing."""

from __future__ import annotations

import datetime as dt
import os

from sqlmodel import SQLModel, select
from typer.testing import CliRunner

from reportflow.calendar import DEFAULT_LADDER, VN_TZ, WorkingCalendar, due_step
from reportflow.cli import app
from reportflow.core.config import reload_settings
from reportflow.cycle.reminding.reminders import reason_text, send_due_reminders
from reportflow.models import Person, ReminderRecord, get_engine, session_scope
from reportflow.notifications.sender import Delivery
from tests.factories import open_sample_cycle

runner = CliRunner()
SECRET = "SECRET-TOKEN-4711"


def all_rows() -> dict[str, list[str]]:
    with get_engine().connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(table.select()))
            for table in SQLModel.metadata.sorted_tables
        }


def dry_run(moment: str) -> str:
    os.environ["REPORTFLOW_FROZEN_NOW"] = moment
    reload_settings()
    result = runner.invoke(app, ["remind", "--dry-run"])
    assert result.exit_code == 0, result.output
    return result.output


def give_chanhtt_a_secret_channel() -> None:
    with session_scope() as session:
        person = session.get(Person, "chanhtt")
        person.apprise_urls = [f"tgram://123456789:{SECRET}/42"]
        session.add(person)


def line_of(output: str, section: str, person: str) -> list[str]:
    lines = output.splitlines()
    for n, line in enumerate(lines):
        if f"phần {section} " in line and f"· {person} – " in line:
            return lines[n : n + 2]
    raise AssertionError(f"no line for {section}/{person} in:\n{output}")


def test_dry_run_explains_each_reminder_and_writes_nothing(database):
    cycle_id = open_sample_cycle()
    give_chanhtt_a_secret_channel()
    before = all_rows()

    output = dry_run("2020-06-05T09:00:00+07:00")

    assert all_rows() == before
    assert line_of(output, "thanh-tra", "chanhtt") == [
        f"Kỳ {cycle_id} · phần thanh-tra của Thanh tra Sở · chanhtt – Đặng Văn Hùng "
        "(Chánh Thanh tra) · bước r1:2020-06-03:t+2 · quá hạn 2 ngày làm việc · chưa gửi",
        "    Lý do: hạn 03/6/2020, quá hạn 2 ngày làm việc; bước T+2 của thang nhắc; "
        "từ T+2 đồng gửi Giám đốc",
    ]
    assert line_of(output, "thanh-tra", "giamdoc")[0] == (
        f"Kỳ {cycle_id} · phần thanh-tra của Thanh tra Sở · giamdoc – Trần Văn Khoản "
        "(Giám đốc), đồng gửi · bước r1:2020-06-03:t+2 · quá hạn 2 ngày làm việc · chưa gửi"
    )
    assert output.splitlines()[-1] == "Tổng: 24 nhắc việc đến hạn hôm nay, 24 chưa gửi."
    assert SECRET not in output
    assert "://" not in output


def test_dry_run_shows_what_was_sent_failed_or_left_unconfirmed(database):
    open_sample_cycle()

    # The dry run reads what earlier sweeps recorded; a sender that refuses the director's mail
    # sets up a failed record exactly (the real failing channel is in test_channels).
    def director_unreachable(url: str, title: str, body: str) -> Delivery:
        return Delivery("mailto://127.0.0.1/***", "giamdoc@" not in url, "từ chối")

    moment = dt.datetime(2020, 6, 5, 9, 0, tzinfo=VN_TZ)
    assert len(send_due_reminders(now=moment, sender=director_unreachable)) == 12
    with session_scope() as session:
        record = session.exec(
            select(ReminderRecord).where(ReminderRecord.person_code == "chanhtt")
        ).one()
        record.status = "claimed"
        session.add(record)
    before = all_rows()

    output = dry_run("2020-06-05T10:00:00+07:00")

    assert all_rows() == before
    assert line_of(output, "thanh-tra", "chanhtt")[0].endswith(
        "· chưa xác nhận đã gửi (đang gửi hoặc bị ngắt giữa chừng; kênh chưa nhận sẽ được gửi lại)"
    )
    assert line_of(output, "bcvt", "tp-bcvt")[0].endswith("· đã gửi")
    assert line_of(output, "bcvt", "giamdoc")[0].endswith("· lần trước gửi lỗi, sẽ gửi lại")
    # The unconfirmed one counts as unsent: the next sweep finishes it.
    assert output.splitlines()[-1] == "Tổng: 24 nhắc việc đến hạn hôm nay, 13 chưa gửi."


def test_dry_run_outside_office_hours_says_the_sweep_would_wait(database):
    open_sample_cycle()
    output = dry_run("2020-06-04T18:00:00+07:00")
    assert line_of(output, "cntt", "tp-cntt")[1] == (
        "    Lý do: hạn 03/6/2020, quá hạn 1 ngày làm việc; bước T+1 của thang nhắc; "
        "từ T+2 sẽ đồng gửi Giám đốc"
    )
    assert (
        "12 nhắc việc chưa gửi được lúc 18:00: ngoài giờ hành chính hoặc ngày nghỉ; "
        "sẽ gửi khi quét trong giờ hành chính." in output.splitlines()
    )


def test_reason_names_the_rolled_due_date_and_the_daily_repeat():
    calendar = WorkingCalendar()
    ladder = DEFAULT_LADDER
    saturday = dt.date(2026, 5, 2)
    before_holidays = due_step(ladder, saturday, dt.date(2026, 4, 29), calendar)
    assert reason_text(saturday, before_holidays, ladder) == (
        "hạn 02/5/2026 (ngày nghỉ, tính đến hết ngày 04/5/2026), còn 1 ngày làm việc; "
        "bước T-1 của thang nhắc; từ T+2 sẽ đồng gửi Giám đốc"
    )
    monday = dt.date(2026, 5, 11)
    repeated = due_step(ladder, monday, dt.date(2026, 5, 14), calendar)
    assert reason_text(monday, repeated, ladder) == (
        "hạn 11/5/2026, quá hạn 3 ngày làm việc; bước T+2 của thang nhắc, "
        "nhắc lại mỗi ngày làm việc từ T+2; từ T+2 đồng gửi Giám đốc"
    )
