"""The steps of a cycle as the flow calls them; each reads and writes the database itself."""

from __future__ import annotations

import logging
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlmodel import select

from reportflow.core.clock import today, utcnow
from reportflow.core.config import get_settings
from reportflow.core.errors import Conflict, UserError
from reportflow.cycle.cycles import (
    all_sections_in,
    assignments,
    cycle_definition,
    get_cycle,
    period_with_year,
    template_context,
)
from reportflow.cycle.deciding import decision_view
from reportflow.cycle.deciding.approval import (
    DECISION_VI,
    DirectorDecision,
    current_draft,
    cycle_form,
    is_open,
    issue_approval_code,
    record_decision,
    refuse_decision,
    round_codes,
    round_decision,
)
from reportflow.cycle.deciding.resubmission import resubmission_due
from reportflow.cycle.documents import document_file
from reportflow.cycle.drafting.draft import draft_attachments, draft_copy
from reportflow.cycle.drafting.draft_page import make_draft_link
from reportflow.cycle.drafting.draft_view import published_draft
from reportflow.cycle.drafting.merge import render_draft
from reportflow.cycle.issuing.signature_waits import WAITING, mail_clerks
from reportflow.cycle.organisation import deciders, division_name
from reportflow.cycle.reminding.planned_messages import (
    Outgoing,
    cycle_url,
    deliver_all,
    division_heads,
    phone_url,
)
from reportflow.definitions.figure_sections import is_figures_key
from reportflow.definitions.schema import ReportDefinition
from reportflow.models import (
    ApprovalCode,
    AuditEvent,
    CycleState,
    Person,
    RegisterEntry,
    RenderedDocument,
    SectionAssignment,
    session_scope,
)
from reportflow.models.audit import record_event
from reportflow.notifications.channels import channel_urls
from reportflow.notifications.messages import render_message, render_string
from reportflow.notifications.sender import load_channel_plugins, send_to_channels

log = logging.getLogger(__name__)


def attach_run(cycle_id: int, flow_run_id: str) -> None:
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id, for_update=True)
        if cycle.flow_run_id != flow_run_id:
            cycle.flow_run_id = flow_run_id
            session.add(cycle)
            record_event(
                session, "reportflow", "cycle.run_attached", cycle_id, flow_run_id=flow_run_id
            )


def cycle_state(cycle_id: int) -> CycleState:
    with session_scope() as session:
        return CycleState(get_cycle(session, cycle_id).state)


def cycle_round(cycle_id: int) -> int:
    with session_scope() as session:
        return get_cycle(session, cycle_id).round


def wait_key(cycle_id: int, kind: str) -> str:
    """`sections-r2-w0`: stable while the run waits at this point of this round, so a run that
    re-runs from the top passes a wait it was resumed from (with the input given then); a new
    one for each wait that ended (`wait_over`)."""
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id)
        ended = session.exec(
            select(AuditEvent.detail).where(
                AuditEvent.cycle_id == cycle_id, AuditEvent.action == "run.wait_over"
            )
        ).all()
        count = sum(1 for d in ended if d.get("kind") == kind and d.get("round") == cycle.round)
        return f"{kind}-r{cycle.round}-w{count}"


def wait_over(cycle_id: int, key: str) -> None:
    kind, round_part, _ = key.split("-")
    with session_scope() as session:
        done = session.exec(
            select(AuditEvent.detail).where(
                AuditEvent.cycle_id == cycle_id, AuditEvent.action == "run.wait_over"
            )
        ).all()
        if any(d.get("key") == key for d in done):
            return
        record_event(
            session,
            "reportflow",
            "run.wait_over",
            cycle_id,
            kind=kind,
            round=int(round_part.removeprefix("r")),
            key=key,
        )


def sections_open(cycle_id: int) -> bool:
    """Whether any section is still to be handed in (so there may be a request to send)."""
    with session_scope() as session:
        return not all_sections_in(session, cycle_id)


def request_sections(cycle_id: int) -> int:
    """Tells each division head which sections are still theirs to write in this round."""
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id)
        definition = cycle_definition(session, cycle)
        open_by_division: dict[str, list[SectionAssignment]] = defaultdict(list)
        for assignment in assignments(session, cycle_id):
            if assignment.state != "submitted":
                open_by_division[assignment.division_code].append(assignment)
        messages = []
        for division_code, items in open_by_division.items():
            # Sent back by the director: one message each, with the comment. Never written yet:
            # one request for all of them, as at the start of a cycle.
            returned = [a for a in items if a.state == "returned"]
            pending = [a for a in items if a.state != "returned"]
            for person in division_heads(session, division_code):
                letters = [("section_returned", item, [item]) for item in returned]
                if pending:
                    letters.append(("section_request", pending[0], pending))
                for template, item, listed in letters:
                    title, body = _request_text(
                        template, cycle, definition, person, division_code, listed, item, session
                    )
                    messages.append(
                        Outgoing(item.id, f"request-r{cycle.round}", person.code, title, body)
                    )
    return deliver_all(messages)


def _request_text(
    template, cycle, definition: ReportDefinition, person, division_code, items, item, session
):
    common = dict(
        report_name=definition.name,
        period_label=period_with_year(cycle.period_label, cycle.year),
        cycle_id=cycle.id,
        person=person,
        division_name=division_name(session, division_code),
        cycle_url=cycle_url(cycle.flow_run_id),
    )
    if template == "section_request":
        indicators = [i for i in definition.indicators.items if i.owner == division_code]
        return render_message(
            template,
            due=item.due,
            request_number=cycle.request_number,
            request_sender=cycle.request_sender,
            cutoff_start=cycle.cutoff_start,
            cutoff_end=cycle.cutoff_end,
            sections=[
                {"key": a.section_key, "title": a.title}
                for a in items
                if not is_figures_key(a.section_key)
            ],
            indicators=indicators,
            **common,
        )
    return render_message(
        template,
        asked_by=_who_sent_back(session, cycle),
        due=item.due,
        due_warning=resubmission_due(today(), cycle.deadline, item.due).warning_vi(),
        section_key=item.section_key,
        section_title=item.title,
        is_figures=is_figures_key(item.section_key),
        comment=item.return_comment,
        **common,
    )


def _who_sent_back(session, cycle) -> str:
    """The title of whoever sent the round's sections back: the one who decided (the director,
    or his deputy), or the office when it withdrew the draft."""
    decided = round_decision(session, cycle.id, cycle.round - 1)
    if decided is None or decided.decision != "request_changes":
        return "Văn phòng"
    person = session.get(Person, decided.approver_code)
    return person.title if person else "Giám đốc"


def prepare_draft(cycle_id: int) -> Path:
    """The round's draft, rendered once, and a code for it in every director's hands.

    Raises ApprovalRequestUndelivered when a director could not be reached at all, so the task
    is retried instead of the run waiting for a decision nobody can make.
    """
    draft = render_round_draft(cycle_id)
    send_approval_codes(cycle_id)
    return document_file(draft)


def render_round_draft(cycle_id: int) -> RenderedDocument:
    """Renders the round's draft once (the completing submission may have) and moves the cycle
    on to await the decision."""
    with session_scope(write_lock=True) as session:
        cycle = get_cycle(session, cycle_id, for_update=True)
        draft = render_draft(session, cycle)
        if cycle.state == CycleState.DRAFTING:
            cycle.state = CycleState.AWAITING_DECISION
            session.add(cycle)
            record_event(
                session,
                "reportflow",
                "draft.rendered",
                cycle_id,
                round=cycle.round,
                sha256=draft.sha256,
                sections=draft.section_versions,
            )
        return draft


def _codes_delivered(
    session, cycle, draft: RenderedDocument, codes: list[ApprovalCode] | None = None
) -> bool:
    """Every approver holds an open code for this draft, its mail delivered."""
    codes = round_codes(session, cycle) if codes is None else codes
    return all(
        any(
            c.person_code == d.code and is_open(c) and c.delivery == "sent"
            for c in codes
            if c.draft_id == draft.id
        )
        for d in deciders(session, cycle_definition(session, cycle))
    )


def draft_handed_over(cycle_id: int) -> bool:
    """The round's draft is merged, published and mailed with a code to every approver: a run
    resumed with the decision goes straight to it, without replaying the steps before (each a
    task run, about a second in all)."""
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id)
        if cycle.state != CycleState.AWAITING_DECISION:
            return False
        draft = current_draft(session, cycle)
        return (
            draft is not None
            and bool(published_draft(session, cycle))
            and _codes_delivered(session, cycle, draft)
        )


def send_approval_codes(cycle_id: int, renew: bool = False) -> int:
    """Mails the current draft and a fresh code to each director who has no open, delivered code
    for it; with `renew`, to every director, revoking the codes they hold. Returns mails sent.

    The mail's body holds the code, so it is never stored: a code whose mail was interrupted
    (still "sending") is revoked and replaced, so at most that one mail arrives twice.
    """
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id, for_update=True)
        if cycle.state != CycleState.AWAITING_DECISION:
            raise Conflict(
                f"Kỳ báo cáo số {cycle_id} không chờ Giám đốc quyết định "
                f"({CycleState(cycle.state).label_vi}); không cấp mã phê duyệt."
            )
        draft = current_draft(session, cycle)
        codes = round_codes(session, cycle)
        definition = cycle_definition(session, cycle)
        summary = render_string(definition.summary, **template_context(cycle))
        attachment = draft_copy(draft)
        needed = renew or not _codes_delivered(session, cycle, draft, codes)
        attachments, pdf_missing = ([], "")
        if needed:
            with ThreadPoolExecutor(1) as converter:
                pdf = converter.submit(
                    draft_attachments, attachment, get_settings().draft_pdf_wait_s
                )
                load_channel_plugins()
                attachments, pdf_missing = pdf.result()
        outgoing = []
        for director in deciders(session, definition):
            held = [c for c in codes if c.person_code == director.code and is_open(c)]
            delivered = [c for c in held if c.delivery == "sent" and c.draft_id == draft.id]
            if delivered and not renew:
                continue
            for code in held:
                code.revoked_at = utcnow()
                code.revoke_reason = REVOKED_BECAUSE.get(
                    code.delivery, "đã cấp mã mới theo yêu cầu"
                )
                session.add(code)
            code, record = issue_approval_code(session, cycle, director, draft)
            title, body = render_message(
                "approval_request",
                report_name=definition.name,
                summary=summary,
                round=cycle.round,
                person=director,
                section_count=len(definition.sections()),
                approval_code=code,
                expires_at=record.expires_at,
                draft_url=make_draft_link(session, cycle, director.code),
                cycle_url=cycle_url(cycle.flow_run_id),
                phone_url=phone_url(cycle.flow_run_id),
                cycle_id=cycle.id,
                pdf_missing=pdf_missing,
            )
            urls = channel_urls(director.email, list(director.apprise_urls))
            outgoing.append((record.id, director.name, urls, title, body))
    unreached = []
    for record_id, name, urls, title, body in outgoing:
        outcome = send_to_channels(urls, title, body, attachments)
        with session_scope() as session:
            record = session.get(ApprovalCode, record_id)
            record.delivery = "sent" if outcome.delivered else "failed"
            session.add(record)
            record_event(
                session,
                "reportflow",
                "approval_code.sent" if outcome.delivered else "approval_code.undelivered",
                cycle_id,
                person=record.person_code,
                channels=outcome.channels,
            )
        if not outcome.delivered:
            unreached.append(f"{name}: {'; '.join(outcome.errors)}")
    if unreached:
        raise ApprovalRequestUndelivered(
            "Không gửi được dự thảo và mã phê duyệt tới Giám đốc (" + " | ".join(unreached) + ")."
        )
    return len(outgoing)


REVOKED_BECAUSE = {
    "sending": "thư gửi mã bị gián đoạn",
    "failed": "thư gửi mã không đến được",
}
"""Why a code is replaced when its own mail did not certainly arrive; otherwise it was renewed."""


class ApprovalRequestUndelivered(RuntimeError):
    """No channel of a director took the draft and its code; the director could not decide."""


def decision_form(cycle_id: int) -> type[DirectorDecision]:
    """The director's form for this round, with its description; only the description is given
    as initial data: a field given initial data loses its title and turns optional, and nothing
    should be pre-chosen for the director."""
    description = decision_view.decision_description(cycle_id)
    with session_scope() as session:
        form = cycle_form(session, get_cycle(session, cycle_id))
    return form.with_initial_data(description=description)


def apply_decision(cycle_id: int, asked_round: int, decision: DirectorDecision) -> str:
    """The outcome, in Vietnamese. Nothing typed into the form can fail the run: a refused form
    is audited with its reason, a valid code typed into it is replaced by a fresh one, and the
    caller asks again."""
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id)
        if cycle.round != asked_round or cycle.state != CycleState.AWAITING_DECISION:
            kept = round_decision(session, cycle_id, asked_round)
            if kept is not None:
                return (
                    f"Quyết định vòng {asked_round} đã được ghi trước đó: Giám đốc "
                    f"{kept.approver_name}: {DECISION_VI[kept.decision]}."
                )
            return f"Mẫu quyết định của vòng {asked_round} không còn hiệu lực; bỏ qua."
    try:
        with session_scope() as session:
            recorded = record_decision(session, cycle_id, decision)
            return f"Giám đốc {recorded.approver_name}: {DECISION_VI[recorded.decision]}."
    except UserError as exc:
        return refuse_form(cycle_id, decision, str(exc))


def refuse_unreadable_form(cycle_id: int, error: Exception) -> str:
    reason = "Mẫu quyết định không đọc được; điền lại đủ các mục."
    with session_scope() as session:
        record_event(
            session,
            "prefect-ui",
            "decision.refused",
            cycle_id,
            round=get_cycle(session, cycle_id).round,
            reason=reason,
            detail=type(error).__name__,
        )
    return f"Quyết định không được chấp nhận: {reason} Mẫu quyết định được hỏi lại."


def refuse_form(cycle_id: int, decision: DirectorDecision, reason: str) -> str:
    with session_scope() as session:
        refusal = refuse_decision(session, cycle_id, decision, reason)
    renewed = send_approval_codes(cycle_id)
    note = " Đã gửi mã phê duyệt mới qua thư riêng." if renewed and not refusal.locked_out else ""
    if refusal.code_burnt:
        note = " Mã đã nhập bị hủy vì nằm trong mẫu bị từ chối;" + (
            note or " chưa gửi được mã mới."
        )
    return f"Quyết định không được chấp nhận: {refusal.reason}{note} Mẫu quyết định được hỏi lại."


def reopen_returned(cycle_id: int) -> None:
    """After a decision returns sections, their owners are told (the flow then waits again)."""
    request_sections(cycle_id)


SIGNATURE_WAIT = "signature"


def wait_for_signing(cycle_id: int, reason: str, tell_clerks: bool = True) -> str:
    """A signature that cannot be made now (no token, a wrong PIN, a file refused by verify):
    the cycle shows "chờ ký số" with the reason until the clerk retries (`reportflow sign
    retry`), and the clerks are mailed once per wait (``tell_clerks``; not when the signer
    signs on his own PC: he has his own mail). No number is used for a signer's signature
    that has not been made."""
    key = wait_key(cycle_id, SIGNATURE_WAIT)
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id, for_update=True)
        cycle.state = CycleState.AWAITING_SIGNATURE
        session.add(cycle)
        record_event(session, "reportflow", WAITING, cycle_id, reason=reason, key=key)
    if tell_clerks:
        mail_clerks(cycle_id, reason, key)
    return key


def signing_done(cycle_id: int) -> None:
    """After a signature: the cycle back where signing stood (numbered when the register gave
    the number, else approved), and a wait it was resumed from closed."""
    key = wait_key(cycle_id, SIGNATURE_WAIT)
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id, for_update=True)
        if cycle.state == CycleState.AWAITING_SIGNATURE:
            numbered = session.exec(
                select(RegisterEntry.id).where(RegisterEntry.cycle_id == cycle_id)
            ).first()
            cycle.state = CycleState.NUMBERED if numbered else CycleState.APPROVED
            session.add(cycle)
        waited = session.exec(
            select(AuditEvent.detail).where(
                AuditEvent.cycle_id == cycle_id, AuditEvent.action == WAITING
            )
        ).all()
    if any(d.get("key") == key for d in waited):
        wait_over(cycle_id, key)
