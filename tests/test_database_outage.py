"""The project's PostgreSQL stops for 60 s in the middle of a reminder sweep (issue 19, part 5):
a PostgreSQL of the test's own, stopped with every connection cut (`pg_ctl -m immediate`), under
a real `reportflow remind` process sending to the real SMTP server. The sweep waits the outage
out and finishes: each reminder reaches its person once, none is lost, every row is marked."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from sqlmodel import select

from reportflow.core.config import reload_settings
from reportflow.demo.run import wait_until
from reportflow.models import OutboxMessage, ReminderRecord, init_db, session_scope
from reportflow.models.db import _engine_for
from reportflow.runtime.smtp_sink import SmtpSink
from tests.factories import open_sample_cycle
from tests.hold_flow import ROOT
from tests.own_postgres import OwnPostgres
from tests.test_reminders_exactly_once import EXPECTED, received

pytestmark = pytest.mark.e2e

OUTAGE_S = 60


@pytest.fixture
def own_postgres():
    server = OwnPostgres().init()
    server.start()
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE reportflow")
    yield server
    _engine_for.cache_clear()
    server.remove()


def test_a_sweep_waits_out_a_60_second_database_outage_and_sends_each_reminder_once(
    own_postgres, tmp_path: Path, restore_environment
):
    database_url = own_postgres.url.rsplit("/", 1)[0] + "/reportflow"
    slow = threading.Event()

    def one_at_a_time(_path: Path) -> None:
        if slow.is_set():
            time.sleep(0.4)

    smtp = SmtpSink(tmp_path / "outbox", on_message=one_at_a_time).start()
    settings = {
        "REPORTFLOW_DATABASE_URL": database_url,
        "REPORTFLOW_DATA_DIR": str(tmp_path / "data"),
        "REPORTFLOW_SMTP_PORT": str(smtp.port),
        # Friday 05/6/2020, T+2 after the sample's deadline: 24 reminders are due.
        "REPORTFLOW_FROZEN_NOW": "2020-06-05T09:00:00+07:00",
        "REPORTFLOW_SEND_CONCURRENCY": "2",
    }
    os.environ.update(settings)
    reload_settings()
    try:
        init_db()
        open_sample_cycle()
        slow.set()
        sweep = subprocess.Popen(
            [sys.executable, "-m", "reportflow.cli", "remind"],
            env={**os.environ, "PREFECT_API_URL": "http://127.0.0.1:9/api", "COLUMNS": "200"},
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        wait_until(lambda: len(smtp.messages()) >= 5, 120, "the sweep under way", sweep)
        own_postgres.stop()
        stopped = time.monotonic()
        delivered_at_stop = len(smtp.messages())
        status = subprocess.run(
            [sys.executable, "-m", "reportflow.cli", "status"],
            env={**os.environ, "COLUMNS": "80"},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped)))
        assert sweep.poll() is None, "the sweep waits while the database is down"
        during = len(smtp.messages()) - delivered_at_stop
        own_postgres.start()
        said = sweep.communicate(timeout=300)[0]
        finished_after = time.monotonic() - stopped
    finally:
        smtp.stop()
    print(said)
    print(
        f"delivered before the stop: {delivered_at_stop}; during the outage: {during}; "
        f"sweep finished {finished_after:.1f} s after the stop"
    )
    assert status.returncode == 1 and "Traceback" not in status.stderr, status.stderr
    assert status.stderr.startswith("Lỗi: cơ sở dữ liệu không trả lời"), status.stderr
    assert sweep.returncode == 0, said
    assert "Cơ sở dữ liệu không trả lời" in said, "the wait is said, in Vietnamese"
    assert "Đã gửi 24 nhắc việc." in said, said
    assert during <= 2, "at most the sends in flight finish while the database is down"
    assert received(smtp) == EXPECTED, "each reminder once, none lost"
    _engine_for.cache_clear()
    with session_scope() as session:
        statuses = Counter(session.exec(select(OutboxMessage.status)))
        reminders = Counter(session.exec(select(ReminderRecord.status)))
    assert statuses == Counter({"sent": 24}), statuses
    assert reminders == Counter({"sent": 24}), reminders
