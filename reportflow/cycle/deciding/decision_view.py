"""The Markdown shown above the director's form: why it is asked again, a short summary, links
to the draft, and narrow tables that fit Prefect's ~512 px dialog."""

from __future__ import annotations

from sqlmodel import Session, select

from reportflow.core.clock import today
from reportflow.cycle.cycles import cycle_definition, get_cycle
from reportflow.cycle.deciding.approval import current_draft, last_refusal
from reportflow.cycle.deciding.resubmission import resubmission_due
from reportflow.cycle.drafting.draft_page import make_draft_link
from reportflow.cycle.drafting.draft_view import artifact_url, escape, published_draft
from reportflow.cycle.drafting.merge import latest_indicators, section_summary
from reportflow.cycle.organisation import deciders, division_names
from reportflow.cycle.tracking.progress import progress_rows
from reportflow.definitions.indicators import read_indicator, result_cell
from reportflow.models import ApprovalDecision, AuditEvent, Cycle, session_scope
from reportflow.notifications.messages import vn_date


def previous_round_changes(session: Session, cycle: Cycle) -> dict[str, str]:
    """The sections the previous round sent back (or the office reopened), with the comment."""
    if cycle.round < 2:
        return {}
    decision = session.exec(
        select(ApprovalDecision).where(
            ApprovalDecision.cycle_id == cycle.id,
            ApprovalDecision.round == cycle.round - 1,
            ApprovalDecision.decision == "request_changes",
        )
    ).first()
    if decision is not None:
        return dict(decision.sections or {})
    withdrawn = session.exec(
        select(AuditEvent.detail).where(
            AuditEvent.cycle_id == cycle.id, AuditEvent.action == "draft.withdrawn"
        )
    ).all()
    reopened = withdrawn[-1].get("sections", []) if withdrawn else []
    return {key: "Văn phòng rút dự thảo để nộp lại" for key in reopened}


def first_sentence(text: str) -> str:
    """Up to the first full stop that ends a sentence: what fits beside the round's line."""
    for end in (". ", "; "):
        if end in text:
            return text.split(end, 1)[0] + "."
    return text


def _summary(session: Session, cycle: Cycle, full_reason: str = "") -> list[str]:
    definition = cycle_definition(session, cycle)
    rows = progress_rows(session, cycle.id)
    submitted = sum(1 for r in rows if r.state == "submitted")
    late = sum(1 for r in rows if r.days_late)
    # What the director needs first fits the form's small description box (about 80-100 px in
    # the classic UI): the reason of a refused try, the round, the deadline and the links, in
    # two or three lines; the rest follows.
    links = published_draft(session, cycle)
    shown = []
    director = next(iter(deciders(session, definition)), None)
    page = make_draft_link(session, cycle, director.code) if director else ""
    if page:
        shown.append(f"[Dự thảo PDF]({page})")
    if links.get("draft"):
        shown.append(f"[Toàn văn dự thảo]({artifact_url(links['draft'])})")
    if links.get("changes"):
        shown.append(f"[Xem thay đổi]({artifact_url(links['changes'])})")
    lines = [" · ".join([f"**Vòng {cycle.round}** · hạn **{vn_date(cycle.deadline)}**", *shown])]
    due = resubmission_due(today(), cycle.deadline)
    if due.no_day_left:
        lines += ["", f"**Hạn nộp báo cáo có nguy cơ trễ:** {escape(due.warning_vi())}"]
    lines += [
        "",
        f"Trả lại để sửa hôm nay: phần trả lại hạn gửi lại **{vn_date(due.day)}** (bỏ trống ô "
        "Hạn gửi lại), hoặc ngày ghi vào ô đó.",
    ]
    if full_reason:
        lines += ["", full_reason]
    lines += [
        "",
        f"**{escape(definition.name)}** · hạn gửi {escape(cycle.request_sender)}: "
        f"{vn_date(cycle.deadline)} · {submitted}/{len(rows)} phần đã nộp"
        + (f", {late} phần nộp trễ hạn nội bộ" if late else ", không phần nào trễ"),
    ]
    changes = previous_round_changes(session, cycle)
    if changes:
        lines += ["", f"**Thay đổi từ vòng {cycle.round - 1}:**"]
        lines += [f"- {escape(key)}: {escape(comment)}" for key, comment in changes.items()]
    draft = current_draft(session, cycle)
    lines += [
        "",
        "Tệp dự thảo gửi kèm thư mã phê duyệt"
        + (f" (SHA-256 `{draft.sha256[:12]}`)." if draft else "."),
    ]
    return lines


def decision_description(cycle_id: int) -> str:
    """The form's description; a refused attempt's reason first, when the form is asked again."""
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id)
        definition = cycle_definition(session, cycle)
        refused = last_refusal(session, cycle)
        lines = []
        full_reason = ""
        if refused is not None:
            reason = refused.detail["reason"]
            burnt = (
                " Mã đã nhập ở lần đó bị hủy; mã mới đã được gửi qua thư riêng."
                if refused.detail.get("code_burnt")
                else ""
            )
            first = first_sentence(reason)
            # One paragraph with the round's line below (a line break, not a new paragraph):
            # both fit the box.
            lines += [f"**Lần trước chưa được chấp nhận:** {escape(first)}  "]
            if first != reason or burnt:
                full_reason = f"Lý do: {escape(reason)}{burnt}"
        lines += _summary(session, cycle, full_reason)
        lines += ["", "| Phần | Đơn vị | Số từ |", "|---|---|---|"]
        rows = section_summary(session, cycle)
        names = division_names(session, (row["division"] for row in rows))
        for row in rows:
            lines.append(
                f"| {escape(row['key'])} · {escape(row['title'])} "
                f"| {escape(names[row['division']])} | {row['words']} |"
            )
        indicators = latest_indicators(session, cycle_id)
        lines += ["", "| Chỉ tiêu | Kết quả |", "|---|---|"]
        for item in definition.indicators.items:
            value = indicators.get(item.code)
            shown = (
                result_cell(
                    item,
                    read_indicator(item, value.value_text),
                    value.note,
                    percent_sign=definition.indicators.percent_sign,
                )
                if value
                else "(chưa có)"
            )
            lines.append(f"| {escape(item.name.strip('- '))} | {escape(shown)} |")
        lines += [
            "",
            "Chọn **Quyết định**; nhập **Mã phê duyệt một lần** trong thư gửi riêng (mã cho biết "
            "ai quyết định). Khi *Trả lại để sửa*, thêm từng phần ở **Các phần trả lại** và "
            "chọn phần trong danh sách, kèm ý kiến.",
            "",
            "Sau khi bấm Submit, Prefect luôn báo “Flow run resumed” màu xanh, kể cả khi mã sai: "
            "nếu quyết định chưa được chấp nhận, bấm **Resume** lần nữa để xem lý do ở đầu biểu "
            "mẫu.",
        ]
        return "\n".join(lines)
