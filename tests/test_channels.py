"""People and recipients with more than one channel: apprise's json:// to a real local webhook
beside e-mail to the real SMTP sink. When one channel fails, the retry goes only to that one."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from reportflow.cli import app
from reportflow.core.clock import VN_TZ
from reportflow.cycle.collecting.submit import submit_indicators, submit_section
from reportflow.cycle.cycles import get_cycle
from reportflow.cycle.drafting.merge import render_final
from reportflow.cycle.issuing.dispatch import dispatch_report
from reportflow.cycle.issuing.numbering import assign_number
from reportflow.cycle.reminding.reminders import send_due_reminders
from reportflow.models import (
    CycleState,
    OutboxMessage,
    Person,
    RegisterEntry,
    ReminderRecord,
    session_scope,
)
from reportflow.runtime.smtp_sink import attachment_names
from tests.factories import DATA_DIR, open_sample_cycle, section_md, use_definitions
from tests.webhook import Webhook

FRIDAY_9AM = dt.datetime(2020, 6, 5, 9, 0, tzinfo=VN_TZ)  # T+2 for the sample cycle


@pytest.fixture
def webhook():
    with Webhook() as hook:
        yield hook


def mails_to(smtp, address: str) -> list:
    return [m for m in smtp.messages() if str(m["To"]) == address]


def test_a_reminder_retried_after_one_channel_failed_reaches_only_that_channel(
    database, smtp, webhook
):
    cycle_id = open_sample_cycle()
    submit_indicators(cycle_id, DATA_DIR / "indicators-bcvt.yaml", "tp-bcvt")
    with session_scope() as session:
        person = session.get(Person, "tp-bcvt")
        person.apprise_urls = [webhook.url]
        session.add(person)
    webhook.statuses = [500]

    send_due_reminders(now=FRIDAY_9AM)
    assert len(webhook.received) == 1
    assert len(mails_to(smtp, "bcvt@stttt.travinh.example")) == 1
    with session_scope() as session:
        (record,) = session.exec(
            select(ReminderRecord).where(ReminderRecord.person_code == "tp-bcvt")
        ).all()
        assert (record.status, record.attempts, len(record.delivered_channels)) == ("failed", 1, 1)
        assert webhook.url not in record.error and "127.0.0.1" not in record.error

    retried = send_due_reminders(now=FRIDAY_9AM)
    assert [(p.person_code, p.section_key) for p in retried] == [("tp-bcvt", "bcvt")]
    assert len(webhook.received) == 2
    assert len(mails_to(smtp, "bcvt@stttt.travinh.example")) == 1, "e-mail had it already"
    assert send_due_reminders(now=FRIDAY_9AM) == []
    assert len(webhook.received) == 2

    message = webhook.received[-1]
    assert message["title"].endswith("Đã quá hạn 2 ngày làm việc: Bưu chính – Viễn thông")
    assert "reportflow submit 1 bcvt" in message["message"]
    assert "--by tp-bcvt" in message["message"]
    with session_scope() as session:
        record = session.exec(
            select(ReminderRecord).where(ReminderRecord.person_code == "tp-bcvt")
        ).one()
        assert (record.status, record.attempts, len(record.delivered_channels)) == ("sent", 2, 2)


@pytest.fixture
def numbered_cycle(database, smtp, webhook, tmp_path: Path) -> tuple[int, str]:
    """A one-section report, approved and numbered, whose requester also has a webhook."""
    folder = tmp_path / "definitions"
    folder.mkdir()
    (folder / "bao-cao-ngan.yaml").write_text(
        f"""
code: bao-cao-ngan
name: Báo cáo ngắn
number_pattern: "{{number}}/BC-STTTT-VP"
summary: Báo cáo ngắn năm {{{{ year }}}}
signer: {{title: GIÁM ĐỐC, person: giamdoc}}
outline:
  - {{key: bcvt, owner: bcvt, title: Bưu chính}}
recipients:
  - {{key: skhdt, label: "Sở KH&ĐT (b/c)", email: thktkg@skhdt.travinh.example, apprise: ["{webhook.url}"], requester: true}}
  - {{key: bgd, label: BGD Sở, email: bangiamdoc@stttt.travinh.example}}
""",
        encoding="utf-8",
    )
    use_definitions(folder)
    cycle_id = open_sample_cycle("bao-cao-ngan")
    submit_section(cycle_id, "bcvt", section_md(tmp_path, "bcvt"), "tp-bcvt")
    with session_scope() as session:
        # Straight to the state under test; the real path there is covered by the flow tests.
        get_cycle(session, cycle_id, for_update=True).state = CycleState.APPROVED
    entry = assign_number(cycle_id)
    number = entry.number_text
    with session_scope() as session:
        render_final(session, get_cycle(session, cycle_id))

    return cycle_id, number


def test_dispatch_retried_after_one_channel_failed_sends_the_report_once_per_channel(
    numbered_cycle, smtp, webhook
):
    cycle_id, number = numbered_cycle
    webhook.statuses = [503]
    first = dispatch_report(cycle_id)
    assert (first.sent, first.failed) == (["bgd"], ["skhdt"])
    # The clerk's retry, from the command line.
    second = CliRunner().invoke(app, ["dispatch", str(cycle_id)])
    assert second.exit_code == 0, second.output
    assert "đã gửi: skhdt" in second.output
    assert "đã nhận từ trước, bỏ qua: bgd" in second.output
    register = CliRunner().invoke(
        app, ["register", "show", "--year", str(cycle_year(cycle_id))], env={"COLUMNS": "200"}
    )
    assert register.exit_code == 0, register.output
    assert number in register.output and "Báo cáo ngắn năm" in register.output

    assert Counter(str(m["To"]) for m in smtp.messages()) == Counter(
        {"thktkg@skhdt.travinh.example": 1, "bangiamdoc@stttt.travinh.example": 1}
    )
    assert len(webhook.received) == 2
    attached = webhook.received[-1]["attachments"]
    assert [a["filename"] for a in attached] == [number.replace("/", "-") + ".docx"]
    assert attachment_names(mails_to(smtp, "thktkg@skhdt.travinh.example")[0]) == [
        attached[0]["filename"]
    ]
    with session_scope() as session:
        rows = session.exec(
            select(OutboxMessage.channel, OutboxMessage.status, OutboxMessage.attempts)
            .where(OutboxMessage.recipient == "skhdt")
            .order_by(OutboxMessage.channel)
        ).all()
        # One row per channel: e-mail went on the first try, the webhook on the second.
        assert [(c.split(":")[0], s, a) for c, s, a in rows] == [
            ("json", "sent", 2),
            ("mailto", "sent", 1),
        ]
        assert get_cycle(session, cycle_id).state == CycleState.DONE


def test_dispatch_before_numbering_is_refused(database):
    cycle_id = open_sample_cycle()
    result = CliRunner().invoke(app, ["dispatch", str(cycle_id)])
    assert result.exit_code == 2
    assert "chưa được cấp số (đang nhận các phần)" in " ".join(result.output.split())


def cycle_year(cycle_id: int) -> int:
    with session_scope() as session:
        return session.exec(
            select(RegisterEntry.year).where(RegisterEntry.cycle_id == cycle_id)
        ).one()


def test_the_dispatch_flow_retries_a_failed_channel_by_itself(
    prefect_server, numbered_cycle, smtp, webhook
):
    from reportflow.flows.dispatch import dispatch

    cycle_id, number = numbered_cycle
    webhook.statuses = [503]
    outcome = dispatch(cycle_id)  # the task's own retry (5 s later) reaches the webhook
    assert outcome["sent"] == ["skhdt"] and outcome["already_sent"] == ["bgd"]
    assert len(webhook.received) == 2
    assert Counter(str(m["To"]) for m in smtp.messages()) == Counter(
        {"thktkg@skhdt.travinh.example": 1, "bangiamdoc@stttt.travinh.example": 1}
    )
    with session_scope() as session:
        assert get_cycle(session, cycle_id).state == CycleState.DONE
