"""The cycle's progress table: for `reportflow status` and as a Prefect artifact in the UI."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, func, select

from reportflow.clock import now
from reportflow.models import ReminderRecord, SectionAssignment, SectionVersion, session_scope
from reportflow.notifications.messages import vn_date, vn_datetime
from reportflow.tasks.cycles import assignments, get_cycle
from reportflow.tasks.notify import division_name

STATE_VI = {"pending": "chưa gửi", "submitted": "đã gửi", "returned": "trả lại để sửa"}


@dataclass(frozen=True)
class ProgressRow:
    section_key: str
    title: str
    division: str
    state: str
    versions: int
    due: dt.date
    last_reminder: dt.datetime | None


def progress_rows(session: Session, cycle_id: int) -> list[ProgressRow]:
    version_counts = dict(
        session.exec(
            select(SectionVersion.assignment_id, func.count())
            .join(SectionAssignment, SectionAssignment.id == SectionVersion.assignment_id)
            .where(SectionAssignment.cycle_id == cycle_id)
            .group_by(SectionVersion.assignment_id)
        ).all()
    )
    reminders = dict(
        session.exec(
            select(ReminderRecord.assignment_id, func.max(ReminderRecord.sent_at))
            .join(SectionAssignment, SectionAssignment.id == ReminderRecord.assignment_id)
            .where(
                SectionAssignment.cycle_id == cycle_id,
                ReminderRecord.status == "sent",
                ReminderRecord.step_key.not_like("request-%"),
            )
            .group_by(ReminderRecord.assignment_id)
        ).all()
    )
    return [
        ProgressRow(
            section_key=a.section_key,
            title=a.title,
            division=division_name(session, a.division_code),
            state=a.state,
            versions=version_counts.get(a.id, 0),
            due=a.due,
            last_reminder=reminders.get(a.id),
        )
        for a in assignments(session, cycle_id)
    ]


def row_cells(row: ProgressRow) -> dict[str, str]:
    return {
        "Mã phần": row.section_key,
        "Phần": row.title,
        "Đơn vị": row.division,
        "Trạng thái": STATE_VI.get(row.state, row.state),
        "Số phiên bản": str(row.versions),
        "Hạn": vn_date(row.due),
        "Nhắc gần nhất": vn_datetime(row.last_reminder) if row.last_reminder else "-",
    }


def publish_progress(cycle_id: int) -> None:
    from prefect.artifacts import create_table_artifact

    with session_scope() as session:
        cycle = get_cycle(session, cycle_id)
        rows = [row_cells(r) for r in progress_rows(session, cycle_id)]
    create_table_artifact(
        key=f"cycle-{cycle_id}-progress",
        table=rows,
        description=f"Tiến độ kỳ báo cáo số {cycle_id} ({cycle.state}), cập nhật "
        f"{vn_datetime(now())}",
    )
