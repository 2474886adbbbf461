"""The completing web submission makes the draft and its PDF while the worker starts the run; the
run's own step then finds both and only mails them. Real uvicorn, real LibreOffice, real mail,
both database backends; the kill is a real SIGKILL of a real process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlmodel import select

from reportflow.core.config import reload_settings
from reportflow.cycle.collecting.submit import submit_indicators, submit_section
from reportflow.cycle.drafting.draft import draft_ahead, draft_folder, mark_drafting_if_complete
from reportflow.cycle.steps import prepare_draft, request_sections
from reportflow.demo.run import wait_until
from reportflow.models import AuditEvent, Cycle, CycleState, RenderedDocument, session_scope
from reportflow.runtime.smtp_sink import message_text
from tests.factories import (
    DATA_DIR,
    SECTION_HEADS,
    approval_codes,
    open_sample_cycle,
    section_md,
)
from tests.test_web import CSRF, confirm, preview
from tests.web_server import links_in_mails, serving_web

LAST = "bcvt"


def submit_all_but_last(cycle_id: int, tmp_path: Path) -> None:
    submit_indicators(cycle_id, DATA_DIR / "indicators-bcvt.yaml", "tp-bcvt")
    submit_indicators(cycle_id, DATA_DIR / "indicators-ttbcxb.yaml", "tp-ttbcxb")
    for key, person in SECTION_HEADS.items():
        if key != LAST:
            submit_section(cycle_id, key, section_md(tmp_path, key), person)


def drafts(cycle_id: int) -> list[RenderedDocument]:
    with session_scope() as session:
        return list(
            session.exec(
                select(RenderedDocument).where(
                    RenderedDocument.cycle_id == cycle_id, RenderedDocument.kind == "draft"
                )
            )
        )


def events(cycle_id: int, kind: str) -> int:
    with session_scope() as session:
        rows = session.exec(
            select(AuditEvent).where(AuditEvent.cycle_id == cycle_id, AuditEvent.action == kind)
        ).all()
    return len(rows)


def state(cycle_id: int) -> CycleState:
    with session_scope() as session:
        return CycleState(session.get(Cycle, cycle_id).state)


def pdf_of_round(cycle_id: int, round_no: int = 1) -> Path:
    return draft_folder(cycle_id) / f"du-thao-vong-{round_no}.pdf"


def test_the_completing_web_submission_makes_the_draft_and_pdf_the_run_then_mails(
    database, smtp, tmp_path
):
    cycle_id = open_sample_cycle()
    with serving_web():
        request_sections(cycle_id)
        submit_all_but_last(cycle_id, tmp_path)
        assert drafts(cycle_id) == [] and state(cycle_id) == CycleState.COLLECTING
        link = links_in_mails(smtp, "bcvt@")[LAST]
        page = httpx.get(link, timeout=30)
        markdown = section_md(tmp_path, LAST).read_text("utf-8")
        shown = preview(link, CSRF.search(page.text).group(1), markdown=markdown)
        assert confirm(link, shown.text).status_code == 200

        pdf = wait_until(
            lambda: pdf_of_round(cycle_id) if pdf_of_round(cycle_id).is_file() else None,
            120,
            "the draft's PDF made by the web app",
        )
    [ahead] = drafts(cycle_id)
    assert state(cycle_id) == CycleState.DRAFTING, "the web app moved the cycle on, no run did"
    assert events(cycle_id, "cycle.all_sections_in") == 1
    made_at = pdf.stat().st_mtime_ns

    prepared = prepare_draft(cycle_id)

    assert [d.id for d in drafts(cycle_id)] == [ahead.id], "the run rendered nothing again"
    assert pdf.stat().st_mtime_ns == made_at, "nor converted the PDF again"
    assert prepared.read_bytes() == Path(ahead.path).read_bytes()
    assert state(cycle_id) == CycleState.AWAITING_DECISION
    assert events(cycle_id, "draft.rendered") == 1
    [mail] = [m for m in smtp.messages() if "giamdoc@" in str(m["To"])]
    attached = sorted(part.get_filename() for part in mail.iter_attachments())
    assert attached == ["du-thao-vong-1.docx", "du-thao-vong-1.pdf"]
    assert len(approval_codes(smtp)) == 1


def test_nothing_is_made_ahead_while_a_section_is_missing(database, smtp, tmp_path):
    cycle_id = open_sample_cycle()
    request_sections(cycle_id)
    submit_all_but_last(cycle_id, tmp_path)

    assert draft_ahead(cycle_id) is False

    assert drafts(cycle_id) == [] and state(cycle_id) == CycleState.COLLECTING
    assert not pdf_of_round(cycle_id).exists()


AHEAD_IN_A_CHILD = """
import sys
from reportflow.cycle.drafting.draft import draft_ahead
print("made" if draft_ahead(int(sys.argv[1])) else "not made", flush=True)
"""


def draft_ahead_process(cycle_id: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", AHEAD_IN_A_CHILD, str(cycle_id)],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_the_run_and_a_draft_ahead_at_once_make_one_draft(database, smtp, tmp_path):
    """The web app's draft in another process while the run's step renders: one of them waits
    for the other (row lock, write lock, the PDF's file lock) and finds its work done."""
    cycle_id = open_sample_cycle()
    request_sections(cycle_id)
    submit_all_but_last(cycle_id, tmp_path)
    submit_section(cycle_id, LAST, section_md(tmp_path, LAST), SECTION_HEADS[LAST])

    child = draft_ahead_process(cycle_id)
    assert mark_drafting_if_complete(cycle_id), "the run's steps, as the flow calls them"
    prepare_draft(cycle_id)
    output, _ = child.communicate(timeout=180)

    assert child.returncode == 0 and output.strip() in {"made", "not made"}
    assert len(drafts(cycle_id)) == 1
    assert events(cycle_id, "draft.rendered") == 1
    assert events(cycle_id, "cycle.all_sections_in") == 1
    assert state(cycle_id) == CycleState.AWAITING_DECISION
    [mail] = [m for m in smtp.messages() if "giamdoc@" in str(m["To"])]
    assert "du-thao-vong-1.pdf" in [part.get_filename() for part in mail.iter_attachments()]


def test_a_draft_ahead_killed_midway_leaves_the_run_a_whole_draft(database, smtp, tmp_path):
    """SIGKILL once the child has marked the cycle (it is then rendering or converting): its
    transaction and its PDF's staging folder die with it, and the run's step makes both."""
    cycle_id = open_sample_cycle()
    request_sections(cycle_id)
    submit_all_but_last(cycle_id, tmp_path)
    submit_section(cycle_id, LAST, section_md(tmp_path, LAST), SECTION_HEADS[LAST])

    child = draft_ahead_process(cycle_id)
    wait_until(lambda: state(cycle_id) == CycleState.DRAFTING, 60, "the child marking the cycle")
    time.sleep(0.2)
    os.killpg(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    docx = prepare_draft(cycle_id)

    [draft] = drafts(cycle_id)
    assert Path(docx).read_bytes() == Path(draft.path).read_bytes()
    pdf = pdf_of_round(cycle_id)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
    [mail] = [m for m in smtp.messages() if "giamdoc@" in str(m["To"])]
    attached = sorted(part.get_filename() for part in mail.iter_attachments())
    assert attached == ["du-thao-vong-1.docx", "du-thao-vong-1.pdf"]


HOLD_THE_PDF_LOCK = """
import fcntl, sys, time
handle = open(sys.argv[1], "a")
fcntl.flock(handle, fcntl.LOCK_EX)
print("holding", flush=True)
time.sleep(600)
"""


def test_the_directors_mail_waits_a_bounded_time_for_a_pdf_another_process_is_making(
    database, smtp, tmp_path, restore_environment
):
    """Another process holds the draft's PDF lock, as the web app does while it converts a draft
    of hundreds of pages (here a process that only holds the lock, so the wait is certain): the
    mail goes after REPORTFLOW_DRAFT_PDF_WAIT_S with the DOCX and says where the PDF will be;
    once the lock is free, the draft page serves the PDF from the same file."""
    os.environ["REPORTFLOW_DRAFT_PDF_WAIT_S"] = "0.5"
    reload_settings()
    cycle_id = open_sample_cycle()
    request_sections(cycle_id)
    submit_all_but_last(cycle_id, tmp_path)
    submit_section(cycle_id, LAST, section_md(tmp_path, LAST), SECTION_HEADS[LAST])
    assert mark_drafting_if_complete(cycle_id)
    lock = draft_folder(cycle_id) / ".du-thao-vong-1.docx.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_PDF_LOCK, str(lock)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    with serving_web():
        try:
            assert holder.stdout.readline().strip() == "holding"
            began = time.monotonic()
            prepare_draft(cycle_id)
            waited = time.monotonic() - began
        finally:
            os.killpg(holder.pid, signal.SIGKILL)
            holder.wait(timeout=30)

        assert waited < 20, "the mail did not wait for the conversion"
        [mail] = [m for m in smtp.messages() if "giamdoc@" in str(m["To"])]
        assert [p.get_filename() for p in mail.iter_attachments()] == ["du-thao-vong-1.docx"]
        text = " ".join(message_text(mail).split())
        assert "bản PDF đang được tạo; tải bản PDF tại trang dự thảo sau ít phút" in text
        assert not pdf_of_round(cycle_id).exists()

        [link] = re.findall(r"(https?://\S+/d/[A-Za-z0-9_.-]+)", message_text(mail))
        pdf = httpx.get(f"{link}/du-thao.pdf", timeout=180)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.content == pdf_of_round(cycle_id).read_bytes(), "the file the mail would attach"
