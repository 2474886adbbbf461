"""The embedded default holds a served cycle's load (issue 19, part 1): the Prefect server that
`serve`, the demo and the tests start on SQLite begins its write transactions IMMEDIATE, so the
director's Resume is never answered "database is locked". Real server, real HTTP, real load."""

from __future__ import annotations

import subprocess

from bench.prefect_lock import measure
from reportflow.runtime.prefect_server import server_module


def test_the_server_started_on_sqlite_is_the_immediate_one(prefect_server):
    assert server_module({}) == "reportflow.runtime.prefect_sqlite_server"
    assert server_module({"PREFECT_API_DATABASE_CONNECTION_URL": "sqlite+aiosqlite:///x"}) == (
        "reportflow.runtime.prefect_sqlite_server"
    )
    postgres = {"PREFECT_API_DATABASE_CONNECTION_URL": "postgresql+asyncpg://u@h/db"}
    assert server_module(postgres) == "prefect"
    listed = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert "reportflow.runtime.prefect_sqlite_server server start" in listed


def test_resumes_under_concurrent_writers_never_fail():
    """Eight writers (logs, artifacts, state changes) beside a stream of resumes, for 15 s, on a
    fresh SQLite server of this test's own. Prefect's own `server start` fails calls under this
    load with 503 and "database is locked" (`make bench`, row P1, measures both in one run)."""
    figures = measure(plain=False, seconds=15)
    assert figures["locked_lines"] == 0, figures
    assert figures["resumes_sent"] >= 10, figures
    assert figures["failed"] == 0, figures
    assert figures["resumes_accepted"] == figures["resumes_sent"], figures
