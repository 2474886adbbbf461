"""An SMTP sink that can hold one message in the middle of its delivery: the sender has sent the
whole message and waits for the server's answer. A test kills the sender there, then the sink
refuses the message (451), as a server does with a message whose sender vanished."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from aiosmtpd.controller import Controller

from reportflow.runtime.smtp_sink import SmtpSink, _Handler, free_port


class _HoldingHandler(_Handler):
    def __init__(self, outbox, sink: HoldingSink):
        super().__init__(outbox)
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        content = envelope.original_content or envelope.content
        if self.sink.should_hold(content):
            self.sink.holding.set()
            while not self.sink.released.is_set():
                await asyncio.sleep(0.05)
            return "451 Requested action aborted: sender went away"
        return await super().handle_DATA(server, session, envelope)


class HoldingSink(SmtpSink):
    def hold_next(self, predicate: Callable[[bytes], bool]) -> None:
        """Holds the first message the predicate matches, from now on."""
        self.holding, self.released = threading.Event(), threading.Event()
        matched = threading.Lock()

        def once(content: bytes) -> bool:
            return predicate(content) and matched.acquire(blocking=False)

        self.should_hold = once

    def release(self) -> None:
        self.released.set()

    def start(self) -> HoldingSink:
        self.outbox.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port(self.host)
        self.should_hold = lambda content: False
        self.holding, self.released = threading.Event(), threading.Event()
        self._controller = Controller(
            _HoldingHandler(self.outbox, self), hostname=self.host, port=self.port
        )
        self._controller.start()
        return self
