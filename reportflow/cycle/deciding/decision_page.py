"""The director's decision page in the web app, behind his own draft link.

It shows what he needs to decide (the round, the deadline, what changed since the last round,
the sections he may send back), reads his answer within bounds, and hands it to
`decide.submit_decision`: the same function, checks, binding to the draft, lockout and audit as
the Prefect form and `reportflow approve`. After it, the page follows the run in Vietnamese until
its next step has started."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlmodel import select

from reportflow.core.clock import today, utcnow
from reportflow.core.errors import UserError
from reportflow.core.vi_format import format_number
from reportflow.cycle.cycles import assignments, cycle_definition
from reportflow.cycle.deciding.approval import (
    DECISION_VI,
    DecisionChoice,
    DirectorDecision,
    SectionChange,
    round_decision,
    section_label,
)
from reportflow.cycle.deciding.decide import submit_decision
from reportflow.cycle.deciding.decision_view import previous_round_changes
from reportflow.cycle.deciding.resubmission import resubmission_due
from reportflow.cycle.drafting.draft_page import draft_of
from reportflow.cycle.drafting.draft_view import artifact_url, published_draft
from reportflow.cycle.links import Link
from reportflow.cycle.organisation import division_names
from reportflow.models import CycleState, RegisterEntry, session_scope
from reportflow.notifications.messages import vn_date, vn_datetime

CHOICES = {choice.code: choice for choice in DecisionChoice}
MAX_COMMENT_CHARS = 2_000
MAX_CODE_CHARS = 32
MAX_DUE_CHARS = 20
MAX_KEY_CHARS = 64
NOTE_PREFIX = "note:"
"""A section's own comment is the form field ``note:<section key>``."""
FOLLOW_FOR_S = 600
"""The page follows the run this long after the decision, then stops refreshing."""
WAIT_FOR_PAUSE_S = 5
"""How long the request waits for a run still on its way to the pause (it reads the recorded
decision when it gets there anyway)."""


class RunStateLike(Protocol):
    type: str
    pause_key: str

    @property
    def is_paused(self) -> bool: ...

    @property
    def is_final(self) -> bool: ...


@dataclass
class PageAnswer:
    """What the director filled in on the page, checked for size; the rules are
    `approval.check_decision`'s."""

    choice: str = ""
    code: str = ""
    comment: str = ""
    due: str = ""
    ticked: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)

    def decision(self) -> DirectorDecision:
        if self.choice not in CHOICES:
            raise UserError("Hãy chọn một quyết định: Phê duyệt, Trả lại để sửa hoặc Hủy báo cáo.")
        if not self.code.strip():
            raise UserError("Hãy nhập mã phê duyệt một lần (8 ký tự, trong thư gửi riêng).")
        changes = []
        for key in self.sent_back():
            comment = self.notes.get(key, "").strip() or self.comment.strip()
            if not comment:
                raise UserError(f"Hãy ghi ý kiến cho phần {key} (hoặc ý kiến chung).")
            changes.append(SectionChange(section=key, comment=comment))
        if self.choice == "request_changes" and not changes:
            raise UserError(
                "Trả lại để sửa: hãy đánh dấu ít nhất một phần và ghi ý kiến cho phần đó."
            )
        return DirectorDecision(
            decision=CHOICES[self.choice],
            approval_code=self.code.strip(),
            comment=self.comment.strip(),
            changes=changes,
            resubmission_due=self.due.strip() if self.choice == "request_changes" else "",
        )

    def sent_back(self) -> list[str]:
        """The sections ticked, or given a comment of their own, in the order they came."""
        noted = [key for key, text in self.notes.items() if text.strip()]
        return list(dict.fromkeys([*self.ticked, *noted]))


def _bounded(name: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise UserError(f"{name} dài quá {format_number(limit)} ký tự; hãy viết ngắn lại.")
    return value


def read_answer(items: Iterable[tuple[str, Any]]) -> PageAnswer:
    """The page's form fields, each checked for size before anything else is done."""
    answer = PageAnswer()
    for name, raw in items:
        value = raw if isinstance(raw, str) else ""
        if name == "decision":
            answer.choice = _bounded("Quyết định", value, 32)
        elif name == "code":
            answer.code = _bounded("Mã phê duyệt", value, MAX_CODE_CHARS)
        elif name == "comment":
            answer.comment = _bounded("Ý kiến chung", value, MAX_COMMENT_CHARS)
        elif name == "due":
            answer.due = _bounded("Hạn gửi lại", value, MAX_DUE_CHARS)
        elif name == "send_back":
            answer.ticked.append(_bounded("Mã phần", value, MAX_KEY_CHARS))
        elif name.startswith(NOTE_PREFIX):
            key = _bounded("Mã phần", name.removeprefix(NOTE_PREFIX), MAX_KEY_CHARS)
            answer.notes[key] = _bounded(f"Ý kiến cho phần {key}", value, MAX_COMMENT_CHARS)
    return answer


def max_form_fields(link: Link) -> int:
    """The page's fields: the five of the decision and the CSRF token, and two per section."""
    with session_scope() as session:
        return 6 + 2 * len(assignments(session, link.cycle_id))


def decision_context(link: Link, answer: PageAnswer | None = None) -> dict[str, Any]:
    """What the page shows above and in the form; ``answer``: what was sent, shown again after
    a refusal (never the code)."""
    answer = answer or PageAnswer()
    with session_scope() as session:
        cycle, draft = draft_of(session, link)
        rows = assignments(session, cycle.id)
        names = division_names(session, (a.division_code for a in rows))
        due = resubmission_due(today(), cycle.deadline)
        decided = round_decision(session, cycle.id, draft.round)
        links = published_draft(session, cycle) if draft.round == cycle.round else {}
        sent_back = set(answer.sent_back())
        return {
            "deadline": vn_date(cycle.deadline),
            "request_sender": cycle.request_sender,
            "state_vi": CycleState(cycle.state).label_vi,
            "can_decide": draft.round == cycle.round
            and cycle.state == CycleState.AWAITING_DECISION,
            "decided": decided is not None,
            "report_title": cycle_definition(session, cycle).name,
            "round_changes": previous_round_changes(session, cycle)
            if draft.round == cycle.round
            else {},
            "changes_url": artifact_url(links["changes"]) if links.get("changes") else "",
            "sections": [
                {
                    "key": a.section_key,
                    "label": section_label(a.section_key, a.title),
                    "division": names.get(a.division_code, a.division_code),
                    "ticked": a.section_key in sent_back,
                    "note": answer.notes.get(a.section_key, ""),
                }
                for a in rows
            ],
            "default_due": vn_date(due.day),
            "due_warning": due.warning_vi(),
            "answer": answer,
            "max_comment": MAX_COMMENT_CHARS,
        }


def decide_on_page(link: Link, answer: PageAnswer) -> None:
    """Sends the page's decision; raises `UserError` with the reason when it is refused. A
    second press of a decision already recorded (a double tap, a resend) changes nothing."""
    with session_scope() as session:
        cycle, draft = draft_of(session, link)
        if round_decision(session, cycle.id, draft.round) is not None:
            return
        if draft.round != cycle.round:
            raise UserError(
                f"Trang này là dự thảo vòng {draft.round}; dự thảo vòng {cycle.round} đã được "
                "gửi trong thư mới nhất. Hãy mở liên kết trong thư đó."
            )
    decision = answer.decision()
    try:
        submit_decision(
            link.cycle_id,
            decision,
            wait_s=WAIT_FOR_PAUSE_S,
            path="web",
            person_code=link.person_code,
        )
    except UserError:
        with session_scope() as session:
            if round_decision(session, link.cycle_id, draft.round) is not None:
                return  # the same decision, pressed twice at once: the first one stands
        raise


def _step_vi(state: CycleState, decision: str, number: str, waiting: bool) -> tuple[str, bool]:
    """The run's step in words, and whether its next step has started (the page stops)."""
    if waiting:
        return "đã ghi nhận; đang đánh thức quy trình", False
    if decision == "approve":
        return {
            CycleState.APPROVED: ("đang cấp số", False),
            CycleState.AWAITING_SIGNATURE: ("chờ ký số", False),
            CycleState.NUMBERED: (f"đã cấp số {number}; đang phát hành", False),
            CycleState.DISPATCHING: (f"văn bản số {number} đang phát hành", False),
            CycleState.DONE: (f"đã phát hành văn bản số {number}", True),
        }.get(state, (state.label_vi, True))
    if decision == "reject":
        return "đã hủy kỳ báo cáo", True
    return "đã chuyển các phần trả lại cho đơn vị; quy trình chờ các phần gửi lại", True


def decision_progress(
    link: Link, run_state: Callable[[str], RunStateLike | None]
) -> dict[str, Any]:
    """The decision recorded for the link's round, and how far the run has got since."""
    with session_scope() as session:
        cycle, draft = draft_of(session, link, ended_too=True)
        decision = round_decision(session, cycle.id, draft.round)
        report_name = cycle_definition(session, cycle).name
        if decision is None:
            return {"recorded": False, "round": draft.round, "report_name": report_name}
        number = session.exec(
            select(RegisterEntry.number_text).where(RegisterEntry.cycle_id == cycle.id)
        ).first()
        state, run_id = CycleState(cycle.state), cycle.flow_run_id
        returned = dict(decision.sections or {})
        due = (
            min(a.due for a in assignments(session, cycle.id) if a.section_key in returned)
            if returned
            else None
        )
    run = run_state(run_id) if run_id else None
    waiting = bool(
        run and run.is_paused and run.pause_key.startswith(f"decision-r{decision.round}")
    )
    step, settled = _step_vi(state, decision.decision, number or "", waiting)
    unreachable = run is None and not settled
    decided_at = decision.decided_at
    if decided_at.tzinfo is None:
        decided_at = decided_at.replace(tzinfo=dt.UTC)
    return {
        "recorded": True,
        "report_name": report_name,
        "round": decision.round,
        "decision_vi": DECISION_VI[decision.decision],
        "approver": decision.approver_name,
        "decided_at": vn_datetime(decided_at),
        "returned": returned,
        "resubmission_due": vn_date(due) if due else "",
        "step": step,
        "unreachable": unreachable,
        "follow": not settled and (utcnow() - decided_at).total_seconds() < FOLLOW_FOR_S,
    }
