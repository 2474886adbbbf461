"""Schema migrations (Alembic): bring the project database to the schema this version expects.

Every process that opens the database calls `upgrade_db` through `init_db`. When the database is
already at the newest revision that costs one SELECT. Otherwise the upgrade runs in one
transaction under a lock (`pg_advisory_xact_lock` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite),
so processes starting together upgrade it once and the others find it done.

Databases made by versions before migrations (by `create_all`, no alembic_version table) are
compared with revision 0001, given the nullable columns and indexes they lack, and stamped 0001.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext, MigrationInfo
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from reportflow.models.db import MIGRATIONS_DIR, get_engine

BASELINE = "0001"
"""The revision that describes the schema of databases made before migrations existed."""

Progress = Callable[[str], None]


class MigrationError(RuntimeError):
    """The database cannot be brought to this version's schema; nothing was changed."""


@dataclass
class UpgradeResult:
    before: str | None
    """Revision found in the database; None when it had none (empty, or made before migrations)."""
    after: str | None
    adopted: bool = False
    """The database was made by a version before migrations, checked against 0001 and stamped."""
    steps: list[str] = field(default_factory=list)
    """Revisions run, in order."""


def _config(connection: Connection | None = None, progress: Progress | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.attributes["connection"] = connection
    if progress is not None:

        def on_version_apply(*, step: MigrationInfo, **_kw) -> None:
            if step.is_migration and step.is_upgrade and step.up_revision_id:
                progress(step.up_revision_id)

        config.attributes["on_version_apply"] = on_version_apply
    return config


@lru_cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None, "reportflow/migrations/versions holds no revision"
    return head


def baseline_metadata() -> sa.MetaData:
    """The tables of revision 0001, as that revision declares them."""
    return _scripts().get_revision(BASELINE).module.metadata


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def current_revision() -> str | None:
    """The revision the database is at; None when it has none."""
    with get_engine().connect() as connection:
        return _current(connection)


def is_known(revision: str) -> bool:
    try:
        _scripts().get_revision(revision)
    except CommandError:
        return False
    return True


def _refuse_unknown(revision: str | None) -> None:
    if revision is not None and not is_known(revision):
        raise MigrationError(
            f"Cơ sở dữ liệu đang ở phiên bản lược đồ {revision}, mới hơn bản reportflow này "
            f"(bản mới nhất nó biết là {head_revision()}); hãy cài bản reportflow mới hơn "
            "trên máy này, không dùng bản cũ với cơ sở dữ liệu đã nâng cấp."
        )


def upgrade_db(revision: str = "head", progress: Progress | None = None) -> UpgradeResult:
    """Brings the database to `revision`; `progress` hears each revision once it has run."""
    engine = get_engine()
    target = _scripts().get_revision(revision).revision
    before = current_revision()
    _refuse_unknown(before)
    if before == target:
        return UpgradeResult(before, before)
    try:
        return _upgrade_locked(engine, revision, progress)
    except OperationalError:
        # SQLite: another process held the write lock past the busy timeout, upgrading.
        if engine.dialect.name == "sqlite" and current_revision() == target:
            return UpgradeResult(before, target)
        raise


def _upgrade_locked(engine: Engine, revision: str, progress: Progress | None) -> UpgradeResult:
    steps: list[str] = []

    def step(rev: str) -> None:
        steps.append(rev)
        if progress is not None:
            progress(rev)

    with _migration_transaction(engine) as connection:
        before = _current(connection)
        _refuse_unknown(before)
        config = _config(connection, step)
        adopted = before is None and _has_baseline_tables(connection)
        if adopted:
            _adopt(connection)
            command.stamp(config, BASELINE)
        command.upgrade(config, revision)
        after = _current(connection)
    return UpgradeResult(before, after, adopted, steps)


@contextmanager
def _migration_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that only one process at a time can hold for this database."""
    if engine.dialect.name == "sqlite":
        with _sqlite_write_transaction(engine) as connection:
            yield connection
        return
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Per schema: test sessions sharing one database each migrate their own schema.
            connection.execute(
                sa.text(
                    "SELECT pg_advisory_xact_lock("
                    "hashtext('reportflow-migrate:' || coalesce(current_schema(), '')))"
                )
            )
        yield connection


@contextmanager
def _sqlite_write_transaction(engine: Engine) -> Iterator[Connection]:
    """`BEGIN IMMEDIATE` takes the write lock before anything is read (others wait up to the
    busy timeout). Foreign keys are off meanwhile, as batch migrations that rebuild a table
    need, and checked as a whole before the commit."""
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield connection
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise MigrationError(
                        "Nâng cấp cơ sở dữ liệu làm hỏng liên kết giữa các bảng "
                        f"({', '.join(sorted({row[0] for row in broken}))}); "
                        "đã hủy, dữ liệu giữ nguyên."
                    )
                connection.commit()
            except BaseException:
                connection.rollback()
                raise
        finally:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


def _has_baseline_tables(connection: Connection) -> bool:
    present = set(sa.inspect(connection).get_table_names())
    return bool(present & set(baseline_metadata().tables))


def _adopt(connection: Connection) -> None:
    """Brings a database made by create_all before migrations to exactly revision 0001.

    Such databases differ from 0001 only by what later versions added: whole tables and
    nullable columns (the old start-up added those in place). Anything else is refused.
    """
    baseline = baseline_metadata()
    inspector = sa.inspect(connection)
    present = set(inspector.get_table_names())
    operations = Operations(MigrationContext.configure(connection))
    for table in baseline.sorted_tables:
        if table.name not in present:
            table.create(connection)
            continue
        columns = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in columns:
                continue
            if not column.nullable:
                raise MigrationError(
                    f"Cơ sở dữ liệu thiếu cột bắt buộc {table.name}.{column.name}; "
                    "cần chuyển đổi dữ liệu thủ công trước khi nâng cấp."
                )
            operations.add_column(table.name, sa.Column(column.name, column.type, nullable=True))
        indexes = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                index.create(connection)
    missing = _missing_from(connection, baseline)
    if missing:
        raise MigrationError(
            f"Cơ sở dữ liệu không khớp lược đồ {BASELINE} ({'; '.join(missing)}); "
            "cần chuyển đổi dữ liệu thủ công trước khi nâng cấp."
        )


def _missing_from(connection: Connection, metadata: sa.MetaData) -> list[str]:
    """What `metadata` declares that the database lacks: tables, columns, indexes, unique and
    foreign keys. What the database has beyond it, and differences of type or nullability
    (which the old start-up never changed either), are no obstacle."""
    missing = []
    for change in compare_metadata(MigrationContext.configure(connection), metadata):
        if isinstance(change, tuple) and change[0].startswith("add_"):
            missing.append(_describe(change))
    return missing


def _describe(change: tuple) -> str:
    kind, subject = change[0], change[-1]
    if kind == "add_column":
        return f"{change[2]}.{subject.name}"
    if kind == "add_table":
        return subject.name
    columns = ", ".join(column.name for column in subject.columns)
    return f"{kind.removeprefix('add_')} {subject.table.name}({columns})"
