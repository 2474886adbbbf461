"""The Prefect server stops for 3 minutes while cycles are suspended, then starts again: the
cycles resume and complete. Submissions during the outage are stored; serve keeps its worker up."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings

from reportflow.core.config import reload_settings
from reportflow.cycle.collecting.submit import submit_indicators, submit_section
from reportflow.cycle.cycles import get_cycle
from reportflow.cycle.deciding.decide import send_decision
from reportflow.cycle.wake import wake_complete_cycles
from reportflow.demo.run import wait_until
from reportflow.models import CycleState, session_scope
from reportflow.runtime.prefect_server import ensure_server, is_healthy, stop_server
from reportflow.runtime.runs import start_cycle_run
from reportflow.runtime.smtp_sink import message_text
from tests.factories import (
    APPROVAL_CODE,
    DATA_DIR,
    SECTION_HEADS,
    approval_codes,
    open_sample_cycle,
    section_md,
    submit_everything,
)
from tests.test_serve import READY, Serve, free_port, serve_environment

pytestmark = pytest.mark.e2e
OUTAGE_S = 180


def paused_key(cycle_id: int) -> str:
    with session_scope() as session:
        run_id = get_cycle(session, cycle_id).flow_run_id
    if not run_id:
        return ""
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(run_id)).state
    return (state.state_details.pause_key or "") if state.is_paused() else ""


def codes_by_cycle(smtp) -> dict[int, str]:
    found = {}
    for message in smtp.messages():
        text = message_text(message)
        code, cycle = APPROVAL_CODE.search(text), re.search(r"reportflow approve (\d+)", text)
        if code and cycle:
            found[int(cycle[1])] = code[1]
    return found


def state_of(cycle_id: int) -> CycleState:
    with session_scope() as session:
        return CycleState(get_cycle(session, cycle_id).state)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_suspended_cycles_resume_and_complete_after_a_three_minute_server_outage(
    database, smtp, tmp_path, monkeypatch
):
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-05T09:00:00+07:00")
    reload_settings()
    home = Path(os.environ["PREFECT_HOME"]) / f"outage-{tmp_path.name}"
    api = f"http://127.0.0.1:{free_port()}/api"
    server = ensure_server(api, home, tmp_path / "server.log", timeout_s=120)
    env = {**serve_environment(tmp_path, PREFECT_HOME=str(home)), "PREFECT_API_URL": api}
    serve = Serve(["--no-server"], env, tmp_path)
    try:
        serve.wait_for(READY, 300)
        with temporary_settings({PREFECT_API_URL: api}):
            early, late = open_sample_cycle(), open_sample_cycle()
            for cycle_id in (early, late):
                start_cycle_run(cycle_id)
            for cycle_id in (early, late):
                wait_until(lambda c=cycle_id: paused_key(c).startswith("sections-"), 180, "wait")
            # The late cycle has everything but one section before the outage.
            submit_indicators(late, DATA_DIR / "indicators-bcvt.yaml", "tp-bcvt")
            submit_indicators(late, DATA_DIR / "indicators-ttbcxb.yaml", "tp-ttbcxb")
            for key, person in list(SECTION_HEADS.items())[:-1]:
                submit_section(late, key, section_md(tmp_path, key), person)

            stop_server(server)
            went_down = time.monotonic()
            assert not is_healthy(api)
            # During the outage the early cycle's divisions hand everything in: it is stored,
            # and the run cannot be woken now.
            submit_everything(early, tmp_path)
            assert state_of(early) == CycleState.COLLECTING
            time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - went_down)))
            server = ensure_server(api, home, tmp_path / "server.log", timeout_s=120)
            restarts = serve.output.count("khởi động lại")
            print(f"\noutage: {time.monotonic() - went_down:.0f} s; worker restarts: {restarts}")

            last_key, last_person = list(SECTION_HEADS.items())[-1]
            submit_section(late, last_key, section_md(tmp_path, last_key), last_person)
            # The early cycle's submissions could not wake its run during the outage. The sweep
            # wakes it: this call, or serve's own mending round if that ran first.
            if wake_complete_cycles([early]) != [early]:
                serve.wait_for(f"Kỳ báo cáo số {early}: quy trình còn chờ", 30)
            for cycle_id in (early, late):
                wait_until(
                    lambda c=cycle_id: paused_key(c).startswith("decision-"), 240, "decision"
                )
            wait_until(lambda: len(approval_codes(smtp)) == 2, 60, "both approval mails")
            for cycle_id, code in codes_by_cycle(smtp).items():
                send_decision(cycle_id, code, [], False, "Đồng ý")
            for cycle_id in (early, late):
                wait_until(lambda c=cycle_id: state_of(c) == CycleState.DONE, 240, "done")
    finally:
        serve.clean_up()
        if server is not None:
            stop_server(server)
        shutil.rmtree(home, ignore_errors=True)
