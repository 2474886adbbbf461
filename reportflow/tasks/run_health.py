"""Cycles open in the database whose run cannot carry them on: reported with the mending command."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlmodel import select

from reportflow.models import Cycle, CycleState, session_scope

ENDED = {CycleState.DONE, CycleState.REJECTED}
RUN_ENDED_VI = {
    "COMPLETED": "đã xong",
    "FAILED": "thất bại",
    "CRASHED": "bị sập",
    "CANCELLED": "đã hủy",
}


@dataclass(frozen=True)
class StalledCycle:
    cycle_id: int
    problem: str
    mend: str
    had_run: bool = True

    @property
    def line(self) -> str:
        return f"Kỳ báo cáo số {self.cycle_id}: {self.problem}. Khắc phục: {self.mend}"


def stalled_cycles(cycle_ids: list[int] | None = None, timeout_s: float = 3) -> list[StalledCycle]:
    """Open cycles with no run, or whose run has ended; raises httpx.HTTPError when the Prefect
    server does not answer (the caller says so; nothing can be judged then)."""
    with session_scope() as session:
        query = select(Cycle.id, Cycle.state, Cycle.flow_run_id).order_by(Cycle.id)
        rows = [r for r in session.exec(query) if CycleState(r[1]) not in ENDED]
    if cycle_ids is not None:
        rows = [r for r in rows if r[0] in cycle_ids]
    found = []
    with _api(timeout_s) as api:
        for cycle_id, _state, run_id in rows:
            start = f"reportflow cycle start {cycle_id}"
            if not run_id:
                found.append(StalledCycle(cycle_id, "chưa có quy trình chạy", start, had_run=False))
                continue
            response = api.get(f"/flow_runs/{run_id}")
            if response.status_code == 404:
                found.append(
                    StalledCycle(cycle_id, "quy trình không còn trên máy chủ Prefect", start)
                )
                continue
            response.raise_for_status()
            state = (response.json().get("state") or {}).get("type", "")
            if state in RUN_ENDED_VI:
                found.append(
                    StalledCycle(
                        cycle_id,
                        f"quy trình {RUN_ENDED_VI[state]} nhưng kỳ báo cáo còn mở",
                        start,
                    )
                )
    return found


def _api(timeout_s: float) -> httpx.Client:
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL

    auth_string = PREFECT_API_AUTH_STRING.value()
    auth = tuple(str(auth_string).split(":", 1)) if auth_string else None
    return httpx.Client(base_url=PREFECT_API_URL.value() or "", timeout=timeout_s, auth=auth)
