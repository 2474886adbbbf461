"""Reporting periods and data cut-offs of Decree 09/2019/NĐ-CP, Article 12."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from reportflow.calendar.working_days import WorkingCalendar

CUTOFF_DAY_START = 15
CUTOFF_DAY_END = 14

_ROMAN_QUARTERS = ("I", "II", "III", "IV")


class PeriodKind(StrEnum):
    monthly = "monthly"
    quarterly = "quarterly"
    first_half = "first_half"
    nine_months = "nine_months"
    last_half = "last_half"
    annual = "annual"
    ad_hoc = "ad_hoc"

    @property
    def label_vi(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    PeriodKind.monthly: "tháng",
    PeriodKind.quarterly: "quý",
    PeriodKind.first_half: "6 tháng đầu năm",
    PeriodKind.nine_months: "9 tháng",
    PeriodKind.last_half: "6 tháng cuối năm",
    PeriodKind.annual: "năm",
    PeriodKind.ad_hoc: "đột xuất",
}


@dataclass(frozen=True)
class Period:
    """A reporting period; the cut-off dates are both inclusive."""

    kind: PeriodKind
    year: int
    index: int | None
    cutoff_start: date
    cutoff_end: date
    label_vi: str

    def __post_init__(self) -> None:
        if self.cutoff_start > self.cutoff_end:
            raise ValueError(
                f"cut-off start {self.cutoff_start.isoformat()} is after "
                f"cut-off end {self.cutoff_end.isoformat()}"
            )
        if not isinstance(self.label_vi, str) or not self.label_vi.strip():
            raise ValueError("a period needs a non-empty label_vi")


def _is_plain_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _cutoff_start(year: int, month: int) -> date:
    """The 15th of the month before ``month`` (15/12 of ``year - 1`` for January)."""
    if month == 1:
        return date(year - 1, 12, CUTOFF_DAY_START)
    return date(year, month - 1, CUTOFF_DAY_START)


def _cutoff_end(year: int, month: int) -> date:
    return date(year, month, CUTOFF_DAY_END)


def _parse_kind(kind: PeriodKind | str) -> PeriodKind:
    try:
        return PeriodKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in PeriodKind)
        raise ValueError(f"unknown period kind {kind!r}; expected one of: {allowed}") from None


def _check_index(kind: PeriodKind, index: int | None, upper: int) -> int:
    if index is None:
        raise ValueError(f"a {kind.value} period needs an index (1..{upper})")
    if isinstance(index, bool) or not isinstance(index, int):
        raise ValueError(f"{kind.value} index must be an int, got {index!r}")
    if not 1 <= index <= upper:
        raise ValueError(f"{kind.value} index must be 1..{upper}, got {index}")
    return index


def _monthly(year: int, month: int) -> Period:
    return Period(
        kind=PeriodKind.monthly,
        year=year,
        index=month,
        cutoff_start=_cutoff_start(year, month),
        cutoff_end=_cutoff_end(year, month),
        label_vi=f"tháng {month} năm {year}",
    )


def _quarterly(year: int, quarter: int) -> Period:
    first_month = 3 * quarter - 2
    return Period(
        kind=PeriodKind.quarterly,
        year=year,
        index=quarter,
        cutoff_start=_cutoff_start(year, first_month),
        cutoff_end=_cutoff_end(year, 3 * quarter),
        label_vi=f"quý {_ROMAN_QUARTERS[quarter - 1]} năm {year}",
    )


# kind -> (first month, last month, label template)
_MULTI_MONTH = {
    PeriodKind.first_half: (1, 6, "6 tháng đầu năm {year}"),
    PeriodKind.nine_months: (1, 9, "9 tháng năm {year}"),
    PeriodKind.last_half: (7, 12, "6 tháng cuối năm {year}"),
    PeriodKind.annual: (1, 12, "năm {year}"),
}


def period_for(kind: PeriodKind | str, year: int, index: int | None = None) -> Period:
    """The Decree 09/2019 period ``kind`` of ``year``.

    ``index`` is the month (1..12) for monthly periods and the quarter (1..4)
    for quarterly ones, and must be omitted otherwise. Ad hoc periods have no
    fixed cut-off: use :func:`ad_hoc_period`.
    """
    kind = _parse_kind(kind)
    if isinstance(year, bool) or not isinstance(year, int):
        raise ValueError(f"year must be an int, got {year!r}")
    if kind is PeriodKind.monthly:
        return _monthly(year, _check_index(kind, index, 12))
    if kind is PeriodKind.quarterly:
        return _quarterly(year, _check_index(kind, index, 4))
    if kind is PeriodKind.ad_hoc:
        raise ValueError(
            "an ad_hoc period has no fixed cut-off; "
            "use ad_hoc_period(start, end, label) with explicit dates"
        )
    if index is not None:
        raise ValueError(f"a {kind.value} period takes no index, got {index!r}")
    first_month, last_month, label = _MULTI_MONTH[kind]
    return Period(
        kind=kind,
        year=year,
        index=None,
        cutoff_start=_cutoff_start(year, first_month),
        cutoff_end=_cutoff_end(year, last_month),
        label_vi=label.format(year=year),
    )


def ad_hoc_period(start: date, end: date, label: str) -> Period:
    """An ad hoc ("đột xuất") period with explicit inclusive cut-off dates.

    Its ``year`` is the year of ``end``.
    """
    if not (_is_plain_date(start) and _is_plain_date(end)):
        raise ValueError("an ad_hoc period needs explicit start and end dates")
    return Period(
        kind=PeriodKind.ad_hoc,
        year=end.year,
        index=None,
        cutoff_start=start,
        cutoff_end=end,
        label_vi=label,
    )


def default_external_deadline(period: Period, calendar: WorkingCalendar) -> date:
    """The earliest sending date that leaves 1 working day after the cut-off.

    Decree 09/2019 wants at least one working day between the end of the data
    cut-off and the sending deadline, so the deadline is the first working day
    strictly after ``cutoff_end``. A superior body may well set a later date
    (e.g. provinces report to the Government by the 25th); this is only the
    default.
    """
    return calendar.add_working_days(period.cutoff_end, 1)


def internal_deadline(external: date, working_days_before: int, calendar: WorkingCalendar) -> date:
    """The deadline for internal units: ``external`` moved back that many working days."""
    if isinstance(working_days_before, bool) or not isinstance(working_days_before, int):
        raise ValueError(f"working_days_before must be an int, got {working_days_before!r}")
    if working_days_before < 0:
        raise ValueError(f"working_days_before must be >= 0, got {working_days_before}")
    return calendar.add_working_days(external, -working_days_before)
