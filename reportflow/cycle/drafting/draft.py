"""From the last section in to a draft on disk: the cycle marked as drafting, the round's draft
rendered once, and its DOCX and PDF as the director's mail attaches them.

The completing web submission runs `draft_ahead` while the worker starts the cycle's run, so the
run finds the draft and its PDF made and only mails them. Every step here is also the run's own
and safe to repeat, so a draft made ahead changes nothing but when it is ready.
"""

from __future__ import annotations

import fcntl
import logging
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reportflow.core.config import get_settings
from reportflow.core.errors import UserError
from reportflow.cycle.cycles import all_sections_in, get_cycle
from reportflow.cycle.documents import named_copy
from reportflow.cycle.drafting.merge import render_draft
from reportflow.cycle.pdf_export import convert_to_pdf
from reportflow.models import CycleState, RenderedDocument, session_scope
from reportflow.models.audit import record_event

log = logging.getLogger(__name__)


def mark_drafting_if_complete(cycle_id: int) -> bool:
    """COLLECTING → DRAFTING once every section is in; whether the cycle is past collecting."""
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id, for_update=True)
        if cycle.state != CycleState.COLLECTING or not all_sections_in(session, cycle_id):
            return cycle.state != CycleState.COLLECTING
        cycle.state = CycleState.DRAFTING
        session.add(cycle)
        record_event(session, "reportflow", "cycle.all_sections_in", cycle_id, round=cycle.round)
        return True


def draft_folder(cycle_id: int) -> Path:
    return get_settings().documents_dir / f"cycle-{cycle_id}"


def draft_copy(draft: RenderedDocument) -> Path:
    """The round's draft under the name the director's mail attaches."""
    return named_copy(draft, draft_folder(draft.cycle_id), f"du-thao-vong-{draft.round}.docx")


STILL_CONVERTING = "dự thảo dài, bản PDF đang được tạo; tải bản PDF tại trang dự thảo sau ít phút"


def draft_attachments(docx: Path, wait_s: float | None = None) -> tuple[list[Path], str]:
    """The draft as DOCX and as PDF (reads on a phone); otherwise the DOCX alone and why, for
    the mail to say so. One conversion per file on a machine: a caller finding another one
    converting waits for its PDF, at most ``wait_s`` seconds when given (the director's mail
    does not wait for a draft of hundreds of pages; the draft page serves its PDF later)."""
    pdf = docx.with_suffix(".pdf")
    with _held(docx.with_name(f".{docx.name}.lock"), wait_s) as held:
        if pdf.is_file() and pdf.stat().st_mtime >= docx.stat().st_mtime:
            return [docx, pdf], ""
        if not held:
            return [docx], STILL_CONVERTING
        try:
            return [docx, convert_to_pdf(docx, docx.parent)], ""
        except (UserError, OSError, subprocess.SubprocessError) as exc:
            log.warning("Không tạo được bản PDF của dự thảo %s: %s", docx.name, exc)
            reason = (
                re.split(r"[.:] ", str(exc))[0] if isinstance(exc, UserError) else "lỗi LibreOffice"
            )
            return [docx], reason


@contextmanager
def _held(lock_path: Path, wait_s: float | None) -> Iterator[bool]:
    """An exclusive lock on the file (released when the process ends, killed or not); whether
    it was taken within ``wait_s`` seconds (None: waits as long as it takes)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        yield _lock(handle, wait_s)


def _lock(handle, wait_s: float | None) -> bool:
    if wait_s is None:
        fcntl.flock(handle, fcntl.LOCK_EX)
        return True
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


def draft_ahead(cycle_id: int) -> bool:
    """The draft and its PDF made by the completing submission, before the run asks for them;
    whether it made them. Never raises: the run makes whatever this did not."""
    try:
        if not mark_drafting_if_complete(cycle_id):
            return False
        with session_scope(write_lock=True) as session:
            cycle = get_cycle(session, cycle_id, for_update=True)
            if cycle.state != CycleState.DRAFTING:
                return False
            draft = render_draft(session, cycle)
        attachments, _ = draft_attachments(draft_copy(draft))
        return len(attachments) == 2
    except Exception:
        log.exception("Không lập trước được dự thảo của kỳ %s; quy trình sẽ tự lập.", cycle_id)
        return False
