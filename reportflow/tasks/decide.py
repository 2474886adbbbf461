"""The director's decision from the command line, through the same resume call the Prefect UI makes."""

from __future__ import annotations

import time

import httpx
from sqlmodel import select

from reportflow.models import ApprovalDecision, session_scope
from reportflow.prefect_api import PrefectApiError, api_client, read_run_state, resume_run
from reportflow.tasks.approval import (
    DECISION_VI,
    DecisionRefused,
    DirectorDecision,
    SectionChange,
    check_decision,
    cycle_form,
)
from reportflow.tasks.cycles import get_cycle
from reportflow.tasks.errors import Conflict, UserError


def build_decision(code: str, changes: list[str], reject: bool, comment: str) -> DirectorDecision:
    parsed = []
    for item in changes:
        key, sep, text = item.partition("=")
        if not sep or not key.strip() or not text.strip():
            raise UserError(f"'{item}' không đúng dạng MÃ_PHẦN=ý kiến.")
        parsed.append(SectionChange(section=key.strip(), comment=text.strip()))
    if reject and parsed:
        raise UserError("Không thể vừa hủy báo cáo vừa trả lại phần để sửa.")
    decision = "reject" if reject else "request_changes" if parsed else "approve"
    return DirectorDecision(decision=decision, approval_code=code, comment=comment, changes=parsed)


def send_decision(
    cycle_id: int,
    code: str,
    changes: list[str],
    reject: bool,
    comment: str,
    wait_s: float = 60,
) -> str:
    """Checks the decision first (nothing is sent if it would be refused), then resumes the run."""
    decision = build_decision(code, changes, reject, comment)
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id)
        try:
            check_decision(session, cycle, decision)
        except DecisionRefused as exc:
            raise UserError(str(exc)) from exc
        # As the UI sends it: the server checks the input against the form the run asked.
        run_input = cycle_form(session, cycle).model_validate(decision.model_dump())
        flow_run_id, round_no = cycle.flow_run_id, cycle.round
    if not flow_run_id:
        raise Conflict(f"Kỳ báo cáo số {cycle_id} chưa có quy trình đang chạy.")
    with api_client() as client:
        _wait_for_decision_pause(client, flow_run_id)
        resume_with_input(client, flow_run_id, run_input.model_dump(mode="json"))
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        with session_scope() as session:
            recorded = session.exec(
                select(ApprovalDecision).where(
                    ApprovalDecision.cycle_id == cycle_id, ApprovalDecision.round == round_no
                )
            ).first()
        if recorded:
            return (
                f"Đã ghi quyết định của {recorded.approver_name} (vòng {round_no}): "
                f"{DECISION_VI[recorded.decision]}."
            )
        time.sleep(0.1)
    return "Đã gửi quyết định; quy trình sẽ ghi nhận khi tiếp tục chạy."


FORM_NOT_SAVED_YET = "Run input schema not found"


def resume_with_input(
    client: httpx.Client, flow_run_id: str, run_input: dict, wait_s: float = 30
) -> None:
    """Prefect marks a run paused before it saves the form it waits for; a resume in between is
    refused for the missing form and changes nothing, so it is sent again until the form is
    there (the decision is sent as soon as the run shows it waits)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return resume_run(client, flow_run_id, run_input=run_input)
        except PrefectApiError as exc:
            if FORM_NOT_SAVED_YET not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(0.1)


def _wait_for_decision_pause(client: httpx.Client, flow_run_id: str, wait_s: float = 30) -> None:
    deadline = time.monotonic() + wait_s
    while True:
        state = read_run_state(client, flow_run_id)
        if state and state.is_paused and state.pause_key.startswith("decision-"):
            return
        if time.monotonic() >= deadline:
            raise Conflict("Quy trình chưa ở bước chờ Giám đốc quyết định; thử lại sau ít phút.")
        time.sleep(0.1)
