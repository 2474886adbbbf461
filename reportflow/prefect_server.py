"""Starts a local Prefect server (SQLite) or reuses the one already answering."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx


def is_healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def ensure_server(
    api_url: str, home: Path, log_path: Path, timeout_s: float = 90
) -> subprocess.Popen | None:
    """The server process if this call started it (in its own session, so it outlives us unless
    stopped with `stop_server`), or None when one already answers at `api_url`."""
    if is_healthy(api_url):
        return None
    port = api_url.rstrip("/").rsplit(":", 1)[1].split("/")[0]
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                port,
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if is_healthy(api_url):
            return process
        time.sleep(0.5)
    raise RuntimeError(
        f"Máy chủ Prefect không trả lời tại {api_url} sau {timeout_s:.0f} giây; xem {log_path}"
    )


def stop_server(process: subprocess.Popen, timeout_s: float = 30) -> None:
    """Stops a server `ensure_server` started, with the processes it started itself."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout_s)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout_s)
