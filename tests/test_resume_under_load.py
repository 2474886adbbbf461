"""Thirty presses of Submit on the Prefect UI's Resume form while Prefect is under load (issue
19, part 1): wrong codes (which also trip the code lockout and its new mail), one send-back and
the approval, in Chromium, on SQLite (the session's Prefect server, the one `serve` starts, its
write transactions IMMEDIATE) and on PostgreSQL (the project's database and Prefect's own beside
it, as `serve` sets them up). The load is eight writers of logs, artifacts and state
changes beside the presses (bench P1's load, which makes Prefect's own server fail resumes with
"database is locked"); it stands in for a large cycle's submissions and a reminder sweep.
No error toast, and every press is acted on exactly once."""

from __future__ import annotations

import threading
import time
from uuid import UUID

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlmodel import select

from bench.prefect_lock import Load
from reportflow.core.config import reload_settings
from reportflow.cycle.collecting.submit import submit_section
from reportflow.cycle.cycles import get_cycle
from reportflow.cycle.deciding.approval import MAX_WRONG_CODES
from reportflow.demo.run import start_flow_process, wait_for_pause, wait_until
from reportflow.models import AuditEvent, CycleState, session_scope
from tests.browser import SCREENSHOTS
from tests.factories import approval_codes, open_sample_cycle, submit_everything
from tests.test_director_ui import ClassicForm, _submit_and_time, browser

__all__ = ["browser"]

pytestmark = pytest.mark.e2e

PRESSES = 30
TOAST = "Something went wrong"


def decisions(cycle_id: int) -> list[AuditEvent]:
    with session_scope() as session:
        return list(
            session.exec(
                select(AuditEvent)
                .where(AuditEvent.cycle_id == cycle_id, AuditEvent.action.like("decision.%"))
                .order_by(AuditEvent.id)
            )
        )


def test_thirty_presses_under_load_are_each_acted_on_once(
    prefect_of_backend, database, smtp, browser, tmp_path, monkeypatch
):
    prefect_server = prefect_of_backend
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-05T09:00:00+07:00")
    monkeypatch.setenv("REPORTFLOW_PREFECT_UI_URL", prefect_server.removesuffix("/api"))
    monkeypatch.delenv("REPORTFLOW_PAUSE_POLL_S", raising=False)
    reload_settings()
    folder = SCREENSHOTS / "resume-under-load"
    folder.mkdir(parents=True, exist_ok=True)
    cycle_id = open_sample_cycle()
    flow = start_flow_process(cycle_id, tmp_path / "flow.log")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    load = Load(prefect_server)
    writers = [threading.Thread(target=load.writer, daemon=True) for _ in range(8)]
    toasts = 0
    try:
        wait_for_pause(cycle_id, "sections-", flow)
        submit_everything(cycle_id, tmp_path)
        wait_for_pause(cycle_id, "decision-r1", flow)
        wait_until(lambda: approval_codes(smtp), 30, "approval mail")
        with session_scope() as session:
            run_id = UUID(get_cycle(session, cycle_id).flow_run_id)
        form = ClassicForm(page, prefect_server.removesuffix("/api"), run_id, folder)
        for writer in writers:
            writer.start()

        def open_form() -> None:
            """Prefect shows the run Paused a moment before it has saved the form's schema; a
            dialog opened in that gap stays empty (more often under load). The director opens
            it again; so does this, up to three times."""
            for attempt in range(3):
                try:
                    form.open(timeout_ms=10_000)
                    return
                except PlaywrightTimeout:
                    form.shot(f"form-not-shown-{len(decisions(cycle_id))}-{attempt}")
                    time.sleep(1)
            form.open()

        def press(decision: str, code: str, changes=()) -> None:
            nonlocal toasts
            open_form()

            def fill() -> None:
                form.fill(decision, code, list(changes))

            fill()
            _submit_and_time(form, "classic-under-load", fill)
            if page.get_by_text(TOAST).count():
                toasts += 1
                form.shot(f"toast-{len(decisions(cycle_id))}")

        for n in range(PRESSES - 2):
            wrong = f"{n:04d}-{n:04d}"
            press("Phê duyệt", wrong if wrong not in approval_codes(smtp) else "ZZZZ-ZZZZ")
            wait_for_pause(cycle_id, "decision-r1", flow)
        form.shot("01-after-wrong-codes")
        latest = approval_codes(smtp)[-1]
        press(
            "Trả lại để sửa",
            latest,
            [("bcvt · Bưu chính – Viễn thông", "Bổ sung số liệu bưu chính quý II")],
        )
        wait_for_pause(cycle_id, "sections-r2", flow)
        revised = tmp_path / "bcvt-v2.md"
        revised.write_text("- Bổ sung: sản lượng bưu chính quý II tăng 12,5%.\n", encoding="utf-8")
        submit_section(cycle_id, "bcvt", revised, "tp-bcvt")
        wait_for_pause(cycle_id, "decision-r2", flow)
        press("Phê duyệt", approval_codes(smtp)[-1])
        form.shot("02-approved")
        assert flow.wait(timeout=180) == 0, (tmp_path / "flow.log").read_text()
    finally:
        load.stop.set()
        for writer in writers:
            writer.join(60)
        page.close()
        if flow.poll() is None:
            flow.kill()
    assert toasts == 0
    assert sum(load.failed.values()) == 0, dict(load.failed)
    seen = decisions(cycle_id)
    assert [e.action for e in seen] == ["decision.refused"] * (PRESSES - 2) + [
        "decision.request_changes",
        "decision.approve",
    ], "each press acted on once"
    with session_scope() as session:
        assert get_cycle(session, cycle_id).state == CycleState.DONE
        locks = session.exec(
            select(AuditEvent).where(
                AuditEvent.cycle_id == cycle_id, AuditEvent.action == "approval_code.locked_out"
            )
        ).all()
    assert len(locks) == (PRESSES - 2) // MAX_WRONG_CODES
