"""One flow run per report cycle: collect, merge, decide, number, dispatch."""

from __future__ import annotations

from uuid import uuid4

from prefect import flow, get_run_logger
from prefect.context import get_run_context
from prefect.flow_runs import pause_flow_run

from reportflow.config import get_settings
from reportflow.models import CycleState, init_db
from reportflow.tasks import cycle_steps
from reportflow.tasks import prefect_tasks as steps
from reportflow.tasks.approval import DecisionChoice, DirectorDecision
from reportflow.tasks.wake import SECTIONS_PAUSE_PREFIX

UNDECIDED = {CycleState.COLLECTING, CycleState.DRAFTING, CycleState.AWAITING_DECISION}


@flow(name="report_cycle", flow_run_name="cycle-{cycle_id}")
def report_cycle(cycle_id: int) -> str:
    init_db()
    cycle_steps.attach_run(cycle_id, str(get_run_context().flow_run.id))
    while cycle_steps.cycle_state(cycle_id) in UNDECIDED:
        steps.request_sections(cycle_id)
        wait_for_all_sections(cycle_id)
        steps.prepare_draft(cycle_id)
        wait_for_decision(cycle_id)
    if cycle_steps.cycle_state(cycle_id) == CycleState.REJECTED:
        return "rejected"
    number = steps.assign_number(cycle_id)
    steps.render_final(cycle_id)
    steps.dispatch_report(cycle_id)
    steps.publish_progress(cycle_id)
    get_run_logger().info("Báo cáo số %s đã phát hành và gửi đi.", number)
    return number


def wait_for_all_sections(cycle_id: int) -> None:
    """One pause for the whole cycle; the submission that completes the set resumes it."""
    settings = get_settings()
    steps.publish_progress(cycle_id)
    while not steps.sections_complete(cycle_id):
        pause_flow_run(
            timeout=settings.pause_timeout_s,
            poll_interval=settings.pause_poll_s,
            key=f"{SECTIONS_PAUSE_PREFIX}{uuid4().hex[:12]}",
        )
        steps.publish_progress(cycle_id)


def wait_for_decision(cycle_id: int) -> None:
    """The director's form in the UI; a refused form (wrong code, not the director) is asked again."""
    settings = get_settings()
    while cycle_steps.cycle_state(cycle_id) == CycleState.AWAITING_DECISION:
        form = DirectorDecision.with_initial_data(
            description=cycle_steps.decision_description(cycle_id),
            decision=DecisionChoice.APPROVE,
            approver="",
            approval_code="",
        )
        decision = pause_flow_run(
            wait_for_input=form,
            timeout=settings.pause_timeout_s,
            poll_interval=settings.pause_poll_s,
            key=f"decision-{uuid4().hex[:12]}",
        )
        # Not a task: a task's parameters are kept by Prefect, and this one holds the code.
        outcome = cycle_steps.apply_decision(cycle_id, decision)
        get_run_logger().info(outcome)
