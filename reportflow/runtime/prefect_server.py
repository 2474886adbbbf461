"""Starts a local Prefect server (SQLite) or reuses the one already answering."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from reportflow.core.config import get_settings
from reportflow.services.processes import start_in_own_group, stop_tree


def is_healthy(api_url: str) -> bool:
    """The health probe needs no credentials, even on a server with basic auth."""
    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def uses_sqlite(env: dict[str, str]) -> bool:
    """Whether a Prefect server started with this environment keeps its data in SQLite."""
    url = env.get("PREFECT_API_DATABASE_CONNECTION_URL") or env.get(
        "PREFECT_SERVER_DATABASE_CONNECTION_URL", ""
    )
    return not url or url.startswith("sqlite")


def server_module(env: dict[str, str]) -> str:
    """Prefect's command line; on SQLite, with its write transactions begun IMMEDIATE."""
    immediate = get_settings().prefect_sqlite_immediate and uses_sqlite(env)
    return "reportflow.runtime.prefect_sqlite_server" if immediate else "prefect"


def ensure_server(
    api_url: str,
    home: Path,
    log_path: Path,
    timeout_s: float = 90,
    host: str = "127.0.0.1",
    started: list[subprocess.Popen] | None = None,
) -> subprocess.Popen | None:
    """The server process if this call started it (in its own session, so it outlives us unless
    stopped with `stop_server`), or None when one already answers at `api_url`. It listens on
    `host` and on the port of `api_url`. A started process is appended to `started` at once, so a
    caller interrupted during the wait can still stop it."""
    if is_healthy(api_url):
        return None
    port = api_url.rstrip("/").rsplit(":", 1)[1].split("/")[0]
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    # The UI is told where the API is; by default it says port 4200 whatever port is served.
    env.setdefault("PREFECT_UI_API_URL", api_url)
    home.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", server_module(env), "server", "start", "--host", host]
    command += ["--port", port]
    process = start_in_own_group(command, log_path, env)
    if started is not None:
        started.append(process)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if is_healthy(api_url):
            return process
        if process.poll() is not None:
            raise RuntimeError(
                f"Máy chủ Prefect dừng ngay khi khởi động (cổng {port} đang bận?); xem {log_path}"
            )
        time.sleep(0.5)
    stop_server(process)
    raise RuntimeError(
        f"Máy chủ Prefect không trả lời tại {api_url} sau {timeout_s:.0f} giây; xem {log_path}"
    )


def stop_server(process: subprocess.Popen, timeout_s: float = 30) -> None:
    """Stops a server `ensure_server` started, with the processes it started itself."""
    stop_tree(process, grace_s=timeout_s, timeout_s=timeout_s)
