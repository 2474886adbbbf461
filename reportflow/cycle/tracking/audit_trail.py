"""A cycle's whole trail in Vietnamese, oldest first: for `reportflow audit` and as a table artifact
on the run when the cycle ends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session, select

from reportflow.core.clock import VN_TZ
from reportflow.models import ApprovalCode, AuditEvent, session_scope
from reportflow.notifications.messages import vn_datetime

DECISION_PATHS = {
    "prefect-ui": "giao diện Prefect",
    "cli": "lệnh reportflow approve",
    "web": "trang quyết định trên web",
}
"""Where a decision came from, as the audit names it (older entries name no path: the UI)."""

KIND_VI = {"request": "đề nghị", "reminder": "nhắc việc", "dispatch": "văn bản phát hành"}
DECISION_VI = {"approve": "phê duyệt", "request_changes": "trả lại để sửa", "reject": "hủy báo cáo"}
HIDDEN = {"cycle.run_attached", "run.wait_over", "draft.published"}
"""Bookkeeping of the run, not events of the cycle."""


@dataclass(frozen=True)
class TrailLine:
    at: dt.datetime
    actor: str
    text: str


def _sections(detail: dict) -> str:
    sections = detail.get("sections") or []
    if isinstance(sections, dict):
        return ", ".join(f"{k} ({v})" for k, v in sections.items())
    return ", ".join(sections)


DESCRIBE: dict[str, Callable[[dict], str]] = {
    "cycle.opened": lambda d: (
        f"Mở kỳ báo cáo theo Công văn {d.get('request')}; hạn các phòng {d.get('internal_deadline')}"
        f", hạn gửi {d.get('deadline')}"
    ),
    "cycle.run_started": lambda d: "Bắt đầu quy trình trên Prefect",
    "section.submitted": lambda d: f"Nộp phần {d.get('section')}, phiên bản {d.get('version')}",
    "indicators.submitted": lambda d: f"Nộp số liệu: {', '.join(d.get('codes') or [])}",
    "cycle.all_sections_in": lambda d: f"Đủ các phần (vòng {d.get('round')})",
    "draft.rendered": lambda d: (
        f"Tổng hợp dự thảo vòng {d.get('round')}, SHA-256 {d.get('sha256')}"
    ),
    "draft.withdrawn": lambda d: (
        f"Văn phòng rút dự thảo để nộp lại: {', '.join(d.get('sections') or [])}"
    ),
    "approval_code.issued": lambda d: (
        f"Cấp mã phê duyệt vòng {d.get('round')} cho {d.get('person')}"
    ),
    "approval_code.sent": lambda d: f"Đã gửi mã phê duyệt tới {d.get('person')}",
    "approval_code.undelivered": lambda d: f"Không gửi được mã phê duyệt tới {d.get('person')}",
    "decision.refused": lambda d: (
        f"Quyết định vòng {d.get('round')} gửi qua {DECISION_PATHS.get(d.get('path'), 'giao diện Prefect')} "
        f"bị từ chối: {d.get('reason')}"
        + (f" (mã đã thử: dấu vết {d['tried']})" if d.get("wrong_code") and d.get("tried") else "")
    ),
    "approval_code.locked_out": lambda d: (
        f"Khóa mã phê duyệt vòng {d.get('round')} sau {d.get('wrong_codes')} lần nhập sai; "
        "cấp mã mới"
    ),
    "register.numbered": lambda d: (
        f"Cấp số văn bản {d.get('number')}"
        + (f"; người ký: {d['signer_title']} {d['signer']}" if d.get("signer") else "")
    ),
    "register.opened": lambda d: "Mở sổ đăng ký văn bản đi",
    "cycle.done": lambda d: f"Hoàn thành: văn bản {d.get('number')} đã phát hành",
    "outbox.sent": lambda d: (
        f"Đã gửi {KIND_VI.get(d.get('kind'), d.get('kind'))} tới {d.get('recipient')} "
        f"qua {d.get('channel')}"
    ),
    "outbox.failed": lambda d: (
        f"Gửi {KIND_VI.get(d.get('kind'), d.get('kind'))} tới {d.get('recipient')} qua "
        f"{d.get('channel')} thất bại (lần {d.get('attempt')}): {d.get('error')}"
    ),
}


def describe(action: str, detail: dict) -> str:
    if action.startswith("decision.") and action != "decision.refused":
        code = action.removeprefix("decision.")
        text = f"Quyết định: {DECISION_VI.get(code, code)}"
        if detail.get("round") is not None:
            text += f" (vòng {detail['round']})"
        if detail.get("sections"):
            text += f"; phần trả lại: {_sections(detail)}"
        if detail.get("comment"):
            text += f"; ý kiến: {detail['comment']}"
        if detail.get("path") in DECISION_PATHS:
            text += f" (qua {DECISION_PATHS[detail['path']]})"
        return text
    if action in DESCRIBE:
        return DESCRIBE[action](detail)
    return f"{action}: {detail}"


def trail(session: Session, cycle_id: int) -> list[TrailLine]:
    events = session.exec(
        select(AuditEvent).where(AuditEvent.cycle_id == cycle_id).order_by(AuditEvent.id)
    ).all()
    lines = [
        TrailLine(e.at, e.actor, describe(e.action, e.detail or {}))
        for e in events
        if e.action not in HIDDEN
    ]
    codes = session.exec(select(ApprovalCode).where(ApprovalCode.cycle_id == cycle_id)).all()
    lines += [
        TrailLine(
            c.revoked_at,
            "reportflow",
            f"Thu hồi mã phê duyệt vòng {c.round} của {c.person_code}: {c.revoke_reason or '-'}",
        )
        for c in codes
        if c.revoked_at is not None
    ]
    return sorted(lines, key=lambda line: _aware(line.at))


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def trail_rows(cycle_id: int) -> list[dict[str, str]]:
    with session_scope() as session:
        lines = trail(session, cycle_id)
    return [
        {
            "Thời điểm": vn_datetime(_aware(line.at).astimezone(VN_TZ)),
            "Người": line.actor,
            "Sự việc": line.text,
        }
        for line in lines
    ]


def publish_trail(cycle_id: int) -> None:
    from prefect.artifacts import create_table_artifact

    create_table_artifact(
        key=f"cycle-{cycle_id}-audit",
        table=trail_rows(cycle_id),
        description=f"Nhật ký kỳ báo cáo số {cycle_id}, từ lúc mở tới lúc phát hành.",
    )
