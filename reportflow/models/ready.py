"""A database ready for use: at the newest schema, upgraded first when it is not.

Every command and submission opens the database through `init_db`, so a database already at
the newest revision costs one SELECT and no Alembic import (`models.migrate` is loaded only to
upgrade)."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from reportflow.models.db import MIGRATIONS_DIR, get_engine


@lru_cache
def newest_revision() -> str:
    """The newest revision's id, from the file names (`make migration` numbers them 0001, 0002, …)
    without loading Alembic; `tests/test_migrations.py` checks it equals Alembic's head."""
    return max(p.name.split("_", 1)[0] for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py"))


def _is_at_newest_revision(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return False
    return found == newest_revision()


def init_db() -> Engine:
    """The engine, on a database upgraded to the newest schema (see `models.migrate`). A database
    already there costs one SELECT and no Alembic import: every command and submission opens it."""
    engine = get_engine()
    if _is_at_newest_revision(engine):
        return engine
    from reportflow.models.migrate import upgrade_db  # Alembic, only when there is work

    upgrade_db()
    return engine
