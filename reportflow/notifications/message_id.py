"""A stable Message-ID for the e-mails apprise sends, so a message sent again after a crash
carries the same one and mail clients can show it once.

apprise (2.0.1, and upstream as of 2026) always sets its own random Message-ID after the
headers given as ``+Header=value`` in a mailto:// URL, so such a header would give the e-mail
two Message-IDs, which mail servers may reject. The one place it can be chosen is the
``make_msgid`` that apprise's e-mail plugin imported; it is replaced by a function that returns
the Message-ID of the message being sent in this context, and apprise's own random one
otherwise. apprise copies the caller's context into its worker threads, so this holds there.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from email.utils import make_msgid, parseaddr

from reportflow.core.config import get_settings

_current: ContextVar[str | None] = ContextVar("reportflow_message_id", default=None)
_installing = threading.Lock()


def message_id_to_send() -> str:
    """The Message-ID chosen for the message being sent in this context, else a new one."""
    return _current.get() or make_msgid(domain=mail_domain())


def mail_domain() -> str:
    return parseaddr(get_settings().mail_from)[1].rpartition("@")[2] or "localhost"


def _make_msgid(idstring: str | None = None, domain: str | None = None) -> str:
    return _current.get() or make_msgid(idstring, domain)


def _install() -> None:
    from apprise.plugins.email import base

    with _installing:  # requests are sent from several threads at once
        if base.make_msgid is _make_msgid:
            return
        if base.make_msgid is not make_msgid:
            raise RuntimeError("apprise's e-mail plugin no longer uses email.utils.make_msgid")
        base.make_msgid = _make_msgid


@contextmanager
def stable_message_id(value: str | None) -> Iterator[None]:
    """E-mails sent inside carry ``value`` as their Message-ID (None: apprise's random one)."""
    _install()
    token = _current.set(value or None)
    try:
        yield
    finally:
        _current.reset(token)


def new_message_id(row_id: int) -> str:
    """``<reportflow.{row}.{salt}@{domain of REPORTFLOW_MAIL_FROM}>``: the random salt keeps two
    databases (or one reset) from ever giving two different messages the same id."""
    return f"<reportflow.{row_id}.{secrets.token_hex(6)}@{mail_domain()}>"
