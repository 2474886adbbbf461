"""One flow run per report cycle: collect, merge, decide, number, dispatch.

Served from a deployment, the run suspends while it waits and holds no process: the completing
submission or the director's decision resumes it, a worker starts it again, and it re-runs from
the top, reading from the database where the cycle stands. Every step is safe to run again.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.context import get_run_context
from pydantic import ValidationError

from reportflow.core.config import get_settings
from reportflow.core.errors import UserError
from reportflow.cycle import steps as cycle_steps
from reportflow.cycle.issuing.signature_waits import AwaitingOwnSignature
from reportflow.flows.waiting import wait_here
from reportflow.models import CycleState, init_db
from reportflow.notifications.sender import preload_channel_plugins
from reportflow.tasks import prefect_tasks as steps

UNDECIDED = {CycleState.COLLECTING, CycleState.DRAFTING, CycleState.AWAITING_DECISION}


@flow(name="report_cycle", flow_run_name="cycle-{cycle_id}")
def report_cycle(cycle_id: int) -> str:
    preload_channel_plugins()
    init_db()
    cycle_steps.attach_run(cycle_id, str(get_run_context().flow_run.id))
    while cycle_steps.cycle_state(cycle_id) in UNDECIDED:
        if not cycle_steps.draft_handed_over(cycle_id):
            if cycle_steps.sections_open(cycle_id):
                steps.request_sections(cycle_id)
            wait_for_all_sections(cycle_id)
            steps.prepare_draft(cycle_id)
            if cycle_steps.cycle_state(cycle_id) == CycleState.AWAITING_DECISION:
                hand_draft_to_director(cycle_id)
        wait_for_decision(cycle_id)
    if cycle_steps.cycle_state(cycle_id) == CycleState.REJECTED:
        steps.publish_trail(cycle_id)
        return "rejected"
    signed = get_settings().signs_issued_reports
    if signed:
        sign(cycle_id, steps.sign_for_approver)
    number = steps.assign_number(cycle_id)
    steps.render_final(cycle_id)
    if signed:
        sign(cycle_id, steps.seal_by_agency)
    steps.dispatch_report(cycle_id)
    steps.publish_progress(cycle_id)
    steps.publish_trail(cycle_id)
    get_run_logger().info("Báo cáo số %s đã phát hành và gửi đi.", number)
    return number


def sign(cycle_id: int, signature) -> None:
    """One of the two signatures; while it cannot be made, the cycle waits "chờ ký số" and
    the clerk's `reportflow sign retry` tries again."""
    while True:
        try:
            signature(cycle_id)
        except UserError as exc:
            own_pc = isinstance(exc, AwaitingOwnSignature)
            key = cycle_steps.wait_for_signing(cycle_id, str(exc), tell_clerks=not own_pc)
            get_run_logger().warning("Chờ ký số: %s", exc)
            wait_here(key)
            cycle_steps.wait_over(cycle_id, key)
        else:
            cycle_steps.signing_done(cycle_id)
            return


def wait_for_all_sections(cycle_id: int) -> None:
    """One wait for the whole cycle; the submission that completes the set resumes it.

    Each submission updates the progress table itself (without a task run); the run shows it
    before it waits, and again with the draft (nothing stands between the completing submission
    and the director's mail)."""
    while not steps.sections_complete(cycle_id):
        steps.publish_progress(cycle_id)
        key = cycle_steps.wait_key(cycle_id, "sections")
        wait_here(key)
        cycle_steps.wait_over(cycle_id, key)


def hand_draft_to_director(cycle_id: int) -> None:
    """The draft published on Prefect while the director's mail goes: the run waits for the
    decision as soon as both are done, not one after the other."""
    published = steps.publish_draft.submit(cycle_id)
    steps.send_draft(cycle_id)
    published.result()


def wait_for_decision(cycle_id: int) -> None:
    """The director's form; a refused form is audited and asked again with its reason."""
    while cycle_steps.cycle_state(cycle_id) == CycleState.AWAITING_DECISION:
        asked_round = cycle_steps.cycle_round(cycle_id)
        key = cycle_steps.wait_key(cycle_id, "decision")
        form = cycle_steps.decision_form(cycle_id)
        try:
            decision = wait_here(key, form)
        except ValidationError as exc:
            outcome = cycle_steps.refuse_unreadable_form(cycle_id, exc)
        else:
            # Not a task: a task's parameters are kept by Prefect, and this one holds the code.
            outcome = cycle_steps.apply_decision(cycle_id, asked_round, decision)
        cycle_steps.wait_over(cycle_id, key)
        get_run_logger().info(outcome)
