"""What the benches share: a patched environment, a private Prefect server, the web app as a
process of its own, a division head's browser that submits through the web route, percentiles."""

from __future__ import annotations

import html
import math
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from reportflow.core.config import reload_settings
from reportflow.runtime.prefect_server import ensure_server, stop_server
from reportflow.runtime.smtp_sink import free_port
from reportflow.services.processes import start_in_own_group, stop_tree

HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0–100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@contextmanager
def patched_environment(**values: str) -> Iterator[None]:
    """Sets environment variables (an empty value removes one) and reloads the settings; puts
    everything back afterwards."""
    saved = dict(os.environ)
    for key, value in values.items():
        if value:
            os.environ[key] = value
        else:
            os.environ.pop(key, None)
    reload_settings()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reload_settings()


@contextmanager
def prefect_server(home: Path, database_url: str = "") -> Iterator[subprocess.Popen]:
    """A Prefect server of the bench's own on a free port (SQLite in `home`, or PostgreSQL at
    `database_url`); PREFECT_API_URL points at it meanwhile."""
    api_url = f"http://127.0.0.1:{free_port()}/api"
    server_env = {"PREFECT_HOME": str(home), "PREFECT_API_URL": api_url}
    if database_url:
        server_env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    with patched_environment(**server_env):
        process = ensure_server(api_url, home, home / "prefect-server.log", timeout_s=180)
        try:
            yield process
        finally:
            stop_server(process)


def prefect_settings_for(api_url: str):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    return temporary_settings(updates={PREFECT_API_URL: api_url})


@contextmanager
def web_process(env: Mapping[str, str], log_path: Path, cwd: Path) -> Iterator[str]:
    """`reportflow web` (uvicorn) as a process of its own; yields its address."""
    from reportflow.runtime.web_probe import web_is_up

    address = f"http://127.0.0.1:{env['REPORTFLOW_WEB_PORT']}"
    process = start_in_own_group(
        [sys.executable, "-m", "reportflow.cli", "web"], log_path, env, cwd
    )
    try:
        deadline = time.monotonic() + 90
        while not web_is_up(address):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the web app did not start; see {log_path}")
            time.sleep(0.2)
        yield address
    finally:
        stop_tree(process)


@dataclass(frozen=True)
class WebSubmission:
    version_no: int
    confirm_s: float
    """The "Gửi" POST alone, request to response (a 303 to the receipt page)."""


def submit_through_web(client: httpx.Client, link: str, markdown: str) -> WebSubmission:
    """What a division head's browser does: open the link, paste the text, preview, press "Gửi"."""
    page = client.get(link)
    page.raise_for_status()
    fields = dict(HIDDEN.findall(page.text))
    preview = client.post(
        f"{link}/preview",
        data={"csrf": fields["csrf"], "markdown": markdown},
        files={"file": ("", b"")},
    )
    if 'id="confirm"' not in preview.text:
        raise RuntimeError(f"the preview refused the section ({preview.status_code})")
    form = {name: html.unescape(value) for name, value in HIDDEN.findall(preview.text)}
    began = time.perf_counter()
    sent = client.post(f"{link}/confirm", data=form, files={"x": ("", b"")})
    confirm_s = time.perf_counter() - began
    if sent.status_code != 303:
        raise RuntimeError(f"'Gửi' answered {sent.status_code}, not a receipt")
    return WebSubmission(int(sent.headers["location"].rsplit("/", 1)[1]), confirm_s)
