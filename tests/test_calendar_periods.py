"""Decree 09/2019 Article 12 cut-offs, labels and default deadlines."""

from datetime import date, datetime, timedelta
from itertools import pairwise

import pytest

from reportflow.calendar import (
    Period,
    PeriodKind,
    WorkingCalendar,
    ad_hoc_period,
    default_external_deadline,
    internal_deadline,
    period_for,
)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


@pytest.mark.parametrize(
    ("kind", "year", "index", "start", "end", "label"),
    [
        ("monthly", 2020, 5, date(2020, 4, 15), date(2020, 5, 14), "tháng 5 năm 2020"),
        ("monthly", 2021, 1, date(2020, 12, 15), date(2021, 1, 14), "tháng 1 năm 2021"),
        ("monthly", 2020, 12, date(2020, 11, 15), date(2020, 12, 14), "tháng 12 năm 2020"),
        ("monthly", 2024, 3, date(2024, 2, 15), date(2024, 3, 14), "tháng 3 năm 2024"),
        ("quarterly", 2020, 1, date(2019, 12, 15), date(2020, 3, 14), "quý I năm 2020"),
        ("quarterly", 2020, 2, date(2020, 3, 15), date(2020, 6, 14), "quý II năm 2020"),
        ("quarterly", 2020, 3, date(2020, 6, 15), date(2020, 9, 14), "quý III năm 2020"),
        ("quarterly", 2020, 4, date(2020, 9, 15), date(2020, 12, 14), "quý IV năm 2020"),
        ("first_half", 2020, None, date(2019, 12, 15), date(2020, 6, 14), "6 tháng đầu năm 2020"),
        ("nine_months", 2020, None, date(2019, 12, 15), date(2020, 9, 14), "9 tháng năm 2020"),
        ("last_half", 2020, None, date(2020, 6, 15), date(2020, 12, 14), "6 tháng cuối năm 2020"),
        ("annual", 2020, None, date(2019, 12, 15), date(2020, 12, 14), "năm 2020"),
    ],
)
def test_nd09_cutoff_table(
    kind: str, year: int, index: int | None, start: date, end: date, label: str
) -> None:
    period = period_for(kind, year, index)
    assert period == Period(PeriodKind(kind), year, index, start, end, label)


def test_kind_accepts_enum_and_string() -> None:
    assert period_for(PeriodKind.quarterly, 2020, 2) == period_for("quarterly", 2020, 2)
    assert period_for("first_half", 2020) == Period(
        PeriodKind.first_half,
        2020,
        None,
        date(2019, 12, 15),
        date(2020, 6, 14),
        "6 tháng đầu năm 2020",
    )


def test_kind_labels() -> None:
    assert PeriodKind.first_half.label_vi == "6 tháng đầu năm"
    assert PeriodKind.last_half.label_vi == "6 tháng cuối năm"
    assert PeriodKind.ad_hoc.label_vi == "đột xuất"


def test_months_tile_the_year_without_gaps() -> None:
    months = [period_for("monthly", 2025, m) for m in range(1, 13)]
    for before, after in pairwise(months):
        assert after.cutoff_start == before.cutoff_end + timedelta(days=1)
    assert months[0].cutoff_start == period_for("annual", 2025).cutoff_start
    assert months[-1].cutoff_end == period_for("annual", 2025).cutoff_end
    assert period_for("monthly", 2026, 1).cutoff_start == months[-1].cutoff_end + timedelta(1)


def test_multi_month_periods_are_unions_of_quarters() -> None:
    q = {i: period_for("quarterly", 2025, i) for i in range(1, 5)}
    spans = {
        "first_half": (q[1].cutoff_start, q[2].cutoff_end),
        "nine_months": (q[1].cutoff_start, q[3].cutoff_end),
        "last_half": (q[3].cutoff_start, q[4].cutoff_end),
        "annual": (q[1].cutoff_start, q[4].cutoff_end),
    }
    for kind, (start, end) in spans.items():
        period = period_for(kind, 2025)
        assert (period.cutoff_start, period.cutoff_end) == (start, end)


@pytest.mark.parametrize(
    ("kind", "index", "message"),
    [
        ("monthly", 13, "1..12"),
        ("monthly", 0, "1..12"),
        ("monthly", None, "needs an index"),
        ("monthly", True, "must be an int"),
        ("quarterly", 5, "1..4"),
        ("quarterly", None, "needs an index"),
        ("first_half", 1, "takes no index"),
        ("annual", 2020, "takes no index"),
        ("ad_hoc", None, "ad_hoc_period"),
        ("weekly", None, "unknown period kind 'weekly'"),
    ],
)
def test_invalid_kind_or_index(kind: str, index: int | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        period_for(kind, 2020, index)


def test_ad_hoc_period() -> None:
    period = ad_hoc_period(date(2025, 12, 20), date(2026, 1, 10), "đợt cao điểm Tết")
    assert period.kind is PeriodKind.ad_hoc
    assert period.year == 2026
    assert period.index is None
    assert (period.cutoff_start, period.cutoff_end) == (date(2025, 12, 20), date(2026, 1, 10))
    assert period.label_vi == "đợt cao điểm Tết"


@pytest.mark.parametrize(
    ("start", "end", "label", "message"),
    [
        (None, date(2026, 1, 10), "x", "explicit start and end dates"),
        (date(2026, 1, 1), None, "x", "explicit start and end dates"),
        (datetime(2026, 1, 1), date(2026, 1, 10), "x", "explicit start and end dates"),
        (date(2026, 1, 11), date(2026, 1, 10), "x", "is after"),
        (date(2026, 1, 1), date(2026, 1, 10), "  ", "non-empty label"),
    ],
)
def test_invalid_ad_hoc_period(start: date, end: date, label: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ad_hoc_period(start, end, label)


@pytest.mark.parametrize(
    ("kind", "year", "index", "deadline"),
    [
        # cut-off ends Thursday 14/5/2020 → Friday 15/5
        ("monthly", 2020, 5, date(2020, 5, 15)),
        # cut-off ends Saturday 14/6/2025 → Monday 16/6
        ("first_half", 2025, None, date(2025, 6, 16)),
        # cut-off ends Saturday 14/2/2026, then Tết 16–20/2 → Monday 23/2
        ("monthly", 2026, 2, date(2026, 2, 23)),
        # cut-off ends Sunday 14/12/2025 → Monday 15/12
        ("last_half", 2025, None, date(2025, 12, 15)),
        # cut-off ends Saturday 14/9/2024 → Monday 16/9
        ("nine_months", 2024, None, date(2024, 9, 16)),
    ],
)
def test_default_external_deadline(
    cal: WorkingCalendar, kind: str, year: int, index: int | None, deadline: date
) -> None:
    assert default_external_deadline(period_for(kind, year, index), cal) == deadline


def test_internal_deadline_counts_back_working_days(cal: WorkingCalendar) -> None:
    external = date(2026, 2, 23)  # first working day after Tết 2026
    assert internal_deadline(external, 0, cal) == external
    assert internal_deadline(external, 1, cal) == date(2026, 2, 13)
    assert internal_deadline(external, 3, cal) == date(2026, 2, 11)
    assert internal_deadline(date(2026, 5, 5), 2, cal) == date(2026, 4, 29)


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_internal_deadline_rejects_bad_counts(cal: WorkingCalendar, bad: int) -> None:
    with pytest.raises(ValueError, match="working_days_before"):
        internal_deadline(date(2026, 5, 5), bad, cal)
