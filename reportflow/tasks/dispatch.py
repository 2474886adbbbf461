"""Sends the numbered report to every recipient, once each, and archives one copy."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from reportflow.clock import utcnow
from reportflow.config import get_settings
from reportflow.definition_loader import load_organisation
from reportflow.definition_schema import RecipientSpec
from reportflow.models import (
    CycleState,
    DispatchRecord,
    RegisterEntry,
    RenderedDocument,
    session_scope,
)
from reportflow.notifications.channels import channel_urls
from reportflow.notifications.messages import render_message
from reportflow.notifications.redaction import redact_url
from reportflow.notifications.sender import FanOut, send_to_channels
from reportflow.tasks.audit import record_event
from reportflow.tasks.cycles import cycle_definition, get_cycle
from reportflow.tasks.documents import document_file
from reportflow.tasks.errors import Conflict

ARCHIVE_KEY = "luu-vt"


@dataclass(frozen=True)
class DispatchOutcome:
    sent: list[str]
    already_sent: list[str]
    failed: list[str]


def _sent_keys(session: Session, cycle_id: int) -> set[str]:
    rows = session.exec(
        select(DispatchRecord.recipient_key).where(
            DispatchRecord.cycle_id == cycle_id, DispatchRecord.status == "sent"
        )
    )
    return set(rows)


def _claim_attempt(
    cycle_id: int, recipient: RecipientSpec, channel: str
) -> tuple[int, set[str]] | None:
    """Writes the attempt row before anything is sent; None if it was sent meanwhile.

    Also returns the channels that earlier, partly failed attempts already reached.
    """
    with session_scope() as session:
        get_cycle(session, cycle_id, for_update=True)
        if recipient.key in _sent_keys(session, cycle_id):
            return None
        earlier = session.exec(
            select(DispatchRecord.delivered_channels).where(
                DispatchRecord.cycle_id == cycle_id,
                DispatchRecord.recipient_key == recipient.key,
            )
        ).all()
        already = {key for keys in earlier for key in keys or ()}
        attempt = len(earlier) + 1
        record = DispatchRecord(
            cycle_id=cycle_id,
            recipient_key=recipient.key,
            recipient_label=recipient.label,
            channel=channel,
            attempt=attempt,
            status="sending",
        )
        session.add(record)
        session.flush()
        return record.id, already


def _finish_attempt(record_id: int, outcome: FanOut) -> None:
    ok = outcome.ok
    with session_scope() as session:
        record = session.get(DispatchRecord, record_id)
        record.status = "sent" if ok else "failed"
        record.error = "; ".join(outcome.errors)
        record.delivered_channels = sorted(outcome.delivered)
        record.finished_at = utcnow()
        session.add(record)
        record_event(
            session,
            "reportflow",
            "dispatch.sent" if ok else "dispatch.failed",
            record.cycle_id,
            recipient=record.recipient_key,
            attempt=record.attempt,
            channel=record.channel,
        )


def dispatch_report(cycle_id: int) -> DispatchOutcome:
    """Safe to run again: recipients already marked sent are skipped.

    A kill between the SMTP hand-off and the "sent" row leaves a "sending" row; the next run sends
    to that recipient again (at-least-once), because an e-mail cannot be taken back or checked.
    """
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id)
        definition = cycle_definition(session, cycle)
        entry = session.exec(select(RegisterEntry).where(RegisterEntry.cycle_id == cycle_id)).one()
        final = session.exec(
            select(RenderedDocument)
            .where(RenderedDocument.cycle_id == cycle_id, RenderedDocument.kind == "final")
            .order_by(RenderedDocument.id.desc())
        ).first()
        if final is None:
            raise Conflict(f"Kỳ báo cáo số {cycle_id} chưa có bản chính thức để gửi.")
        if cycle.state == CycleState.NUMBERED:
            cycle.state = CycleState.DISPATCHING
            session.add(cycle)
        already = _sent_keys(session, cycle_id)
    organisation = load_organisation()
    attachment = _attachment_copy(document_file(final), entry.number_text)
    sent, skipped, failed = [], [], []
    for recipient in definition.recipients:
        if recipient.key in already:
            skipped.append(recipient.key)
            continue
        urls = channel_urls(recipient.email, list(recipient.apprise))
        title, body = render_message(
            "dispatch",
            doc_type_name=definition.doc_type_name,
            number_text=entry.number_text,
            issued_on=entry.issued_on,
            summary=entry.summary,
            recipient_label=recipient.label,
            issuing_body_name=organisation.issuing_body_name,
            request_number=cycle.request_number if recipient.requester else "",
            request_date=cycle.request_date,
            request_sender=cycle.request_sender,
        )
        channel = ", ".join(redact_url(u) for u in urls)
        claimed = _claim_attempt(cycle_id, recipient, channel)
        if claimed is None:
            skipped.append(recipient.key)
            continue
        record_id, already = claimed
        outcome = send_to_channels(urls, title, body, [attachment], already=already)
        _finish_attempt(record_id, outcome)
        (sent if outcome.ok else failed).append(recipient.key)
    _archive(cycle_id, attachment, entry)
    if not failed:
        with session_scope() as session:
            cycle = get_cycle(session, cycle_id, for_update=True)
            cycle.state = CycleState.DONE
            session.add(cycle)
            record_event(session, "reportflow", "cycle.done", cycle_id, number=entry.number_text)
    return DispatchOutcome(sent, skipped, failed)


def _attachment_copy(final: Path, number_text: str) -> Path:
    """The recipient sees a file named after the document's number, e.g. 859-BC-STTTT-VP.docx."""
    name = number_text.replace("/", "-").replace(" ", "") + ".docx"
    target = final.parent / name
    if not target.exists() or target.read_bytes() != final.read_bytes():
        shutil.copyfile(final, target)
    return target


def _archive(cycle_id: int, document: Path, entry: RegisterEntry) -> None:
    folder = get_settings().data_dir / "archive" / str(entry.year)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / document.name
    with session_scope() as session:
        if ARCHIVE_KEY in _sent_keys(session, cycle_id):
            return
        shutil.copyfile(document, target)
        session.add(
            DispatchRecord(
                cycle_id=cycle_id,
                recipient_key=ARCHIVE_KEY,
                recipient_label="Lưu: VT",
                channel=f"archive://{target.name}",
                attempt=1,
                status="sent",
                finished_at=utcnow(),
            )
        )
