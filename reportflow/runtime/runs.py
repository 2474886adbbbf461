"""Starting a cycle's run through the `report-cycle` deployment, for a worker to pick up."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from reportflow.core.errors import Conflict, UserError
from reportflow.cycle.cycles import get_cycle
from reportflow.cycle.installation import installation_id
from reportflow.cycle.reminding.planned_messages import cycle_url
from reportflow.models import CycleState, session_scope
from reportflow.models.audit import record_event
from reportflow.runtime.run_health import pending_too_long

REPORT_CYCLE_DEPLOYMENT = "report_cycle/report-cycle"
"""`<flow name>/<deployment name>` as prefect.yaml declares it."""


RUN_STATE_VI = {
    "SCHEDULED": "đang chờ máy thực thi nhận",
    "PENDING": "đang chuẩn bị",
    "RUNNING": "đang chạy",
    "PAUSED": "đang tạm dừng chờ",
    "CANCELLING": "đang hủy",
}


@dataclass(frozen=True)
class StartedRun:
    flow_run_id: str
    url: str


def start_cycle_run(
    cycle_id: int, replace: bool = False, replacing: str | None = None
) -> StartedRun:
    """Asks the deployment for a run of the cycle; refuses while an earlier run is still alive,
    unless `replace`: then that run is cancelled first (its machine died while it waited, so
    Prefect still shows it paused). Every step of the new run starts from what the database
    holds, so nothing is done twice.

    The idempotency key names the installation and the run it replaces, so asking twice (a
    retried command, two clerks at once) gives one run, a crashed run can still be replaced by a
    new one, and another installation on the same Prefect server never gets this one's run.

    `replacing` names the run the caller judged dead: when the cycle has another run by now
    (another machine mended it first), that run is left alone and returned.
    """
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Cancelled

    with session_scope() as session:
        cycle = get_cycle(session, cycle_id)
        state, previous = CycleState(cycle.state), cycle.flow_run_id
    if state in {CycleState.DONE, CycleState.REJECTED}:
        raise Conflict(f"Kỳ báo cáo số {cycle_id} đã kết thúc ({state.label_vi}).")
    if replacing is not None and previous and previous != replacing:
        return StartedRun(previous, cycle_url(previous))
    if previous:
        with get_client(sync_client=True) as client:
            try:
                run_state = client.read_flow_run(UUID(previous)).state
            except ObjectNotFound:
                run_state = None
            if run_state is not None and not run_state.is_final():
                stuck = run_state.type.value == "PENDING" and pending_too_long(run_state.timestamp)
                if not replace and stuck:
                    raise Conflict(
                        f"Quy trình của kỳ báo cáo số {cycle_id} kẹt ở bước chuẩn bị (máy thực "
                        "thi dừng trước khi quy trình bắt đầu), nên chưa chạy gì. Thay bằng quy "
                        f"trình mới: reportflow cycle start {cycle_id} --replace"
                    )
                if not replace and run_state.type.value in {"SCHEDULED", "PENDING"}:
                    return StartedRun(previous, cycle_url(previous))  # asked twice: one run
                if not replace and run_state.name == "Suspended":
                    raise Conflict(
                        f"Kỳ báo cáo số {cycle_id} đã có quy trình, đang chờ (không giữ tiến "
                        "trình nào; bài nộp cuối cùng hoặc quyết định của Giám đốc sẽ cho chạy "
                        f"tiếp): {cycle_url(previous) or previous}"
                    )
                if not replace:
                    shown = RUN_STATE_VI.get(run_state.type.value, run_state.name)
                    raise Conflict(
                        f"Kỳ báo cáo số {cycle_id} đã có quy trình đang chạy ({shown}): "
                        f"{cycle_url(previous) or previous}. Nếu máy chạy quy trình đã tắt "
                        f"hoặc hỏng, thay bằng quy trình mới: reportflow cycle start {cycle_id} "
                        "--replace"
                    )
                client.set_flow_run_state(
                    UUID(previous),
                    Cancelled(message="Thay bằng quy trình mới (reportflow cycle start --replace)"),
                    force=True,
                )
    try:
        flow_run = run_deployment(
            REPORT_CYCLE_DEPLOYMENT,
            parameters={"cycle_id": cycle_id},
            timeout=0,
            as_subflow=False,
            idempotency_key=(
                f"reportflow-{installation_id()}-cycle-{cycle_id}-after-{previous or 'none'}"
            ),
        )
    except ObjectNotFound:
        raise UserError(
            f"Chưa có deployment '{REPORT_CYCLE_DEPLOYMENT}' trên Prefect server. "
            "Bộ phận CNTT triển khai bằng: prefect deploy --all"
        ) from None
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id, for_update=True)
        if cycle.flow_run_id != str(flow_run.id):
            cycle.flow_run_id = str(flow_run.id)
            session.add(cycle)
            record_event(
                session,
                "reportflow",
                "cycle.run_started",
                cycle_id,
                flow_run_id=str(flow_run.id),
                replaced=previous,
            )
    return StartedRun(str(flow_run.id), cycle_url(str(flow_run.id)))
