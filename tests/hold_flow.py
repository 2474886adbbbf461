"""A flow that only waits, deployed to a pool so a real worker holds a real flow-run process
(`python -m prefect.engine`, in a session of its own) for the kill and stop tests."""

from __future__ import annotations

import time
from pathlib import Path

from prefect import flow

ROOT = Path(__file__).resolve().parents[1]


@flow
def hold(seconds: float = 600) -> None:
    time.sleep(seconds)


def deploy_hold(pool: str) -> str:
    """Deploys `hold` to `pool` on the server of the current Prefect settings; its name."""
    source = flow.from_source(source=str(ROOT), entrypoint="tests/hold_flow.py:hold")
    source.deploy(name="hold", work_pool_name=pool, print_next_steps=False, ignore_warnings=True)
    return "hold/hold"


def flow_run_processes(flow_run_id) -> dict[int, str]:
    from reportflow.services.processes import processes_with_environment

    return processes_with_environment("PREFECT__FLOW_RUN_ID", str(flow_run_id))


def wait_for_flow_run_process(flow_run_id, worker, timeout_s: float = 180) -> dict[int, str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := flow_run_processes(flow_run_id):
            return found
        assert worker.poll() is None, (
            f"{worker.args} stopped; see {getattr(worker, 'log_path', '')}"
        )
        time.sleep(0.5)
    raise AssertionError(
        f"no process for flow run {flow_run_id}; see {getattr(worker, 'log_path', '')}"
    )


def wait_until_running(flow_run_id, timeout_s: float = 120) -> None:
    """Waits until the server sees the run RUNNING (its process reached the API)."""
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout_s
    state = None
    while time.monotonic() < deadline:
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(flow_run_id).state
        if state is not None and state.is_running():
            return
        time.sleep(0.5)
    raise AssertionError(f"flow run {flow_run_id} is {state}, not running")
