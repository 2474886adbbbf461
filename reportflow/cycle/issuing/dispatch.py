"""Sends the numbered report to every channel of every recipient, once each, through the
outbox, and archives one copy."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session, select

from reportflow.core.clock import utcnow
from reportflow.core.config import get_settings
from reportflow.core.errors import Conflict
from reportflow.cycle.cycles import cycle_definition, get_cycle
from reportflow.cycle.documents import find_document, named_copy
from reportflow.definitions.loader import load_organisation
from reportflow.models import (
    Cycle,
    CycleState,
    DispatchRecord,
    OutboxMessage,
    OutboxStatus,
    RegisterEntry,
    RenderedDocument,
    session_scope,
)
from reportflow.models.audit import record_event
from reportflow.notifications.channels import Channel, channels
from reportflow.notifications.messages import render_message
from reportflow.notifications.outbox import (
    DEFAULT,
    Addressee,
    RowResult,
    attempt_limit,
    drain,
    enqueue,
    retriable,
    wall_now,
)

ARCHIVE_KEY = "luu-vt"
KIND = "dispatch"


@dataclass(frozen=True)
class DispatchOutcome:
    sent: list[str]
    already_sent: list[str]
    failed: list[str]
    in_progress: list[str] = field(default_factory=list)
    """Recipients with a message another process holds (it is sending, or died; its lease says
    when it may be sent again)."""
    problems: list[RowResult] = field(default_factory=list)
    """The failed and held rows, with their redacted channel and reason."""


def message_key(cycle_id: int) -> str:
    return f"dispatch:c{cycle_id}"


def dispatch_report(
    cycle_id: int, max_attempts: object = DEFAULT, wait_s: float | None = None
) -> DispatchOutcome:
    """Safe to run again, and at the same time as another dispatch: each channel of each
    recipient is claimed before it is sent and marked sent right after, so a re-run sends only
    what is missing. A message another process holds is waited for up to ``wait_s``
    (`outbox_wait_s`), then reported as in progress; one whose sender died is sent again once
    its lease ran out (with the same Message-ID). Failed channels are tried again up to
    `outbox_max_attempts` times in all; ``max_attempts=None`` (the clerk's command) tries them
    however often they failed.
    """
    settings = get_settings()
    with session_scope() as session:
        recipients, ids = _enqueue_all(session, cycle_id)
    deadline = time.monotonic() + (settings.outbox_wait_s if wait_s is None else wait_s)
    results: dict[int, RowResult] = {}
    todo = [row_id for key in ids for row_id in ids[key]]
    while True:
        drained = drain(
            todo, lambda row: recipients.get(row.recipient, []), max_attempts=max_attempts
        )
        results |= {r.id: r for r in drained.rows}
        todo = [r.id for r in drained.with_status("busy")]
        if not todo or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    outcome = _outcome(ids, results)
    _archive(cycle_id)
    _finish_if_complete(cycle_id)
    return outcome


def _enqueue_all(
    session: Session, cycle_id: int
) -> tuple[dict[str, list[Channel]], dict[str, list[int]]]:
    """The rows of every recipient, written with the move to DISPATCHING; their URLs now."""
    cycle = get_cycle(session, cycle_id)
    definition = cycle_definition(session, cycle)
    entry = session.exec(select(RegisterEntry).where(RegisterEntry.cycle_id == cycle_id)).one()
    final = find_document(session, cycle_id, "final")
    if final is None:
        raise Conflict(f"Kỳ báo cáo số {cycle_id} chưa có bản chính thức để gửi.")
    if cycle.state == CycleState.NUMBERED:
        cycle.state = CycleState.DISPATCHING
        session.add(cycle)
    organisation = load_organisation()
    issued = issued_file(session, cycle_id)
    attachments = [attachment_copy(issued or final, entry.number_text)]
    if issued is not None and definition.send_docx_too:
        attachments.append(attachment_copy(final, entry.number_text))
    reached, ids = {}, {}
    sent_before = _sent_before_the_outbox(session, cycle_id)
    for recipient in definition.recipients:
        if recipient.key in sent_before:
            continue
        reached[recipient.key] = channels(recipient.email, list(recipient.apprise))
        title, body = render_message(
            "dispatch",
            doc_type_name=definition.doc_type_name,
            number_text=entry.number_text,
            issued_on=entry.issued_on,
            summary=entry.summary,
            recipient_label=recipient.greeting_name,
            issuing_body_name=organisation.issuing_body_name,
            request_number=cycle.request_number if recipient.requester else "",
            request_date=cycle.request_date,
            request_sender=cycle.request_sender,
            signed=issued is not None,
            docx_too=len(attachments) > 1,
        )
        ids[recipient.key] = enqueue(
            session,
            kind=KIND,
            message_key=message_key(cycle_id),
            to=Addressee("recipient", recipient.key, reached[recipient.key]),
            title=title,
            body=body,
            attachments=attachments,
            cycle_id=cycle_id,
        )
    return reached, ids


def _sent_before_the_outbox(session: Session, cycle_id: int) -> set[str]:
    """Recipients a version before the outbox (migration 0003) recorded as sent: an upgrade in
    the middle of a dispatch must not send them the report again."""
    return set(
        session.exec(
            select(DispatchRecord.recipient_key).where(
                DispatchRecord.cycle_id == cycle_id,
                DispatchRecord.status == "sent",
                DispatchRecord.recipient_key != ARCHIVE_KEY,
            )
        )
    )


def _outcome(ids: dict[str, list[int]], results: dict[int, RowResult]) -> DispatchOutcome:
    sent, already, failed, held, problems = [], [], [], [], []
    for key, row_ids in ids.items():
        statuses = {results[i].status for i in row_ids}
        problems += [results[i] for i in row_ids if results[i].status not in ("sent", "done")]
        if statuses & {"failed", "exhausted"}:
            failed.append(key)
        elif "busy" in statuses:
            held.append(key)
        elif "sent" in statuses:
            sent.append(key)
        else:
            already.append(key)
    return DispatchOutcome(sent, already, failed, held, problems)


def _finish_if_complete(cycle_id: int) -> None:
    """DONE once every live row of the cycle's dispatch is sent; said once however many
    dispatchers get here."""
    with session_scope() as session:
        statuses = set(
            session.exec(
                select(OutboxMessage.status).where(
                    OutboxMessage.message_key == message_key(cycle_id),
                    OutboxMessage.status != OutboxStatus.CANCELLED,
                )
            )
        )
        if statuses != {OutboxStatus.SENT}:
            return
        done = session.execute(
            update(Cycle)
            .where(Cycle.id == cycle_id, Cycle.state == CycleState.DISPATCHING)
            .values(state=CycleState.DONE)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount == 1:
            number = session.exec(
                select(RegisterEntry.number_text).where(RegisterEntry.cycle_id == cycle_id)
            ).one()
            record_event(session, "reportflow", "cycle.done", cycle_id, number=number)


def resume_dispatches(max_attempts: object = DEFAULT) -> dict[int, DispatchOutcome]:
    """Finishes the dispatches a crash or a mail outage left unfinished (for the sweep)."""
    with session_scope() as session:
        cycle_ids = session.exec(
            select(OutboxMessage.cycle_id)
            .join(Cycle, Cycle.id == OutboxMessage.cycle_id)
            .where(
                OutboxMessage.kind == KIND,
                Cycle.state == CycleState.DISPATCHING,
                retriable(wall_now(), attempt_limit(max_attempts)),
            )
            .distinct()
            .order_by(OutboxMessage.cycle_id)
        ).all()
    return {
        cycle_id: dispatch_report(cycle_id, max_attempts=max_attempts, wait_s=0)
        for cycle_id in cycle_ids
    }


def issued_file(session: Session, cycle_id: int) -> RenderedDocument | None:
    """The signed PDF, when the cycle signs (it is what has the force of a paper original)."""
    return find_document(session, cycle_id, "signed")


def attachment_copy(final: RenderedDocument, number_text: str) -> Path:
    """The exact bytes of the issued file, under the name the recipient sees:
    859-BC-STTTT-VP.pdf when signed, .docx when not."""
    suffix = ".pdf" if final.kind == "signed" else ".docx"
    name = number_text.replace("/", "-").replace(" ", "") + suffix
    return named_copy(final, get_settings().documents_dir / f"cycle-{final.cycle_id}", name)


def _write_checksum(target: Path, sha256: str) -> None:
    """Beside the archived file, its SHA-256 as `sha256sum -c` reads it."""
    target.with_name(target.name + ".sha256").write_text(f"{sha256}  {target.name}\n", "utf-8")


def _archive(cycle_id: int) -> None:
    """One copy into the office's archive ("Lưu: VT"), recorded once."""
    with session_scope() as session:
        done = session.exec(
            select(DispatchRecord.id).where(
                DispatchRecord.cycle_id == cycle_id,
                DispatchRecord.recipient_key == ARCHIVE_KEY,
                DispatchRecord.status == "sent",
            )
        ).first()
        if done is not None:
            return
        entry = session.exec(select(RegisterEntry).where(RegisterEntry.cycle_id == cycle_id)).one()
        issued = issued_file(session, cycle_id) or find_document(session, cycle_id, "final")
        document = attachment_copy(issued, entry.number_text)
        folder = get_settings().data_dir / "archive" / str(entry.year)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / document.name
        shutil.copyfile(document, target)
        _write_checksum(target, issued.sha256)
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
