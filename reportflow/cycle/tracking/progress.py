"""The cycle's progress table: for `reportflow status` and as a Prefect artifact in the UI."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session, func, select

from reportflow.calendar.working_days import default_calendar
from reportflow.core.clock import VN_TZ, now, today
from reportflow.cycle.cycles import assignments, cycle_definition, get_cycle
from reportflow.cycle.organisation import division_names
from reportflow.models import (
    Cycle,
    CycleState,
    ReminderRecord,
    SectionAssignment,
    SectionVersion,
    session_scope,
)
from reportflow.notifications.messages import vn_date, vn_datetime
from reportflow.notifications.redaction import redact_text
from reportflow.services.prefect_api import api_client, put_artifact

log = logging.getLogger(__name__)

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
    days_late: int
    """Working days past due: until today while open, until the latest version once submitted."""


def _local_date(moment: dt.datetime) -> dt.date:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(VN_TZ).date()


def progress_rows(session: Session, cycle_id: int) -> list[ProgressRow]:
    versions = {
        assignment_id: (count, latest)
        for assignment_id, count, latest in session.exec(
            select(
                SectionVersion.assignment_id,
                func.count(),
                func.max(SectionVersion.submitted_at),
            )
            .join(SectionAssignment, SectionAssignment.id == SectionVersion.assignment_id)
            .where(SectionAssignment.cycle_id == cycle_id)
            .group_by(SectionVersion.assignment_id)
        ).all()
    }
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
    calendar, current_day = default_calendar(), today()

    def days_late(assignment: SectionAssignment) -> int:
        until = current_day
        if assignment.state == "submitted" and assignment.id in versions:
            until = _local_date(versions[assignment.id][1])
        if until <= assignment.due:  # on time: no need to build the year's holiday tables
            return 0
        return calendar.working_days_between(assignment.due, until)

    rows = assignments(session, cycle_id)
    names = division_names(session, (a.division_code for a in rows))
    return [
        ProgressRow(
            section_key=a.section_key,
            title=a.title,
            division=names[a.division_code],
            state=a.state,
            versions=versions.get(a.id, (0, None))[0],
            due=a.due,
            last_reminder=reminders.get(a.id),
            days_late=days_late(a),
        )
        for a in rows
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
        "Số ngày trễ": str(row.days_late) if row.days_late else "-",
    }


def artifact_cells(row: ProgressRow) -> dict[str, str]:
    """The row as the Prefect UI shows it: 6 columns that fit without scrolling, blanks (a "-"
    alone in a cell is drawn as a bullet), and a section handed in or not, without counting
    versions (figures have none)."""
    return {
        "Phần": f"{row.section_key} · {' '.join(row.title.split()).rstrip(':')}",
        "Đơn vị": row.division,
        "Trạng thái": STATE_VI.get(row.state, row.state),
        "Hạn": vn_date(row.due),
        "Nhắc gần nhất": vn_datetime(row.last_reminder) if row.last_reminder else "",
        "Số ngày trễ": str(row.days_late) if row.days_late else "",
    }


def section_of(cells: dict[str, str]) -> str:
    """The section key of an artifact row."""
    return cells["Phần"].split(" · ", 1)[0]


def cycle_headline(cycle: Cycle) -> str:
    """One line that says which cycle this is, where it stands and what is due when."""
    state = CycleState(cycle.state).label_vi
    return (
        f"Kỳ {cycle.id}: {cycle.definition_code} – {cycle.period_label} {cycle.year} ({state}); "
        f"hạn các phòng {vn_date(cycle.internal_deadline)}, hạn gửi {cycle.request_sender} "
        f"{vn_date(cycle.deadline)}"
    )


def refresh_progress(cycle_id: int) -> bool:
    """Publishes the table after a submission, outside any flow run and without a task run.

    Only for a cycle that runs under Prefect (it has a run, so an API is configured). The
    submission is committed before this runs, so a failure here is logged, never raised.
    """
    try:
        with session_scope() as session:
            if not get_cycle(session, cycle_id).flow_run_id:
                return False
        publish_progress(cycle_id)
    except Exception as exc:  # noqa: BLE001 - a view refresh must not fail a stored submission
        log.warning(
            "Kỳ %s: chưa cập nhật được bảng tiến độ trên Prefect (%s).",
            cycle_id,
            redact_text(str(exc)),
        )
        return False
    return True


class ProgressRefresher:
    """Coalesces the progress refreshes of a long-lived process (the web app).

    Publishing the table costs O(N) (every row, and the whole table sent to Prefect); doing it on
    each of N submissions costs O(N²) for a cycle. Here a submission only marks its cycle; one
    thread publishes each marked cycle at most once per ``interval_s``, and always after the last
    mark, so the table shown is never left behind the database for longer than that.
    """

    def __init__(
        self, interval_s: float, refresh: Callable[[int], object] = refresh_progress
    ) -> None:
        self.interval_s = interval_s
        self._refresh = refresh
        self._marked: set[int] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def mark(self, cycle_id: int) -> None:
        with self._lock:
            self._marked.add(cycle_id)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="progress-refresher", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self.interval_s)  # the window in which further marks are coalesced
            with self._lock:
                self._wake.clear()
                cycles, self._marked = self._marked, set()
            for cycle_id in sorted(cycles):
                self._refresh(cycle_id)


def publish_progress(cycle_id: int) -> None:
    """The cycle's one progress artifact (`cycle-ID-progress`) on its run, updated in place."""
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id)
        name = cycle_definition(session, cycle).name
        rows = [artifact_cells(r) for r in progress_rows(session, cycle_id)]
    state = CycleState(cycle.state).label_vi
    description = (
        f"**Tiến độ: {name}** (kỳ {cycle.id}, vòng {cycle.round}; {state}). Hạn các phòng "
        f"{vn_date(cycle.internal_deadline)}, hạn gửi {cycle.request_sender} "
        f"{vn_date(cycle.deadline)}. Cập nhật {vn_datetime(now())}."
    )
    with api_client() as client:
        put_artifact(
            client,
            key=f"cycle-{cycle_id}-progress",
            kind="table",
            data=json.dumps(rows, ensure_ascii=False),
            description=description,
            flow_run_id=cycle.flow_run_id,
        )
