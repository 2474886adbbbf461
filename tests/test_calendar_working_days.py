"""Working days against known Vietnamese holidays (2024–2026 government announcements)."""

from datetime import date, datetime, timedelta

import pytest

from reportflow.calendar import VN_TZ, WorkingCalendar


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(i) for i in range((end - start).days + 1)]


def test_timezone_is_vietnam() -> None:
    assert VN_TZ.key == "Asia/Ho_Chi_Minh"
    assert datetime(2026, 1, 1, tzinfo=VN_TZ).utcoffset() == timedelta(hours=7)


# Tết Ất Tỵ 2025: the official break ran Sat 25/01 – Sun 02/02/2025.
@pytest.mark.parametrize("d", days(date(2025, 1, 25), date(2025, 2, 2)))
def test_tet_2025_break_is_not_working(cal: WorkingCalendar, d: date) -> None:
    assert not cal.is_working_day(d)


# Tết Bính Ngọ 2026: the official break ran Sat 14/02 – Sun 22/02/2026.
@pytest.mark.parametrize("d", days(date(2026, 2, 14), date(2026, 2, 22)))
def test_tet_2026_break_is_not_working(cal: WorkingCalendar, d: date) -> None:
    assert not cal.is_working_day(d)


@pytest.mark.parametrize(
    "d",
    [
        date(2025, 1, 24),  # Friday before Tết 2025
        date(2025, 2, 3),  # Monday after Tết 2025
        date(2026, 2, 13),  # Friday before Tết 2026
        date(2026, 2, 23),  # Monday after Tết 2026
        date(2026, 4, 29),  # Wednesday before 30/4
        date(2026, 5, 4),  # Monday after 1/5
        date(2025, 3, 10),  # an ordinary Monday
    ],
)
def test_days_around_breaks_are_working(cal: WorkingCalendar, d: date) -> None:
    assert cal.is_working_day(d)


@pytest.mark.parametrize(
    "d",
    [
        date(2026, 4, 30),  # Ngày Chiến thắng, Thursday
        date(2026, 5, 1),  # Quốc tế Lao động, Friday
        date(2026, 4, 27),  # Giỗ Tổ fell on Sunday 26/4/2026, made up on Monday
        date(2025, 9, 1),  # Quốc khánh 2025: Monday 1/9 and Tuesday 2/9
        date(2025, 9, 2),
        date(2024, 9, 2),
        date(2026, 9, 2),
        date(2030, 9, 2),
        date(2025, 1, 1),  # Tết Dương lịch
        date(2025, 3, 8),  # plain Saturday
        date(2025, 3, 9),  # plain Sunday
    ],
)
def test_holidays_and_weekends_are_not_working(cal: WorkingCalendar, d: date) -> None:
    assert not cal.is_working_day(d)


def test_2025_may_swap_is_honoured(cal: WorkingCalendar) -> None:
    # 2025: Friday 02/5 was a day off, made up by working Saturday 26/4.
    assert cal.is_working_day(date(2025, 4, 26))
    assert not cal.is_working_day(date(2025, 5, 2))


def test_holiday_names_are_vietnamese(cal: WorkingCalendar) -> None:
    assert "tết nguyên đán" in (cal.holiday_name(date(2025, 1, 29)) or "").lower()
    assert "quốc khánh" in (cal.holiday_name(date(2025, 9, 2)) or "").lower()
    assert "lao động" in (cal.holiday_name(date(2026, 5, 1)) or "").lower()
    assert "hùng vương" in (cal.holiday_name(date(2025, 4, 7)) or "").lower()


@pytest.mark.parametrize(
    "d",
    [date(2025, 3, 10), date(2025, 3, 8), date(2025, 4, 26)],
    ids=["weekday", "plain-saturday", "working-saturday"],
)
def test_no_holiday_name_on_ordinary_days(cal: WorkingCalendar, d: date) -> None:
    assert cal.holiday_name(d) is None


def test_add_working_days_skips_tet_2025(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2025, 1, 24), 1) == date(2025, 2, 3)
    assert cal.add_working_days(date(2025, 1, 23), 2) == date(2025, 2, 3)
    assert cal.add_working_days(date(2025, 2, 3), -1) == date(2025, 1, 24)
    assert cal.add_working_days(date(2025, 1, 28), 1) == date(2025, 2, 3)
    assert cal.add_working_days(date(2025, 1, 28), -1) == date(2025, 1, 24)


def test_add_working_days_skips_tet_2026(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)
    assert cal.add_working_days(date(2026, 2, 13), 5) == date(2026, 2, 27)
    assert cal.add_working_days(date(2026, 2, 23), -2) == date(2026, 2, 12)


def test_add_working_days_skips_30_4_and_1_5_2026(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2026, 4, 29), 1) == date(2026, 5, 4)
    assert cal.add_working_days(date(2026, 5, 4), -1) == date(2026, 4, 29)
    # 27/4 (Giỗ Tổ made up) is skipped too: Fri 24/4 → Tue 28/4.
    assert cal.add_working_days(date(2026, 4, 24), 1) == date(2026, 4, 28)


def test_add_working_days_start_day_is_never_counted(cal: WorkingCalendar) -> None:
    friday, saturday, sunday, monday = (date(2025, 3, d) for d in (7, 8, 9, 10))
    assert cal.add_working_days(friday, 1) == monday
    assert cal.add_working_days(saturday, 1) == monday
    assert cal.add_working_days(monday, -1) == friday
    assert cal.add_working_days(sunday, -1) == friday
    assert cal.add_working_days(sunday, 0) == sunday
    assert cal.add_working_days(monday, 0) == monday


def test_working_days_between_counts_a_month(cal: WorkingCalendar) -> None:
    # January 2025: 23 weekdays, minus 1/1 and 27–31/1 (Tết) = 17.
    assert cal.working_days_between(date(2024, 12, 31), date(2025, 1, 31)) == 17
    # February 2025: 20 weekdays, Tết's last day (1/2) was a Saturday.
    assert cal.working_days_between(date(2025, 1, 31), date(2025, 2, 28)) == 20
    # May 2025: 22 weekdays, minus 1/5 and 2/5 = 20.
    assert cal.working_days_between(date(2025, 4, 30), date(2025, 5, 31)) == 20


def test_working_days_between_is_signed(cal: WorkingCalendar) -> None:
    assert cal.working_days_between(date(2025, 1, 24), date(2025, 2, 3)) == 1
    assert cal.working_days_between(date(2025, 2, 3), date(2025, 1, 24)) == -1
    assert cal.working_days_between(date(2025, 3, 7), date(2025, 3, 7)) == 0
    assert cal.working_days_between(date(2025, 3, 8), date(2025, 3, 9)) == 0


SPAN = days(date(2025, 1, 15), date(2025, 2, 12))


@pytest.mark.parametrize("n", [-7, -3, -1, 1, 2, 6])
def test_add_and_between_agree(cal: WorkingCalendar, n: int) -> None:
    for d in SPAN:
        moved = cal.add_working_days(d, n)
        assert cal.is_working_day(moved)
        assert (moved > d) == (n > 0)
        if n > 0 or cal.is_working_day(d):
            assert cal.working_days_between(d, moved) == n


def test_between_is_additive(cal: WorkingCalendar) -> None:
    a, b, c = date(2025, 1, 20), date(2025, 1, 29), date(2025, 2, 6)
    total = cal.working_days_between(a, c)
    assert total == cal.working_days_between(a, b) + cal.working_days_between(b, c)
    assert cal.working_days_between(c, a) == -total


def test_roll_forward_and_backward(cal: WorkingCalendar) -> None:
    assert cal.roll_forward(date(2025, 1, 25)) == date(2025, 2, 3)
    assert cal.roll_backward(date(2025, 1, 25)) == date(2025, 1, 24)
    assert cal.roll_forward(date(2025, 3, 10)) == date(2025, 3, 10)


def test_extra_days_off_and_extra_working_days() -> None:
    monday, saturday = date(2025, 3, 10), date(2025, 3, 8)
    cal = WorkingCalendar(
        extra_days_off={monday: "Nghỉ bù theo thông báo của UBND tỉnh"},
        extra_working_days={saturday, date(2025, 9, 1)},
    )
    assert not cal.is_working_day(monday)
    assert cal.holiday_name(monday) == "Nghỉ bù theo thông báo của UBND tỉnh"
    assert cal.is_working_day(saturday)
    assert cal.is_working_day(date(2025, 9, 1))
    assert cal.holiday_name(date(2025, 9, 1)) is None
    assert cal.add_working_days(date(2025, 3, 7), 1) == saturday
    assert cal.add_working_days(saturday, 1) == date(2025, 3, 11)


def test_unnamed_extra_day_off_gets_generic_name() -> None:
    cal = WorkingCalendar(extra_days_off={date(2025, 3, 10)})
    assert not cal.is_working_day(date(2025, 3, 10))
    assert cal.holiday_name(date(2025, 3, 10)) == "Ngày nghỉ"


def test_conflicting_extras_are_rejected() -> None:
    with pytest.raises(ValueError, match="2025-03-10"):
        WorkingCalendar(extra_days_off={date(2025, 3, 10)}, extra_working_days={date(2025, 3, 10)})


def test_datetimes_are_rejected(cal: WorkingCalendar) -> None:
    with pytest.raises(TypeError, match="Asia/Ho_Chi_Minh"):
        cal.is_working_day(datetime(2025, 3, 10, 9, 0))
    with pytest.raises(TypeError):
        WorkingCalendar(extra_days_off={datetime(2025, 3, 10, 9, 0)})


def day_walk(cal: WorkingCalendar, a: date, b: date) -> int:
    """The count as it was made before: one `is_working_day` per day from a to b."""
    if b < a:
        return -day_walk(cal, b, a)
    return sum(cal.is_working_day(a + timedelta(i)) for i in range(1, (b - a).days + 1))


ANNOUNCED = WorkingCalendar(
    extra_days_off={date(2025, 3, 10): "Nghỉ bù", date(2019, 12, 31): None},
    extra_working_days={date(2025, 3, 15), date(2025, 9, 1), date(2020, 1, 2)},
)


@pytest.mark.parametrize("cal", [WorkingCalendar(), ANNOUNCED], ids=["package", "announced"])
def test_between_counts_as_the_day_walk_did(cal: WorkingCalendar) -> None:
    import random

    rng = random.Random(20200605)
    pairs = [
        (date(2025, 1, 24), date(2025, 2, 3)),  # across Tết 2025
        (date(2026, 2, 13), date(2026, 2, 23)),  # across Tết 2026
        (date(2025, 4, 29), date(2025, 5, 5)),  # 30/4, 1/5 and the swapped days
        (date(2019, 12, 30), date(2020, 1, 3)),  # across a year, an extra day off and one worked
        (date(2025, 3, 9), date(2025, 3, 16)),  # a Monday off, a Saturday worked
        (date(2020, 6, 3), date(2020, 6, 3)),
        (date(2024, 12, 31), date(2027, 1, 1)),  # three whole years
    ]
    start = date(2018, 1, 1)
    for _ in range(1500):
        a = start + timedelta(rng.randrange(9 * 365))
        pairs.append((a, a + timedelta(rng.randrange(-400, 900))))
    for a, b in pairs:
        assert cal.working_days_between(a, b) == day_walk(cal, a, b), (a, b)
