"""Runs the web app with uvicorn, in the foreground or as a child process of `serve`."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from reportflow.core.config import get_settings, reload_settings
from reportflow.runtime.web_probe import bind_address, web_is_up


def run_web(host: str | None, port: int | None, say: Callable[[str], None]) -> None:
    import uvicorn

    from reportflow.web.app import create_app

    host, port = bind_address(host, port)
    say(f"Trang web gửi báo cáo: http://{host}:{port} (Ctrl+C để dừng)")
    if not get_settings().web_url:
        say("Chưa đặt REPORTFLOW_WEB_URL: thư gửi đi sẽ không kèm liên kết.")
    settings = get_settings()
    workers = settings.web_workers
    uvicorn.run(
        "reportflow.web.app:create_app" if workers > 1 else create_app(),
        factory=workers > 1,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=True,
        server_header=False,
        limit_concurrency=settings.web_max_connections,
    )


@contextmanager
def web_in_thread(host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """The web app on a free port, in a thread of this process (the demo, the tests); sets
    `REPORTFLOW_WEB_URL` so the mails sent meanwhile carry links to it. Yields its address."""
    import uvicorn

    from reportflow.web.app import create_app

    if not port:
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
    base = f"http://{host}:{port}"
    os.environ["REPORTFLOW_WEB_URL"] = base
    reload_settings()
    server = uvicorn.Server(uvicorn.Config(create_app(), host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not web_is_up(base, timeout_s=1):
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"Trang web không khởi động được tại {base}.")
        time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(10)
