"""Each (section, step, person) reaches its person once: concurrent sweeps, a killed sweep, a
failing channel. Real database (SQLite and PostgreSQL) and the real SMTP sink."""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
import time
from collections import Counter

import pytest
from sqlmodel import select

from reportflow.calendar import VN_TZ
from reportflow.core.config import reload_settings
from reportflow.cycle.reminding.reminders import send_due_reminders
from reportflow.definitions.loader import load_organisation
from reportflow.models import ReminderRecord, SectionAssignment, session_scope
from reportflow.notifications.sender import send_message
from reportflow.runtime.smtp_sink import message_text
from tests.factories import ASSIGNMENT_HEADS, open_sample_cycle

# The sample cycle is due Wednesday 03/6/2020; Friday 05/6 is T+2, so each of its ten open
# sections and two divisions' figures goes to its division's head and, copied, to the director.
FRIDAY_9AM = dt.datetime(2020, 6, 5, 9, 0, tzinfo=VN_TZ)
STEP = "r1:2020-06-03:t+2"
EXPECTED = Counter(
    [(head, key) for key, head in ASSIGNMENT_HEADS.items()]
    + [("giamdoc", key) for key in ASSIGNMENT_HEADS]
)
PER_PERSON = {
    "chanhvp": 4,
    "tp-ttbcxb": 2,
    "tp-bcvt": 2,
    "tp-cntt": 2,
    "chanhtt": 1,
    "gd-ttcntt": 1,
    "giamdoc": 12,
}
SUBMIT = re.compile(r"reportflow submit \d+ (\S+) .*--by (\S+)")


def received(smtp) -> Counter:
    """(person, section) of every .eml in the sink, counted; figures read as so-lieu-<division>."""
    people = load_organisation().people
    by_email = {p.email: p.code for p in people}
    division = {p.code: p.division for p in people}

    def section(message) -> str:
        key, by = SUBMIT.search(message_text(message)).groups()
        return f"so-lieu-{division[by]}" if key == "--indicators" else key

    return Counter((by_email[str(m["To"])], section(m)) for m in smtp.messages())


def records() -> dict[tuple[str, str, str], tuple[str, int]]:
    with session_scope() as session:
        rows = session.exec(
            select(ReminderRecord, SectionAssignment.section_key).join(
                SectionAssignment, SectionAssignment.id == ReminderRecord.assignment_id
            )
        ).all()
    return {(r.person_code, key, r.step_key): (r.status, r.attempts) for r, key in rows}


def test_two_sweeps_at_once_deliver_each_reminder_once(database, smtp):
    open_sample_cycle()
    start = threading.Barrier(2)
    results: list[list] = [[], []]
    errors: list[BaseException] = []

    def sweep(slot: int) -> None:
        try:
            start.wait()
            results[slot] = send_due_reminders(now=FRIDAY_9AM)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sweep, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a sweep did not finish"
    assert errors == []

    sent_by_both = [(p.person_code, p.section_key) for r in results for p in r]
    assert Counter(sent_by_both) == EXPECTED
    assert received(smtp) == EXPECTED
    assert Counter(person for person, _ in received(smtp).elements()) == PER_PERSON
    assert set(records().values()) == {("sent", 1)}
    assert len(records()) == 24


class Killed(BaseException):
    """What stopping the process between claiming a message and sending it looks like to the
    sweep (the real SIGKILLs are in test_outbox_crash.py)."""


def test_a_killed_sweep_neither_duplicates_nor_loses_its_last_claim(
    database, smtp, restore_environment
):
    os.environ["REPORTFLOW_OUTBOX_LEASE_S"] = "1"
    reload_settings()
    open_sample_cycle()
    calls = []

    def dies_after_five(url: str, title: str, body: str):
        if len(calls) == 5:
            raise Killed
        calls.append(url)
        return send_message(url, title, body)

    with pytest.raises(Killed):
        send_due_reminders(now=FRIDAY_9AM, sender=dies_after_five)

    # Planned order: by section, head first then the director.
    first_five = Counter(
        [
            ("chanhvp", "tham-muu"),
            ("giamdoc", "tham-muu"),
            ("tp-ttbcxb", "ttbcxb"),
            ("giamdoc", "ttbcxb"),
            ("tp-bcvt", "bcvt"),
        ]
    )
    interrupted = ("giamdoc", "bcvt", STEP)
    assert received(smtp) == first_five
    after_kill = records()
    assert after_kill[interrupted] == ("claimed", 0)
    assert sorted(k for k, v in after_kill.items() if v == ("sent", 1)) == sorted(
        (person, key, STEP) for person, key in first_five
    )
    assert len(after_kill) == 6

    # Within the lease the claim is left alone: its sender may still be at work.
    again = send_due_reminders(now=FRIDAY_9AM)
    assert len(again) == 18
    assert received(smtp) == EXPECTED - Counter([interrupted[:2]])
    assert records()[interrupted] == ("claimed", 0)

    # Once the lease has run out the next sweep sends it; it had never left, so it arrives once.
    time.sleep(1.2)
    last = send_due_reminders(now=FRIDAY_9AM)
    assert [(p.person_code, p.section_key) for p in last] == [interrupted[:2]]
    assert received(smtp) == EXPECTED
    final = records()
    assert len(final) == 24
    assert set(final.values()) == {("sent", 1)}


def test_a_failing_channel_is_retried_and_then_delivers_once(database, smtp, refused_port):
    open_sample_cycle()
    os.environ["REPORTFLOW_SMTP_PORT"] = str(refused_port)
    reload_settings()
    assert send_due_reminders(now=FRIDAY_9AM) == []
    assert smtp.messages() == []
    failed = records()
    assert len(failed) == 24
    assert set(failed.values()) == {("failed", 1)}

    os.environ["REPORTFLOW_SMTP_PORT"] = str(smtp.port)
    reload_settings()
    retried = send_due_reminders(now=FRIDAY_9AM)
    assert Counter((p.person_code, p.section_key) for p in retried) == EXPECTED
    assert send_due_reminders(now=FRIDAY_9AM) == []
    assert received(smtp) == EXPECTED
    assert set(records().values()) == {("sent", 2)}
