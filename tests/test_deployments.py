"""`send_reminders` runs on its own: deployed from prefect.yaml on a weekday 08:00 cron in
Asia/Ho_Chi_Minh, picked up by a real process worker, sweeping every open cycle."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
from sqlmodel import select
from typer.testing import CliRunner

from reportflow import prefect_processes
from reportflow.cli import app
from reportflow.config import reload_settings
from reportflow.demo.run import wait_for_pause, wait_until
from reportflow.models import CycleState, ReminderRecord, SectionAssignment, session_scope
from reportflow.smtp_sink import message_text
from reportflow.tasks.cycles import get_cycle
from reportflow.tasks.decide import send_decision
from reportflow.tasks.notify import cycle_url
from tests.factories import ASSIGNMENT_HEADS, approval_codes, open_sample_cycle, submit_everything
from tests.test_progress import latest_table

ROOT = Path(__file__).resolve().parents[1]
DEPLOYMENT = "send_reminders/send-reminders"


def prefect(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "prefect", "--no-prompt", *args],
        cwd=ROOT,
        env={**os.environ, "REPORTFLOW_HOME": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_send_reminders_deployment_sweeps_on_a_worker(prefect_server, database, smtp, monkeypatch):
    # Friday 05/6/2020 09:00 is T+2 for the sample cycle (due 03/6): every section and both
    # divisions' figures, to the head and the director.
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-05T09:00:00+07:00")
    reload_settings()
    cycle_id = open_sample_cycle()

    prefect("work-pool", "create", "reportflow", "--type", "process", "--overwrite")
    prefect("deploy", "--name", "send-reminders")
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(DEPLOYMENT)
    (schedule,) = deployment.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == (
        "0 8 * * 1-5",
        "Asia/Ho_Chi_Minh",
    )
    assert schedule.active
    with get_client(sync_client=True) as client:
        # This server lives on for the session: a real 08:00 run must not join the tests.
        client.update_deployment_schedule(deployment.id, schedule.id, active=False)

    flow_run = run_deployment(DEPLOYMENT, timeout=0, as_subflow=False)
    prefect("worker", "start", "--pool", "reportflow", "--run-once")
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(flow_run.id).state
    assert state.is_completed(), state

    with session_scope() as session:
        sent = session.exec(
            select(
                ReminderRecord.person_code, SectionAssignment.section_key, ReminderRecord.step_key
            )
            .join(SectionAssignment, SectionAssignment.id == ReminderRecord.assignment_id)
            .where(ReminderRecord.status == "sent")
        ).all()
    expected = {(head, key) for key, head in ASSIGNMENT_HEADS.items()}
    expected |= {("giamdoc", key) for key in ASSIGNMENT_HEADS}
    assert {(person, key) for person, key, _ in sent} == expected
    assert {step for _, _, step in sent} == {"r1:2020-06-03:t+2"}
    mails = smtp.messages()
    assert len(mails) == len(expected)
    assert all("Đã quá hạn 2 ngày làm việc" in message_text(m) for m in mails)

    rows = latest_table(prefect_server, f"cycle-{cycle_id}-progress")
    assert {row["Mã phần"] for row in rows} == set(ASSIGNMENT_HEADS)
    assert all(row["Nhắc gần nhất"] == "09:00 ngày 05/6/2020" for row in rows)


def start_worker(log_path: Path) -> subprocess.Popen:
    return prefect_processes.start_worker(
        "reportflow", log_path, {**os.environ, "REPORTFLOW_HOME": str(ROOT)}, cwd=ROOT
    )


def kill_machine(worker: subprocess.Popen) -> None:
    """The worker and the flow processes it started (each in a session of its own), gone at
    once, as when a machine dies."""
    prefect_processes.kill_tree(worker)


def attached_run(cycle_id: int) -> str | None:
    with session_scope() as session:
        return get_cycle(session, cycle_id).flow_run_id


def cycle_state(cycle_id: int) -> CycleState:
    with session_scope() as session:
        return CycleState(get_cycle(session, cycle_id).state)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_cycle_started_from_the_cli_runs_on_a_worker_to_dispatch(
    prefect_server, database, smtp, tmp_path, monkeypatch
):
    monkeypatch.setenv("REPORTFLOW_PAUSE_POLL_S", "1")
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-05T09:00:00+07:00")
    reload_settings()
    cycle_id = open_sample_cycle()
    cli = CliRunner()

    not_deployed = cli.invoke(app, ["cycle", "start", str(cycle_id)])
    assert not_deployed.exit_code == 2
    assert "prefect deploy --all" in " ".join(not_deployed.output.split())

    prefect("work-pool", "create", "reportflow", "--type", "process", "--overwrite")
    prefect("deploy", "--name", "report-cycle")
    first = cli.invoke(app, ["cycle", "start", str(cycle_id)])
    again = cli.invoke(app, ["cycle", "start", str(cycle_id)])
    assert first.exit_code == again.exit_code == 0, first.output + again.output
    run_urls = [" ".join(r.output.split()).rsplit("Theo dõi: ", 1)[1] for r in (first, again)]
    assert run_urls[0] == run_urls[1], "a repeated start must not create a second run"

    worker = start_worker(tmp_path / "worker.log")
    try:
        wait_for_pause(cycle_id, "sections-", worker)
        first_run = attached_run(cycle_id)
        assert cycle_url(first_run) == run_urls[0]
        running = cli.invoke(app, ["cycle", "start", str(cycle_id)])
        assert running.exit_code == 2 and "đã có quy trình đang chạy" in running.output

        submit_everything(cycle_id, tmp_path)
        wait_for_pause(cycle_id, "decision-", worker)
        assert len(approval_codes(smtp)) == 1

        # The machine dies while the run waits for the director: Prefect still shows it paused.
        kill_machine(worker)
        stuck = cli.invoke(app, ["cycle", "start", str(cycle_id)])
        assert stuck.exit_code == 2 and "--replace" in stuck.output
        replaced = cli.invoke(app, ["cycle", "start", str(cycle_id), "--replace"])
        assert replaced.exit_code == 0, replaced.output
        worker = start_worker(tmp_path / "worker-2.log")
        wait_until(lambda: attached_run(cycle_id) != first_run, 120, "the new run", worker)
        wait_for_pause(cycle_id, "decision-", worker)

        codes = wait_until(lambda: (c := approval_codes(smtp)) and len(c) == 2 and c, 30, "mail")
        send_decision(cycle_id, "giamdoc", codes[-1], [], False, "Đồng ý")
        wait_until(lambda: cycle_state(cycle_id) == CycleState.DONE, 120, "dispatch", worker)
    finally:
        kill_machine(worker)
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(UUID(first_run)).state.is_cancelled()
    dispatched = [m for m in smtp.messages() if "01/BC-STTTT-VP" in str(m["Subject"])]
    assert len(dispatched) == 3
    requests = [m for m in smtp.messages() if "Đề nghị gửi nội dung" in str(m["Subject"])]
    assert len(requests) == len({str(m["To"]) for m in requests}), "each head asked once"
    finished = cli.invoke(app, ["cycle", "start", str(cycle_id)])
    assert finished.exit_code == 2 and "đã kết thúc (đã phát hành)" in finished.output
