"""The Prefect server that `serve` started is killed with SIGKILL while a cycle waits for its
sections (issue 19, part 5): `serve` starts it again, the cycle's suspended run is still there,
the last submission wakes it, and the cycle completes with one draft mail, one decision and one
dispatch per recipient. Real processes, the real SMTP server's counts."""

from __future__ import annotations

import os
import signal

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlmodel import select

from reportflow.core.config import reload_settings
from reportflow.cycle.deciding.decide import send_decision
from reportflow.demo.run import wait_until
from reportflow.models import ApprovalDecision, CycleState, session_scope
from reportflow.runtime.prefect_server import is_healthy
from reportflow.runtime.runs import start_cycle_run
from tests.factories import approval_codes, open_sample_cycle, submit_everything
from tests.test_serve import READY, Serve, free_port, serve_environment
from tests.test_server_outage import paused_key, state_of

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_killed_prefect_server_is_started_again_and_the_waiting_cycle_completes(
    database, smtp, tmp_path, monkeypatch
):
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-05T09:00:00+07:00")
    reload_settings()
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = serve_environment(tmp_path)
    for key in ("REPORTFLOW_DATABASE_URL", "REPORTFLOW_DATA_DIR", "REPORTFLOW_SMTP_PORT"):
        env[key] = os.environ.get(key, "")
    env = {k: v for k, v in env.items() if v != ""}
    serve = Serve(["--port", str(port)], env, tmp_path)
    try:
        serve.wait_for(READY, 300)
        with temporary_settings({PREFECT_API_URL: api}):
            cycle_id = open_sample_cycle()
            start_cycle_run(cycle_id)
            wait_until(lambda: paused_key(cycle_id).startswith("sections-"), 180, "the wait")

            [server_pid] = [
                pid
                for pid, command in serve.processes().items()
                if "prefect_sqlite_server server" in command
            ]
            os.kill(server_pid, signal.SIGKILL)
            serve.wait_for("Máy chủ Prefect đã chạy lại", 180)
            assert is_healthy(api) and serve.process.poll() is None
            assert paused_key(cycle_id).startswith("sections-"), "the suspended run is kept"

            submit_everything(cycle_id, tmp_path)
            wait_until(lambda: paused_key(cycle_id).startswith("decision-"), 240, "the draft")
            [code] = wait_until(lambda: approval_codes(smtp), 60, "the approval mail")
            outcome = send_decision(cycle_id, code, [], False, "Đồng ý")
            assert outcome.startswith("Đã ghi quyết định"), outcome
            wait_until(lambda: state_of(cycle_id) == CycleState.DONE, 240, "the dispatch")
    finally:
        serve.clean_up()
    assert len(approval_codes(smtp)) == 1, "one draft mail with one code"
    with session_scope() as session:
        assert len(session.exec(select(ApprovalDecision)).all()) == 1
    dispatched = [m for m in smtp.messages() if "01/BC-STTTT-VP" in str(m["Subject"])]
    assert len(dispatched) == 3, "one dispatch per recipient"
