"""The light Prefect client retries a busy server as Prefect's own client does, and gives up at
once on a server that is not there. Real sockets: a small HTTP server in a thread."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings

from reportflow.runtime.smtp_sink import free_port
from reportflow.services.prefect_api import api_client, read_run_state


@contextmanager
def busy_server(busy_answers: int) -> Iterator[list[int]]:
    """Answers 503 to the first `busy_answers` requests, then a paused run; yields the statuses
    it sent."""
    sent: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            if len(sent) < busy_answers:
                sent.append(503)
                self.send_response(503)
                self.end_headers()
                return
            sent.append(200)
            body = json.dumps({"state": {"type": "PAUSED", "name": "Suspended"}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with temporary_settings({PREFECT_API_URL: f"http://127.0.0.1:{server.server_port}/api"}):
            yield sent
    finally:
        server.shutdown()
        server.server_close()


def test_a_busy_server_is_asked_again_until_it_answers():
    with busy_server(2) as sent, api_client() as client:
        state = read_run_state(client, "00000000-0000-0000-0000-000000000001")
    assert sent == [503, 503, 200]
    assert state is not None and state.is_paused


def test_a_server_busy_for_too_long_gives_its_answer():
    with busy_server(100) as sent, api_client() as client, pytest.raises(httpx.HTTPStatusError):
        read_run_state(client, "00000000-0000-0000-0000-000000000001")
    assert sent == [503] * 5


def test_a_server_that_is_not_there_fails_at_once():
    port = free_port()
    with temporary_settings({PREFECT_API_URL: f"http://127.0.0.1:{port}/api"}):
        began = time.monotonic()
        with api_client() as client, pytest.raises(httpx.ConnectError):
            read_run_state(client, "00000000-0000-0000-0000-000000000001")
    assert time.monotonic() - began < 1
