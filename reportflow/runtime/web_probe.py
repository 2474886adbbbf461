"""Where the division heads' pages listen, and whether they answer: what `serve` and `check`
need of the web app without importing it."""

from __future__ import annotations

from reportflow.core.config import get_settings


def bind_address(host: str | None = None, port: int | None = None) -> tuple[str, int]:
    settings = get_settings()
    return host or settings.web_host, port or settings.web_port


def web_is_up(address: str, timeout_s: float = 2.0) -> bool:
    """The health check at `address` answers "ok" (its first line; each dependency follows)."""
    import httpx

    try:
        answer = httpx.get(f"{address.rstrip('/')}/healthz", timeout=timeout_s)
    except httpx.HTTPError:
        return False
    return answer.status_code == 200 and answer.text.splitlines()[:1] == ["ok"]
