"""A worker killed as a machine failure kills it: with its flow runs. Prefect's process worker
starts each flow run in a session of its own, so killing the worker's process group alone
leaves the flow run running, orphaned (the finding behind `make test`'s leftover process)."""

from __future__ import annotations

import os
import signal
import time

from prefect.deployments import run_deployment

from reportflow.services.processes import (
    descendants,
    kill_pids,
    kill_tree,
    start_worker,
)
from tests.hold_flow import ROOT, deploy_hold, flow_run_processes, wait_for_flow_run_process
from tests.test_deployments import prefect

POOL = "reportflow-kill-test"


def test_kill_tree_takes_the_flow_runs_a_group_kill_leaves(prefect_server, tmp_path):
    prefect("work-pool", "create", POOL, "--type", "process", "--overwrite")
    deployment = deploy_hold(POOL)
    env = {**os.environ, "PREFECT_WORKER_QUERY_SECONDS": "1"}

    # The worker's process group, killed alone: its flow run lives on.
    worker = start_worker(POOL, tmp_path / "worker-1.log", env, cwd=ROOT)
    first = run_deployment(deployment, timeout=0, as_subflow=False)
    orphans = wait_for_flow_run_process(first.id, worker)
    assert set(orphans) <= descendants(worker.pid)
    assert all(os.getpgid(pid) != worker.pid for pid in orphans), "own session expected"
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    time.sleep(1)
    try:
        # Usually the flow run lives on (the finding); a flow process still starting up may die
        # with its worker, which proves nothing either way, so only strays are an error here.
        survivors = set(flow_run_processes(first.id))
        assert survivors <= set(orphans)
        if not survivors:
            print("the flow run died with its worker this time (it was still starting)")
    finally:
        kill_pids(orphans)
    assert not flow_run_processes(first.id)

    # kill_tree: the worker and its flow run, gone together.
    worker = start_worker(POOL, tmp_path / "worker-2.log", env, cwd=ROOT)
    second = run_deployment(deployment, timeout=0, as_subflow=False)
    running = wait_for_flow_run_process(second.id, worker)
    began = time.monotonic()
    kill_tree(worker)
    took = time.monotonic() - began
    assert worker.returncode == -signal.SIGKILL
    assert not flow_run_processes(second.id), f"{running} survived kill_tree"
    assert took < 10
