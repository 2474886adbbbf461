"""Where a cycle's run waits: suspended when served (no process held), paused in a trial run."""

from __future__ import annotations

from typing import TypeVar

from prefect.context import get_run_context
from prefect.flow_runs import pause_flow_run, suspend_flow_run

from reportflow.core.config import get_settings

T = TypeVar("T")


def is_served() -> bool:
    """A deployment run can be suspended: a worker starts it again when it is resumed."""
    return get_run_context().flow_run.deployment_id is not None


def wait_here(key: str, wait_for_input: type[T] | None = None) -> T | None:
    """Waits until resumed, returning the form's input if one is asked.

    A key already resumed returns at once (with the input given then), so a run that re-runs
    from the top passes its earlier waits; callers make a new key for each real wait. Served,
    nothing times out: lateness is the reminder ladder's business, not the run's.
    """
    if is_served():
        return suspend_flow_run(wait_for_input=wait_for_input, key=key, timeout=None)
    settings = get_settings()
    return pause_flow_run(
        wait_for_input=wait_for_input,
        key=key,
        timeout=settings.pause_timeout_s,
        poll_interval=settings.pause_poll_s,
    )
