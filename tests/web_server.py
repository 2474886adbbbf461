"""The web app served by a real uvicorn on a free port, in a thread of the test process, with
`REPORTFLOW_WEB_URL` pointing at it so the mails carry links to it."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from reportflow.config import reload_settings
from reportflow.smtp_sink import message_text

LINK = re.compile(r"(https?://\S+/l/[A-Za-z0-9_.-]+)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving_web() -> Iterator[str]:
    from reportflow.web.app import create_app

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    os.environ["REPORTFLOW_WEB_URL"] = base
    reload_settings()
    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).text == "ok":
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the web app did not start")
        time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(10)


def links_in_mails(smtp, person_email_part: str = "") -> dict[str, str]:
    """Assignment key -> link, read from the .eml files the sink stored (the request e-mails);
    the key is what the signed link itself names."""
    from reportflow.web.links import verify

    found: dict[str, str] = {}
    for message in smtp.messages():
        if person_email_part and person_email_part not in str(message["To"]):
            continue
        for link in LINK.findall(message_text(message)):
            found[verify(link.rsplit("/l/", 1)[1]).section_key] = link
    return found
