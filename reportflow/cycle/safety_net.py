"""What every sweep (the cron flow, `reportflow remind` and serve's mending round) wakes: runs
still waiting although the database says they need not (a wake or a resume lost to a crash or
a Prefect outage)."""

from __future__ import annotations

import logging

import httpx

from reportflow.cycle.deciding.decide import release_decided_cycles
from reportflow.cycle.issuing.signature_waits import release_signed_waits
from reportflow.cycle.reminding.reminders import collecting_cycle_ids
from reportflow.cycle.wake import wake_complete_cycles
from reportflow.notifications.redaction import redact_text

log = logging.getLogger(__name__)


def wake_waiting_runs() -> list[int]:
    """The cycles whose run was woken: all sections in, the decision recorded, or the signer's
    file kept. Prefect not answering is logged, not raised: the next sweep tries again."""
    try:
        return (
            wake_complete_cycles(collecting_cycle_ids())
            + release_decided_cycles()
            + release_signed_waits()
        )
    except httpx.HTTPError as exc:  # PrefectApiError is one
        log.warning("Chưa đánh thức được các quy trình còn chờ (%s).", redact_text(str(exc)))
        return []
