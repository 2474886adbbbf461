"""The outbox under real crashes: dispatchers and request senders SIGKILLed mid-send, two
dispatchers at once, a mail server down during a sweep. Real processes, the real SMTP sink,
SQLite and PostgreSQL; messages are counted in the .eml files the sink wrote."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from reportflow.cli import app
from reportflow.core.config import reload_settings
from reportflow.cycle.collecting.submit import submit_section
from reportflow.cycle.cycles import get_cycle
from reportflow.cycle.drafting.merge import render_final
from reportflow.cycle.issuing.numbering import assign_number
from reportflow.models import (
    AuditEvent,
    CycleState,
    OutboxMessage,
    ReminderRecord,
    session_scope,
)
from reportflow.notifications.outbox import wall_now
from reportflow.runtime.smtp_sink import read_eml
from tests.factories import open_sample_cycle, section_md, use_definitions
from tests.webhook import Webhook

REPORTFLOW = str(Path(sys.executable).with_name("reportflow"))
RECIPIENTS = {
    "skhdt": "thktkg@skhdt.travinh.example",
    "bgd": "bangiamdoc@stttt.travinh.example",
    "ubnd": "vanthu@ubnd.travinh.example",
    "vp": "vanphong@stttt.travinh.example",
}
runner = CliRunner()


def numbered_cycle(tmp_path: Path, webhook_url: str = "") -> int:
    """A one-section report, approved, numbered and rendered, for four recipients (the first
    also on a webhook when one is given)."""
    folder = tmp_path / "definitions"
    folder.mkdir()
    hook = f', apprise: ["{webhook_url}"]' if webhook_url else ""
    lines = [
        f'  - {{key: {key}, label: "Nơi nhận {key}", email: {address}'
        + (hook if key == "skhdt" else "")
        + (", requester: true" if key == "skhdt" else "")
        + "}"
        for key, address in RECIPIENTS.items()
    ]
    (folder / "bao-cao-ngan.yaml").write_text(
        """
code: bao-cao-ngan
name: Báo cáo ngắn
number_pattern: "{number}/BC-STTTT-VP"
summary: Báo cáo ngắn năm {{ year }}
signer: {title: GIÁM ĐỐC, person: giamdoc}
outline:
  - {key: bcvt, owner: bcvt, title: Bưu chính}
recipients:
"""
        + "\n".join(lines)
        + "\n",
        encoding="utf-8",
    )
    use_definitions(folder)
    cycle_id = open_sample_cycle("bao-cao-ngan")
    submit_section(cycle_id, "bcvt", section_md(tmp_path, "bcvt"), "tp-bcvt")
    with session_scope() as session:
        get_cycle(session, cycle_id, for_update=True).state = CycleState.APPROVED
    assign_number(cycle_id)
    with session_scope() as session:
        render_final(session, get_cycle(session, cycle_id))
    return cycle_id


def short_lease(seconds: float) -> None:
    """For this process and the ones it starts."""
    os.environ["REPORTFLOW_OUTBOX_LEASE_S"] = str(seconds)
    reload_settings()


def mails(smtp) -> list:
    return [read_eml(p) for p in sorted(smtp.outbox.glob("*.eml"))]


def per_recipient(smtp) -> Counter:
    return Counter((str(m["To"]), str(m["Subject"])) for m in mails(smtp))


def outbox_rows(**where) -> list[OutboxMessage]:
    with session_scope() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list(session.exec(query))


def start(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [REPORTFLOW, *args],
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen, timeout: float = 120) -> tuple[int, str]:
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


class Hold:
    """An SMTP sink hook that stops the sender in the moment after the n-th message is stored
    and before the sender is told it was accepted."""

    def __init__(self, nth: int):
        self.nth = nth
        self.arrived = threading.Event()
        self.released = threading.Event()

    def __call__(self, path: Path) -> None:
        if int(path.stem) == self.nth:
            self.arrived.set()
            self.released.wait(timeout=120)


@pytest.fixture
def held_smtp(tmp_path: Path, restore_environment):
    from reportflow.runtime.smtp_sink import SmtpSink

    hold = Hold(2)
    sink = SmtpSink(tmp_path / "outbox", on_message=hold).start()
    os.environ["REPORTFLOW_SMTP_PORT"] = str(sink.port)
    reload_settings()
    yield sink, hold
    hold.released.set()
    sink.stop()


def test_a_dispatcher_killed_after_the_first_message_sends_only_the_one_in_flight_twice(
    database, held_smtp, tmp_path
):
    smtp, hold = held_smtp
    cycle_id = numbered_cycle(tmp_path)
    short_lease(5)
    first, second, *rest = RECIPIENTS.values()

    dispatcher = start("dispatch", str(cycle_id))
    try:
        assert hold.arrived.wait(timeout=120), "the second message never reached the sink"
    finally:
        kill(dispatcher)
        hold.released.set()

    # The first message was accepted and marked; the second was stored by the sink but its
    # sender died before hearing so: that one is in flight; the others were never claimed.
    rows = {r.recipient: r for r in outbox_rows(cycle_id=cycle_id)}
    assert [(r.status, r.attempts) for r in rows.values()] == [
        ("sent", 1),
        ("sending", 1),
        ("pending", 0),
        ("pending", 0),
    ]
    assert [str(m["To"]) for m in mails(smtp)] == [first, second]

    # Run again at once, not waiting: the rest goes; the one in flight is left to its lease.
    os.environ["REPORTFLOW_OUTBOX_WAIT_S"] = "0"
    reload_settings()
    assert wall_now() < rows["bgd"].lease_until
    at_once = runner.invoke(app, ["dispatch", str(cycle_id)], env={"COLUMNS": "300"})
    assert at_once.exit_code == 1, at_once.output
    assert "đã gửi: ubnd" in at_once.output and "đã gửi: vp" in at_once.output
    assert "đang được gửi ở nơi khác hoặc bị ngắt giữa chừng: bgd" in at_once.output
    assert "chạy lại sau" in at_once.output
    assert [str(m["To"]) for m in mails(smtp)] == [first, second, *rest]

    time.sleep(max(0.0, (rows["bgd"].lease_until - wall_now()).total_seconds()) + 0.2)
    check = runner.invoke(app, ["check"], env={"COLUMNS": "300"})
    line = next(line for line in check.output.splitlines() if "Hộp thư đi" in line)
    assert f"kỳ {cycle_id}: 1 tin phát hành kẹt" in line
    assert f"reportflow dispatch {cycle_id}" in line

    code, output = finish(start("dispatch", str(cycle_id)))
    assert code == 0, output
    assert "đã gửi: bgd" in output
    assert "đã nhận từ trước, bỏ qua: skhdt" in output
    assert "mọi nơi nhận đã có báo cáo" in output

    received = per_recipient(smtp)
    subject = next(iter(received))[1]
    assert received == Counter(
        {(first, subject): 1, (second, subject): 2, **{(address, subject): 1 for address in rest}}
    )
    # Both copies of the one in flight carry the row's Message-ID, so a mail client shows one.
    copies = [m for m in mails(smtp) if str(m["To"]) == second]
    assert [m.get_all("Message-ID") for m in copies] == [[rows["bgd"].message_id]] * 2
    ids = [m["Message-ID"] for m in mails(smtp)]
    assert len(set(ids)) == len(RECIPIENTS)
    assert all(i.startswith("<reportflow.") and i.endswith("@localhost>") for i in ids)

    assert [(r.status, r.attempts) for r in outbox_rows(cycle_id=cycle_id)] == [
        ("sent", 1),
        ("sent", 2),
        ("sent", 1),
        ("sent", 1),
    ]
    with session_scope() as session:
        assert get_cycle(session, cycle_id).state == CycleState.DONE
        resent = session.exec(
            select(AuditEvent.detail).where(AuditEvent.action == "outbox.sent")
        ).all()
    assert sorted((d["recipient"], d["attempt"]) for d in resent) == sorted(
        [("skhdt", 1), ("bgd", 2), ("ubnd", 1), ("vp", 1)]
    )


def test_two_dispatchers_at_once_send_one_message_per_recipient_and_channel(
    database, tmp_path, restore_environment
):
    from reportflow.runtime.smtp_sink import SmtpSink

    # The first message is held until the second arrives: the first dispatcher is then
    # stopped inside a send while the other one sends, so both are at work at once.
    overlap = threading.Event()
    overlapped = []

    def hold_first(path: Path) -> None:
        if int(path.stem) == 1:
            overlapped.append(overlap.wait(timeout=90))
        elif int(path.stem) == 2:
            overlap.set()

    smtp = SmtpSink(tmp_path / "outbox", on_message=hold_first).start()
    os.environ["REPORTFLOW_SMTP_PORT"] = str(smtp.port)
    reload_settings()
    with Webhook() as webhook:
        cycle_id = numbered_cycle(tmp_path, webhook.url)
        try:
            dispatchers = [start("dispatch", str(cycle_id)) for _ in range(2)]
            outputs = [finish(d) for d in dispatchers]
        finally:
            overlap.set()
            smtp.stop()
        hooked = list(webhook.received)

    assert overlapped == [True]
    for code, output in outputs:
        assert code == 0, output
        assert "mọi nơi nhận đã có báo cáo" in output
    assert Counter(str(m["To"]) for m in mails(smtp)) == Counter(RECIPIENTS.values())
    assert len(hooked) == 1
    rows = outbox_rows(cycle_id=cycle_id)
    assert len(rows) == len(RECIPIENTS) + 1
    assert {(r.status, r.attempts) for r in rows} == {("sent", 1)}
    with session_scope() as session:
        assert get_cycle(session, cycle_id).state == CycleState.DONE
        done = session.exec(select(AuditEvent).where(AuditEvent.action == "cycle.done")).all()
    assert len(done) == 1


@pytest.fixture
def silent_smtp():
    """A port that accepts connections and never says a word: a sender stays inside its send."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server


def test_a_request_sender_killed_inside_its_send_is_finished_by_the_next_sweep(
    database, smtp, silent_smtp, restore_environment
):
    cycle_id = open_sample_cycle()
    short_lease(2)
    # Evening of the day the cycle opened: the sweep has no reminder to send, only what is left.
    os.environ["REPORTFLOW_FROZEN_NOW"] = "2020-05-15T20:00:00+07:00"
    reload_settings()
    sender = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from reportflow.cycle.steps import request_sections as r; r({cycle_id})",
        ],
        env={
            **os.environ,
            "REPORTFLOW_SMTP_PORT": str(silent_smtp.getsockname()[1]),
            "REPORTFLOW_SEND_CONCURRENCY": "2",
        },
    )
    try:
        silent_smtp.settimeout(120)
        connection, _ = silent_smtp.accept()  # a request is claimed and being sent
        connection.close()
    finally:
        kill(sender)

    claimed = outbox_rows(kind="request", status="sending")
    assert 1 <= len(claimed) <= 2, "no more in flight than REPORTFLOW_SEND_CONCURRENCY"
    assert outbox_rows(kind="request", status="sent") == []
    with session_scope() as session:
        records = session.exec(select(ReminderRecord.person_code, ReminderRecord.status)).all()
    assert len(records) > 2 and {status for _, status in records} == {"claimed"}, (
        "every request was in the outbox before the first send"
    )

    time.sleep(2.2)
    result = runner.invoke(app, ["remind"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    with session_scope() as session:
        after = session.exec(select(ReminderRecord.person_code, ReminderRecord.status)).all()
    # The sweep sends every request the dead process left: in flight or not yet sent.
    assert sorted(after) == sorted((person, "sent") for person, _ in records)
    for row in claimed:
        assert f"Đã gửi nốt: kỳ {cycle_id} · đề nghị viết phần · {row.recipient}" in result.output
    assert "giờ hành chính" not in result.output
    received = mails(smtp)
    assert {row.message_id for row in claimed} <= {m["Message-ID"] for m in received}

    # The run's retry of the step (the flow runs it again) sends none of them again.
    from reportflow.cycle.steps import request_sections

    assert request_sections(cycle_id) == 0
    received = per_recipient(smtp)
    assert len(received) == len(records) and set(received.values()) == {1}


def test_remind_with_the_mail_server_down_reports_each_failure_then_sends_them(
    database, smtp, refused_port, restore_environment
):
    cycle_id = open_sample_cycle()
    os.environ["REPORTFLOW_FROZEN_NOW"] = "2020-06-05T09:00:00+07:00"
    os.environ["REPORTFLOW_SMTP_PORT"] = str(refused_port)
    os.environ["REPORTFLOW_OUTBOX_MAX_ATTEMPTS"] = "2"
    reload_settings()

    down = runner.invoke(app, ["remind"], env={"COLUMNS": "300"})
    assert down.exit_code == 1, down.output
    assert "Đã gửi 0 nhắc việc." in down.output
    assert "Gửi lỗi 24 tin:" in down.output
    assert (
        f"kỳ {cycle_id} · thanh-tra · chanhtt · bước r1:2020-06-03:t+2 · mailto://" in down.output
    )
    assert "giờ hành chính" not in down.output
    assert str(refused_port) in down.output  # the host and port say where; never a password
    assert smtp.messages() == []

    # A second outage sweep uses up the attempts: check says so, with the command that mends it.
    assert runner.invoke(app, ["remind"]).exit_code == 1
    check = runner.invoke(app, ["check"], env={"COLUMNS": "300"})
    line = next(line for line in check.output.splitlines() if "Hộp thư đi" in line)
    assert "lỗi" in line
    assert f"kỳ {cycle_id}: 24 tin nhắc việc vẫn lỗi sau 2 lần gửi" in line
    assert "reportflow remind --retry-failed" in line

    os.environ["REPORTFLOW_SMTP_PORT"] = str(smtp.port)
    reload_settings()
    held_back = runner.invoke(app, ["remind"], env={"COLUMNS": "300"})
    assert held_back.exit_code == 1 and "Gửi lỗi 24 tin:" in held_back.output
    assert smtp.messages() == [], "failed as often as allowed: left to the clerk"

    back = runner.invoke(app, ["remind", "--retry-failed"], env={"COLUMNS": "300"})
    assert back.exit_code == 0, back.output
    assert "Đã gửi 24 nhắc việc." in back.output
    assert len(smtp.messages()) == 24
    rows = outbox_rows(kind="reminder")
    assert sorted(m["Message-ID"] for m in smtp.messages()) == sorted(r.message_id for r in rows)
    assert {(r.status, r.attempts) for r in rows} == {("sent", 3)}
    assert runner.invoke(app, ["remind"]).exit_code == 0
    assert len(smtp.messages()) == 24
    check = runner.invoke(app, ["check"], env={"COLUMNS": "300"})
    line = next(line for line in check.output.splitlines() if "Hộp thư đi" in line)
    assert "không có tin nào kẹt hoặc gửi lỗi" in line


def test_a_failed_reminder_is_withdrawn_once_its_day_has_passed(
    database, refused_port, smtp, restore_environment
):
    open_sample_cycle()
    os.environ["REPORTFLOW_SMTP_PORT"] = str(refused_port)
    os.environ["REPORTFLOW_FROZEN_NOW"] = "2020-06-05T09:00:00+07:00"
    reload_settings()
    assert runner.invoke(app, ["remind"]).exit_code == 1

    # Monday: Friday's "2 days late" reminders are not sent any more; Monday's are.
    os.environ["REPORTFLOW_SMTP_PORT"] = str(smtp.port)
    os.environ["REPORTFLOW_FROZEN_NOW"] = "2020-06-08T09:00:00+07:00"
    reload_settings()
    monday = runner.invoke(app, ["remind"])
    assert monday.exit_code == 0, monday.output
    assert "Đã gửi 24 nhắc việc." in monday.output
    assert all("quá hạn 3 ngày làm việc" in str(m["Subject"]) for m in smtp.messages())
    statuses = Counter(r.status for r in outbox_rows(kind="reminder"))
    assert statuses == Counter({"cancelled": 24, "sent": 24})
