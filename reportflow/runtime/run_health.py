"""Cycles open in the database whose run cannot carry them on: reported with the mending command."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import select

from reportflow.core.config import get_settings
from reportflow.models import Cycle, CycleState, session_scope
from reportflow.notifications.messages import vn_datetime
from reportflow.services.prefect_api import RunState, api_client, read_run_state

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
    run_id: str | None = None
    serve_mends: bool = False
    """Whether `serve` starts the new run by itself: for a run whose machine died (crashed, or
    Pending for good). A cycle never started, or a run that failed or was cancelled, waits for
    a person."""
    replace: bool = False
    """The new run takes the place of one that never began (`--replace`)."""

    @property
    def line(self) -> str:
        return f"Kỳ báo cáo số {self.cycle_id}: {self.problem}. Khắc phục: {self.mend}"


def is_stuck_pending(run_state: RunState) -> bool:
    if run_state.type != "PENDING" or run_state.since is None:
        return False
    return pending_too_long(run_state.since)


def pending_too_long(since: dt.datetime) -> bool:
    """Against the wall clock: Prefect's timestamps are real time, whatever the product's
    (possibly frozen) clock says."""
    return (dt.datetime.now(dt.UTC) - since).total_seconds() > get_settings().stuck_pending_s


def stalled_cycles(cycle_ids: list[int] | None = None, timeout_s: float = 3) -> list[StalledCycle]:
    """Open cycles with no run, or whose run has ended; raises httpx.HTTPError when the Prefect
    server does not answer (the caller says so; nothing can be judged then)."""
    with session_scope() as session:
        query = select(Cycle.id, Cycle.state, Cycle.flow_run_id).order_by(Cycle.id)
        rows = [r for r in session.exec(query) if CycleState(r[1]) not in ENDED]
    if cycle_ids is not None:
        rows = [r for r in rows if r[0] in cycle_ids]
    found = []
    with api_client(timeout_s) as api:
        for cycle_id, _state, run_id in rows:
            start = f"reportflow cycle start {cycle_id}"
            if not run_id:
                found.append(StalledCycle(cycle_id, "chưa có quy trình chạy", start, had_run=False))
                continue
            run_state = read_run_state(api, run_id)
            if run_state is None:
                found.append(
                    StalledCycle(
                        cycle_id, "quy trình không còn trên máy chủ Prefect", start, run_id=run_id
                    )
                )
                continue
            state = run_state.type
            start_instead = f"reportflow cycle start {cycle_id} --replace"
            if is_stuck_pending(run_state):
                since = vn_datetime(run_state.since)
                found.append(
                    StalledCycle(
                        cycle_id,
                        f"quy trình kẹt ở bước chuẩn bị từ {since} (máy thực thi dừng trước "
                        "khi quy trình bắt đầu)",
                        start_instead,
                        run_id=run_id,
                        serve_mends=True,
                        replace=True,
                    )
                )
                continue
            if state in RUN_ENDED_VI:
                found.append(
                    StalledCycle(
                        cycle_id,
                        f"quy trình {RUN_ENDED_VI[state]} nhưng kỳ báo cáo còn mở",
                        start,
                        run_id=run_id,
                        serve_mends=state == "CRASHED",
                    )
                )
    return found
