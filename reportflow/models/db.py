"""Engine and session for the project database (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel, create_engine

from reportflow.config import get_settings


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


def init_db() -> Engine:
    engine = get_engine()
    SQLModel.metadata.create_all(engine)
    _add_missing_columns(engine)
    return engine


def _add_missing_columns(engine: Engine) -> None:
    """Adds the nullable columns a newer version brought to an existing database, in place.

    create_all makes missing tables but never touches existing ones; without this an upgrade
    would fail on a database that holds work. Anything beyond a new nullable column is refused.
    """
    inspector = inspect(engine)
    for table in SQLModel.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable:
                raise RuntimeError(
                    f"Cơ sở dữ liệu thiếu cột bắt buộc {table.name}.{column.name}; "
                    "cần chuyển đổi dữ liệu thủ công trước khi nâng cấp."
                )
            kind = column.type.compile(dialect=engine.dialect)
            try:
                with engine.begin() as connection:
                    connection.execute(
                        text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}')
                    )
            except DBAPIError:
                # Another process starting at the same moment may have added it first.
                columns = inspect(engine).get_columns(table.name)
                if column.name not in {c["name"] for c in columns}:
                    raise


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
