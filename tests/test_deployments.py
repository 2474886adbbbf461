"""`send_reminders` runs on its own: deployed from prefect.yaml on a weekday 08:00 cron in
Asia/Ho_Chi_Minh, picked up by a real process worker, sweeping every open cycle."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
from sqlmodel import select

from reportflow.core.config import reload_settings
from reportflow.cycle.tracking.progress import section_of
from reportflow.models import ReminderRecord, SectionAssignment, session_scope
from reportflow.runtime.smtp_sink import message_text
from reportflow.services import processes
from tests.factories import ASSIGNMENT_HEADS, open_sample_cycle
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
    assert {section_of(row) for row in rows} == set(ASSIGNMENT_HEADS)
    assert all(row["Nhắc gần nhất"] == "09:00 ngày 05/6/2020" for row in rows)


def start_worker(log_path: Path) -> subprocess.Popen:
    return processes.start_worker(
        "reportflow", log_path, {**os.environ, "REPORTFLOW_HOME": str(ROOT)}, cwd=ROOT
    )


def kill_machine(worker: subprocess.Popen) -> None:
    """The worker and the flow processes it started (each in a session of its own), gone at
    once, as when a machine dies."""
    processes.kill_tree(worker)
