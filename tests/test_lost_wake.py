"""A submission that completes the set but never wakes the run (its process killed between the
commit and the wake) is caught by the next reminder sweep: nothing waits forever."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client

from reportflow.core.config import reload_settings
from reportflow.cycle.collecting import submit
from reportflow.cycle.cycles import get_cycle
from reportflow.cycle.wake import wake_cycle
from reportflow.demo.run import start_flow_process, wait_for_pause
from reportflow.flows.send_reminders import send_reminders
from reportflow.models import CycleState, session_scope
from tests.factories import open_sample_cycle, submit_everything

pytestmark = pytest.mark.e2e


@pytest.fixture
def complete_but_asleep(prefect_server, database, smtp, tmp_path, monkeypatch):
    """A cycle's run waiting for sections although every section is in: the submissions' own
    wake replaced by nothing. The kill cannot be aimed at one line from here; this leaves the
    database exactly as a process killed right after the last commit would. Yields the cycle,
    the flow's process and its run."""
    monkeypatch.setenv("REPORTFLOW_PAUSE_POLL_S", "1")
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-05T09:00:00+07:00")
    reload_settings()
    cycle_id = open_sample_cycle()
    flow = start_flow_process(cycle_id, tmp_path / "flow.log")
    try:
        wait_for_pause(cycle_id, "sections-", flow)
        with session_scope() as session:
            attached = get_cycle(session, cycle_id).flow_run_id
        monkeypatch.setattr(submit, "wake_after_commit", lambda cycle_id: False)
        submit_everything(cycle_id, tmp_path)
        yield cycle_id, flow, attached
    finally:
        flow.kill()
        flow.wait(timeout=30)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_sweep_wakes_a_complete_cycle_whose_wake_was_lost(complete_but_asleep):
    cycle_id, flow, attached = complete_but_asleep
    time.sleep(3)  # three of the run's 1 s polls: unwoken, it must still be waiting
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(attached)).state
    assert state.is_paused() and state.state_details.pause_key.startswith("sections-")
    with session_scope() as session:
        assert get_cycle(session, cycle_id).state == CycleState.COLLECTING

    send_reminders()
    wait_for_pause(cycle_id, "decision-", flow)
    with session_scope() as session:
        assert get_cycle(session, cycle_id).state == CycleState.AWAITING_DECISION


def test_a_submission_is_kept_and_reported_when_prefect_does_not_answer(database, tmp_path, caplog):
    import socket
    import uuid

    from prefect.settings import PREFECT_API_URL, temporary_settings

    from reportflow.cycle.collecting.submit import submit_section
    from tests.factories import row_counts, section_md

    cycle_id = open_sample_cycle()
    submit_everything(cycle_id, tmp_path)
    with session_scope() as session:
        get_cycle(session, cycle_id).flow_run_id = str(uuid.uuid4())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/api"
    before = row_counts()
    with temporary_settings({PREFECT_API_URL: dead}):
        result = submit_section(cycle_id, "bcvt", section_md(tmp_path, "bcvt"), "tp-bcvt")
    assert (result.complete, result.woke_cycle, result.version_no) == (True, False, 2)
    assert row_counts()["sectionversion"] == before["sectionversion"] + 1
    assert "đã lưu bài gửi, nhưng chưa đánh thức được quy trình" in caplog.text
    assert "chưa cập nhật được bảng tiến độ trên Prefect" in caplog.text


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
def test_many_last_submissions_resume_the_run_once(complete_but_asleep):
    """At the deadline the last sections land together: every submission that sees the set
    complete tries to wake the run, and so does serve's mending round. Prefect records one
    resume."""
    cycle_id, flow, attached = complete_but_asleep
    wakers = 8
    barrier = threading.Barrier(wakers)

    def wake() -> bool:
        barrier.wait()
        return wake_cycle(cycle_id, wait_s=0)

    with ThreadPoolExecutor(wakers) as pool:
        woke = list(pool.map(lambda _: wake(), range(wakers)))
    with get_client(sync_client=True) as client:
        states = client.read_flow_run_states(UUID(attached))
    names = [state.name for state in states]
    after_pause = names[names.index("Paused") + 1 :]
    assert woke.count(True) == 1, woke
    assert after_pause.count("Running") <= 1 and after_pause.count("Resuming") <= 1, names
    wait_for_pause(cycle_id, "decision-", flow)
