"""The director's decision from outside the run (the command line): recorded in the project
database the moment its code is accepted, then the waiting run is resumed through the same
resume call the Prefect UI makes. A run that is resumed late, or replaced, reads the decision
from the database, so the director never decides twice."""

from __future__ import annotations

import datetime as dt
import logging

import httpx
from sqlmodel import select

from reportflow.core.clock import utcnow
from reportflow.core.config import get_settings
from reportflow.core.errors import UserError
from reportflow.cycle.deciding.approval import (
    DECISION_VI,
    DecisionChoice,
    DecisionRefused,
    DirectorDecision,
    SectionChange,
    record_decision,
    refuse_decision,
)
from reportflow.cycle.steps import send_approval_codes
from reportflow.cycle.wake import (
    DECISION_PAUSE_PREFIX,
    release_decision_wait,
    resume_with_input,
)
from reportflow.models import ApprovalDecision, Cycle, CycleState, session_scope
from reportflow.notifications.redaction import redact_text
from reportflow.services.prefect_api import api_client, read_run_state

__all__ = ["release_decided_cycles", "resume_with_input", "send_decision", "submit_decision"]

log = logging.getLogger(__name__)

RECORDED_COMMENT = "(quyết định đã ghi trong cơ sở dữ liệu)"
"""The comment of the form a recorded decision resumes its run with; the run reads the decision
from the database, so the form carries no code."""


def recorded_form(decision: str) -> dict[str, object]:
    """The answer to the run's form for a decision already recorded (``decision``: its code)."""
    choice = next(c for c in DecisionChoice if c.code == decision)
    return {"decision": choice.value, "approval_code": "", "comment": RECORDED_COMMENT}


def build_decision(
    code: str, changes: list[str], reject: bool, comment: str, due: str = ""
) -> DirectorDecision:
    parsed = []
    for item in changes:
        key, sep, text = item.partition("=")
        if not sep or not key.strip() or not text.strip():
            raise UserError(f"'{item}' không đúng dạng MÃ_PHẦN=ý kiến.")
        parsed.append(SectionChange(section=key.strip(), comment=text.strip()))
    if reject and parsed:
        raise UserError("Không thể vừa hủy báo cáo vừa trả lại phần để sửa.")
    if due.strip() and not parsed:
        raise UserError("Hạn gửi lại (--due) chỉ dùng khi trả lại phần để sửa (--changes).")
    decision = "reject" if reject else "request_changes" if parsed else "approve"
    return DirectorDecision(
        decision=decision,
        approval_code=code,
        comment=comment,
        changes=parsed,
        resubmission_due=due.strip(),
    )


def refuse(cycle_id: int, decision: DirectorDecision, reason: str, path: str) -> str:
    """Audits a refused decision; after the round's last allowed wrong code, mails a new one."""
    with session_scope() as session:
        refusal = refuse_decision(
            session, cycle_id, decision, reason, path=path, burn_valid_code=False
        )
    if refusal.locked_out:
        try:
            send_approval_codes(cycle_id)
        except Exception as exc:  # noqa: BLE001 - the lockout stands; `approval renew` mails
            log.warning("Kỳ %s: chưa gửi được mã mới (%s)", cycle_id, redact_text(str(exc)))
    return refusal.reason


def send_decision(
    cycle_id: int,
    code: str,
    changes: list[str],
    reject: bool,
    comment: str,
    wait_s: float = 30,
    path: str = "cli",
    due: str = "",
) -> str:
    """The command line's decision (`reportflow approve`): see `submit_decision`."""
    decision = build_decision(code, changes, reject, comment, due)
    return submit_decision(cycle_id, decision, wait_s=wait_s, path=path)


def submit_decision(
    cycle_id: int,
    decision: DirectorDecision,
    wait_s: float = 30,
    path: str = "cli",
    person_code: str | None = None,
) -> str:
    """Records the decision (or the refusal, in the audit) first, then resumes the run.

    ``person_code``: the person whose own page sent it; his code only is accepted."""
    try:
        with session_scope() as session:
            recorded = record_decision(session, cycle_id, decision, person_code, path)
            outcome = (
                f"Đã ghi quyết định của {recorded.approver_name} (vòng {recorded.round}): "
                f"{DECISION_VI[recorded.decision]}."
            )
            choice = recorded.decision
    except DecisionRefused as exc:
        raise UserError(refuse(cycle_id, decision, str(exc), path)) from exc
    try:
        resumed = release_decision_wait(cycle_id, recorded_form(choice), wait_s)
    except httpx.HTTPError as exc:  # PrefectApiError is one
        log.warning("Kỳ %s: chưa đánh thức được quy trình (%s)", cycle_id, redact_text(str(exc)))
        resumed = False
    if resumed:
        return outcome
    return outcome + NOT_RESUMED_VI


NOT_RESUMED_VI = (
    " Quy trình chưa tiếp tục (máy chủ Prefect chưa trả lời hoặc quy trình chưa ở "
    "bước chờ); nó đọc quyết định này khi chạy tiếp. reportflow serve đánh thức nó trong "
    "vòng một phút khi máy chủ Prefect trả lời (nếu không chạy serve: reportflow remind)."
)


def release_decided_cycles() -> list[int]:
    """The sweep's safety net for decisions: a run still waiting for the form of a round whose
    decision is recorded (Prefect did not answer when it was) is resumed. Looks at decisions no
    older than the longest wait (`pause_timeout_s`)."""
    since = utcnow() - dt.timedelta(seconds=get_settings().pause_timeout_s)
    with session_scope() as session:
        rows = session.exec(
            select(Cycle.id, Cycle.flow_run_id, ApprovalDecision.round, ApprovalDecision.decision)
            .join(ApprovalDecision, ApprovalDecision.cycle_id == Cycle.id)
            .where(
                ApprovalDecision.decided_at >= since,
                Cycle.flow_run_id.is_not(None),
                Cycle.state.not_in([CycleState.AWAITING_DECISION, CycleState.DONE]),
            )
        ).all()
    decided = {(cycle_id, round_no): choice for cycle_id, _, round_no, choice in rows}
    runs = {cycle_id: run_id for cycle_id, run_id, _, _ in rows}
    released: list[int] = []
    if not runs:
        return released
    with api_client() as client:
        for cycle_id, run_id in runs.items():
            state = read_run_state(client, run_id)
            if not (
                state and state.is_paused and state.pause_key.startswith(DECISION_PAUSE_PREFIX)
            ):
                continue
            round_no = int(state.pause_key.split("-")[1].removeprefix("r"))
            choice = decided.get((cycle_id, round_no))
            if choice is not None:
                resume_with_input(client, run_id, recorded_form(choice))
                log.warning(
                    "Kỳ %s: quyết định đã ghi nhưng quy trình còn chờ; đã đánh thức.", cycle_id
                )
                released.append(cycle_id)
    return released
