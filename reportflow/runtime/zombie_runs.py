"""Runs whose machine died while they were running are marked Crashed by the Prefect server.

Flow runs started by a worker send a heartbeat (PREFECT_FLOWS_HEARTBEAT_FREQUENCY); this
automation, Prefect's own recipe for self-hosted servers, crashes a run whose heartbeats stop.
A crashed cycle run is then reported by `reportflow check` and `status` with the mending command.
A suspended run sends none and needs none: it holds no process.
"""

from __future__ import annotations

from datetime import timedelta

HEARTBEAT_S = 30
"""Prefect's minimum; a dead run is crashed after `ZOMBIE_AFTER` without one."""
ZOMBIE_AFTER = timedelta(seconds=3 * HEARTBEAT_S)
AUTOMATION_NAME = "reportflow: crash zombie flow runs"


def zombie_automation():
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    return AutomationCore(
        name=AUTOMATION_NAME,
        description="Đánh dấu Crashed quy trình không còn gửi nhịp tim (máy chạy nó đã chết).",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={
                "prefect.flow-run.heartbeat",
                "prefect.flow-run.Completed",
                "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed",
                "prefect.flow-run.Suspended",
                "prefect.flow-run.Paused",
            },
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=ZOMBIE_AFTER,
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                message=f"Không có nhịp tim trong {ZOMBIE_AFTER.seconds} giây: máy chạy đã dừng.",
            )
        ],
    )


def ensure_zombie_automation(client) -> bool:
    """Creates the automation once; True if this call created it."""
    existing = client.read_automations_by_name(AUTOMATION_NAME)
    if existing:
        return False
    client.create_automation(zombie_automation())
    return True
