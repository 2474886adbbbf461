"""Alembic environment of reportflow, configured in code (no alembic.ini at run time).

`reportflow.models.migrate` runs it with its own connection, already inside the transaction that
holds the migration lock, under `config.attributes["connection"]`. Run by the `alembic` command
(developers: `make migration`), it opens the database `REPORTFLOW_DATABASE_URL` names.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

import reportflow.models  # noqa: F401 - registers the tables on SQLModel.metadata
from reportflow.models.db import get_engine

config = context.config
target_metadata = SQLModel.metadata
if config.config_file_name is not None:
    fileConfig(config.config_file_name)


def render_item(type_: str, obj: object, _autogen_context) -> str | bool:
    """Writes sqlmodel's column types as the plain SQLAlchemy types they store as, so revisions
    need no sqlmodel import (and stay valid whatever sqlmodel later does with its types)."""
    if type_ != "type":
        return False
    if isinstance(obj, AutoString):
        return "sa.String()" if obj.length is None else f"sa.String(length={obj.length})"
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**kwargs) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,
        render_item=render_item,
        compare_type=True,
        on_version_apply=config.attributes.get("on_version_apply"),
        **kwargs,
    )


def _run(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    _configure(url=get_engine().url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    with get_engine().connect() as connection:
        _run(connection)
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
