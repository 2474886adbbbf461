"""The steps of a cycle as the flow calls them; each reads and writes the database itself."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from sqlmodel import select

from reportflow.definition_schema import ReportDefinition
from reportflow.indicators import read_indicator, result_cell
from reportflow.models import CycleState, RenderedDocument, SectionAssignment, session_scope
from reportflow.notifications.channels import channel_urls
from reportflow.notifications.messages import render_message, render_string
from reportflow.notifications.sender import send_to_channels
from reportflow.tasks.approval import (
    DECISION_VI,
    DecisionRefused,
    DirectorDecision,
    issue_approval_code,
    record_decision,
)
from reportflow.tasks.audit import record_event
from reportflow.tasks.cycles import (
    all_sections_in,
    assignments,
    cycle_definition,
    get_cycle,
    template_context,
)
from reportflow.tasks.figures import is_figures_key
from reportflow.tasks.merge import latest_indicators, render_cycle_document, section_summary
from reportflow.tasks.notify import (
    Outgoing,
    cycle_url,
    deliver,
    directors,
    division_heads,
    division_name,
)


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
    return sum(deliver(m) for m in messages)


def _request_text(
    template, cycle, definition: ReportDefinition, person, division_code, items, item, session
):
    common = dict(
        report_name=definition.name,
        period_label=cycle.period_label,
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
        due=item.due,
        section_key=item.section_key,
        section_title=item.title,
        is_figures=is_figures_key(item.section_key),
        comment=item.return_comment,
        **common,
    )


def mark_drafting_if_complete(cycle_id: int) -> bool:
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id, for_update=True)
        if cycle.state != CycleState.COLLECTING or not all_sections_in(session, cycle_id):
            return cycle.state != CycleState.COLLECTING
        cycle.state = CycleState.DRAFTING
        session.add(cycle)
        record_event(session, "reportflow", "cycle.all_sections_in", cycle_id, round=cycle.round)
        return True


def prepare_draft(cycle_id: int) -> Path:
    """Renders the draft, then sends it with a fresh one-time code to the director.

    Raises ApprovalRequestUndelivered when a director could not be reached at all, so the task
    is retried instead of the run pausing for a decision nobody can make.
    """
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id, for_update=True)
        draft = render_cycle_document(session, cycle, "draft")
        cycle.state = CycleState.AWAITING_DECISION
        session.add(cycle)
        record_event(
            session, "reportflow", "draft.rendered", cycle_id, round=cycle.round, path=draft.path
        )
        definition = cycle_definition(session, cycle)
        summary = render_string(definition.summary, **template_context(cycle))
        outgoing = []
        for director in directors(session):
            code, record = issue_approval_code(session, cycle, director)
            title, body = render_message(
                "approval_request",
                report_name=definition.name,
                summary=summary,
                round=cycle.round,
                person=director,
                section_count=len(definition.sections()),
                approval_code=code,
                expires_at=record.expires_at,
                cycle_url=cycle_url(cycle.flow_run_id),
                cycle_id=cycle.id,
            )
            outgoing.append(
                (
                    director.name,
                    channel_urls(director.email, list(director.apprise_urls)),
                    title,
                    body,
                )
            )
    path = Path(draft.path)
    unreached = []
    for name, urls, title, body in outgoing:
        outcome = send_to_channels(urls, title, body, [path])
        if not outcome.delivered:
            unreached.append(f"{name}: {'; '.join(outcome.errors)}")
    if unreached:
        # The draft and the round's state are stored; a retry renders again and mails a new code.
        raise ApprovalRequestUndelivered(
            "Không gửi được dự thảo và mã phê duyệt tới Giám đốc (" + " | ".join(unreached) + ")."
        )
    return path


class ApprovalRequestUndelivered(RuntimeError):
    """No channel of a director took the draft and its code; the director could not decide."""


def _table_cell(text: str) -> str:
    """Submitted text inside a Markdown table: a "|" or a line break would end the cell."""
    return " ".join(text.split()).replace("|", "\\|")


def decision_description(cycle_id: int) -> str:
    """Markdown shown above the director's form in the Prefect UI: what is in the draft."""
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id)
        definition = cycle_definition(session, cycle)
        draft = session.exec(
            select(RenderedDocument)
            .where(RenderedDocument.cycle_id == cycle_id, RenderedDocument.kind == "draft")
            .order_by(RenderedDocument.id.desc())
        ).first()
        rows = section_summary(session, cycle)
        indicators = latest_indicators(session, cycle_id)
        lines = [
            f"## Dự thảo: {render_string(definition.summary, **template_context(cycle))}",
            "",
            f"Kỳ báo cáo số {cycle.id}, vòng {cycle.round}; trả lời Công văn số "
            f"{cycle.request_number} của {cycle.request_sender}.",
            f"Tệp dự thảo: `{draft.path if draft else '-'}`",
            "",
            "| Mã phần | Phần | Đơn vị | Phiên bản | Số từ |",
            "|---|---|---|---|---|",
        ]
        for row in rows:
            lines.append(
                f"| {row['key']} | {_table_cell(row['title'])} | {division_name(session, row['division'])} "
                f"| {row['version']} | {row['words']} |"
            )
        lines += ["", "| Chỉ tiêu | Kết quả |", "|---|---|"]
        for item in definition.indicators.items:
            value = indicators.get(item.code)
            shown = (
                result_cell(item, read_indicator(item, value.value_text), value.note)
                if value
                else "(chưa có)"
            )
            lines.append(f"| {item.name.strip('- ')} | {_table_cell(shown)} |")
        lines += [
            "",
            "Điền **Người quyết định** (mã hoặc họ tên), **Mã phê duyệt một lần** (trong thư "
            "riêng) và chọn **Quyết định**: *Phê duyệt*, *Trả lại để sửa* (ghi các phần ở "
            "**Các phần trả lại**, kèm ý kiến) hoặc *Hủy báo cáo*.",
        ]
        return "\n".join(lines)


def apply_decision(cycle_id: int, decision: DirectorDecision) -> str:
    """The outcome, in Vietnamese; a refused decision is audited and the director asked again."""
    try:
        with session_scope() as session:
            recorded = record_decision(session, cycle_id, decision)
            return f"Giám đốc {recorded.approver_name}: {DECISION_VI[recorded.decision]}."
    except DecisionRefused as exc:
        with session_scope() as session:
            record_event(session, decision.approver, "decision.refused", cycle_id, reason=str(exc))
        return f"Quyết định không được chấp nhận: {exc} Mẫu quyết định được hỏi lại."


def reopen_returned(cycle_id: int) -> None:
    """After a decision returns sections, their owners are told (the flow then waits again)."""
    request_sections(cycle_id)
