"""The progress table in the Prefect UI is refreshed by each submission, with days late."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from reportflow.config import reload_settings
from reportflow.models import Cycle, session_scope
from reportflow.tasks.progress import refresh_progress, section_of
from reportflow.tasks.submit import submit_indicators, submit_section
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
