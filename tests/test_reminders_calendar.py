"""Three simulated weeks around 30/4 and 1/5/2026: the reminders that go out, day by day, and
the mails the divisions receive. The expected list is written from the calendar by hand."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace

from reportflow.calendar import VN_TZ
from reportflow.core.config import reload_settings
from reportflow.cycle.collecting.submit import submit_indicators, submit_section
from reportflow.cycle.cycles import open_cycle
from reportflow.cycle.reminding.reminders import send_due_reminders
from reportflow.definitions.loader import load_organisation
from reportflow.models import session_scope
from reportflow.notifications.messages import vn_date, vn_weekday
from reportflow.runtime.smtp_sink import message_text
from tests.factories import DATA_DIR, SAMPLE_REQUEST, section_md

REQUEST = replace(
    SAMPLE_REQUEST,
    number="412/SKHĐT-THKTKG",
    date=dt.date(2026, 4, 20),
    subject="báo cáo tình hình KT-XH 6 tháng đầu năm 2026",
    deadline=dt.date(2026, 5, 8),
    internal_deadline=dt.date(2026, 5, 5),
)
FIRST_DAY = dt.date(2026, 4, 27)
DAYS = 21

# Owners submit early (Friday 24/4; all figures too) or right after the 08:00 sweep of the given day.
EARLY = {
    "tham-muu": "chanhvp",
    "cong-tac-khac": "chanhvp",
    "danh-gia": "chanhvp",
    "dau-tu-cong": "tp-cntt",
    "cong-ttdt": "gd-ttcntt",
}
LATER = {
    dt.date(2026, 4, 28): ("ttbcxb", "tp-ttbcxb"),
    dt.date(2026, 4, 29): ("nhiem-vu", "chanhvp"),
    dt.date(2026, 5, 4): ("bcvt", "tp-bcvt"),
    dt.date(2026, 5, 6): ("cntt", "tp-cntt"),
    dt.date(2026, 5, 11): ("thanh-tra", "chanhtt"),
}

# Due Tuesday 05/5/2026. Days off: 27/4 (Giỗ Tổ, made up for Sunday 26/4), 30/4, 1/5 and the
# weekends. Working days back from the due date: 04/5 is T-1, 29/4 T-2, 28/4 T-3; forward:
# 06/5 T+1, 07/5 T+2 (director copied from here on), 08/5 T+3, 11/5 T+4.
KEY = "r1:2026-05-05:"
EXPECTED = [
    (dt.date(2026, 4, 28), "tp-ttbcxb", "ttbcxb", KEY + "t-3"),
    (dt.date(2026, 4, 28), "tp-bcvt", "bcvt", KEY + "t-3"),
    (dt.date(2026, 4, 28), "tp-cntt", "cntt", KEY + "t-3"),
    (dt.date(2026, 4, 28), "chanhtt", "thanh-tra", KEY + "t-3"),
    (dt.date(2026, 4, 28), "chanhvp", "nhiem-vu", KEY + "t-3"),
    (dt.date(2026, 5, 4), "tp-bcvt", "bcvt", KEY + "t-1"),
    (dt.date(2026, 5, 4), "tp-cntt", "cntt", KEY + "t-1"),
    (dt.date(2026, 5, 4), "chanhtt", "thanh-tra", KEY + "t-1"),
    (dt.date(2026, 5, 5), "tp-cntt", "cntt", KEY + "t0"),
    (dt.date(2026, 5, 5), "chanhtt", "thanh-tra", KEY + "t0"),
    (dt.date(2026, 5, 6), "tp-cntt", "cntt", KEY + "t+1"),
    (dt.date(2026, 5, 6), "chanhtt", "thanh-tra", KEY + "t+1"),
    (dt.date(2026, 5, 7), "chanhtt", "thanh-tra", KEY + "t+2"),
    (dt.date(2026, 5, 7), "giamdoc", "thanh-tra", KEY + "t+2"),
    (dt.date(2026, 5, 8), "chanhtt", "thanh-tra", KEY + "t+3"),
    (dt.date(2026, 5, 8), "giamdoc", "thanh-tra", KEY + "t+3"),
    (dt.date(2026, 5, 11), "chanhtt", "thanh-tra", KEY + "t+4"),
    (dt.date(2026, 5, 11), "giamdoc", "thanh-tra", KEY + "t+4"),
]
TITLES = {
    "ttbcxb": "Về Thông tin - Báo chí - Xuất bản",
    "bcvt": "Bưu chính – Viễn thông",
    "cntt": "Về Công nghệ thông tin:",
    "thanh-tra": "Về công tác thanh tra, kiểm tra, giải quyết khiếu nại, tố cáo",
    "nhiem-vu": "MỘT SỐ NHIỆM VỤ THỰC HIỆN PHÁT TRIỂN KINH TẾ - XÃ HỘI 6 THÁNG CUỐI NĂM 2026",
}
DAYS_TEXT = {
    "t-3": "Còn 3 ngày làm việc.",
    "t-1": "Còn 1 ngày làm việc.",
    "t0": "Hôm nay là ngày cuối cùng.",
    "t+1": "Đã quá hạn 1 ngày làm việc; đề nghị gửi ngay.",
    "t+2": "Đã quá hạn 2 ngày làm việc; đề nghị gửi ngay.",
    "t+3": "Đã quá hạn 3 ngày làm việc; đề nghị gửi ngay.",
    "t+4": "Đã quá hạn 4 ngày làm việc; đề nghị gửi ngay.",
}
OWNERS = {
    "ttbcxb": "tp-ttbcxb",
    "bcvt": "tp-bcvt",
    "cntt": "tp-cntt",
    "thanh-tra": "chanhtt",
    "nhiem-vu": "chanhvp",
}


def set_clock(day: dt.date, hour: int, minute: int = 0) -> None:
    moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=VN_TZ)
    os.environ["REPORTFLOW_FROZEN_NOW"] = moment.isoformat()
    reload_settings()


def sweep(day: dt.date, hour: int, minute: int = 0) -> list[tuple[dt.date, str, str, str]]:
    set_clock(day, hour, minute)
    return [(day, p.person_code, p.section_key, p.step_key) for p in send_due_reminders()]


def check_mail(message, cycle_id: int, person: str, section: str, key: str, emails) -> None:
    text = message_text(message)
    step = key.removeprefix(KEY)
    assert str(message["To"]) == emails[person]
    assert TITLES[section] in str(message["Subject"])
    assert f'Phần "{TITLES[section]}"' in text
    assert "Hạn gửi: ngày 05/5/2026 (thứ Ba)." in text
    assert DAYS_TEXT[step] in text
    assert (
        f"reportflow submit {cycle_id} {section} [tệp .docx hoặc .md] --by {OWNERS[section]}"
        in text
    )
    assert ("đồng gửi Lãnh đạo Sở" in text) == (step in {"t+2", "t+3", "t+4"})


def test_three_weeks_across_the_30_4_holidays(database, smtp, tmp_path):
    set_clock(dt.date(2026, 4, 20), 9)
    with session_scope() as session:
        cycle_id = open_cycle(session, "ktxh-6-thang", REQUEST, "chanhvp").id
    set_clock(dt.date(2026, 4, 24), 10)
    for key, person in EARLY.items():
        submit_section(cycle_id, key, section_md(tmp_path, key), person)
    for division, person in (("bcvt", "tp-bcvt"), ("ttbcxb", "tp-ttbcxb")):
        submit_indicators(cycle_id, DATA_DIR / f"indicators-{division}.yaml", person)

    emails = {p.code: p.email for p in load_organisation().people}
    sent: list[tuple[dt.date, str, str, str]] = []
    for offset in range(DAYS):
        day = FIRST_DAY + dt.timedelta(days=offset)
        if day == dt.date(2026, 5, 5):
            assert sweep(day, 3) == [], "03:00 is outside office hours"
        if day == dt.date(2026, 5, 7):
            assert sweep(day, 7, 29) == [], "07:29 is before the office opens"
        before = len(smtp.messages())
        today = sweep(day, 8)
        mails = smtp.messages()[before:]
        assert len(mails) == len(today)
        for (_, person, section, key), mail in zip(today, mails, strict=True):
            check_mail(mail, cycle_id, person, section, key, emails)
        sent += today
        if day in LATER:
            section, person = LATER[day]
            submit_section(cycle_id, section, section_md(tmp_path, section), person)

    print("\nNhắc việc đã gửi (ngày, người, phần, bước):")
    for day, person, section, key in sent:
        print(f"  {vn_date(day):>9} ({vn_weekday(day)})  {person:<10} {section:<10} {key}")
    assert sent == EXPECTED
    assert len(smtp.messages()) == len(EXPECTED)
