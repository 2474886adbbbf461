"""A few calls to the Prefect REST API over httpx, without importing Prefect.

Importing Prefect takes about 1.4 s, most of a `reportflow submit`; the submission needs only
to read a run's state, resume it and refresh an artifact. The calls are the ones Prefect's own
client makes (`resume_flow_run` is `POST /flow_runs/{id}/resume`).
"""

from __future__ import annotations

import base64
import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from reportflow.core.prefect_address import api_target

FINAL_STATES = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})


class PrefectApiError(httpx.HTTPError):
    """The Prefect server refused a call, or no server is configured."""


@dataclass(frozen=True)
class RunState:
    type: str
    name: str
    pause_key: str
    since: dt.datetime | None = None
    """When the run entered this state."""

    @property
    def is_paused(self) -> bool:
        """Paused or suspended: Prefect gives a suspended run the PAUSED type too."""
        return self.type == "PAUSED"

    @property
    def is_final(self) -> bool:
        return self.type in FINAL_STATES


RETRY_STATUSES = frozenset({429, 502, 503, 504})
RETRY_DELAYS_S = (0.5, 1.0, 2.0, 4.0)
_TRANSIENT = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError, httpx.PoolTimeout)


class _RetryingClient(httpx.Client):
    """Retries what Prefect's own client retries: a busy server's 429/502/503/504 (a SQLite
    server answers 503 while its database is locked) and a dropped connection, waiting longer
    each time (or as Retry-After says). A server that refuses the connection fails at once."""

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        for delay in RETRY_DELAYS_S:
            try:
                response = super().send(request, **kwargs)
            except _TRANSIENT:
                time.sleep(delay)
                continue
            if response.status_code not in RETRY_STATUSES:
                return response
            wait = _retry_after(response) or delay
            response.close()
            time.sleep(wait)
        return super().send(request, **kwargs)


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return min(float(response.headers.get("Retry-After", "")), 30.0)
    except ValueError:
        return None


@contextmanager
def api_client(timeout_s: float = 10) -> Iterator[httpx.Client]:
    """An httpx client on the Prefect API, with the same Authorization header Prefect sends."""
    url, auth_string, api_key = api_target()
    if not url:
        raise PrefectApiError("Chưa đặt địa chỉ máy chủ Prefect (PREFECT_API_URL).")
    headers = {}
    if auth_string:
        headers["Authorization"] = "Basic " + base64.b64encode(auth_string.encode()).decode()
    elif api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    # A plain-HTTP API has no certificate to verify; not loading the CA bundle saves 0.1 s of
    # every submission. An https:// API is verified as usual.
    verify = not url.startswith("http://")
    with _RetryingClient(
        base_url=url.rstrip("/") + "/", headers=headers, timeout=timeout_s, verify=verify
    ) as client:
        yield client


def read_run_state(client: httpx.Client, flow_run_id: str) -> RunState | None:
    """The run's state; None when the server does not know the run."""
    response = client.get(f"flow_runs/{flow_run_id}")
    if response.status_code == 404:
        return None
    response.raise_for_status()
    state = response.json().get("state") or {}
    details = state.get("state_details") or {}
    stamp = state.get("timestamp")
    return RunState(
        type=state.get("type") or "",
        name=state.get("name") or "",
        pause_key=details.get("pause_key") or "",
        since=dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None,
    )


def run_state_or_none(flow_run_id: str, timeout_s: float = 3) -> RunState | None:
    """The run's state, or None when the server does not know the run or does not answer (a
    page that shows progress says so, and asks again later)."""
    try:
        with api_client(timeout_s) as client:
            return read_run_state(client, flow_run_id)
    except httpx.HTTPError:
        return None


def resume_run(client: httpx.Client, flow_run_id: str, run_input: dict | None = None) -> None:
    """`prefect.flow_runs.resume_flow_run` in one call; raises when the server refuses."""
    response = client.post(f"flow_runs/{flow_run_id}/resume", json={"run_input": run_input})
    response.raise_for_status()
    result = response.json()
    if result.get("status") == "REJECT":
        reason = (result.get("details") or {}).get("reason") or ""
        raise PrefectApiError(f"Máy chủ Prefect không cho chạy tiếp quy trình: {reason}")


def latest_artifact(client: httpx.Client, key: str) -> dict[str, Any] | None:
    """The key's collection entry, whose `latest_id` is the newest version's id
    (`GET /artifacts/{key}/latest` answers without it)."""
    response = client.post(
        "artifacts/latest/filter", json={"artifacts": {"key": {"any_": [key]}}, "limit": 1}
    )
    response.raise_for_status()
    found = response.json()
    return found[0] if found else None


def put_artifact(
    client: httpx.Client,
    key: str,
    kind: str,
    data: Any,
    description: str,
    flow_run_id: str | None = None,
) -> str:
    """One artifact per key, updated in place: the key's latest version when it belongs to the
    same run, else a new version (the first, or a new run of the cycle). Returns its id."""
    latest = latest_artifact(client, key)
    if latest and latest.get("type") == kind and latest.get("flow_run_id") == flow_run_id:
        response = client.patch(
            f"artifacts/{latest['latest_id']}", json={"data": data, "description": description}
        )
        response.raise_for_status()
        return latest["latest_id"]
    response = client.post(
        "artifacts/",
        json={
            "key": key,
            "type": kind,
            "data": data,
            "description": description,
            "flow_run_id": flow_run_id,
        },
    )
    response.raise_for_status()
    return response.json()["id"]
