"""Runs the web app with uvicorn, in the foreground or as a child process of `serve`."""

from __future__ import annotations

from collections.abc import Callable

from reportflow.config import get_settings


def bind_address(host: str | None = None, port: int | None = None) -> tuple[str, int]:
    settings = get_settings()
    return host or settings.web_host, port or settings.web_port


def run_web(host: str | None, port: int | None, say: Callable[[str], None]) -> None:
    import uvicorn

    from reportflow.web.app import create_app

    host, port = bind_address(host, port)
    say(f"Trang web gửi báo cáo: http://{host}:{port} (Ctrl+C để dừng)")
    if not get_settings().web_url:
        say("Chưa đặt REPORTFLOW_WEB_URL: thư gửi đi sẽ không kèm liên kết.")
    uvicorn.run(
        create_app(),
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=True,
        server_header=False,
        limit_concurrency=100,
    )


def web_is_up(address: str, timeout_s: float = 2.0) -> bool:
    """The health check at `address` answers "ok"."""
    import httpx

    try:
        return httpx.get(f"{address.rstrip('/')}/healthz", timeout=timeout_s).text == "ok"
    except httpx.HTTPError:
        return False
