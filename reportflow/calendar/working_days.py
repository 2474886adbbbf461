"""Vietnamese working days: weekends, public holidays and announced day swaps."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from reportflow.core.clock import VN_TZ

if TYPE_CHECKING:
    import holidays

__all__ = ["VN_TZ", "WorkingCalendar", "default_calendar"]

_ONE_DAY = timedelta(days=1)
_WEEKEND = frozenset({5, 6})  # Saturday, Sunday


def _check_date(d: object) -> date:
    # datetime is a subclass of date but never equals one, so set lookups would miss it.
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(
            f"expected a datetime.date, got {type(d).__name__}; "
            "convert datetimes to Asia/Ho_Chi_Minh and call .date() first"
        )
    return d


class WorkingCalendar:
    """Working days of a Vietnamese state agency.

    A day is a working day unless it is a Saturday, a Sunday or a public holiday
    from the `holidays` package's VN calendar (Tết Nguyên đán, Giỗ Tổ, 30/4, 1/5,
    2/9 and their substitute days off). Precedence, highest first:

    1. ``extra_working_days`` (e.g. a compensatory Saturday announced late),
    2. ``extra_days_off`` (a mapping may give each day its name),
    3. compensatory working Saturdays the package knows (``weekend_workdays``),
    4. weekends and package holidays.

    Holiday tables are built lazily, one year at a time.
    """

    def __init__(
        self,
        extra_days_off: Iterable[date] | Mapping[date, str] = (),
        extra_working_days: Iterable[date] = (),
    ) -> None:
        if isinstance(extra_days_off, Mapping):
            self._extra_off: dict[date, str | None] = {
                _check_date(d): name for d, name in extra_days_off.items()
            }
        else:
            self._extra_off = {_check_date(d): None for d in extra_days_off}
        self._extra_work = frozenset(_check_date(d) for d in extra_working_days)
        both = self._extra_work.intersection(self._extra_off)
        if both:
            listed = ", ".join(d.isoformat() for d in sorted(both))
            raise ValueError(f"dates both in extra_days_off and extra_working_days: {listed}")
        self._years: dict[int, holidays.HolidayBase] = {}
        self._exceptions: dict[int, tuple[list[date], list[date]]] = {}

    def _year(self, year: int) -> holidays.HolidayBase:
        table = self._years.get(year)
        if table is None:
            import holidays  # 60 ms to load: only when a date is asked about, not per command

            table = holidays.country_holidays("VN", years=year, language="vi")
            self._years[year] = table
        return table

    def _package_workday(self, d: date) -> bool:
        return d in self._year(d.year).weekend_workdays

    def is_working_day(self, d: date) -> bool:
        d = _check_date(d)
        if d in self._extra_work:
            return True
        if d in self._extra_off:
            return False
        if self._package_workday(d):
            return True
        return d.weekday() not in _WEEKEND and d not in self._year(d.year)

    def holiday_name(self, d: date) -> str | None:
        """Vietnamese name of the holiday or announced day off on ``d``, else None.

        Plain weekends and days made working by a swap have no name; an extra
        day off given without a name is called "Ngày nghỉ".
        """
        d = _check_date(d)
        if d in self._extra_work:
            return None
        if d in self._extra_off:
            return self._extra_off[d] or "Ngày nghỉ"
        if self._package_workday(d):
            return None
        return self._year(d.year).get(d)

    def add_working_days(self, d: date, n: int) -> date:
        """Move ``n`` working days forward (``n < 0``: backward) from ``d``.

        ``d`` itself is never counted: the result is the ``|n|``-th working day
        strictly after (before) ``d``, whether or not ``d`` is a working day.
        So Friday + 1 and Saturday + 1 are both Monday, and Monday - 1 is Friday.
        ``n == 0`` returns ``d`` unchanged, even on a non-working day.
        """
        d = _check_date(d)
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        while remaining:
            d += step
            if self.is_working_day(d):
                remaining -= 1
        return d

    def roll_forward(self, d: date) -> date:
        """``d`` if it is a working day, else the next working day."""
        d = _check_date(d)
        while not self.is_working_day(d):
            d += _ONE_DAY
        return d

    def roll_backward(self, d: date) -> date:
        """``d`` if it is a working day, else the previous working day."""
        d = _check_date(d)
        while not self.is_working_day(d):
            d -= _ONE_DAY
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """Signed count of working days from ``a`` to ``b``.

        For ``a < b`` it counts the working days in ``(a, b]``; for ``b < a`` it
        is minus the count in ``(b, a]``; 0 when ``a == b``. This makes it
        antisymmetric and additive (``between(a, b) + between(b, c) ==
        between(a, c)``), and ``between(d, add_working_days(d, n)) == n``
        whenever ``n >= 0`` or ``d`` is a working day.
        """
        a, b = _check_date(a), _check_date(b)
        if a == b:
            return 0
        if b < a:
            return -self.working_days_between(b, a)
        count = _weekdays_through(b) - _weekdays_through(a)
        for year in range(a.year, b.year + 1):
            off_weekdays, working_weekend_days = self._year_exceptions(year)
            count -= _count_in(off_weekdays, a, b)
            count += _count_in(working_weekend_days, a, b)
        return count

    def _year_exceptions(self, year: int) -> tuple[list[date], list[date]]:
        """The year's days that break the Monday-to-Friday rule, sorted: weekdays off and
        weekend days worked. With them a count of working days is arithmetic, whatever the
        distance (`working_days_between`)."""
        found = self._exceptions.get(year)
        if found is None:
            table = self._year(year)
            candidates = {
                *table,
                *table.weekend_workdays,
                *self._extra_off,
                *self._extra_work,
            }
            in_year = sorted(d for d in candidates if d.year == year)
            found = (
                [d for d in in_year if d.weekday() not in _WEEKEND and not self.is_working_day(d)],
                [d for d in in_year if d.weekday() in _WEEKEND and self.is_working_day(d)],
            )
            self._exceptions[year] = found
        return found


def _weekdays_through(d: date) -> int:
    """Mondays to Fridays from 1 January of year 1 (a Monday) through ``d``."""
    weeks, rest = divmod(d.toordinal(), 7)
    return 5 * weeks + min(rest, 5)


def _count_in(sorted_days: list[date], a: date, b: date) -> int:
    """How many of ``sorted_days`` fall in ``(a, b]``."""
    return bisect_right(sorted_days, b) - bisect_right(sorted_days, a)


@lru_cache(maxsize=1)
def default_calendar() -> WorkingCalendar:
    """The calendar with no announced changes, shared so that its holiday tables and yearly
    exceptions are built once per process (the progress table asks it for every row)."""
    return WorkingCalendar()
