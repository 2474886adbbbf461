"""Engine and session for the project database (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from sqlalchemy import event, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session, create_engine

from reportflow.core.config import PACKAGE_DIR, get_settings

MIGRATIONS_DIR = PACKAGE_DIR / "migrations"
T = TypeVar("T")
log = logging.getLogger(__name__)


@lru_cache
def _engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def get_engine() -> Engine:
    return _engine_for(get_settings().resolved_database_url)


def shown_database_url() -> str:
    """The database URL as it may be printed: any password masked."""
    return make_url(get_settings().resolved_database_url).render_as_string(hide_password=True)


def lock_for_write(session: Session) -> None:
    """Takes SQLite's write lock now, before the transaction reads anything.

    pysqlite starts a transaction only at the first INSERT or UPDATE, so a read-then-write
    (the next version number) read outside it, and two processes read the same number;
    ``with_for_update`` does nothing on SQLite. ``BEGIN IMMEDIATE`` makes a second writer
    wait (busy_timeout) until the first commits. PostgreSQL callers lock the rows they read.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def session_scope(*, write_lock: bool = False) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any error. ``write_lock``: see
    lock_for_write, for a transaction whose writes follow from what it reads."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            if write_lock:
                lock_for_write(session)
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def while_database_answers(work: Callable[[], T], what: str, budget_s: float | None = None) -> T:
    """Runs one whole short transaction, again while the database does not answer (a restart,
    a failover, a lock held too long), for at most `budget_s` (`db_outage_wait_s` unless
    given); then raises.

    For the writes that follow something done outside the database (a message just sent is
    marked sent): waiting out an outage there keeps the message from being sent twice. `work`
    must be safe to repeat: a transaction that failed was rolled back.
    """
    budget = get_settings().db_outage_wait_s if budget_s is None else budget_s
    deadline = time.monotonic() + budget
    pause = 0.5
    while True:
        try:
            return work()
        except (OperationalError, InterfaceError) as exc:
            if time.monotonic() + pause > deadline:
                raise
            log.warning(
                "Cơ sở dữ liệu không trả lời khi %s (%s); thử lại trong %.0f giây (chờ tối đa "
                "%.0f giây).",
                what,
                str(exc.orig or exc).splitlines()[0][:160],
                pause,
                budget,
            )
            time.sleep(pause)
            pause = min(pause * 2, 10.0)
