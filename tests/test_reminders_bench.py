"""The bench's two plans agree, and the one-pass plan renders exactly what render_message does."""

from __future__ import annotations

import datetime as dt
import os

from bench import reminders as bench
from reportflow.cycle.reminding.reminders import ReminderTemplate, plan_reminders
from reportflow.models import session_scope
from reportflow.notifications.messages import render_message
from tests.factories import open_sample_cycle


def test_small_bench_plans_the_same_as_the_per_assignment_baseline(restore_environment):
    saved = dict(os.environ)
    result = bench.run(cycles=6, sections=4)
    # Six cycles at T-3, T-1, T0, T+1, T+2, T+3: each section's head, plus the director on
    # the last two cycles. run() raises if the baseline planned anything else.
    assert (result.assignments, result.messages) == (24, 24 + 2 * 4)
    assert dict(os.environ) == saved


def test_one_pass_rendering_matches_render_message(database):
    open_sample_cycle()
    with session_scope() as session:
        planned = plan_reminders(session, dt.date(2020, 6, 5))
    director_copy = next(p for p in planned if p.person_code == "giamdoc")
    assert director_copy.message.title.startswith(
        "[Báo cáo tình hình thực hiện nhiệm vụ phát triển kinh tế - xã hội 6 tháng] "
        "Đã quá hạn 2 ngày làm việc: "
    )
    assert "--by chanhvp" in director_copy.message.body
    assert "(Thư này được đồng gửi Lãnh đạo Sở.)" in director_copy.message.body

    variables = dict(
        report_name="Báo cáo quý",
        period_label="quý I",
        section_title="Bưu chính",
        section_key="bcvt",
        is_figures=False,
        division_name="Phòng Bưu chính - Viễn thông",
        due_text="02/5/2026 (thứ Bảy)",
        effective_due_text="04/5/2026 (thứ Hai)",
        days_left=1,
        cycle_id=7,
        cycle_url="http://127.0.0.1:4200/runs/flow-run/abc",
        copy_director=False,
        addressee="Trưởng phòng BCVT Võ Thanh Hải",
        copied=False,
        submit_by="tp-bcvt",
    )
    fast = ReminderTemplate.load().render(variables)
    assert fast == render_message("reminder", **variables)
    assert "là ngày nghỉ nên hạn được tính đến hết ngày 04/5/2026 (thứ Hai)" in fast[1]
    assert "reportflow submit 7 bcvt [tệp .docx hoặc .md] --by tp-bcvt" in fast[1]

    figures = variables | {"section_key": "so-lieu-bcvt", "is_figures": True}
    fast = ReminderTemplate.load().render(figures)
    assert fast == render_message("reminder", **figures)
    assert "reportflow submit 7 --indicators [tệp .yaml] --by tp-bcvt" in fast[1]
    assert "Số liệu các chỉ tiêu của báo cáo" in fast[1]
