"""The dates of a cycle from Decree 09/2019: cut-off period, default deadline, internal deadline."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from reportflow.calendar.periods import PeriodKind
from reportflow.core.errors import UserError
from reportflow.cycle.opening.plan import CycleRequest, plan_cycle
from reportflow.cycle.steps import request_sections
from reportflow.definitions.loader import load_definition
from reportflow.models import Cycle, session_scope
from reportflow.runtime.smtp_sink import message_text
from tests.factories import SAMPLE_REQUEST, open_sample_cycle

D = dt.date


@pytest.fixture(scope="module")
def definition():
    return load_definition("ktxh-6-thang")


def request(**changes) -> CycleRequest:
    return replace(SAMPLE_REQUEST, **changes)


def test_sample_cycle_takes_the_first_half_cut_off_and_the_requested_deadline(definition):
    plan = plan_cycle(definition, SAMPLE_REQUEST)
    assert plan.period_kind is PeriodKind.first_half
    assert (plan.period.cutoff_start, plan.period.cutoff_end) == (D(2019, 12, 15), D(2020, 6, 14))
    assert (plan.deadline, plan.internal_deadline) == (D(2020, 6, 8), D(2020, 6, 3))
    assert plan.deadline_from_request
    assert plan.warnings == [
        "hạn gửi 08/6/2020 không sau ngày chốt số liệu 14/6/2020; "
        "số liệu từ hạn gửi đến hết kỳ là số ước tính."
    ]


@pytest.mark.parametrize(
    ("kind", "index", "request_date", "cutoff", "deadline", "internal"),
    [
        # Monthly, January 2021: cut-off ends Thursday 14/01, so Friday 15/01 is the default.
        (
            "monthly",
            None,
            D(2021, 1, 4),
            (D(2020, 12, 15), D(2021, 1, 14)),
            D(2021, 1, 15),
            D(2021, 1, 12),
        ),
        # February 2021: 14/02 falls in Tết (10-16/02), the first working day after is Wed 17/02;
        # three working days back skip the whole Tết break to Fri 05/02.
        (
            "monthly",
            2,
            D(2021, 1, 20),
            (D(2021, 1, 15), D(2021, 2, 14)),
            D(2021, 2, 17),
            D(2021, 2, 5),
        ),
        # Quarter from the request date (April -> II).
        (
            "quarterly",
            None,
            D(2021, 4, 5),
            (D(2021, 3, 15), D(2021, 6, 14)),
            D(2021, 6, 15),
            D(2021, 6, 10),
        ),
        (
            "nine_months",
            None,
            D(2021, 9, 1),
            (D(2020, 12, 15), D(2021, 9, 14)),
            D(2021, 9, 15),
            D(2021, 9, 10),
        ),
        # Last half 2021: 14/12 is a Tuesday.
        (
            "last_half",
            None,
            D(2021, 11, 1),
            (D(2021, 6, 15), D(2021, 12, 14)),
            D(2021, 12, 15),
            D(2021, 12, 10),
        ),
        (
            "annual",
            None,
            D(2021, 11, 1),
            (D(2020, 12, 15), D(2021, 12, 14)),
            D(2021, 12, 15),
            D(2021, 12, 10),
        ),
    ],
)
def test_default_deadline_is_the_first_working_day_after_the_cut_off(
    definition, kind, index, request_date, cutoff, deadline, internal
):
    plan = plan_cycle(
        definition,
        request(date=request_date, deadline=None, period_kind=kind, period_index=index),
    )
    assert (plan.period.cutoff_start, plan.period.cutoff_end) == cutoff
    assert (plan.deadline, plan.internal_deadline) == (deadline, internal)
    assert not plan.deadline_from_request


def test_an_annual_report_asked_for_in_january_takes_the_year_given(definition):
    plan = plan_cycle(
        definition,
        request(date=D(2021, 1, 5), deadline=D(2021, 1, 20), period_kind="annual", year=2020),
    )
    assert (plan.year, plan.period.label_vi) == (2020, "năm 2020")
    assert (plan.period.cutoff_start, plan.period.cutoff_end) == (D(2019, 12, 15), D(2020, 12, 14))
    assert plan.warnings == []


def test_each_cycle_may_override_the_internal_offset(definition):
    five = plan_cycle(definition, request(internal_days_before=5))
    assert (five.internal_deadline, five.internal_days_before) == (D(2020, 6, 1), 5)
    zero = plan_cycle(definition, request(internal_days_before=0))
    assert zero.internal_deadline == D(2020, 6, 8)
    explicit = plan_cycle(definition, request(internal_deadline=D(2020, 6, 2)))
    assert (explicit.internal_deadline, explicit.internal_days_before) == (D(2020, 6, 2), None)


def test_ad_hoc_report_takes_explicit_dates(definition):
    plan = plan_cycle(
        definition,
        request(
            period_kind="ad_hoc",
            cutoff_start=D(2020, 4, 1),
            cutoff_end=D(2020, 4, 30),
            deadline=D(2020, 5, 20),
        ),
    )
    assert plan.period.kind is PeriodKind.ad_hoc
    assert plan.period.label_vi == "từ 01/4/2020 đến 30/4/2020"
    assert (plan.deadline, plan.internal_deadline) == (D(2020, 5, 20), D(2020, 5, 15))
    without_cutoff = plan_cycle(definition, request(period_kind="ad_hoc"))
    assert without_cutoff.period is None
    assert "không có thời gian chốt số liệu cố định" in without_cutoff.describe("UBND tỉnh")[0]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"period_kind": "ad_hoc", "deadline": None}, "cần hạn gửi cụ thể"),
        (
            {"period_kind": "ad_hoc", "cutoff_start": D(2020, 4, 1)},
            "cả ngày bắt đầu và ngày kết thúc",
        ),
        (
            {"period_kind": "ad_hoc", "cutoff_start": D(2020, 4, 30), "cutoff_end": D(2020, 4, 1)},
            "sau ngày kết thúc",
        ),
        ({"period_kind": "ad_hoc", "period_index": 3}, "không có số tháng/quý"),
        ({"period_index": 2}, "không có số tháng/quý"),
        ({"period_kind": "quarterly", "period_index": 5}, "Số quý phải từ 1 đến 4, không phải 5"),
        ({"period_kind": "weekly"}, "Loại kỳ báo cáo 'weekly' không có"),
        ({"deadline": D(2020, 5, 1)}, "sớm hơn ngày công văn"),
        ({"internal_deadline": D(2020, 6, 9)}, "phải trước hoặc bằng hạn gửi"),
        ({"internal_days_before": -2}, "phải từ 0 trở lên"),
        ({"year": 20}, "Năm của kỳ báo cáo \\(20\\) không hợp lệ"),
    ],
)
def test_bad_period_input_is_refused_in_vietnamese(definition, changes, message):
    with pytest.raises(UserError, match=message):
        plan_cycle(definition, request(**changes))


def test_opened_cycle_keeps_its_period_and_the_request_mail_names_the_cut_off(database, smtp):
    cycle_id = open_sample_cycle()
    with session_scope() as session:
        cycle = session.get(Cycle, cycle_id)
        assert (cycle.period_kind, cycle.period_label) == ("first_half", "6 tháng đầu năm")
        assert (cycle.cutoff_start, cycle.cutoff_end) == (D(2019, 12, 15), D(2020, 6, 14))
    assert request_sections(cycle_id) == len(smtp.messages()) > 0
    for mail in smtp.messages():
        assert "Số liệu tính từ ngày 15/12/2019 đến ngày 14/6/2020." in message_text(mail)


@pytest.mark.parametrize(
    ("deadline", "named"),
    [(dt.date(2020, 6, 6), "thứ Bảy"), (dt.date(2020, 9, 2), "Quốc khánh")],
)
def test_a_deadline_on_a_day_off_is_warned_about(definition, deadline, named):
    plan = plan_cycle(definition, request(deadline=deadline))
    assert (
        f"hạn gửi {deadline.day:02d}/{deadline.month}/{deadline.year} ({named}) không phải ngày "
        "làm việc; nơi nhận có thể chỉ nhận vào ngày làm việc trước đó hoặc sau đó."
    ) in plan.warnings
    weekday = plan_cycle(definition, request(deadline=dt.date(2020, 6, 8)))
    assert not any("hạn gửi" in w and "không phải ngày làm việc" in w for w in weekday.warnings)
