"""`python -m reportflow.runtime.prefect_sqlite_server server start …`: Prefect's own command line, with
every SQLite transaction that Prefect begins taken as ``BEGIN IMMEDIATE``.

Prefect 3.9 begins most of its write transactions DEFERRED: a transaction that reads first
(the Resume form's ``/resume`` reads the run, then writes its state) and then loses the race to
another writer fails at once with "database is locked"; SQLite's busy timeout does not apply
to that upgrade (SQLITE_BUSY_SNAPSHOT). Prefect's own notes say such transactions must be
IMMEDIATE. Begun IMMEDIATE they queue on the busy timeout (60 s) instead of failing. Reads
that Prefect runs without a transaction are unchanged. Used only when Prefect's database is
SQLite; PostgreSQL locks rows and needs none of this.
"""

from __future__ import annotations

from prefect.server.database import configurations


def begin_immediately(self: configurations.AioSqliteConfiguration, conn) -> None:
    """`AioSqliteConfiguration.begin_sqlite_stmt`, with IMMEDIATE for DEFERRED."""
    if configurations.SQLITE_BEGIN_MODE.get() is not None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def main() -> None:
    configurations.AioSqliteConfiguration.begin_sqlite_stmt = begin_immediately
    from prefect.cli import app

    app()


if __name__ == "__main__":
    main()
