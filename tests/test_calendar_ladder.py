"""Reminder ladder resolution over real calendar spans, config parsing, office hours."""

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import pytest

from reportflow.calendar import (
    DEFAULT_LADDER,
    VN_TZ,
    LadderStep,
    WorkingCalendar,
    due_step,
    in_office_hours,
    ladder_from_config,
    offset_key,
)

BRIEF_CONFIG: list[dict[str, Any]] = [
    {"at": -3},
    {"at": -1},
    {"at": 0},
    {"at": 1, "repeat_daily": True},
    {"copy_director_from": 2},
]


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def resolve_span(
    cal: WorkingCalendar, due: date, start: date, end: date, ladder=DEFAULT_LADDER
) -> dict[date, tuple[str, int, bool] | None]:
    out: dict[date, tuple[str, int, bool] | None] = {}
    d = start
    while d <= end:
        r = due_step(ladder, due, d, cal)
        out[d] = None if r is None else (r.key, r.working_days_left, r.copy_director)
        d += timedelta(days=1)
    return out


def test_offset_key() -> None:
    assert [offset_key(k) for k in (-3, -1, 0, 1, 12)] == ["t-3", "t-1", "t0", "t+1", "t+12"]


def test_three_weeks_around_30_4_and_1_5_2026(cal: WorkingCalendar) -> None:
    # Due Tuesday 05/5/2026. Off: 25–26/4 weekend, 27/4 Giỗ Tổ (made up),
    # 30/4 + 1/5 holidays, 2–3/5 and 9–10/5 weekends.
    # Working days back from the due date: 04/5 (T-1), 29/4 (T-2), 28/4 (T-3).
    expected = {
        date(2026, 4, 20): None,
        date(2026, 4, 21): None,
        date(2026, 4, 22): None,
        date(2026, 4, 23): None,
        date(2026, 4, 24): None,
        date(2026, 4, 25): None,
        date(2026, 4, 26): None,
        date(2026, 4, 27): None,
        date(2026, 4, 28): ("t-3", 3, False),
        date(2026, 4, 29): None,
        date(2026, 4, 30): None,
        date(2026, 5, 1): None,
        date(2026, 5, 2): None,
        date(2026, 5, 3): None,
        date(2026, 5, 4): ("t-1", 1, False),
        date(2026, 5, 5): ("t0", 0, False),
        date(2026, 5, 6): ("t+1", -1, False),
        date(2026, 5, 7): ("t+2", -2, True),
        date(2026, 5, 8): ("t+3", -3, True),
        date(2026, 5, 9): None,
        date(2026, 5, 10): None,
        date(2026, 5, 11): ("t+4", -4, True),
    }
    assert resolve_span(cal, date(2026, 5, 5), date(2026, 4, 20), date(2026, 5, 11)) == expected


def test_three_weeks_across_tet_2025(cal: WorkingCalendar) -> None:
    # Due Tuesday 04/2/2025, right after the 25/1–2/2 Tết break:
    # T-1 is Monday 03/2, T-2 Friday 24/1, T-3 Thursday 23/1.
    got = resolve_span(cal, date(2025, 2, 4), date(2025, 1, 20), date(2025, 2, 10))
    reminders = {d: v for d, v in got.items() if v is not None}
    assert reminders == {
        date(2025, 1, 23): ("t-3", 3, False),
        date(2025, 2, 3): ("t-1", 1, False),
        date(2025, 2, 4): ("t0", 0, False),
        date(2025, 2, 5): ("t+1", -1, False),
        date(2025, 2, 6): ("t+2", -2, True),
        date(2025, 2, 7): ("t+3", -3, True),
        date(2025, 2, 10): ("t+4", -4, True),
    }


def test_due_date_on_a_holiday_moves_to_next_working_day(cal: WorkingCalendar) -> None:
    # Due Thursday 30/4/2026 (holiday) → effectively Monday 04/5.
    # Working days before: 29/4 (T-1), 28/4 (T-2), 24/4 (T-3; 27/4 is off).
    got = resolve_span(cal, date(2026, 4, 30), date(2026, 4, 20), date(2026, 5, 6))
    reminders = {d: v for d, v in got.items() if v is not None}
    assert reminders == {
        date(2026, 4, 24): ("t-3", 3, False),
        date(2026, 4, 29): ("t-1", 1, False),
        date(2026, 5, 4): ("t0", 0, False),
        date(2026, 5, 5): ("t+1", -1, False),
        date(2026, 5, 6): ("t+2", -2, True),
    }
    resolved = due_step(DEFAULT_LADDER, date(2026, 4, 30), date(2026, 5, 4), cal)
    assert resolved is not None and resolved.due == date(2026, 5, 4)


def test_nothing_is_sent_on_non_working_days_even_when_overdue(cal: WorkingCalendar) -> None:
    assert due_step(DEFAULT_LADDER, date(2026, 5, 5), date(2026, 5, 16), cal) is None
    assert due_step(DEFAULT_LADDER, date(2026, 5, 5), date(2026, 5, 18), cal) is not None


def test_keys_are_unique_over_a_long_span(cal: WorkingCalendar) -> None:
    got = resolve_span(cal, date(2025, 2, 4), date(2024, 12, 1), date(2025, 4, 30))
    keys = [v[0] for v in got.values() if v is not None]
    assert len(keys) == len(set(keys))
    assert keys[:4] == ["t-3", "t-1", "t0", "t+1"]


def test_tones_of_default_ladder(cal: WorkingCalendar) -> None:
    due = date(2026, 5, 5)
    tones = {
        d: due_step(DEFAULT_LADDER, due, d, cal).tone  # type: ignore[union-attr]
        for d in (date(2026, 4, 28), date(2026, 5, 4), date(2026, 5, 5), date(2026, 5, 8))
    }
    assert list(tones.values()) == ["friendly", "friendly", "firm", "urgent"]


def test_brief_config_builds_the_default_ladder() -> None:
    assert ladder_from_config(BRIEF_CONFIG) == list(DEFAULT_LADDER)


def test_config_order_does_not_matter() -> None:
    shuffled = [BRIEF_CONFIG[4], BRIEF_CONFIG[2], BRIEF_CONFIG[3], BRIEF_CONFIG[0], BRIEF_CONFIG[1]]
    assert ladder_from_config(shuffled) == list(DEFAULT_LADDER)


def test_copy_director_from_an_exact_step() -> None:
    ladder = ladder_from_config([{"at": -1}, {"at": 0}, {"at": 3}, {"copy_director_from": 0}])
    assert [(s.offset, s.copy_director) for s in ladder] == [(-1, False), (0, True), (3, True)]


def test_step_fields_from_config(cal: WorkingCalendar) -> None:
    ladder = ladder_from_config(
        [
            {"at": -2, "key": "nhac-truoc", "tone": "firm"},
            {"at": 1, "repeat_daily": True, "copy_director": True},
        ]
    )
    assert ladder == [
        LadderStep("nhac-truoc", -2, tone="firm"),
        LadderStep("t+1", 1, repeat_daily=True, copy_director=True, tone="urgent"),
    ]
    got = resolve_span(cal, date(2026, 5, 5), date(2026, 4, 28), date(2026, 5, 7), ladder)
    reminders = {d: v for d, v in got.items() if v is not None}
    assert reminders == {
        date(2026, 4, 29): ("t-2", 2, False),
        date(2026, 5, 6): ("t+1", -1, True),
        date(2026, 5, 7): ("t+2", -2, True),
    }


def test_repeating_step_stops_at_the_next_step(cal: WorkingCalendar) -> None:
    ladder = ladder_from_config([{"at": -3, "repeat_daily": True}, {"at": 0}])
    got = resolve_span(cal, date(2025, 2, 4), date(2025, 1, 20), date(2025, 2, 6), ladder)
    reminders = {d: v[0] for d, v in got.items() if v is not None}
    assert reminders == {
        date(2025, 1, 23): "t-3",
        date(2025, 1, 24): "t-2",
        date(2025, 2, 3): "t-1",
        date(2025, 2, 4): "t0",
    }


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ({"at": 0}, "phải là một danh sách"),
        ([], "ít nhất một bước"),
        (["t-3"], "phải là một bảng khóa"),
        ([{"when": -3}], "cần 'at'"),
        ([{"at": -3, "colour": "red"}], "trường lạ"),
        ([{"at": "-3"}], "'at' phải là số nguyên"),
        ([{"at": True}], "'at' phải là số nguyên"),
        ([{"at": -3, "tone": "angry"}], "tone phải là một trong"),
        ([{"at": 1, "repeat_daily": "yes"}], "repeat_daily phải là true hoặc false"),
        ([{"at": 1, "copy_director": 1}], "copy_director phải là true hoặc false"),
        ([{"at": 1, "key": ""}], "không rỗng"),
        ([{"at": 1}, {"at": 1, "key": "again"}], "cùng độ lệch 1"),
        (
            [{"at": 1}, {"copy_director_from": 2}, {"copy_director_from": 3}],
            "chỉ được khai báo một lần",
        ),
        ([{"at": 1}, {"copy_director_from": 2, "at": 3}], "phải đứng riêng"),
        ([{"at": 1}, {"copy_director_from": "2"}], "copy_director_from phải là số nguyên"),
    ],
)
def test_invalid_config(items: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ladder_from_config(items)


def test_config_errors_name_the_item() -> None:
    with pytest.raises(ValueError, match="mục 2"):
        ladder_from_config([{"at": -1}, {"at": 1, "tone": "loud"}])


def test_due_step_rejects_duplicate_offsets(cal: WorkingCalendar) -> None:
    ladder = [LadderStep("a", 0), LadderStep("b", 0)]
    with pytest.raises(ValueError, match="cùng độ lệch 0"):
        due_step(ladder, date(2026, 5, 5), date(2026, 5, 5), cal)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 5, 5, 8, 0, tzinfo=VN_TZ), True),
        (datetime(2026, 5, 5, 7, 30, tzinfo=VN_TZ), True),
        (datetime(2026, 5, 5, 7, 29, tzinfo=VN_TZ), False),
        (datetime(2026, 5, 5, 16, 59, tzinfo=VN_TZ), True),
        (datetime(2026, 5, 5, 17, 0, tzinfo=VN_TZ), False),
        # 01:00 UTC is 08:00 in Hà Nội
        (datetime(2026, 5, 5, 1, 0, tzinfo=UTC), True),
        # 10:30 UTC is 17:30 in Hà Nội
        (datetime(2026, 5, 5, 10, 30, tzinfo=UTC), False),
        # Monday 04/5 23:45 UTC is Tuesday 05/5 06:45 in Hà Nội
        (datetime(2026, 5, 4, 23, 45, tzinfo=UTC), False),
        # Thursday 30/4 01:30 UTC is 08:30 on a public holiday
        (datetime(2026, 4, 30, 1, 30, tzinfo=UTC), False),
        # Saturday
        (datetime(2026, 5, 9, 9, 0, tzinfo=VN_TZ), False),
        # Friday 08/5 23:00 in New York (UTC-4) is Saturday 10:00 in Hà Nội
        (datetime(2026, 5, 8, 23, 0, tzinfo=timezone(timedelta(hours=-4))), False),
    ],
)
def test_in_office_hours(cal: WorkingCalendar, moment: datetime, expected: bool) -> None:
    assert in_office_hours(moment, cal) is expected


def test_in_office_hours_custom_window(cal: WorkingCalendar) -> None:
    moment = datetime(2026, 5, 5, 7, 0, tzinfo=VN_TZ)
    assert in_office_hours(moment, cal, start=time(7, 0), end=time(11, 30))
    with pytest.raises(ValueError, match="must be before"):
        in_office_hours(moment, cal, start=time(17, 0), end=time(7, 30))


def test_in_office_hours_rejects_naive_datetimes(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        in_office_hours(datetime(2026, 5, 5, 8, 0), cal)
