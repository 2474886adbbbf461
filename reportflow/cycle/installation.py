"""This installation's id: made once in its database, so keys given to Prefect never collide
with another installation's on a shared server, or with a database that was reset."""

from __future__ import annotations

from functools import lru_cache
from uuid import uuid4

from sqlalchemy.exc import IntegrityError

from reportflow.core.config import get_settings
from reportflow.models import Installation, session_scope


def installation_id() -> str:
    return _installation_id(get_settings().resolved_database_url)


@lru_cache
def _installation_id(_database_url: str) -> str:
    with session_scope() as session:
        row = session.get(Installation, 1)
        if row is not None:
            return row.installation_id
    try:
        with session_scope() as session:
            session.add(Installation(id=1, installation_id=uuid4().hex[:12]))
    except IntegrityError:
        pass  # another process made it first
    with session_scope() as session:
        return session.get(Installation, 1).installation_id
