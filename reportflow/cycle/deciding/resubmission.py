"""When a section sent back is due again: soon, and never after the report's own deadline.

The default is the earlier of two working days: two after the send-back, and one before the
report is due where it was asked for (so the office can merge the draft and the director decide
in time). The director may pick another day. When the report's deadline leaves no working day
after the send-back, the section is due the same day, and the mails and the form say so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reportflow.calendar.working_days import WorkingCalendar, default_calendar
from reportflow.core.vi_format import short_date

RESUBMISSION_WORKING_DAYS = 2
"""A section sent back is due again at most this many working days after the decision."""


@dataclass(frozen=True)
class ResubmissionDue:
    day: dt.date
    report_deadline: dt.date
    no_day_left: bool
    """The report's deadline leaves no working day after the send-back before it."""

    @property
    def after_the_report_deadline(self) -> bool:
        return self.day >= self.report_deadline

    def warning_vi(self) -> str:
        """What the mail and the director's form say when the report's deadline is at risk."""
        deadline = short_date(self.report_deadline)
        if self.after_the_report_deadline:
            return (
                f"Hạn gửi lại {short_date(self.day)} không sớm hơn hạn nộp báo cáo ({deadline}): "
                "báo cáo có thể nộp muộn."
            )
        if self.no_day_left:
            return (
                f"Không còn ngày làm việc nào trước hạn nộp báo cáo ({deadline}): phần trả lại "
                f"cần gửi lại ngay trong ngày {short_date(self.day)}."
            )
        return ""


def resubmission_due(
    sent_back_on: dt.date,
    report_deadline: dt.date,
    chosen: dt.date | None = None,
    calendar: WorkingCalendar | None = None,
) -> ResubmissionDue:
    """The day the director chose, or the default (see the module's docstring)."""
    calendar = calendar or default_calendar()
    day_before_deadline = calendar.add_working_days(report_deadline, -1)
    no_day_left = day_before_deadline <= sent_back_on
    if chosen is not None:
        return ResubmissionDue(chosen, report_deadline, no_day_left)
    if no_day_left:
        return ResubmissionDue(sent_back_on, report_deadline, True)
    two_after = calendar.add_working_days(sent_back_on, RESUBMISSION_WORKING_DAYS)
    return ResubmissionDue(min(two_after, day_before_deadline), report_deadline, False)
