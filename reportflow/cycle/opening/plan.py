"""The dates of a cycle, worked out before anything is written: the Decree 09/2019 data cut-off,
the sending deadline and the divisions' internal deadline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from reportflow.calendar.periods import (
    Period,
    PeriodKind,
    ad_hoc_period,
    default_external_deadline,
    period_for,
)
from reportflow.calendar.working_days import WorkingCalendar
from reportflow.core.errors import UserError
from reportflow.definitions.schema import ReportDefinition
from reportflow.notifications.messages import vn_date, vn_weekday

_INDEXED = {PeriodKind.monthly: 12, PeriodKind.quarterly: 4}


@dataclass(frozen=True)
class CycleRequest:
    """The incoming letter that asks for the report, and what the office sets for this cycle."""

    number: str
    date: dt.date
    sender: str
    subject: str
    deadline: dt.date | None = None
    """None: the Decree 09 default, the first working day after the cut-off."""
    period_label: str = ""
    year: int | None = None
    internal_deadline: dt.date | None = None
    internal_days_before: int | None = None
    """Overrides the definition's working days between the internal and the external deadline."""
    period_kind: str | None = None
    """None: the definition's period kind."""
    period_index: int | None = None
    """The month (monthly) or quarter (quarterly); None: the one the request date falls in."""
    cutoff_start: dt.date | None = None
    cutoff_end: dt.date | None = None
    """Explicit cut-off of an ad-hoc (đột xuất) report."""


@dataclass(frozen=True)
class CyclePlan:
    period_kind: PeriodKind
    year: int
    period: Period | None
    """None for an ad-hoc report given no cut-off dates."""
    deadline: dt.date
    deadline_from_request: bool
    internal_deadline: dt.date
    internal_days_before: int | None
    """None when the internal deadline was given as a date."""
    warnings: list[str] = field(default_factory=list)

    def describe(self, sender: str) -> list[str]:
        """The plan in Vietnamese, as `reportflow cycle open` prints it before committing."""
        if self.period is None:
            lines = ["Kỳ báo cáo: đột xuất, không có thời gian chốt số liệu cố định"]
        elif self.period_kind is PeriodKind.ad_hoc:
            lines = [
                f"Kỳ báo cáo: đột xuất; chốt số liệu từ {_day(self.period.cutoff_start)} "
                f"đến {_day(self.period.cutoff_end)} (theo công văn yêu cầu)"
            ]
        else:
            lines = [
                f"Kỳ báo cáo: {self.period.label_vi}; chốt số liệu từ "
                f"{_day(self.period.cutoff_start)} đến {_day(self.period.cutoff_end)} "
                "(Nghị định 09/2019/NĐ-CP, Điều 12)"
            ]
        source = (
            "theo công văn yêu cầu"
            if self.deadline_from_request
            else "mặc định: ngày làm việc đầu tiên sau ngày chốt số liệu"
        )
        lines.append(f"Hạn gửi {sender}: {_day(self.deadline)} ({source})")
        rule = (
            "do Văn phòng đặt"
            if self.internal_days_before is None
            else f"{self.internal_days_before} ngày làm việc trước hạn gửi"
        )
        lines.append(f"Hạn nội bộ của các phòng: {_day(self.internal_deadline)} ({rule})")
        lines += [f"Lưu ý: {warning}" for warning in self.warnings]
        return lines


def _day(value: dt.date) -> str:
    return f"{vn_weekday(value)}, {vn_date(value)}"


def _kind(request: CycleRequest, definition: ReportDefinition) -> PeriodKind:
    value = request.period_kind or definition.period_kind
    try:
        return PeriodKind(value)
    except ValueError:
        known = ", ".join(f"{k.value} ({k.label_vi})" for k in PeriodKind)
        raise UserError(f"Loại kỳ báo cáo '{value}' không có. Chọn một trong: {known}.") from None


def _period(kind: PeriodKind, year: int, request: CycleRequest) -> Period | None:
    if kind is PeriodKind.ad_hoc:
        if request.period_index is not None:
            raise UserError("Báo cáo đột xuất không có số tháng/quý (bỏ --period-index).")
        if (request.cutoff_start is None) != (request.cutoff_end is None):
            raise UserError("Báo cáo đột xuất cần cả ngày bắt đầu và ngày kết thúc chốt số liệu.")
        if request.cutoff_start is None:
            return None
        if request.cutoff_start > request.cutoff_end:
            raise UserError(
                f"Ngày bắt đầu chốt số liệu ({vn_date(request.cutoff_start)}) sau ngày kết thúc "
                f"({vn_date(request.cutoff_end)})."
            )
        label = (
            request.period_label
            or f"từ {vn_date(request.cutoff_start)} đến {vn_date(request.cutoff_end)}"
        )
        return ad_hoc_period(request.cutoff_start, request.cutoff_end, label)
    if request.cutoff_start is not None or request.cutoff_end is not None:
        raise UserError(
            f"Kỳ '{kind.label_vi}' có thời gian chốt số liệu theo Nghị định 09/2019; "
            "chỉ báo cáo đột xuất (--period-kind ad_hoc) mới ghi ngày chốt riêng."
        )
    upper = _INDEXED.get(kind)
    index = request.period_index
    if upper is None:
        if index is not None:
            raise UserError(f"Kỳ '{kind.label_vi}' không có số tháng/quý (bỏ --period-index).")
    elif index is None:
        index = request.date.month if kind is PeriodKind.monthly else (request.date.month + 2) // 3
    elif not 1 <= index <= upper:
        unit = "tháng" if kind is PeriodKind.monthly else "quý"
        raise UserError(f"Số {unit} phải từ 1 đến {upper}, không phải {index}.")
    return period_for(kind, year, index)


def plan_cycle(
    definition: ReportDefinition, request: CycleRequest, calendar: WorkingCalendar | None = None
) -> CyclePlan:
    """Every date of the cycle, or a UserError saying which input is wrong."""
    calendar = calendar or WorkingCalendar()
    kind = _kind(request, definition)
    year = request.year or request.date.year
    if not 2000 <= year <= request.date.year + 1:
        raise UserError(
            f"Năm của kỳ báo cáo ({year}) không hợp lệ; chọn từ 2000 đến {request.date.year + 1}."
        )
    period = _period(kind, year, request)
    if request.deadline is None and period is None:
        raise UserError("Báo cáo đột xuất cần hạn gửi cụ thể (--deadline).")
    deadline = request.deadline or default_external_deadline(period, calendar)
    if deadline < request.date:
        raise UserError(
            f"Hạn gửi ({vn_date(deadline)}) sớm hơn ngày công văn ({vn_date(request.date)})."
        )
    days_before = None
    if request.internal_deadline is not None:
        internal = request.internal_deadline
    else:
        days_before = (
            definition.internal_deadline_working_days_before
            if request.internal_days_before is None
            else request.internal_days_before
        )
        if days_before < 0:
            raise UserError(
                f"Số ngày làm việc trước hạn gửi phải từ 0 trở lên, không phải {days_before}."
            )
        internal = calendar.add_working_days(deadline, -days_before)
    if internal > deadline:
        raise UserError(
            f"Hạn nội bộ của các phòng ({vn_date(internal)}) phải trước hoặc bằng hạn gửi "
            f"báo cáo ({vn_date(deadline)})."
        )
    warnings = []
    if period is not None and deadline <= period.cutoff_end:
        warnings.append(
            f"hạn gửi {vn_date(deadline)} không sau ngày chốt số liệu {vn_date(period.cutoff_end)}; "
            "số liệu từ hạn gửi đến hết kỳ là số ước tính."
        )
    if internal < request.date:
        warnings.append(
            f"hạn nội bộ {vn_date(internal)} đã qua so với ngày công văn {vn_date(request.date)}."
        )
    if not calendar.is_working_day(deadline):
        warnings.append(
            f"hạn gửi {vn_date(deadline)} ({_day_kind(calendar, deadline)}) không phải ngày làm việc; "
            "nơi nhận có thể chỉ nhận vào ngày làm việc trước đó hoặc sau đó."
        )
    if not calendar.is_working_day(internal):
        warnings.append(f"hạn nội bộ {vn_date(internal)} không phải ngày làm việc.")
    return CyclePlan(
        period_kind=kind,
        year=year,
        period=period,
        deadline=deadline,
        deadline_from_request=request.deadline is not None,
        internal_deadline=internal,
        internal_days_before=days_before,
        warnings=warnings,
    )


def _day_kind(calendar: WorkingCalendar, day: dt.date) -> str:
    """ "thứ Bảy", "Chủ nhật", or the holiday's name."""
    holiday = calendar.holiday_name(day)
    return holiday or vn_weekday(day)
