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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reportflow.config import get_settings
from reportflow.models import CycleState, RenderedDocument, session_scope
from reportflow.tasks.audit import record_event
from reportflow.tasks.cycles import all_sections_in, get_cycle
from reportflow.tasks.documents import named_copy
from reportflow.tasks.errors import UserError
from reportflow.tasks.export import convert_to_pdf
from reportflow.tasks.merge import render_draft

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


def draft_attachments(docx: Path) -> tuple[list[Path], str]:
    """The draft as DOCX and as PDF (reads on a phone); when LibreOffice fails, the DOCX alone
    and why, for the mail to say so. One conversion per file on a machine: a second caller
    waits for the first and takes its PDF."""
    pdf = docx.with_suffix(".pdf")
    with _held(docx.with_name(f".{docx.name}.lock")):
        if pdf.is_file() and pdf.stat().st_mtime >= docx.stat().st_mtime:
            return [docx, pdf], ""
        try:
            return [docx, convert_to_pdf(docx, docx.parent)], ""
        except (UserError, OSError, subprocess.SubprocessError) as exc:
            log.warning("Không tạo được bản PDF của dự thảo %s: %s", docx.name, exc)
            reason = (
                re.split(r"[.:] ", str(exc))[0] if isinstance(exc, UserError) else "lỗi LibreOffice"
            )
            return [docx], reason


@contextmanager
def _held(lock_path: Path) -> Iterator[None]:
    """An exclusive lock on the file, released when the process ends, killed or not."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


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
