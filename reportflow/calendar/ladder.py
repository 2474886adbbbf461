"""The reminder escalation ladder: which reminder a late section gets on which day."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any, Literal, get_args

from reportflow.calendar.working_days import VN_TZ, WorkingCalendar

Tone = Literal["friendly", "firm", "urgent"]
TONES: tuple[str, ...] = get_args(Tone)

OFFICE_START = time(7, 30)
OFFICE_END = time(17, 0)


def offset_key(offset: int) -> str:
    """The send-once key of a day relative to the due date: "t-3", "t0", "t+2"."""
    return "t0" if offset == 0 else f"t{offset:+d}"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class LadderStep:
    """One rung of the ladder; ``offset`` is in working days from the due date.

    A ``repeat_daily`` step fires on every working day from its offset until the
    next step's offset.
    """

    key: str
    offset: int
    repeat_daily: bool = False
    copy_director: bool = False
    tone: Tone = "friendly"

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key.strip():
            raise ValueError(f"bước nhắc cần 'key' không rỗng, không phải {self.key!r}")
        if not _is_int(self.offset):
            raise ValueError(f"bước {self.key!r}: độ lệch phải là số nguyên")
        if not isinstance(self.repeat_daily, bool):
            raise ValueError(f"bước {self.key!r}: repeat_daily phải là true hoặc false")
        if not isinstance(self.copy_director, bool):
            raise ValueError(f"bước {self.key!r}: copy_director phải là true hoặc false")
        if self.tone not in TONES:
            raise ValueError(
                f"bước {self.key!r}: tone phải là một trong {', '.join(TONES)}, "
                f"không phải {self.tone!r}"
            )


@dataclass(frozen=True)
class ResolvedStep:
    """The reminder due today.

    ``key`` is unique per day relative to the due date, so a reminder can be
    recorded and sent at most once per (assignment, key). ``working_days_left``
    is positive before the due date, 0 on it and negative when overdue.
    ``due`` is the effective due date (see :func:`due_step`).
    """

    step: LadderStep
    key: str
    working_days_left: int
    copy_director: bool
    due: date

    @property
    def tone(self) -> Tone:
        return self.step.tone


DEFAULT_LADDER: tuple[LadderStep, ...] = (
    LadderStep("t-3", -3, tone="friendly"),
    LadderStep("t-1", -1, tone="friendly"),
    LadderStep("t0", 0, tone="firm"),
    LadderStep("t+1", 1, repeat_daily=True, tone="urgent"),
    LadderStep("t+2", 2, repeat_daily=True, copy_director=True, tone="urgent"),
)

_STEP_FIELDS = frozenset({"at", "key", "repeat_daily", "copy_director", "tone"})
_COPY_FROM = "copy_director_from"


def _default_tone(offset: int) -> Tone:
    if offset < 0:
        return "friendly"
    return "firm" if offset == 0 else "urgent"


def _parse_step(position: int, item: Mapping[str, Any]) -> LadderStep:
    unknown = set(item) - _STEP_FIELDS
    if unknown:
        raise ValueError(
            f"mục {position} của thang: trường lạ {', '.join(sorted(unknown))}; các trường "
            f"dùng được: {', '.join(sorted(_STEP_FIELDS))} (hoặc chỉ {_COPY_FROM})"
        )
    offset = item["at"]
    if not _is_int(offset):
        raise ValueError(
            f"mục {position} của thang: 'at' phải là số nguyên (số ngày làm việc so với hạn, "
            f"âm là trước hạn), không phải {offset!r}"
        )
    try:
        return LadderStep(
            key=item.get("key", offset_key(offset)),
            offset=offset,
            repeat_daily=item.get("repeat_daily", False),
            copy_director=item.get("copy_director", False),
            tone=item.get("tone", _default_tone(offset)),
        )
    except ValueError as exc:
        raise ValueError(f"mục {position} của thang: {exc}") from None


def _parse_copy_from(position: int, item: Mapping[str, Any]) -> int:
    if len(item) != 1:
        raise ValueError(f"mục {position} của thang: {_COPY_FROM} phải đứng riêng một mục")
    value = item[_COPY_FROM]
    if not _is_int(value):
        raise ValueError(
            f"mục {position} của thang: {_COPY_FROM} phải là số nguyên, không phải {value!r}"
        )
    return value


def _active_step(ladder: Sequence[LadderStep], offset: int) -> LadderStep | None:
    """The step with the greatest offset <= ``offset`` (ladder sorted by offset)."""
    active = None
    for step in ladder:
        if step.offset > offset:
            break
        active = step
    return active


def _apply_copy_director_from(steps: list[LadderStep], start: int) -> list[LadderStep]:
    """Copy the director on every reminder day at or after offset ``start``.

    A repeating step that spans ``start`` is split there so the days before
    ``start`` keep their original recipients.
    """
    covering = _active_step(steps, start)
    if covering is not None and covering.offset < start and covering.repeat_daily:
        steps = [*steps, replace(covering, key=offset_key(start), offset=start)]
        steps.sort(key=lambda s: s.offset)
    return [replace(step, copy_director=True) if step.offset >= start else step for step in steps]


def _check_ladder(ladder: Sequence[LadderStep]) -> list[LadderStep]:
    steps = sorted(ladder, key=lambda s: s.offset)
    if not steps:
        raise ValueError("thang nhắc việc cần ít nhất một bước")
    seen: dict[int, str] = {}
    for step in steps:
        if step.offset in seen:
            raise ValueError(
                f"các bước {seen[step.offset]!r} và {step.key!r} cùng độ lệch {step.offset}"
            )
        seen[step.offset] = step.key
    return steps


def ladder_from_config(items: list[dict[str, Any]]) -> list[LadderStep]:
    """Build a ladder from a report definition's list of items.

    Schema: each item is either a step
    ``{"at": <int>, "key": str, "repeat_daily": bool, "copy_director": bool,
    "tone": "friendly" | "firm" | "urgent"}`` where only ``at`` (working days
    from the due date, negative = before) is required; ``key`` defaults to
    "t-3"/"t0"/"t+1" and ``tone`` to friendly before, firm on and urgent after
    the due date; or, at most once, ``{"copy_director_from": <int>}``, which
    copies the director on every reminder from that offset on.

    Returns the steps sorted by offset.
    """
    if not isinstance(items, list):
        raise ValueError(
            f"thang nhắc việc phải là một danh sách, không phải {type(items).__name__}"
        )
    steps: list[LadderStep] = []
    copy_from: int | None = None
    for position, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            raise ValueError(
                f"mục {position} của thang phải là một bảng khóa: giá trị, không phải {item!r}"
            )
        if _COPY_FROM in item:
            if copy_from is not None:
                raise ValueError(f"{_COPY_FROM} chỉ được khai báo một lần trong thang")
            copy_from = _parse_copy_from(position, item)
        elif "at" in item:
            steps.append(_parse_step(position, item))
        else:
            raise ValueError(f"mục {position} của thang cần 'at' (một bước) hoặc '{_COPY_FROM}'")
    steps = _check_ladder(steps)
    if copy_from is not None:
        steps = _apply_copy_director_from(steps, copy_from)
    return steps


def due_step(
    ladder: Sequence[LadderStep],
    due: date,
    today: date,
    calendar: WorkingCalendar,
) -> ResolvedStep | None:
    """The reminder to send on ``today`` for a section due on ``due``, if any.

    Rules:

    - Reminders go out on working days only; on other days the answer is None.
    - A due date on a non-working day is moved to the next working day (the
      Civil Code 2015, Art. 148, ends such a time limit at the end of the next
      working day).
    - Offsets are counted in working days from that effective due date, so
      every step falls on a working day by construction and none is ever
      skipped or shifted: across Tết, T-3 simply lies more calendar days back.
    - On a day at offset ``k`` the step with the greatest offset <= ``k``
      applies if its offset is ``k`` or it repeats daily; otherwise nothing
      is due. A missed day is not caught up later.
    """
    steps = _check_ladder(ladder)
    if not calendar.is_working_day(today):
        return None
    effective_due = calendar.roll_forward(due)
    offset = calendar.working_days_between(effective_due, today)
    step = _active_step(steps, offset)
    if step is None or (step.offset != offset and not step.repeat_daily):
        return None
    return ResolvedStep(
        step=step,
        key=offset_key(offset),
        working_days_left=-offset,
        copy_director=step.copy_director,
        due=effective_due,
    )


def in_office_hours(
    moment: datetime,
    calendar: WorkingCalendar,
    start: time = OFFICE_START,
    end: time = OFFICE_END,
) -> bool:
    """Whether ``moment`` falls on a working day in Vietnam within [start, end).

    ``moment`` must be timezone-aware; it is converted to Asia/Ho_Chi_Minh.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("in_office_hours needs a timezone-aware datetime")
    if not start < end:
        raise ValueError(f"office hours start {start} must be before end {end}")
    local = moment.astimezone(VN_TZ)
    return calendar.is_working_day(local.date()) and start <= local.time() < end
