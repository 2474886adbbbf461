"""A decision is never lost (issue 19, part 5): `reportflow approve` records it in the project
database the moment its code is accepted, before Prefect is asked to resume. With the Prefect
API unreachable the command still reports only what was recorded; the run, paused on a real
Prefect server in a real flow process, is resumed by the next sweep and completes, and the
director never decides twice."""

from __future__ import annotations

import socket

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlmodel import select
from typer.testing import CliRunner

from reportflow.cli import app
from reportflow.cycle.cycles import get_cycle
from reportflow.cycle.deciding.decide import release_decided_cycles
from reportflow.demo.run import start_flow_process, wait_for_pause, wait_until
from reportflow.models import ApprovalCode, ApprovalDecision, CycleState, session_scope
from tests.factories import approval_codes, open_sample_cycle, submit_everything

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_decision_sent_while_prefect_is_down_is_kept_and_acted_on_once(
    prefect_server, database, smtp, tmp_path, monkeypatch
):
    monkeypatch.setenv("REPORTFLOW_PAUSE_POLL_S", "1")
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-05T09:00:00+07:00")
    from reportflow.core.config import reload_settings

    reload_settings()
    cycle_id = open_sample_cycle()
    flow = start_flow_process(cycle_id, tmp_path / "flow.log")
    try:
        wait_for_pause(cycle_id, "sections-", flow)
        submit_everything(cycle_id, tmp_path)
        wait_for_pause(cycle_id, "decision-", flow)
        [code] = wait_until(lambda: approval_codes(smtp), 30, "approval mail")

        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            dead = f"http://127.0.0.1:{closed.getsockname()[1]}/api"
            with temporary_settings({PREFECT_API_URL: dead}):
                approved = CliRunner().invoke(
                    app,
                    ["approve", str(cycle_id), "--code", code, "--comment", "Đồng ý"],
                    env={"COLUMNS": "200"},
                )
        assert approved.exit_code == 0, approved.output
        said = " ".join(approved.output.split())
        assert "Đã ghi quyết định của Trần Văn Khoản (vòng 1): phê duyệt." in said
        assert "Quy trình chưa tiếp tục" in said and "reportflow remind" in said
        with session_scope() as session:
            [kept] = session.exec(select(ApprovalDecision)).all()
            assert (kept.round, kept.decision) == (1, "approve")
            assert get_cycle(session, cycle_id).state == CycleState.APPROVED
            [used] = session.exec(select(ApprovalCode)).all()
            assert used.used_at is not None

        again = CliRunner().invoke(app, ["approve", str(cycle_id), "--code", code])
        assert again.exit_code == 2 and "không ở bước chờ phê duyệt" in again.output

        assert release_decided_cycles() == [cycle_id], "the sweep resumes the waiting run"
        assert flow.wait(timeout=180) == 0, (tmp_path / "flow.log").read_text()
        assert release_decided_cycles() == [], "nothing waits any more"
    finally:
        if flow.poll() is None:
            flow.kill()
    with session_scope() as session:
        assert get_cycle(session, cycle_id).state == CycleState.DONE
        assert len(session.exec(select(ApprovalDecision)).all()) == 1
    log = (tmp_path / "flow.log").read_text()
    assert "Quyết định vòng 1 đã được ghi trước đó: Giám đốc Trần Văn Khoản: phê duyệt." in log
    dispatched = [m for m in smtp.messages() if "01/BC-STTTT-VP" in str(m["Subject"])]
    assert len(dispatched) == 3, "one dispatch per recipient"
