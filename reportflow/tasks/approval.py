"""The director's decision: the one-time code, the Prefect form, and recording the outcome."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from enum import StrEnum

from prefect.input import RunInput
from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session, select

from reportflow.calendar.working_days import WorkingCalendar
from reportflow.clock import today, utcnow
from reportflow.config import get_settings
from reportflow.models import ApprovalCode, ApprovalDecision, Cycle, CycleState, Person
from reportflow.signing import key_id, signing_key
from reportflow.tasks.audit import record_event
from reportflow.tasks.cycles import assignments, get_cycle
from reportflow.tasks.errors import Forbidden, UserError
from reportflow.tasks.organisation import require_director

RESUBMISSION_WORKING_DAYS = 2
"""A section sent back is due again this many working days after the decision."""


class SectionChange(BaseModel):
    section: str = Field(title="Mã phần cần sửa")
    comment: str = Field(title="Ý kiến chỉ đạo")


class DecisionChoice(StrEnum):
    """The choices of the director's form, in Vietnamese; `code` is what is stored and logged."""

    APPROVE = "Phê duyệt"
    REQUEST_CHANGES = "Trả lại để sửa"
    REJECT = "Hủy báo cáo"

    @property
    def code(self) -> str:
        return _CHOICE_CODES[self]


_CHOICE_CODES = {
    DecisionChoice.APPROVE: "approve",
    DecisionChoice.REQUEST_CHANGES: "request_changes",
    DecisionChoice.REJECT: "reject",
}


class DirectorDecision(RunInput):
    """The form the director fills in the Prefect UI when resuming the cycle."""

    decision: DecisionChoice = Field(
        title="Quyết định",
        description="Trả lại để sửa: ghi các phần cần sửa và ý kiến ở mục 'Các phần trả lại'",
    )
    approver: str = Field(title="Người quyết định (mã hoặc họ tên)")
    approval_code: str = Field(title="Mã phê duyệt một lần (gửi qua thư riêng)")
    comment: str = Field(default="", title="Ý kiến chung")
    changes: list[SectionChange] = Field(default_factory=list, title="Các phần trả lại")

    @field_validator("decision", mode="before")
    @classmethod
    def _accept_codes(cls, value: object) -> object:
        """The command line and scripts say approve / request_changes / reject."""
        by_code = {choice.code: choice for choice in DecisionChoice}
        return by_code.get(value, value) if isinstance(value, str) else value


DECISION_VI = {
    "approve": "phê duyệt",
    "request_changes": "trả lại để sửa",
    "reject": "không phê duyệt (hủy báo cáo)",
}


class DecisionRefused(UserError):
    pass


CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base 32: no I, L, O or U to misread. 8 characters are 40 bits, so a code
cannot be guessed by trying, and its stored hash cannot be reversed without the signing key."""
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_code(code: str) -> str:
    """What the director typed, as issued: case, spaces, dashes and look-alike letters ignored."""
    return "".join(code.upper().split()).replace("-", "").translate(_LOOKALIKES)


def _hash_code(cycle_id: int, round_no: int, code: str) -> str:
    message = f"reportflow:{cycle_id}:{round_no}:{normalise_code(code)}".encode()
    return hmac.new(signing_key(), message, hashlib.sha256).hexdigest()


def issue_approval_code(
    session: Session, cycle: Cycle, director: Person
) -> tuple[str, ApprovalCode]:
    """A fresh code for this round; only its hash is stored, the code itself goes to the director."""
    code = new_code()
    record = ApprovalCode(
        cycle_id=cycle.id,
        round=cycle.round,
        person_code=director.code,
        code_hash=_hash_code(cycle.id, cycle.round, code),
        key_id=key_id(),
        expires_at=utcnow() + dt.timedelta(hours=get_settings().approval_code_ttl_h),
    )
    session.add(record)
    record_event(session, "reportflow", "approval_code.issued", cycle.id, round=cycle.round)
    session.flush()
    return code, record


def _as_utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def find_valid_code(session: Session, cycle: Cycle, code: str) -> ApprovalCode | None:
    digest = _hash_code(cycle.id, cycle.round, code)
    candidates = session.exec(
        select(ApprovalCode).where(
            ApprovalCode.cycle_id == cycle.id,
            ApprovalCode.round == cycle.round,
            ApprovalCode.used_at.is_(None),
        )
    )
    now = utcnow()
    for candidate in candidates:
        if hmac.compare_digest(candidate.code_hash, digest) and _as_utc(candidate.expires_at) > now:
            return candidate
    return None


def _refuse_wrong_key(session: Session, cycle: Cycle) -> None:
    """When the round's codes were signed with another key, say so: retyping will not help."""
    issued = session.exec(
        select(ApprovalCode.key_id).where(
            ApprovalCode.cycle_id == cycle.id,
            ApprovalCode.round == cycle.round,
            ApprovalCode.used_at.is_(None),
        )
    ).all()
    here = key_id()
    if issued and all(k is not None and k != here for k in issued):
        raise DecisionRefused(
            "Máy này dùng khóa ký khác với máy đã cấp mã phê duyệt, nên không kiểm tra được mã. "
            "Đặt REPORTFLOW_SECRET_KEY giống nhau trên mọi máy dùng chung cơ sở dữ liệu."
        )


def resolve_approver(session: Session, approver: str) -> Person:
    wanted = approver.strip().casefold()
    people = session.exec(select(Person)).all()
    match = next((p for p in people if wanted in {p.code.casefold(), p.name.casefold()}), None)
    if match is None:
        raise Forbidden(f"Không có người '{approver}' trong tổ chức; chỉ Giám đốc được quyết định.")
    return require_director(session, match.code)


def check_decision(
    session: Session, cycle: Cycle, decision: DirectorDecision
) -> tuple[Person, ApprovalCode]:
    """Everything a decision must satisfy; raises with the reason, writes nothing."""
    if cycle.state != CycleState.AWAITING_DECISION:
        raise DecisionRefused(
            f"Kỳ báo cáo số {cycle.id} không ở bước chờ phê duyệt ({CycleState(cycle.state).label_vi})."
        )
    director = resolve_approver(session, decision.approver)
    code = find_valid_code(session, cycle, decision.approval_code)
    if code is None or code.person_code != director.code:
        _refuse_wrong_key(session, cycle)
        raise DecisionRefused("Mã phê duyệt không đúng, đã dùng hoặc đã hết hạn.")
    if decision.decision is DecisionChoice.REQUEST_CHANGES:
        keys = {a.section_key for a in assignments(session, cycle.id)}
        if not decision.changes:
            raise DecisionRefused("Trả lại để sửa cần nêu ít nhất một phần và ý kiến.")
        unknown = [c.section for c in decision.changes if c.section not in keys]
        if unknown:
            raise DecisionRefused(
                f"Không có phần: {', '.join(unknown)}. Các phần: {', '.join(sorted(keys))}."
            )
    return director, code


def record_decision(
    session: Session, cycle_id: int, decision: DirectorDecision
) -> ApprovalDecision:
    """Stores the decision and its effect (sections returned, cycle state) in one transaction."""
    cycle = get_cycle(session, cycle_id, for_update=True)
    director, code = check_decision(session, cycle, decision)
    code.used_at = utcnow()
    session.add(code)
    changes = {c.section: c.comment for c in decision.changes}
    record = ApprovalDecision(
        cycle_id=cycle.id,
        round=cycle.round,
        decision=decision.decision.code,
        approver_code=director.code,
        approver_name=director.name,
        comment=decision.comment,
        sections=changes,
    )
    session.add(record)
    if decision.decision is DecisionChoice.APPROVE:
        cycle.state = CycleState.APPROVED
    elif decision.decision is DecisionChoice.REJECT:
        cycle.state = CycleState.REJECTED
    else:
        new_due = WorkingCalendar().add_working_days(today(), RESUBMISSION_WORKING_DAYS)
        for assignment in assignments(session, cycle.id):
            if assignment.section_key in changes:
                assignment.state = "returned"
                assignment.return_comment = changes[assignment.section_key]
                assignment.due = new_due
                session.add(assignment)
        cycle.state = CycleState.COLLECTING
        cycle.round += 1
    session.add(cycle)
    record_event(
        session,
        director.code,
        f"decision.{decision.decision.code}",
        cycle.id,
        round=record.round,
        sections=sorted(changes),
        comment=decision.comment,
    )
    session.flush()
    return record
