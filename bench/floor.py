"""The floor for S3 and S4: a flow that does nothing but suspend and, resumed, finish. Deployed to
the same pool as the cycle, it measures the worker's poll plus a new flow-run process start."""

from __future__ import annotations

from prefect import flow
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput


class Go(RunInput):
    go: bool = True


@flow(name="bench-floor")
def suspended_noop() -> bool:
    return suspend_flow_run(wait_for_input=Go, key="floor", timeout=None).go
