"""The progress table in the Prefect UI is refreshed by each submission, with days late."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import httpx
import pytest

from reportflow.core.config import reload_settings
from reportflow.cycle.collecting.submit import submit_indicators, submit_section
from reportflow.cycle.tracking.progress import refresh_progress, section_of
from reportflow.models import Cycle, session_scope
from tests.factories import ASSIGNMENT_HEADS, PACKAGE_DIR, open_sample_cycle, section_md


def latest_artifact(api_url: str, key: str) -> dict | None:
    response = httpx.get(f"{api_url}/artifacts/{key}/latest", timeout=10)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.json()


def latest_table(api_url: str, key: str) -> list[dict[str, str]]:
    data = latest_artifact(api_url, key)["data"]
    return json.loads(data) if isinstance(data, str) else data


def by_section(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {section_of(row): row for row in rows}


@pytest.fixture
def running_cycle(prefect_server, database, monkeypatch) -> int:
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-05T09:00:00+07:00")
    reload_settings()
    cycle_id = open_sample_cycle()
    with session_scope() as session:
        # Only the marker that this cycle runs under Prefect; no flow runs in this test.
        session.get(Cycle, cycle_id).flow_run_id = str(uuid.uuid4())
    return cycle_id


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_each_submission_refreshes_the_progress_artifact(prefect_server, running_cycle, tmp_path):
    key = f"cycle-{running_cycle}-progress"
    submit_section(running_cycle, "bcvt", section_md(tmp_path, "bcvt"), by="tp-bcvt")
    rows = by_section(latest_table(prefect_server, key))
    assert set(rows) == set(ASSIGNMENT_HEADS)
    assert rows["bcvt"]["Trạng thái"] == "đã gửi"
    assert rows["bcvt"]["Đơn vị"] == "Phòng Bưu chính - Viễn thông"
    # Due 03/6/2020, submitted Friday 05/6: two working days late (04/6 and 05/6).
    assert rows["bcvt"]["Số ngày trễ"] == "2"
    assert rows["thanh-tra"]["Trạng thái"] == "chưa gửi"
    assert rows["thanh-tra"]["Số ngày trễ"] == "2"

    submit_section(running_cycle, "thanh-tra", section_md(tmp_path, "thanh-tra"), by="chanhtt")
    rows = by_section(latest_table(prefect_server, key))
    assert rows["thanh-tra"]["Trạng thái"] == "đã gửi"
    assert len(rows["thanh-tra"]) <= 6, "fits the UI without scrolling"
    assert rows["thanh-tra"]["Nhắc gần nhất"] == "", "a blank, not a '-' drawn as a bullet"

    before = latest_artifact(prefect_server, key)["updated"]
    submit_indicators(
        running_cycle, PACKAGE_DIR / "demo" / "data" / "indicators-bcvt.yaml", "tp-bcvt"
    )
    assert latest_artifact(prefect_server, key)["updated"] != before
    rows = by_section(latest_table(prefect_server, key))
    assert rows["so-lieu-bcvt"]["Trạng thái"] == "đã gửi"
    assert rows["so-lieu-bcvt"]["Phần"] == "so-lieu-bcvt · Số liệu các chỉ tiêu"
    assert rows["so-lieu-ttbcxb"]["Trạng thái"] == "chưa gửi"
    description = latest_artifact(prefect_server, key)["description"]
    assert description.startswith(
        "**Tiến độ: Báo cáo tình hình thực hiện nhiệm vụ phát triển kinh tế - xã hội 6 tháng** "
        f"(kỳ {running_cycle}, vòng 1; đang nhận các phần)"
    ), "the report's name, not its code"
    assert "Hạn các phòng 03/6/2020, hạn gửi Sở Kế hoạch và Đầu tư 08/6/2020" in description


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_cycle_not_under_prefect_publishes_nothing(prefect_server, database, tmp_path):
    cycle_id = open_sample_cycle()
    key = f"cycle-{cycle_id}-progress"
    before = latest_artifact(prefect_server, key)  # the Prefect server outlives test databases
    submit_section(cycle_id, "bcvt", section_md(tmp_path, "bcvt"), by="tp-bcvt")
    assert refresh_progress(cycle_id) is False
    assert latest_artifact(prefect_server, key) == before


def add_divisions(cycle_id: int, count: int) -> None:
    """`count` more divisions, each owing a section of the cycle: every other one handed in
    (late for some), every third one reminded."""
    from reportflow.models import Division, ReminderRecord, SectionAssignment, SectionVersion

    with session_scope() as session:
        for n in range(count):
            code = f"k{cycle_id}-phong-{n}"
            session.add(Division(code=code, name=f"Phòng số {n}"))
            assignment = SectionAssignment(
                cycle_id=cycle_id,
                section_key=f"phan-{n}",
                title=f"Phần {n}",
                division_code=code,
                due=dt.date(2020, 6, 3) - dt.timedelta(days=n % 40),
                state="submitted" if n % 2 else "pending",
            )
            session.add(assignment)
            session.flush()
            if n % 2:
                session.add(
                    SectionVersion(
                        assignment_id=assignment.id,
                        version_no=1,
                        blocks=[],
                        source_name="x.md",
                        source_format="markdown",
                        source_bytes=b"",
                        sha256="",
                        submitted_by="chanhvp",
                        submitted_at=dt.datetime(2020, 6, 1 + n % 4, 3, tzinfo=dt.UTC),
                    )
                )
            if n % 3 == 0:
                session.add(
                    ReminderRecord(
                        assignment_id=assignment.id,
                        step_key=f"late-{n}",
                        person_code="chanhvp",
                        status="sent",
                        sent_at=dt.datetime(2020, 6, 4, 2, tzinfo=dt.UTC),
                    )
                )


def queries_for_table(cycle_id: int) -> tuple[int, list]:
    from sqlalchemy import event

    from reportflow.cycle.tracking.progress import progress_rows
    from reportflow.models import get_engine

    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    engine = get_engine()
    with session_scope() as session:
        event.listen(engine, "before_cursor_execute", count)
        try:
            rows = progress_rows(session, cycle_id)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    return len(statements), rows


def test_the_table_takes_the_same_few_queries_for_10_or_200_divisions(database, monkeypatch):
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-05T09:00:00+07:00")
    reload_settings()
    small, large = open_sample_cycle(), open_sample_cycle()
    add_divisions(small, 10)
    add_divisions(large, 200)
    small_queries, small_rows = queries_for_table(small)
    large_queries, large_rows = queries_for_table(large)
    assert (len(small_rows), len(large_rows)) == (22, 212)
    assert large_queries == small_queries <= 5
    rows = {r.section_key: r for r in large_rows}
    assert rows["phan-7"].division == "Phòng số 7"
    # Due Sunday 31/5 (3 days before 3/6), handed in Thursday 4/6 (VN time): Mon 1/6 to Thu 4/6.
    assert (rows["phan-3"].due, rows["phan-3"].days_late) == (dt.date(2020, 5, 31), 4)
    assert rows["phan-3"].last_reminder is not None and rows["phan-1"].last_reminder is None


def api_count(api_url: str, what: str, body: dict) -> int:
    response = httpx.post(f"{api_url}/{what}/count", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


@pytest.mark.e2e
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_submissions_leave_no_task_runs_and_one_progress_artifact(
    prefect_server, database, smtp, tmp_path, monkeypatch
):
    from reportflow.demo.run import start_flow_process, wait_for_pause
    from tests.factories import SECTION_HEADS, submit_everything

    monkeypatch.setenv("REPORTFLOW_PAUSE_POLL_S", "1")
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-05T09:00:00+07:00")
    reload_settings()
    cycle_id = open_sample_cycle()
    key = f"cycle-{cycle_id}-progress"
    flow = start_flow_process(cycle_id, tmp_path / "flow.log")
    try:
        wait_for_pause(cycle_id, "sections-", flow)
        with session_scope() as session:
            run_id = session.get(Cycle, cycle_id).flow_run_id
        of_run = {"flow_runs": {"id": {"any_": [run_id]}}}
        before = api_count(prefect_server, "task_runs", {})
        run_before = api_count(prefect_server, "task_runs", of_run)
        for key_, person in list(SECTION_HEADS.items())[:-1]:  # each of these twice
            submit_section(cycle_id, key_, section_md(tmp_path, key_), person)
        submissions = len(SECTION_HEADS) - 1
        assert api_count(prefect_server, "task_runs", {}) == before, "none while collecting"
        submit_everything(cycle_id, tmp_path)
        submissions += len(ASSIGNMENT_HEADS)
        wait_for_pause(cycle_id, "decision-", flow)

        created = api_count(prefect_server, "task_runs", {}) - before
        by_run = api_count(prefect_server, "task_runs", of_run) - run_before
        assert created == by_run, "every task run belongs to the cycle's run"
        assert by_run <= 8 < submissions, "the run's own steps after the wake, not one a submission"
        # The server outlives each test's database, so another test's cycle may share the key.
        of_this_run = {"key": {"any_": [key]}, "flow_run_id": {"any_": [run_id]}}
        assert api_count(prefect_server, "artifacts", {"artifacts": of_this_run}) == 1
        rows = by_section(latest_table(prefect_server, key))
        assert {row["Trạng thái"] for row in rows.values()} == {"đã gửi"}
        # Published again with the draft: the cycle now waits for the director.
        assert "chờ Giám đốc quyết định" in latest_artifact(prefect_server, key)["description"]
    finally:
        flow.kill()
        flow.wait(timeout=30)


def test_the_web_refresher_publishes_a_burst_once_and_always_after_the_last_mark():
    """The coalescing alone: the refresh it calls is a recorder here (the publish itself is
    tested above against a real Prefect server)."""
    import threading
    import time

    from reportflow.cycle.tracking.progress import ProgressRefresher

    calls: list[tuple[int, float]] = []
    refreshed = threading.Event()

    def record(cycle_id: int) -> None:
        calls.append((cycle_id, time.monotonic()))
        refreshed.set()

    refresher = ProgressRefresher(0.3, record)
    began = time.monotonic()
    for _ in range(50):
        refresher.mark(7)
    refresher.mark(8)
    assert refreshed.wait(5)
    time.sleep(0.5)
    assert sorted(c for c, _ in calls) == [7, 8], "a burst of 50 marks: one refresh a cycle"
    assert all(at - began >= 0.3 for _, at in calls)
    calls.clear()
    last_mark = time.monotonic()
    refresher.mark(7)  # after the window: refreshed again, not lost
    deadline = time.monotonic() + 5
    while not calls and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [c for c, _ in calls] == [7] and calls[0][1] >= last_mark
