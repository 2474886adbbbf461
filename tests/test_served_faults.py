"""Faults during a served cycle (issue 19, part 5), each a real SIGKILL under `reportflow serve`:
the worker and its flow-run process just after the worker picked the run up (the run stays
Pending for good), during the draft, and during the draft mail; then the Prefect server while
the director's decision is handed over (`reportflow approve` on SQLite, his web page on PostgreSQL). Each time `serve` brings back what died and mends
the cycle by itself. The cycle completes with one delivered draft mail, one decision and one
dispatch per recipient, counted in the database and in the SMTP server."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from uuid import UUID

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.exceptions import PrefectHTTPStatusError
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlmodel import select

from reportflow.core.config import reload_settings
from reportflow.cycle.cycles import get_cycle
from reportflow.demo.run import wait_until
from reportflow.models import ApprovalDecision, AuditEvent, CycleState, session_scope
from reportflow.runtime.runs import start_cycle_run
from reportflow.runtime.smtp_sink import message_text
from reportflow.services.processes import kill_pids
from tests.factories import approval_codes, open_sample_cycle, submit_everything
from tests.hold_flow import ROOT
from tests.test_serve import READY, Serve, free_port, serve_environment
from tests.test_served_cycle import processes_of_run, subject_of
from tests.web_server import CSRF, DRAFT_LINK

pytestmark = pytest.mark.e2e

STUCK_PENDING_S = 15


def run_of(cycle_id: int) -> tuple[str, object]:
    with session_scope() as session:
        run_id = get_cycle(session, cycle_id).flow_run_id
    with get_client(sync_client=True) as client:
        return run_id, client.read_flow_run(UUID(run_id)).state


def cycle_state(cycle_id: int) -> CycleState:
    with session_scope() as session:
        return CycleState(get_cycle(session, cycle_id).state)


def paused_at(cycle_id: int, prefix: str) -> bool:
    _, state = run_of(cycle_id)
    return state.is_paused() and (state.state_details.pause_key or "").startswith(prefix)


def worker_pids(serve: Serve) -> list[int]:
    return [pid for pid, command in serve.processes().items() if "worker start" in command]


def kill_worker_and_run(serve: Serve, run_id: str) -> None:
    """The worker and the run's own process, at once, as when the machine running them dies:
    each is stopped (SIGSTOP) before any is killed, so that no worker sees its run's process die
    and reports the run Crashed in the moment between two kills."""
    pids = [*worker_pids(serve), *processes_of_run(UUID(run_id))]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)
    kill_pids(pids)


def kill_server(serve: Serve) -> None:
    [server_pid] = [pid for pid, command in serve.processes().items() if "server start" in command]
    os.kill(server_pid, signal.SIGKILL)


def wait_for_count(serve: Serve, text: str, count: int, timeout_s: float) -> None:
    soon(lambda: sum(text in line for line in serve.lines) >= count, timeout_s, text)


def answering(predicate) -> bool:
    """The predicate, or False while the Prefect server does not answer."""
    try:
        return predicate()
    except (httpx.HTTPError, PrefectHTTPStatusError, OSError):
        return False


def soon(predicate, timeout_s: float, what: str):
    """As `wait_until`, polling every 20 ms: the moments killed here last about a second."""
    deadline = time.monotonic() + timeout_s
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"no {what} after {timeout_s} s"
        time.sleep(0.02)
    return value


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_serve_on_sqlite_mends_a_cycle_after_each_kill_and_it_completes_once(
    database, holding_smtp, tmp_path, monkeypatch
):
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-05T09:00:00+07:00")
    reload_settings()
    settings = {key: os.environ[key] for key in ("REPORTFLOW_DATA_DIR", "REPORTFLOW_SMTP_PORT")}
    kill_at_every_step(
        holding_smtp, tmp_path, settings, workers=1, crash_while_working=True, decide_on="cli"
    )


@pytest.mark.postgres
def test_serve_on_postgresql_with_two_workers_mends_a_cycle_after_each_kill(
    postgres_databases, holding_smtp, tmp_path, restore_environment
):
    _, project_url = postgres_databases
    web_port = free_port()
    settings = {
        "REPORTFLOW_WEB_PORT": str(web_port),
        "REPORTFLOW_WEB_URL": f"http://127.0.0.1:{web_port}",
        "REPORTFLOW_DATABASE_URL": project_url,
        "REPORTFLOW_FROZEN_NOW": "2020-06-05T09:00:00+07:00",
        "REPORTFLOW_DATA_DIR": str(tmp_path / "data"),
        "REPORTFLOW_SMTP_PORT": os.environ["REPORTFLOW_SMTP_PORT"],
    }
    os.environ.update(settings)
    reload_settings()
    # The crashes while a run works (b, c) take 100 s each to be marked; the SQLite case has
    # them, and what differs here (two workers, Prefect on PostgreSQL) is in (a), (d) and (e).
    # The director decides on his web page here, the command line in the SQLite case.
    kill_at_every_step(
        holding_smtp, tmp_path, settings, workers=2, crash_while_working=False, decide_on="web"
    )


def kill_at_every_step(
    smtp,
    tmp_path,
    settings: dict[str, str],
    workers: int,
    crash_while_working: bool,
    decide_on: str,
) -> None:
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = serve_environment(
        tmp_path,
        REPORTFLOW_STUCK_PENDING_S=str(STUCK_PENDING_S),
        REPORTFLOW_SERVE_MEND_S="2",
        REPORTFLOW_OUTBOX_LEASE_S="5",
        **settings,
    )
    env.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)
    if "REPORTFLOW_DATABASE_URL" not in settings:
        env.pop("REPORTFLOW_DATABASE_URL", None)
    serve = Serve(["--port", str(port), "--workers", str(workers)], env, tmp_path)
    timings: dict[str, float] = {}
    try:
        serve.wait_for(READY, 300)
        with temporary_settings({PREFECT_API_URL: api}):
            cycle_id = open_sample_cycle()
            first = start_cycle_run(cycle_id).flow_run_id

            # (a) Just after the worker picked the run up, before the flow began.
            soon(lambda: processes_of_run(UUID(first)), 120, "the run picked up")
            kill_worker_and_run(serve, first)
            killed = time.monotonic()
            assert run_of(cycle_id)[1].type.value == "PENDING", "killed before the flow began"
            wait_until(lambda: paused_at(cycle_id, "sections-r1"), 180, "a new run waiting")
            timings["(a) killed at pickup → new run waiting"] = time.monotonic() - killed
            assert run_of(cycle_id)[0] != first
            serve.wait_for(f"Kỳ báo cáo số {cycle_id}: quy trình kẹt ở bước chuẩn bị", 5)

            submit_everything(cycle_id, tmp_path)
            if not crash_while_working:
                wait_until(lambda: paused_at(cycle_id, "decision-r1"), 300, "the director's wait")
            else:
                # (b) During the draft: the cycle is drafting and no mail has gone yet.
                soon(lambda: cycle_state(cycle_id) == CycleState.DRAFTING, 120, "drafting")
                second, state = run_of(cycle_id)
                kill_worker_and_run(serve, second)
                killed = time.monotonic()
                assert state.is_running() and not approval_codes(smtp), "killed while drafting"
                # (c) The new run's draft mail is held in flight, and that machine dies too.
                smtp.hold_next(lambda content: "chờ Giám đốc phê duyệt" in subject_of(content))
                wait_until(smtp.holding.is_set, 300, "the new run's draft mail in flight")
                timings["(b) killed while drafting → draft mail again"] = time.monotonic() - killed
                third, _ = run_of(cycle_id)
                assert third != second
                kill_worker_and_run(serve, third)
                killed = time.monotonic()
                smtp.release()
                wait_until(lambda: paused_at(cycle_id, "decision-r1"), 300, "the director's wait")
                timings["(c) killed in the draft mail → waiting for the director"] = (
                    time.monotonic() - killed
                )
            (code,) = wait_until(lambda: approval_codes(smtp), 30, "the approval mail")

            # (d) The Prefect server dies; the director's decision (`reportflow approve`, or
            # his web page) meets it down.
            kill_server(serve)
            killed = time.monotonic()
            if decide_on == "cli":
                said = approve_on_the_command_line(cycle_id, code, api)
                assert said.startswith("Đã ghi quyết định"), said
            else:
                said = approve_on_the_web_page(smtp, code)
                assert "Đã ghi nhận" in said, said
            assert len(decisions(cycle_id)) == 1, "kept the moment its code was accepted"
            wait_for_count(serve, "Máy chủ Prefect đã chạy lại", 1, 180)

            # (e) It dies again right after the run was resumed, as a worker picks it up.
            soon(lambda: answering(lambda: not paused_at(cycle_id, "decision-r1")), 180, "resume")
            kill_server(serve)
            wait_for_count(serve, "Máy chủ Prefect đã chạy lại", 2, 180)
            wait_until(lambda: cycle_state(cycle_id) == CycleState.DONE, 360, "the dispatch")
            timings["(d, e) server killed at the decision, twice → dispatched"] = (
                time.monotonic() - killed
            )
    finally:
        serve.clean_up()
    print("\n".join(f"{what}: {seconds:.1f} s" for what, seconds in timings.items()))
    print(serve.output)

    delivered = Counter((str(m["To"]), str(m["Subject"])) for m in smtp.messages())
    assert max(delivered.values()) == 1, delivered.most_common(3)
    assert len(approval_codes(smtp)) == 1, "one draft mail delivered, with one code"
    dispatched = [m for m in smtp.messages() if "01/BC-STTTT-VP" in str(m["Subject"])]
    assert len(dispatched) == 3, "one dispatch per recipient"
    assert len(decisions(cycle_id)) == 1, "the director decided once, and it was kept"
    with session_scope() as session:
        actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions.count("decision.approve") == 1
    assert actions.count("cycle.done") == 1
    assert actions.count("register.numbered") <= 1


def approve_on_the_command_line(cycle_id: int, code: str, api: str) -> str:
    approve = subprocess.run(
        [sys.executable, "-m", "reportflow.cli", "approve", str(cycle_id)]
        + ["--code", code, "--comment", "Đồng ý"],
        env={**os.environ, "PREFECT_API_URL": api, "COLUMNS": "200"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    said = " ".join(approve.stdout.split())
    print(f"reportflow approve, the server down: {said}")
    assert approve.returncode == 0, approve.stdout + approve.stderr
    return said


def approve_on_the_web_page(smtp, code: str) -> str:
    """The director's page from his mail, as a browser sends it: the form, then the result."""
    mail = next(m for m in smtp.messages() if "chờ Giám đốc phê duyệt" in str(m["Subject"]))
    (link,) = DRAFT_LINK.findall(message_text(mail))
    page = httpx.get(link, timeout=60)
    assert page.status_code == 200, page.text
    (csrf,) = CSRF.findall(page.text)
    form = {"csrf": csrf, "decision": "approve", "code": code, "comment": "Đồng ý"}
    sent = httpx.post(f"{link}/quyet-dinh", data=form, timeout=120, follow_redirects=True)
    assert sent.status_code == 200, sent.text
    main = sent.text[sent.text.index("<main>") :]
    said = " ".join(re.sub(r"<[^>]+>", " ", main).split())
    print(f"the decision page, the server down: {said}")
    return said


def decisions(cycle_id: int) -> list[ApprovalDecision]:
    with session_scope() as session:
        return session.exec(
            select(ApprovalDecision).where(ApprovalDecision.cycle_id == cycle_id)
        ).all()
