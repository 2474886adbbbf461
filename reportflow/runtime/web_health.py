"""What the division heads' pages need to answer a link, for `/healthz`."""

from __future__ import annotations

from sqlalchemy import text

from reportflow.core.signing import signing_key
from reportflow.models import get_engine


def web_dependencies() -> dict[str, bool]:
    """The database and the key that signs the links, each working or not. No detail: the
    health check answers anyone."""
    found = {}
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
        found["cơ sở dữ liệu"] = True
    except Exception:  # noqa: BLE001 - reported, not raised: this is a diagnosis
        found["cơ sở dữ liệu"] = False
    try:
        signing_key()
        found["khóa bí mật"] = True
    except (ValueError, OSError):
        found["khóa bí mật"] = False
    return found
