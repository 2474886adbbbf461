"""The product's one clock, in Asia/Ho_Chi_Minh; settable for the demo and for simulated calendars."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from reportflow.core.config import get_settings

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def now() -> dt.datetime:
    frozen = get_settings().frozen_now
    if frozen:
        moment = dt.datetime.fromisoformat(frozen)
        return moment if moment.tzinfo else moment.replace(tzinfo=VN_TZ)
    return dt.datetime.now(VN_TZ)


def today() -> dt.date:
    return now().astimezone(VN_TZ).date()


def utcnow() -> dt.datetime:
    return now().astimezone(dt.UTC)
