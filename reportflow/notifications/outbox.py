"""The outbox: one row per message, recipient and channel, claimed under a lease and marked sent
the moment its send returns.

A row is claimed by one conditional UPDATE whose row count says who won; it needs no
``SELECT … FOR UPDATE`` (a no-op on SQLite), so every dispatcher respects the lease on SQLite and
PostgreSQL alike. A row left "sending" past its lease by a process that died is claimed again:
that one message may then arrive twice, with the same Message-ID. Each row is marked in its own
short transaction right after its send, so a crash never loses or repeats more than that one.

Use: ``enqueue`` the rows in the transaction of the business write that causes the message,
commit, then ``drain`` them. A message whose text must not be stored (the director's one-time
code) is enqueued with ``body=None`` and drained with ``compose=lambda row: (title, body,
attachments)``; a retry composes it again. A ``compose`` given for rows with a stored body
finishes that body at send time (a personal web link is signed into it, never stored).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import and_, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from reportflow.core.clock import utcnow
from reportflow.core.config import get_settings
from reportflow.models import OutboxMessage, OutboxStatus, Person, session_scope
from reportflow.models.audit import record_event
from reportflow.models.db import while_database_answers
from reportflow.notifications.channels import Channel, channels, known_secrets
from reportflow.notifications.message_id import new_message_id, stable_message_id
from reportflow.notifications.redaction import redact_text, redact_url
from reportflow.notifications.sender import Delivery, send_message

NO_CHANNEL = "-"
NO_CHANNEL_ERROR = "chưa có kênh gửi (email hoặc apprise)"
GONE_CHANNEL_ERROR = (
    "kênh này không còn trong danh bạ (hoặc máy này dùng REPORTFLOW_SECRET_KEY khác)"
)
DEFAULT = object()
"""`max_attempts` left to the setting `outbox_max_attempts`; None means no limit."""

KIND_VI = {
    "request": "đề nghị viết phần",
    "reminder": "nhắc việc",
    "dispatch": "phát hành",
    "approval": "xin phê duyệt",
    "receipt": "biên nhận bài gửi trên web",
}
MEND_COMMANDS = {
    "request": "reportflow remind --retry-failed",
    "reminder": "reportflow remind --retry-failed",
    "dispatch": "reportflow dispatch {cycle_id}",
}

ChannelsFor = Callable[[OutboxMessage], list[Channel]]
Compose = Callable[[OutboxMessage], tuple[str, str, Sequence[Path]]]
Sender = Callable[..., Delivery]
T = TypeVar("T")
R = TypeVar("R")


def wall_now() -> dt.datetime:
    """Leases are measured by the machine's clock, never the product's (it may be frozen)."""
    return dt.datetime.now(dt.UTC)


def lease_seconds() -> dt.timedelta:
    return dt.timedelta(seconds=get_settings().outbox_lease_s)


def attempt_limit(max_attempts: object = DEFAULT) -> int | None:
    return get_settings().outbox_max_attempts if max_attempts is DEFAULT else max_attempts


@dataclass(frozen=True)
class Addressee:
    """Who a message goes to, with the channels read just now (their URLs are never stored)."""

    kind: str
    """person | recipient"""
    key: str
    channels: Sequence[Channel]

    @classmethod
    def person(cls, person: Person) -> Addressee:
        return cls("person", person.code, channels(person.email, person.apprise_urls))


def enqueue(
    session: Session,
    *,
    kind: str,
    message_key: str,
    to: Addressee,
    title: str,
    body: str | None,
    attachments: Iterable[Path] = (),
    cycle_id: int | None = None,
    reminder_id: int | None = None,
) -> list[int]:
    """Writes, in the caller's transaction, the rows of one message still missing: one per
    channel the addressee has now. Returns the ids of the message's live rows.

    Safe to call again: existing rows keep their text and Message-ID; unsent rows of channels
    the addressee no longer has are cancelled. An addressee without any channel gets one failed
    row, so the gap is reported rather than silently skipped. ``body=None`` stores no text: the
    drain's ``compose`` makes it at send time (for a message holding a one-time code).
    """
    same_message = (
        OutboxMessage.message_key == message_key,
        OutboxMessage.recipient_kind == to.kind,
        OutboxMessage.recipient == to.key,
    )
    existing = {
        row.channel_key: row for row in session.exec(select(OutboxMessage).where(*same_message))
    }
    wanted = {channel.key: redact_url(channel.url) for channel in to.channels} or {
        NO_CHANNEL: "(không có kênh)"
    }
    cancel(
        session,
        [row.id for key, row in existing.items() if key not in wanted],
        "kênh đã bỏ khỏi danh bạ",
    )
    ids = []
    for key, channel in wanted.items():
        row = existing.get(key)
        if row is None:
            row = OutboxMessage(
                cycle_id=cycle_id,
                kind=kind,
                message_key=message_key,
                recipient_kind=to.kind,
                recipient=to.key,
                reminder_id=reminder_id,
                channel_key=key,
                channel=channel,
                title=title,
                body=body,
                attachments=[str(p) for p in attachments],
                lease_until=wall_now() + lease_seconds(),
            )
            if key == NO_CHANNEL:
                row.status, row.last_error = OutboxStatus.FAILED, NO_CHANNEL_ERROR
                row.attempts = attempt_limit() or 1
            if not _insert(session, row):  # a concurrent enqueue of the same message wrote it
                row = session.exec(
                    select(OutboxMessage).where(*same_message, OutboxMessage.channel_key == key)
                ).one()
        elif row.status == OutboxStatus.CANCELLED:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.status == OutboxStatus.CANCELLED)
                .values(status=OutboxStatus.FAILED if key == NO_CHANNEL else OutboxStatus.PENDING)
                .execution_options(synchronize_session=False)
            )
        ids.append(row.id)
    return ids


def _insert(session: Session, row: OutboxMessage) -> bool:
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
            row.message_id = new_message_id(row.id)
            session.flush()
    except IntegrityError:
        return False
    return True


def retriable(now: dt.datetime, max_attempts: int | None):
    """Rows a sender may claim now: pending ones, failed ones under the attempt limit, and ones
    left "sending" past their lease (their sender died)."""
    under_limit = True if max_attempts is None else OutboxMessage.attempts < max_attempts
    return or_(
        OutboxMessage.status == OutboxStatus.PENDING,
        and_(OutboxMessage.status == OutboxStatus.FAILED, under_limit),
        and_(
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.lease_until < now,
            under_limit,
        ),
    )


def claim(row_id: int, max_attempts: object = DEFAULT) -> OutboxMessage | None:
    """Takes the row for one send, or None if another sender holds it or it needs none; waits
    out a database outage (`while_database_answers`)."""
    return while_database_answers(lambda: _claim(row_id, max_attempts), "nhận một thư để gửi")


def _claim(row_id: int, max_attempts: object) -> OutboxMessage | None:
    now = wall_now()
    with session_scope() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, retriable(now, attempt_limit(max_attempts)))
            .values(
                status=OutboxStatus.SENDING,
                lease_until=now + lease_seconds(),
                attempts=OutboxMessage.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            return None
        return session.get(OutboxMessage, row_id)


def finish(row: OutboxMessage, delivery: Delivery) -> str:
    """Marks the claimed row sent or failed in its own transaction; returns its status.

    A failure is not written over a row another sender has claimed since (its lease ran out).
    A database outage is waited out, within the row's lease: a message sent but not marked
    would be sent again by the next sweep.
    """
    within_lease = min(get_settings().db_outage_wait_s, 0.8 * get_settings().outbox_lease_s)
    return while_database_answers(
        lambda: _finish(row, delivery), "ghi một thư đã gửi", within_lease
    )


def _finish(row: OutboxMessage, delivery: Delivery) -> str:
    with session_scope() as session:
        if delivery.ok:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.status != OutboxStatus.SENT)
                .values(status=OutboxStatus.SENT, sent_at=utcnow(), lease_until=None, last_error="")
                .execution_options(synchronize_session=False)
            )
        else:
            session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == row.id,
                    OutboxMessage.status == OutboxStatus.SENDING,
                    OutboxMessage.attempts == row.attempts,
                )
                .values(status=OutboxStatus.FAILED, lease_until=None, last_error=delivery.error)
                .execution_options(synchronize_session=False)
            )
        record_event(
            session,
            "reportflow",
            "outbox.sent" if delivery.ok else "outbox.failed",
            row.cycle_id,
            kind=row.kind,
            message=row.message_key,
            recipient=row.recipient,
            channel=row.channel,
            attempt=row.attempts,
            **({} if delivery.ok else {"error": delivery.error}),
        )
    return OutboxStatus.SENT if delivery.ok else OutboxStatus.FAILED


@dataclass(frozen=True)
class RowResult:
    id: int
    kind: str
    recipient: str
    channel: str
    status: str
    """sent, failed (by this call's send) | busy (another sender holds it) | done (sent before)
    | exhausted (failed as many times as allowed) | cancelled"""
    error: str = ""
    lease_until: dt.datetime | None = None


@dataclass(frozen=True)
class Drained:
    rows: list[RowResult]

    def with_status(self, *statuses: str) -> list[RowResult]:
        return [r for r in self.rows if r.status in statuses]

    @property
    def claimed_any(self) -> bool:
        return bool(self.with_status("sent", "failed"))


def drain(
    row_ids: Iterable[int],
    channels_for: ChannelsFor,
    compose: Compose | None = None,
    sender: Sender = send_message,
    max_attempts: object = DEFAULT,
) -> Drained:
    """Claims, sends and marks each row in turn.

    ``channels_for`` gives the addressee's channels now (the row's is found among them by its
    key); ``compose`` gives (title, body, attachments) for rows stored without a body.
    """
    results = []
    for row_id in row_ids:
        row = claim(row_id, max_attempts)
        results.append(
            _settled(row_id) if row is None else _send(row, channels_for, compose, sender)
        )
    return Drained(results)


def bounded_map(work: Callable[[T], R], items: Sequence[T], limit: int) -> list[R]:
    """``work`` on each item, at most ``limit`` at a time in threads (each send holds its own
    claim and transactions, so they need no other coordination); results in order."""
    if limit <= 1 or len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(limit, len(items))) as pool:
        return list(pool.map(work, items))


def _send(row: OutboxMessage, channels_for: ChannelsFor, compose: Compose | None, sender: Sender):
    url = next((c.url for c in channels_for(row) if c.key == row.channel_key), None)
    if url is None:
        error = NO_CHANNEL_ERROR if row.channel_key == NO_CHANNEL else GONE_CHANNEL_ERROR
        delivery = Delivery(row.channel, False, error)
    else:
        delivery = _deliver(row, url, compose, sender)
    status = finish(row, delivery)
    return RowResult(row.id, row.kind, row.recipient, row.channel, status, delivery.error)


def _deliver(row: OutboxMessage, url: str, compose: Compose | None, sender: Sender) -> Delivery:
    if compose is None and row.body is not None:
        title, body, attachments = row.title, row.body, [Path(p) for p in row.attachments]
    elif compose is None:
        return Delivery(row.channel, False, "tin này được soạn lúc gửi nhưng không có người soạn")
    else:
        try:
            title, body, attachments = compose(row)
        except Exception as exc:  # noqa: BLE001 - the row is marked failed with the reason
            return Delivery(row.channel, False, redact_text(str(exc), known_secrets()))
    with stable_message_id(row.message_id):
        if attachments:
            return sender(url, title, body, list(attachments))
        return sender(url, title, body)


def _settled(row_id: int) -> RowResult:
    """What became of a row this call could not claim."""
    with session_scope() as session:
        row = session.get(OutboxMessage, row_id)
    status = {
        OutboxStatus.SENT: "done",
        OutboxStatus.FAILED: "exhausted",
        OutboxStatus.CANCELLED: "cancelled",
    }.get(row.status, "busy")
    return RowResult(
        row.id, row.kind, row.recipient, row.channel, status, row.last_error, row.lease_until
    )


def person_channels(row: OutboxMessage) -> list[Channel]:
    """The channels of the person a row goes to, as the directory has them now."""
    with session_scope() as session:
        person = session.get(Person, row.recipient)
        return channels(person.email, list(person.apprise_urls)) if person else []


def cancel(session: Session, row_ids: Iterable[int], reason: str) -> int:
    """Withdraws rows no longer wanted, unless a sender holds them under a live lease."""
    ids = list(row_ids)
    if not ids:
        return 0
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), retriable(wall_now(), None))
        .values(status=OutboxStatus.CANCELLED, last_error=reason, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


@dataclass(frozen=True)
class Trouble:
    """Rows of one cycle and kind that need a hand: stuck past their lease, or failed for good."""

    cycle_id: int | None
    kind: str
    stuck: int
    failed: int

    def describe(self) -> str:
        what = KIND_VI.get(self.kind, self.kind)
        parts = []
        if self.stuck:
            parts.append(f"{self.stuck} tin {what} kẹt (tiến trình gửi đã dừng giữa chừng)")
        if self.failed:
            parts.append(f"{self.failed} tin {what} vẫn lỗi sau {attempt_limit()} lần gửi")
        where = f"kỳ {self.cycle_id}" if self.cycle_id is not None else "ngoài kỳ báo cáo"
        command = MEND_COMMANDS.get(self.kind)
        mend = f" → {command.format(cycle_id=self.cycle_id)}" if command else ""
        return f"{where}: {', '.join(parts)}{mend}"


def troubles(session: Session) -> list[Trouble]:
    now = wall_now()
    limit = attempt_limit()
    stuck = and_(
        OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
        OutboxMessage.lease_until < now,
    )
    failed = OutboxMessage.status == OutboxStatus.FAILED
    if limit is not None:
        failed = and_(failed, OutboxMessage.attempts >= limit)
    rows = session.exec(
        select(
            OutboxMessage.cycle_id,
            OutboxMessage.kind,
            func.count().filter(stuck),
            func.count().filter(failed),
        )
        .where(or_(stuck, failed))
        .group_by(OutboxMessage.cycle_id, OutboxMessage.kind)
        .order_by(OutboxMessage.cycle_id, OutboxMessage.kind)
    ).all()
    return [Trouble(*row) for row in rows]
