"""Shared fixtures: a project database per test (SQLite, and PostgreSQL when configured),
a real local Prefect server for the session, and a real SMTP server per test."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from reportflow.runtime.smtp_sink import (
    free_port,
)  # stdlib and aiosmtpd only: nothing reads settings yet

POSTGRES_URL = os.environ.get("REPORTFLOW_TEST_POSTGRES_URL", "")
SESSION: dict[str, str] = {}
"""This session's own PREFECT_HOME and PREFECT_API_URL: every process it starts carries them
(or, for a test's own Prefect home, a folder below that PREFECT_HOME)."""


def pytest_configure(config: pytest.Config) -> None:
    """Point Prefect at this session's own server before anything imports it."""
    home = Path(tempfile.mkdtemp(prefix="reportflow-prefect-"))
    os.environ["PREFECT_HOME"] = str(home)
    os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{free_port()}/api"
    SESSION.update(PREFECT_HOME=str(home), PREFECT_API_URL=os.environ["PREFECT_API_URL"])
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["PREFECT_LOGGING_TO_API_ENABLED"] = "false"
    for key in [
        k for k in os.environ if k.startswith("REPORTFLOW_") and k != "REPORTFLOW_TEST_POSTGRES_URL"
    ]:
        del os.environ[key]
    # A test that forgets its own data folder writes here, never into the checkout's var/.
    os.environ["REPORTFLOW_DATA_DIR"] = tempfile.mkdtemp(prefix="reportflow-data-")


def leftover_processes() -> dict[int, str]:
    """Processes this session started (directly or not) that are still running."""
    from reportflow.services.processes import processes_with_environment

    me = [os.getpid()]
    return {
        **processes_with_environment(
            "PREFECT_HOME", SESSION["PREFECT_HOME"], or_below=True, exclude=me
        ),
        **processes_with_environment("PREFECT_API_URL", SESSION["PREFECT_API_URL"], exclude=me),
    }


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fails the run when a process the session started outlived it (a worker's flow run left
    behind by a kill, a server never stopped): kills it and names it. Runs after the session
    fixtures' teardown."""
    if not SESSION:
        return
    from reportflow.services.processes import kill_pids

    left = leftover_processes()
    if not left:
        return
    kill_pids(left)
    lines = [f"  pid {pid}: {cmdline}" for pid, cmdline in sorted(left.items())]
    report = "\n".join(
        [f"The test session left {len(left)} process(es) of its own running (now killed):", *lines]
    )
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("\n" + report, red=True, bold=True)
    else:
        print(report, file=sys.stderr)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[str]:
    from reportflow.runtime.prefect_server import ensure_server, stop_server

    api_url = os.environ["PREFECT_API_URL"]
    home = Path(os.environ["PREFECT_HOME"])
    process = ensure_server(api_url, home, home / "server.log", timeout_s=120)
    yield api_url
    if process is not None:
        stop_server(process)


@pytest.fixture
def restore_environment() -> Iterator[None]:
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    from reportflow.core.config import reload_settings

    reload_settings()


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """A schema of this test session's own, so two sessions on one database never collide."""
    import psycopg

    schema = f"reportflow_test_{os.getpid()}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    from reportflow.models.db import _engine_for

    _engine_for.cache_clear()
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _use_empty_database(request, tmp_path: Path) -> None:
    """Points the settings at a database with no tables (not even alembic_version)."""
    from sqlalchemy import MetaData

    from reportflow.core.config import reload_settings
    from reportflow.models import get_engine

    if request.param == "postgres":
        if not POSTGRES_URL:
            pytest.skip("REPORTFLOW_TEST_POSTGRES_URL is not set")
        os.environ["REPORTFLOW_DATABASE_URL"] = request.getfixturevalue("postgres_schema_url")
    os.environ["REPORTFLOW_DATA_DIR"] = str(tmp_path / "data")
    reload_settings()
    if request.param == "postgres":
        tables = MetaData()
        tables.reflect(get_engine())
        tables.drop_all(get_engine())


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path: Path, restore_environment) -> str:
    """An empty project database on the backend named by the parameter, never migrated."""
    _use_empty_database(request, tmp_path)
    return request.param


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path: Path, restore_environment) -> str:
    """A fresh project database at the newest schema, on the backend named by the parameter."""
    from reportflow.models import init_db

    _use_empty_database(request, tmp_path)
    init_db()
    return request.param


def _mail_server_of_the_settings(sink):
    """The sink started, and the settings' SMTP port pointed at it."""
    from reportflow.core.config import reload_settings

    sink.start()
    os.environ["REPORTFLOW_SMTP_PORT"] = str(sink.port)
    reload_settings()
    return sink


@pytest.fixture
def smtp(tmp_path: Path, restore_environment):
    from reportflow.runtime.smtp_sink import SmtpSink

    sink = _mail_server_of_the_settings(SmtpSink(tmp_path / "outbox"))
    yield sink
    sink.stop()


@pytest.fixture
def postgres_databases() -> Iterator[tuple[str, str]]:
    """Two databases of this test's own on the test server: the project's, made here, and
    Prefect's, which `serve` makes itself beside it (its name the project's + "_prefect")."""
    import psycopg

    if not POSTGRES_URL:
        pytest.skip("REPORTFLOW_TEST_POSTGRES_URL is not set")
    base = POSTGRES_URL.rsplit("/", 1)[0]
    names = [f"rf_serve_{os.getpid()}_project_prefect", f"rf_serve_{os.getpid()}_project"]

    def drop() -> None:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            for name in names:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    drop()
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {names[1]}")
    asyncpg = base.replace("postgresql://", "postgresql+asyncpg://", 1)
    yield f"{asyncpg}/{names[0]}", f"{base}/{names[1]}"
    from reportflow.models.db import _engine_for

    _engine_for.cache_clear()
    drop()


@pytest.fixture
def prefect_of_backend(database, request, tmp_path: Path, monkeypatch) -> Iterator[str]:
    """The Prefect server on the same kind of database as the project's, as `serve` picks it:
    on SQLite the session's server; on PostgreSQL a server of this test's own, its database
    beside the project's. Every process and client of the test then talks to it."""
    if database == "sqlite":
        yield request.getfixturevalue("prefect_server")
        return
    import psycopg
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from reportflow.runtime.prefect_server import ensure_server, stop_server

    prefect_database, _ = request.getfixturevalue("postgres_databases")
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {prefect_database.rsplit('/', 1)[1]}")
    api_url = f"http://127.0.0.1:{free_port()}/api"
    home = Path(os.environ["PREFECT_HOME"]) / f"pg-{tmp_path.name}"
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", prefect_database)
    process = ensure_server(api_url, home, home / "server.log", timeout_s=120)
    monkeypatch.delenv("PREFECT_API_DATABASE_CONNECTION_URL")
    monkeypatch.setenv("PREFECT_API_URL", api_url)
    try:
        with temporary_settings({PREFECT_API_URL: api_url}):
            yield api_url
    finally:
        if process is not None:
            stop_server(process)


@pytest.fixture
def holding_smtp(tmp_path: Path, restore_environment):
    """An SMTP server that can hold one message in the middle of its delivery."""
    from tests.mail_faults import HoldingSink

    sink = _mail_server_of_the_settings(HoldingSink(tmp_path / "outbox"))
    yield sink
    sink.release()
    sink.stop()


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A port that refuses connections for the whole test: bound here, never listening, so no
    other process can take it in the meantime."""

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]
