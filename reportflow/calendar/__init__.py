"""Working days, Decree 09/2019 reporting periods and the reminder ladder."""

from reportflow.calendar.ladder import (
    DEFAULT_LADDER,
    LadderStep,
    ResolvedStep,
    due_step,
    in_office_hours,
    ladder_from_config,
    offset_key,
)
from reportflow.calendar.periods import (
    Period,
    PeriodKind,
    ad_hoc_period,
    default_external_deadline,
    internal_deadline,
    period_for,
)
from reportflow.calendar.working_days import VN_TZ, WorkingCalendar

__all__ = [
    "DEFAULT_LADDER",
    "VN_TZ",
    "LadderStep",
    "Period",
    "PeriodKind",
    "ResolvedStep",
    "WorkingCalendar",
    "ad_hoc_period",
    "default_external_deadline",
    "due_step",
    "in_office_hours",
    "internal_deadline",
    "ladder_from_config",
    "offset_key",
    "period_for",
]
