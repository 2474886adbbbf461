"""Dispatches a numbered report again, e.g. after a mail server outage (sent recipients are skipped)."""

from __future__ import annotations

from prefect import flow

from reportflow.models import init_db
from reportflow.tasks import prefect_tasks as steps


@flow(name="dispatch")
def dispatch(cycle_id: int) -> dict:
    init_db()
    return steps.dispatch_report(cycle_id)
