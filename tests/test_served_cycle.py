"""A served cycle lives through machine failures: the run suspends while it waits (holding no
process), and real worker processes are killed with SIGKILL, as a process group, at each stage.
The cycle ends complete with every submission kept and no mail sent twice."""

from __future__ import annotations

import email
import email.policy
import time
from collections import Counter
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from sqlmodel import select
from typer.testing import CliRunner

from reportflow.cli import app
from reportflow.core.config import reload_settings
from reportflow.cycle.cycles import get_cycle
from reportflow.cycle.deciding.decide import send_decision
from reportflow.demo.run import wait_until
from reportflow.models import AuditEvent, CycleState, SectionVersion, session_scope
from reportflow.runtime.run_health import stalled_cycles
from reportflow.runtime.smtp_sink import message_text
from reportflow.runtime.zombie_runs import HEARTBEAT_S, ensure_zombie_automation
from tests.factories import approval_codes, open_sample_cycle, submit_everything
from tests.test_deployments import kill_machine, prefect, start_worker

pytestmark = pytest.mark.e2e


def run_state(cycle_id: int):
    with session_scope() as session:
        run_id = get_cycle(session, cycle_id).flow_run_id
    if not run_id:
        return None, None
    with get_client(sync_client=True) as client:
        return UUID(run_id), client.read_flow_run(UUID(run_id)).state


def suspended_at(cycle_id: int, prefix: str) -> bool:
    _, state = run_state(cycle_id)
    return bool(
        state
        and state.name == "Suspended"
        and (state.state_details.pause_key or "").startswith(prefix)
    )


def processes_of_run(run_id: UUID) -> list[int]:
    """Processes whose environment names this flow run: what a worker starts to execute it."""
    needle = f"PREFECT__FLOW_RUN_ID={run_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def subject_of(content: bytes) -> str:
    return str(email.message_from_bytes(content, policy=email.policy.default)["Subject"])


def cycle_state(cycle_id: int) -> CycleState:
    with session_scope() as session:
        return CycleState(get_cycle(session, cycle_id).state)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_served_cycle_survives_a_killed_worker_at_every_stage(
    prefect_server, database, holding_smtp, tmp_path, monkeypatch
):
    smtp = holding_smtp
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-05T09:00:00+07:00")
    monkeypatch.setenv("PREFECT_WORKER_QUERY_SECONDS", "1")
    # A dead machine's message stays leased this long before another run may send it.
    monkeypatch.setenv("REPORTFLOW_OUTBOX_LEASE_S", "5")
    # As `reportflow serve` sets it up: flow runs send heartbeats, and the server crashes a run
    # whose heartbeats stop.
    monkeypatch.setenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", str(HEARTBEAT_S))
    with get_client(sync_client=True) as client:
        ensure_zombie_automation(client)
    reload_settings()
    cycle_id = open_sample_cycle()
    cli = CliRunner()
    prefect("work-pool", "create", "reportflow", "--type", "process", "--overwrite")
    prefect("deploy", "--name", "report-cycle")
    first = cli.invoke(app, ["cycle", "start", str(cycle_id)])
    again = cli.invoke(app, ["cycle", "start", str(cycle_id)])
    assert first.exit_code == again.exit_code == 0, first.output + again.output
    run_urls = [" ".join(r.output.split()).rsplit("Theo dõi: ", 1)[1] for r in (first, again)]
    assert run_urls[0] == run_urls[1], "a repeated start must not create a second run"
    timings: dict[str, float] = {}
    workers = []

    def new_worker(name: str):
        workers.append(start_worker(tmp_path / f"{name}.log"))
        return workers[-1]

    try:
        worker = new_worker("w1")
        wait_until(lambda: suspended_at(cycle_id, "sections-r1"), 120, "suspended", worker)
        run_id, _ = run_state(cycle_id)
        waiting = cli.invoke(app, ["cycle", "start", str(cycle_id)])
        assert waiting.exit_code == 2 and "không giữ tiến trình nào" in waiting.output
        # (a) While it waits for the sections, the run holds no process; the machine then dies.
        wait_until(lambda: not processes_of_run(run_id), 30, "the flow process gone")
        kill_machine(worker)
        worker = new_worker("w2")

        # (b) The last submission resumes it; the machine dies while the draft goes to the
        # director (the mail server holds the approval mail, then refuses it).
        smtp.hold_next(lambda content: "chờ Giám đốc phê duyệt" in subject_of(content))
        submitted = time.monotonic()
        submit_everything(cycle_id, tmp_path)
        wait_until(smtp.holding.is_set, 120, "the approval mail in flight", worker)
        timings["last submission → draft on its way"] = time.monotonic() - submitted
        kill_machine(worker)
        smtp.release()
        killed = time.monotonic()
        wait_until(lambda: run_state(cycle_id)[1].is_crashed(), 240, "the run marked Crashed")
        timings["machine dead → run marked Crashed"] = time.monotonic() - killed
        (stalled,) = stalled_cycles([cycle_id])
        assert stalled.line == (
            f"Kỳ báo cáo số {cycle_id}: quy trình bị sập nhưng kỳ báo cáo còn mở. "
            f"Khắc phục: reportflow cycle start {cycle_id}"
        )
        restarted = cli.invoke(app, ["cycle", "start", str(cycle_id)])
        assert restarted.exit_code == 0, restarted.output
        worker = new_worker("w3")
        wait_until(lambda: suspended_at(cycle_id, "decision-r1"), 120, "decision", worker)
        (code,) = wait_until(lambda: approval_codes(smtp), 30, "approval mail")

        # (c) The machine dies while the director thinks; the decision resumes the run anyway.
        kill_machine(worker)
        worker = new_worker("w4")
        smtp.hold_next(lambda content: "01/BC-STTTT-VP" in subject_of(content))
        decided = time.monotonic()
        outcome = send_decision(cycle_id, code, [], False, "Đồng ý")
        timings["decision → recorded by the resumed run"] = time.monotonic() - decided
        assert outcome.startswith("Đã ghi quyết định"), outcome

        # (d) The first dispatch mail is held in flight and the machine dies there.
        wait_until(smtp.holding.is_set, 120, "the first dispatch mail in flight", worker)
        kill_machine(worker)
        smtp.release()
        replaced = cli.invoke(app, ["cycle", "start", str(cycle_id), "--replace"])
        assert replaced.exit_code == 0, replaced.output
        worker = new_worker("w5")
        wait_until(lambda: cycle_state(cycle_id) == CycleState.DONE, 180, "dispatch", worker)
        wait_until(lambda: run_state(cycle_id)[1].is_completed(), 60, "run completed", worker)
    finally:
        for w in workers:
            kill_machine(w)
    print("\n".join(f"{what}: {seconds:.1f} s" for what, seconds in timings.items()))

    per_recipient = Counter((str(m["To"]), str(m["Subject"])) for m in smtp.messages())
    assert max(per_recipient.values()) == 1, per_recipient.most_common(3)
    assert len(approval_codes(smtp)) == 1, "the interrupted approval mail never arrived"
    dispatched = [m for m in smtp.messages() if "01/BC-STTTT-VP" in str(m["Subject"])]
    assert len(dispatched) == 3
    with session_scope() as session:
        versions = session.exec(select(SectionVersion)).all()
        assert len(versions) == 10, "every submission kept"
        trail = [
            (e.action, e.detail.get("reason") or "")
            for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))
        ]
    actions = [a for a, _ in trail]
    assert actions.count("approval_code.issued") == 2
    assert actions.count("decision.approve") == 1
    assert actions.count("cycle.done") == 1
    assert actions.count("cycle.run_started") == 3, "the first run and two new ones"
    message_text(dispatched[0])
