"""The director's decision: the one-time code, the Prefect form, and recording the outcome."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Annotated

from prefect.input import RunInput
from pydantic import BaseModel, BeforeValidator, Field, create_model, field_validator
from sqlmodel import Session, select

from reportflow.core.clock import today, utcnow
from reportflow.core.config import get_settings
from reportflow.core.errors import Forbidden, UserError
from reportflow.core.signing import key_id, signing_key
from reportflow.core.vi_format import parse_date, short_date
from reportflow.cycle.cycles import assignments, cycle_definition, get_cycle
from reportflow.cycle.deciding.resubmission import ResubmissionDue, resubmission_due
from reportflow.cycle.organisation import get_person, require_decider
from reportflow.models import (
    ApprovalCode,
    ApprovalDecision,
    AuditEvent,
    Cycle,
    CycleState,
    Person,
    RenderedDocument,
)
from reportflow.models.audit import record_event


class SectionChange(BaseModel):
    section: str = Field(title="Mã phần cần sửa")
    comment: str = Field(title="Ý kiến chỉ đạo")

    @property
    def key(self) -> str:
        """The section's key, whether typed (CLI) or chosen from the draft's list (UI)."""
        return self.section.name if isinstance(self.section, Enum) else self.section


# The choices of the director's form, in Vietnamese; `code` is what is stored and logged. (No
# docstring: pydantic would show it under the field in the Prefect UI.)
class DecisionChoice(StrEnum):
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


RESUBMISSION_DUE_TITLE = "Hạn gửi lại (ngày/tháng/năm)"
"""No description under it, nor under the sections to send back: the form's summary says which
day an empty field gives."""


class DirectorDecision(RunInput):
    """The form the director fills in the Prefect UI when resuming the cycle.

    There is no name to type: the one-time code was mailed to one person, so it says who decides.
    """

    # The fields are kept short: the description box above them gets only the dialog's height
    # they leave (none at 1366×768 when they are long).
    decision: DecisionChoice = Field(title="Quyết định")
    approval_code: str = Field(title="Mã phê duyệt một lần (8 ký tự, trong thư riêng)")
    comment: str = Field(default="", title="Ý kiến chung")
    changes: list[SectionChange] = Field(default_factory=list, title="Các phần trả lại")
    resubmission_due: str = Field(default="", title=RESUBMISSION_DUE_TITLE)

    @field_validator("decision", mode="before")
    @classmethod
    def _accept_codes(cls, value: object) -> object:
        """The command line and scripts say approve / request_changes / reject."""
        by_code = {choice.code: choice for choice in DecisionChoice}
        return by_code.get(value, value) if isinstance(value, str) else value


def section_label(key: str, title: str) -> str:
    return f"{key} · {' '.join(title.split()).rstrip(':')}"


def decision_form(sections: list[tuple[str, str]]) -> type[DirectorDecision]:
    """The director's form for one draft: the sections to send back are chosen from a list of
    the draft's own (key and title), not typed. A bare key is accepted too (scripts, CLI)."""
    if not sections:
        return DirectorDecision
    # No docstring on purpose: pydantic would show it in the form.
    choices = StrEnum("PhanDuThao", [(key, section_label(key, title)) for key, title in sections])
    by_key = {member.name: member for member in choices}

    def from_key(value: object) -> object:
        return by_key.get(value, value) if isinstance(value, str) else value

    change = create_model(
        "SectionChange",
        __base__=SectionChange,
        section=(
            Annotated[choices, BeforeValidator(from_key)],
            Field(title="Phần cần sửa", description="Chọn trong các phần của dự thảo."),
        ),
    )
    field = DirectorDecision.model_fields["changes"]
    return create_model(
        "DirectorDecision",
        __base__=DirectorDecision,
        __doc__=DirectorDecision.__doc__,
        changes=(list[change], Field(default_factory=list, title=field.title)),
    )


def cycle_form(session: Session, cycle: Cycle) -> type[DirectorDecision]:
    """The form for the cycle's current draft, its sections in the report's order."""
    return decision_form([(a.section_key, a.title) for a in assignments(session, cycle.id)])


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
    session: Session, cycle: Cycle, director: Person, draft: RenderedDocument
) -> tuple[str, ApprovalCode]:
    """A fresh code for this round's draft; only its hash is stored, the code goes to the director."""
    code = new_code()
    record = ApprovalCode(
        cycle_id=cycle.id,
        round=cycle.round,
        person_code=director.code,
        code_hash=_hash_code(cycle.id, cycle.round, code),
        key_id=key_id(),
        expires_at=utcnow() + dt.timedelta(hours=get_settings().approval_code_ttl_h),
        draft_id=draft.id,
        draft_sha256=draft.sha256,
        delivery="sending",
    )
    session.add(record)
    record_event(
        session,
        "reportflow",
        "approval_code.issued",
        cycle.id,
        round=cycle.round,
        person=director.code,
        draft_sha256=draft.sha256,
    )
    session.flush()
    return code, record


def _as_utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def is_open(code: ApprovalCode) -> bool:
    """Neither used, revoked nor expired."""
    return code.used_at is None and code.revoked_at is None and _as_utc(code.expires_at) > utcnow()


def round_codes(session: Session, cycle: Cycle) -> list[ApprovalCode]:
    return list(
        session.exec(
            select(ApprovalCode)
            .where(ApprovalCode.cycle_id == cycle.id, ApprovalCode.round == cycle.round)
            .order_by(ApprovalCode.id)
        )
    )


def find_presented_code(session: Session, cycle: Cycle, code: str) -> ApprovalCode | None:
    """The round's code the director typed, whatever its state (used, revoked, expired)."""
    digest = _hash_code(cycle.id, cycle.round, code)
    return next(
        (c for c in round_codes(session, cycle) if hmac.compare_digest(c.code_hash, digest)), None
    )


def find_valid_code(session: Session, cycle: Cycle, code: str) -> ApprovalCode | None:
    found = find_presented_code(session, cycle, code)
    return found if found is not None and is_open(found) else None


def revoke_open_codes(session: Session, cycle: Cycle, reason: str) -> int:
    revoked = 0
    for code in round_codes(session, cycle):
        if is_open(code):
            code.revoked_at = utcnow()
            code.revoke_reason = reason
            session.add(code)
            revoked += 1
    return revoked


def _refuse_wrong_key(session: Session, cycle: Cycle) -> None:
    """When the round's codes were signed with another key, say so: retyping will not help."""
    issued = [c.key_id for c in round_codes(session, cycle) if c.used_at is None]
    here = key_id()
    if issued and all(k is not None and k != here for k in issued):
        raise DecisionRefused(
            "Máy này dùng khóa ký khác với máy đã cấp mã phê duyệt, nên không kiểm tra được mã. "
            "Đặt REPORTFLOW_SECRET_KEY giống nhau trên mọi máy dùng chung cơ sở dữ liệu."
        )


def current_draft(session: Session, cycle: Cycle) -> RenderedDocument | None:
    return session.exec(
        select(RenderedDocument)
        .where(
            RenderedDocument.cycle_id == cycle.id,
            RenderedDocument.kind == "draft",
            RenderedDocument.round == cycle.round,
        )
        .order_by(RenderedDocument.id.desc())
    ).first()


def check_decision(
    session: Session, cycle: Cycle, decision: DirectorDecision, person_code: str | None = None
) -> tuple[Person, ApprovalCode]:
    """Everything a decision must satisfy; raises with the reason, writes nothing.

    ``person_code``: the person whose own page sent the decision; a code mailed to another is
    refused there."""
    if cycle.state != CycleState.AWAITING_DECISION:
        raise DecisionRefused(
            f"Kỳ báo cáo số {cycle.id} không ở bước chờ phê duyệt ({CycleState(cycle.state).label_vi})."
        )
    code = find_presented_code(session, cycle, decision.approval_code)
    if code is None:
        _refuse_wrong_key(session, cycle)
        raise DecisionRefused(
            "Mã phê duyệt không đúng (không phải mã của vòng này). Kiểm tra lại thư gửi riêng."
        )
    if code.used_at is not None:
        raise DecisionRefused("Mã phê duyệt này đã được dùng; mỗi mã chỉ dùng một lần.")
    if code.revoked_at is not None:
        raise DecisionRefused(
            f"Mã phê duyệt này đã bị thu hồi ({code.revoke_reason or 'đã cấp mã mới'}); "
            "dùng mã trong thư mới nhất."
        )
    if _as_utc(code.expires_at) <= utcnow():
        raise DecisionRefused(
            "Mã phê duyệt đã hết hạn. Xin mã mới bằng lệnh: "
            f"reportflow approval renew {cycle.id} (Văn phòng hoặc Giám đốc chạy)."
        )
    draft = current_draft(session, cycle)
    if draft is None or code.draft_id not in (None, draft.id):
        raise DecisionRefused(
            "Mã phê duyệt này thuộc một dự thảo cũ; dùng mã gửi kèm dự thảo mới nhất."
        )
    if person_code is not None and code.person_code != person_code:
        raise DecisionRefused(
            "Mã phê duyệt này được gửi cho người khác, không phải cho người mở trang này; "
            "dùng mã trong thư gửi riêng cho mình."
        )
    director = require_decider(session, cycle_definition(session, cycle), code.person_code)
    if decision.decision is DecisionChoice.REQUEST_CHANGES:
        keys = {a.section_key for a in assignments(session, cycle.id)}
        if not decision.changes:
            raise DecisionRefused("Trả lại để sửa cần nêu ít nhất một phần và ý kiến.")
        unknown = [c.key for c in decision.changes if c.key not in keys]
        if unknown:
            raise DecisionRefused(
                f"Không có phần: {', '.join(unknown)}. Các phần: {', '.join(sorted(keys))}."
            )
        chosen_due(cycle, decision)
    elif decision.changes:
        raise DecisionRefused(
            "Đã nêu các phần trả lại nhưng quyết định không phải 'Trả lại để sửa'; chọn lại."
        )
    return director, code


def chosen_due(cycle: Cycle, decision: DirectorDecision) -> ResubmissionDue:
    """The send-back's due day: the director's, checked, or the default."""
    text = decision.resubmission_due.strip()
    chosen = parse_date(text) if text else None
    if text and chosen is None:
        raise DecisionRefused(
            f"Hạn gửi lại '{text[:20]}' không phải ngày hợp lệ; ghi ngày/tháng/năm, ví dụ "
            "09/6/2020, hoặc bỏ trống để dùng hạn mặc định."
        )
    if chosen is not None and chosen < today():
        raise DecisionRefused(
            f"Hạn gửi lại {short_date(chosen)} đã qua; chọn từ hôm nay ({short_date(today())}) "
            "trở đi, hoặc bỏ trống để dùng hạn mặc định."
        )
    return resubmission_due(today(), cycle.deadline, chosen)


def round_decision(session: Session, cycle_id: int, round_no: int) -> ApprovalDecision | None:
    return session.exec(
        select(ApprovalDecision).where(
            ApprovalDecision.cycle_id == cycle_id, ApprovalDecision.round == round_no
        )
    ).first()


def record_decision(
    session: Session,
    cycle_id: int,
    decision: DirectorDecision,
    person_code: str | None = None,
    path: str = "prefect-ui",
) -> ApprovalDecision:
    """Stores the decision and its effect (sections returned, cycle state) in one transaction;
    the audit names the path it came by."""
    cycle = get_cycle(session, cycle_id, for_update=True)
    director, code = check_decision(session, cycle, decision, person_code)
    code.used_at = utcnow()
    session.add(code)
    revoke_open_codes(session, cycle, "vòng đã có quyết định")
    changes = {c.key: c.comment for c in decision.changes}
    record = ApprovalDecision(
        cycle_id=cycle.id,
        round=cycle.round,
        decision=decision.decision.code,
        approver_code=director.code,
        approver_name=director.name,
        comment=decision.comment,
        sections=changes,
        draft_id=code.draft_id,
        draft_sha256=code.draft_sha256,
    )
    session.add(record)
    if decision.decision is DecisionChoice.APPROVE:
        cycle.state = CycleState.APPROVED
    elif decision.decision is DecisionChoice.REJECT:
        cycle.state = CycleState.REJECTED
    else:
        reopen_sections(session, cycle, changes, chosen_due(cycle, decision).day)
    session.add(cycle)
    record_event(
        session,
        director.code,
        f"decision.{decision.decision.code}",
        cycle.id,
        round=record.round,
        sections=sorted(changes),
        comment=decision.comment,
        draft_sha256=code.draft_sha256,
        path=path,
    )
    session.flush()
    return record


def reopen_sections(
    session: Session, cycle: Cycle, comments: dict[str, str], due: dt.date | None = None
) -> None:
    """A new round that waits for the named sections, each due again by ``due`` (by default
    soon, and before the report's own deadline: `resubmission.resubmission_due`)."""
    new_due = due or resubmission_due(today(), cycle.deadline).day
    for assignment in assignments(session, cycle.id):
        if assignment.section_key in comments:
            assignment.state = "returned"
            assignment.return_comment = comments[assignment.section_key]
            assignment.due = new_due
            session.add(assignment)
    cycle.state = CycleState.COLLECTING
    cycle.round += 1


MAX_WRONG_CODES = 5
"""Wrong codes a round takes, from every path together; the fifth revokes the round's codes and
a fresh one is mailed to the director. With 40-bit codes, guessing is then hopeless."""


@dataclass(frozen=True)
class Refusal:
    reason: str
    code_burnt: bool
    """A valid code was presented in a refused form: it is used up (Prefect keeps the form's
    input in clear), and a fresh one must be mailed."""
    locked_out: bool = False
    """This refusal was the round's `MAX_WRONG_CODES`-th wrong code: its codes are revoked."""


LOCKED_OUT_VI = (
    f" Đã nhập sai mã {MAX_WRONG_CODES} lần trong vòng này nên mã hiện hành bị hủy; "
    "mã mới được gửi qua thư riêng cho Giám đốc."
)


def tried_code_fingerprint(cycle: Cycle, code: str) -> str:
    """Tells repeated tries of one wrong code apart from many different ones in the audit,
    without keeping the code: a keyed hash, cut short."""
    return _hash_code(cycle.id, cycle.round, "tried:" + normalise_code(code))[:10]


def wrong_codes_since_lockout(session: Session, cycle: Cycle) -> int:
    """Wrong codes refused in the cycle's current round since its codes were last locked."""
    events = session.exec(
        select(AuditEvent.action, AuditEvent.detail)
        .where(
            AuditEvent.cycle_id == cycle.id,
            AuditEvent.action.in_(["decision.refused", "approval_code.locked_out"]),
        )
        .order_by(AuditEvent.id)
    ).all()
    count = 0
    for action, detail in events:
        if detail.get("round") != cycle.round:
            continue
        if action == "approval_code.locked_out":
            count = 0
        elif detail.get("wrong_code"):
            count += 1
    return count


def refuse_decision(
    session: Session,
    cycle_id: int,
    decision: DirectorDecision,
    reason: str,
    path: str = "prefect-ui",
    burn_valid_code: bool = True,
) -> Refusal:
    """Records a refused decision in the audit trail, with the path it came by; burns a valid
    code typed into a refused form (``burn_valid_code``: Prefect keeps the form in clear), and
    locks the round's codes at its `MAX_WRONG_CODES`-th wrong code."""
    cycle = get_cycle(session, cycle_id, for_update=True)
    presented = find_presented_code(session, cycle, decision.approval_code)
    wrong = cycle.state == CycleState.AWAITING_DECISION and (
        presented is None or not is_open(presented)
    )
    burnt = burn_valid_code and presented is not None and is_open(presented)
    if burnt:
        presented.revoked_at = utcnow()
        presented.revoke_reason = "đã nhập trong một mẫu quyết định bị từ chối"
        session.add(presented)
    locked = wrong and wrong_codes_since_lockout(session, cycle) + 1 >= MAX_WRONG_CODES
    if locked:
        reason += LOCKED_OUT_VI
    record_event(
        session,
        presented.person_code if presented else path,
        "decision.refused",
        cycle_id,
        round=cycle.round,
        reason=reason,
        path=path,
        wrong_code=wrong,
        tried=tried_code_fingerprint(cycle, decision.approval_code),
        code_burnt=burnt,
    )
    if locked:
        revoked = revoke_open_codes(session, cycle, f"đã nhập sai mã {MAX_WRONG_CODES} lần")
        record_event(
            session,
            "reportflow",
            "approval_code.locked_out",
            cycle_id,
            round=cycle.round,
            wrong_codes=MAX_WRONG_CODES,
            revoked=revoked,
        )
    session.flush()
    return Refusal(reason, burnt, locked)


def last_refusal(session: Session, cycle: Cycle) -> AuditEvent | None:
    """The newest refused form of the cycle's current round, to show above the re-asked form."""
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.cycle_id == cycle.id, AuditEvent.action == "decision.refused")
        .order_by(AuditEvent.id.desc())
    ).all()
    return next((e for e in events if e.detail.get("round") == cycle.round), None)


def refusal_count(session: Session, cycle: Cycle) -> int:
    events = session.exec(
        select(AuditEvent.detail).where(
            AuditEvent.cycle_id == cycle.id, AuditEvent.action == "decision.refused"
        )
    ).all()
    return sum(1 for detail in events if detail.get("round") == cycle.round)


def withdraw_draft(
    session: Session, cycle_id: int, reopen: list[str], by: str, comment: str
) -> Cycle:
    """The office takes the draft back from the director to let named sections in again: a new
    round that waits for them, and the codes of the withdrawn draft revoked."""
    cycle = get_cycle(session, cycle_id, for_update=True)
    person = get_person(session, by)
    office = get_person(session, cycle.opened_by).division_code
    if person.role != "director" and person.division_code != office:
        raise Forbidden(
            f"{person.name} không thể rút dự thảo; chỉ Văn phòng (đơn vị mở kỳ báo cáo) hoặc "
            "Giám đốc được rút."
        )
    if cycle.state != CycleState.AWAITING_DECISION:
        raise DecisionRefused(
            f"Kỳ báo cáo số {cycle.id} không có dự thảo đang chờ quyết định "
            f"({CycleState(cycle.state).label_vi}); không có gì để rút."
        )
    keys = {a.section_key for a in assignments(session, cycle.id)}
    unknown = [key for key in reopen if key not in keys]
    if not reopen or unknown:
        raise UserError(
            (f"Không có phần: {', '.join(unknown)}. " if unknown else "Cần nêu ít nhất một phần. ")
            + f"Các phần: {', '.join(sorted(keys))}."
        )
    withdrawn_round = cycle.round
    revoke_open_codes(session, cycle, "dự thảo đã được Văn phòng rút lại")
    reopen_sections(session, cycle, {key: comment for key in reopen})
    session.add(cycle)
    record_event(
        session,
        person.code,
        "draft.withdrawn",
        cycle.id,
        round=withdrawn_round,
        sections=sorted(reopen),
        comment=comment,
    )
    session.flush()
    return cycle
