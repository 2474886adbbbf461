"""The outbox's rules one at a time, against the real databases and the real SMTP sink: a message
composed at send time leaves no text behind, a person without a channel is reported rather
than skipped, and fixing the address mends it."""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter

from sqlmodel import select
from typer.testing import CliRunner

from reportflow.cli import app
from reportflow.core.clock import VN_TZ
from reportflow.core.config import reload_settings
from reportflow.cycle.reminding.reminders import sweep
from reportflow.models import AuditEvent, OutboxMessage, Person, session_scope
from reportflow.notifications.channels import channels
from reportflow.notifications.outbox import (
    NO_CHANNEL_ERROR,
    Addressee,
    drain,
    enqueue,
    person_channels,
)
from reportflow.runtime.smtp_sink import message_text
from tests.factories import open_sample_cycle

FRIDAY_9AM = dt.datetime(2020, 6, 5, 9, 0, tzinfo=VN_TZ)
CODE = "K7QM-4TZP"


def stored_text() -> str:
    """Everything the outbox and the audit trail hold, as one string."""
    with session_scope() as session:
        rows = session.exec(select(OutboxMessage)).all()
        events = session.exec(select(AuditEvent)).all()
    return repr([r.model_dump() for r in rows]) + repr([e.detail for e in events])


def enqueue_for_director(body: str | None) -> list[int]:
    open_sample_cycle()  # loads the organisation's people
    with session_scope() as session:
        director = session.get(Person, "giamdoc")
        return enqueue(
            session,
            kind="approval",
            message_key="approval:c1:r1",
            to=Addressee("person", director.code, channels(director.email, [])),
            title="Xin phê duyệt dự thảo",
            body=body,
        )


def test_a_message_composed_at_send_time_keeps_its_code_out_of_the_database(
    database, smtp, refused_port, restore_environment
):
    ids = enqueue_for_director(body=None)
    composed = []

    def compose(row: OutboxMessage):
        composed.append(row.id)
        return row.title, f"Mã phê duyệt một lần của vòng này: {CODE}\n", []

    os.environ["REPORTFLOW_SMTP_PORT"] = str(refused_port)
    reload_settings()
    failed = drain(ids, person_channels, compose=compose)
    assert [r.status for r in failed.rows] == ["failed"]

    os.environ["REPORTFLOW_SMTP_PORT"] = str(smtp.port)
    reload_settings()
    sent = drain(ids, person_channels, compose=compose)
    assert [r.status for r in sent.rows] == ["sent"]
    assert composed == ids * 2, "composed again for the retry, never read back"

    (mail,) = smtp.messages()
    assert CODE in message_text(mail)
    (row,) = [r for r in map(_row, ids)]
    assert row.body is None and (row.status, row.attempts) == ("sent", 2)
    assert mail["Message-ID"] == row.message_id
    assert CODE not in stored_text()
    assert drain(ids, person_channels, compose=compose).rows[0].status == "done"
    assert len(smtp.messages()) == 1


def test_a_message_without_text_or_composer_fails_with_a_reason(database, smtp):
    ids = enqueue_for_director(body=None)
    (result,) = drain(ids, person_channels).rows
    assert result.status == "failed"
    assert "không có người soạn" in result.error
    assert smtp.messages() == []


def _row(row_id: int) -> OutboxMessage:
    with session_scope() as session:
        return session.get(OutboxMessage, row_id)


def test_a_person_without_any_channel_is_reported_then_reached_once_an_address_is_set(
    database, smtp
):
    open_sample_cycle()
    with session_scope() as session:
        person = session.get(Person, "chanhtt")
        address, person.email = person.email, None
        session.add(person)

    first = sweep(now=FRIDAY_9AM)
    assert len(first.sent) == 23
    assert Counter((p.what.split(" · ")[2], p.reason) for p in first.failed) == Counter(
        {("chanhtt", NO_CHANNEL_ERROR): 1}
    )
    check = CliRunner().invoke(app, ["check"], env={"COLUMNS": "300"})
    line = next(line for line in check.output.splitlines() if "Hộp thư đi" in line)
    assert "kỳ 1: 1 tin nhắc việc vẫn lỗi sau 5 lần gửi" in line

    with session_scope() as session:
        person = session.get(Person, "chanhtt")
        person.email = address
        session.add(person)
    second = sweep(now=FRIDAY_9AM)
    assert [(p.person_code, p.section_key) for p in second.sent] == [("chanhtt", "thanh-tra")]
    assert second.failed == []
    assert Counter(str(m["To"]) for m in smtp.messages())[address] == 1
    assert len(smtp.messages()) == 24
    statuses = Counter(r.status for r in map(_row, _ids()))
    assert statuses == Counter({"sent": 24, "cancelled": 1})


def _ids() -> list[int]:
    with session_scope() as session:
        return list(session.exec(select(OutboxMessage.id)))


class Overlap:
    """An SMTP sink hook that holds each message a moment and records how many SMTP sessions
    were inside their DATA at once."""

    def __init__(self, hold_s: float = 0.3):
        import threading

        self.hold_s = hold_s
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def __call__(self, _path) -> None:
        import time

        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(self.hold_s)
        with self.lock:
            self.now -= 1


def test_requests_go_out_several_at_once_within_the_bound_each_once(
    database, tmp_path, restore_environment
):
    from reportflow.cycle.steps import request_sections
    from reportflow.runtime.smtp_sink import SmtpSink

    overlap = Overlap()
    sink = SmtpSink(tmp_path / "outbox", on_message=overlap).start()
    os.environ["REPORTFLOW_SMTP_PORT"] = str(sink.port)
    os.environ["REPORTFLOW_SEND_CONCURRENCY"] = "3"
    reload_settings()
    try:
        cycle_id = open_sample_cycle()
        sent = request_sections(cycle_id)
        again = request_sections(cycle_id)  # the step run again after a resume sends nothing
    finally:
        sink.stop()
    with session_scope() as session:
        heads = session.exec(
            select(Person.email).where(Person.role == "head", Person.division_code.is_not(None))
        ).all()
    received = Counter(str(message["To"]) for message in sink.messages())
    assert 1 < overlap.peak <= 3
    assert (sent, again) == (len(received), 0)
    assert set(received) == set(heads) and set(received.values()) == {1}, received
