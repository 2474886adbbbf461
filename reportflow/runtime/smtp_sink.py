"""A local SMTP server that writes every message it receives to a folder as an .eml file.

Used by `make demo` and the tests as the real mail server behind apprise's mailto:// URLs.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import itertools
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self, outbox: Path, on_message: Callable[[Path], None] | None = None):
        self.outbox = outbox
        self.on_message = on_message
        self._counter = itertools.count(len(list(outbox.glob("*.eml"))) + 1)
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        with self._lock:
            number = next(self._counter)
        path = self.outbox / f"{number:04d}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(envelope.original_content or envelope.content)
        tmp.rename(path)
        if self.on_message is not None:
            # Stored, not yet answered: a test can stop the sender in exactly this moment.
            await asyncio.get_running_loop().run_in_executor(None, self.on_message, path)
        return "250 Message accepted for delivery"


@dataclass
class SmtpSink:
    outbox: Path
    host: str = "127.0.0.1"
    port: int = 0
    on_message: Callable[[Path], None] | None = None
    """Called with each stored message's path before the sender is told it was accepted."""

    def start(self) -> SmtpSink:
        self.outbox.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port(self.host)
        self._controller = Controller(
            _Handler(self.outbox, self.on_message), hostname=self.host, port=self.port
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def messages(self) -> list[email.message.EmailMessage]:
        return [read_eml(p) for p in sorted(self.outbox.glob("*.eml"))]


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (for a server this process is about to start)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def read_eml(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def message_text(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part else ""


def attachment_names(message: email.message.EmailMessage) -> list[str]:
    return [part.get_filename() for part in message.iter_attachments() if part.get_filename()]
