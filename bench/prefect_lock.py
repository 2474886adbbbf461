"""Prefect on SQLite under a served cycle's kind of load: writers (logs, artifacts, state
changes, as flow runs and our progress tables make) beside a stream of Resume calls (what the
director's Submit sends). Counts every call the server failed (5xx or a dropped connection)
and its "database is locked" log lines: on Prefect's own `server start`, the baseline, and on
`reportflow.runtime.prefect_sqlite_server`, which `serve` starts."""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

from bench.harness import patched_environment
from bench.results import Row
from reportflow.runtime.prefect_server import ensure_server, stop_server
from reportflow.runtime.smtp_sink import free_port

WRITERS = 8
SECONDS = 25.0
PAUSED = {
    "type": "PAUSED",
    "name": "Paused",
    "state_details": {
        "pause_key": "decision-r1-w0",
        "pause_reschedule": False,
        "pause_timeout": "2099-01-01T00:00:00Z",
    },
}


class Load:
    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self.failed: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.stop = threading.Event()
        self._lock = threading.Lock()
        with httpx.Client(base_url=api_url, timeout=120) as client:
            self.flow_id = client.post("/flows/", json={"name": "tai-thu"}).json()["id"]

    def call(
        self, client: httpx.Client, kind: str, path: str, body: object
    ) -> httpx.Response | None:
        with self._lock:
            self.calls[kind] += 1
        try:
            response = client.post(path, json=body)
        except httpx.HTTPError:
            response = None
        if response is None or response.status_code >= 500:
            with self._lock:
                self.failed[kind] += 1
            return None
        return response

    def new_run(self, client: httpx.Client) -> str | None:
        created = self.call(
            client, "create", "/flow_runs/", {"flow_id": self.flow_id, "state": {"type": "RUNNING"}}
        )
        return created.json()["id"] if created is not None else None

    def writer(self) -> None:
        with httpx.Client(base_url=self.api_url, timeout=120) as client:
            run_id = None
            while run_id is None and not self.stop.is_set():
                run_id = self.new_run(client)
            now = dt.datetime.now(dt.UTC).isoformat()
            log = {"name": "tai-thu", "level": 20, "message": "m" * 200, "timestamp": now}
            while not self.stop.is_set():
                artifact = {
                    "key": f"k-{uuid.uuid4().hex[:12]}",
                    "type": "markdown",
                    "data": "x" * 2000,
                }
                self.call(client, "artifact", "/artifacts/", {**artifact, "flow_run_id": run_id})
                self.call(client, "log", "/logs/", [{**log, "flow_run_id": run_id}] * 20)
                self.call(
                    client,
                    "state",
                    f"/flow_runs/{run_id}/set_state",
                    {"state": {"type": "RUNNING"}, "force": True},
                )

    def resumes(self, seconds: float) -> int:
        accepted = 0
        with httpx.Client(base_url=self.api_url, timeout=120) as client:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                run_id = self.new_run(client)
                if run_id is None:
                    continue
                body = {"state": PAUSED, "force": True}
                if self.call(client, "pause", f"/flow_runs/{run_id}/set_state", body) is None:
                    continue
                resumed = self.call(client, "resume", f"/flow_runs/{run_id}/resume", {})
                if resumed is not None and resumed.json().get("status") == "ACCEPT":
                    accepted += 1
        return accepted


def hammer(api_url: str, seconds: float = SECONDS, writers: int = WRITERS) -> dict[str, object]:
    """Writers and resumes against a running server for ``seconds``; the calls and failures."""
    load = Load(api_url)
    threads = [threading.Thread(target=load.writer, daemon=True) for _ in range(writers)]
    for thread in threads:
        thread.start()
    try:
        accepted = load.resumes(seconds)
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(120)
    return {
        "calls": sum(load.calls.values()),
        "failed": sum(load.failed.values()),
        "failed_by_kind": dict(load.failed),
        "resumes_accepted": accepted,
        "resumes_sent": load.calls["resume"],
    }


def measure(plain: bool, seconds: float = SECONDS) -> dict[str, object]:
    """A fresh SQLite Prefect server (Prefect's own command, or the one `serve` starts) under
    the load; its figures and its log's "database is locked" count."""
    with tempfile.TemporaryDirectory(prefix="reportflow-bench-lock-") as tmp:
        home, log = Path(tmp) / "prefect", Path(tmp) / "server.log"
        api_url = f"http://127.0.0.1:{free_port()}/api"
        immediate = "false" if plain else "true"
        with patched_environment(REPORTFLOW_PREFECT_SQLITE_IMMEDIATE=immediate):
            process = ensure_server(api_url, home, log, timeout_s=180)
        try:
            figures = hammer(api_url, seconds)
        finally:
            if process is not None:
                stop_server(process)
        figures["locked_lines"] = log.read_text(errors="replace").count("database is locked")
        return figures


def run(seconds: float = SECONDS) -> list[Row]:
    baseline = measure(plain=True, seconds=seconds)
    ours = measure(plain=False, seconds=seconds)
    print(f"\nPrefect on SQLite, {WRITERS} writers and a stream of resumes for {seconds:g} s")
    for label, figures in (("prefect server start (baseline)", baseline), ("serve's server", ours)):
        print(
            f"  {label:<32} {figures['failed']:>5} failed of {figures['calls']:>6} calls, "
            f"{figures['resumes_accepted']:>4}/{figures['resumes_sent']:<4} resumes accepted, "
            f"{figures['locked_lines']:>4} 'database is locked' in the log"
        )
    return [
        Row(
            id="P1",
            figure=f"Prefect API calls failed on SQLite under {WRITERS} writers and resumes",
            goal="0, with every resume accepted",
            measured=float(ours["failed"]),
            unit="calls",
            baseline=float(baseline["failed"]),
            baseline_label="Prefect's own `prefect server start`, same load",
            meets_goal=ours["failed"] == 0 and ours["resumes_accepted"] == ours["resumes_sent"],
            note=f"serve's server: {ours['calls']} calls, {ours['locked_lines']} locked lines; "
            f"baseline: {baseline['calls']} calls, {baseline['locked_lines']} locked lines",
        )
    ]
