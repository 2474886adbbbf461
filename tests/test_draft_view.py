"""What the director reads in the Prefect UI: the draft as Markdown (submitted text shown as typed,
never as markup or template), the changes of round 2, and a form description that fits."""

from __future__ import annotations

import re

import pytest

from reportflow.cycle.collecting.submit import submit_section
from reportflow.cycle.cycles import get_cycle
from reportflow.cycle.deciding.approval import DirectorDecision, record_decision
from reportflow.cycle.deciding.decision_view import decision_description
from reportflow.cycle.drafting.draft_view import changes_markdown, draft_markdown, escape
from reportflow.models import session_scope
from tests.factories import issue_code_for_draft, open_sample_cycle, submit_everything

HOSTILE = "- Sản lượng <script>alert(1)</script> **đậm** {{ 7*7 }} | [x](http://bad) tăng 3,1%.\n"


def _columns(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line)) - 1


@pytest.fixture
def two_rounds(database, tmp_path):
    """Round 1 approved for changes to bcvt, bcvt resubmitted with hostile text, round 2 drafted."""
    cycle_id = open_sample_cycle()
    submit_everything(cycle_id, tmp_path)
    with session_scope() as session:
        code = issue_code_for_draft(session, get_cycle(session, cycle_id, for_update=True))
    with session_scope() as session:
        first = draft_markdown(session, get_cycle(session, cycle_id))
    with session_scope() as session:
        record_decision(
            session,
            cycle_id,
            DirectorDecision(
                decision="request_changes",
                approval_code=code,
                changes=[{"section": "bcvt", "comment": "Bổ sung <b>số liệu</b> quý II"}],
            ),
        )
    revised = tmp_path / "bcvt-v2.md"
    revised.write_text(HOSTILE, encoding="utf-8")
    submit_section(cycle_id, "bcvt", revised, "tp-bcvt")
    with session_scope() as session:
        issue_code_for_draft(session, get_cycle(session, cycle_id, for_update=True))
    return cycle_id, first


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_draft_reads_in_report_order_and_submitted_text_stays_text(two_rounds):
    cycle_id, first = two_rounds
    headings = [line for line in first.splitlines() if line.startswith("#")]
    assert headings[0].startswith("# Dự thảo vòng 1: Tình hình thực hiện nhiệm vụ")
    assert [h.split(" ", 1)[1] for h in headings[1:5]] == [
        "I. KẾT QUẢ TRIỂN KHAI THỰC HIỆN NHIỆM VỤ PHÁT TRIỂN KINH TẾ \\- XÃ HỘI 6 THÁNG ĐẦU NĂM",
        "1. Công tác tham mưu và ban hành các văn bản chỉ đạo, điều hành",
        "2. Công tác thực hiện nhiệm vụ chuyên môn",
        "2.1. Về Thông tin \\- Báo chí \\- Xuất bản",
    ]
    assert "Tỷ lệ xã có bưu điện văn hóa xã" in first, "the indicator table is in the draft"

    with session_scope() as session:
        cycle = get_cycle(session, cycle_id)
        second = draft_markdown(session, cycle)
        changes = changes_markdown(session, cycle)
    assert "<script>" not in second and "<script>" not in changes
    assert escape("<script>alert(1)</script> đậm {{ 7*7 }} | [x](http://bad)") in second
    assert escape("{{ 7*7 }}") in changes, "submitted text is never rendered as a template"
    assert "Bưu chính – Viễn thông" in changes and "phiên bản 1 → 2" in changes
    assert changes.count("## ") == 1, "only the section that changed"
    assert "- **Thêm:** Sản lượng" in changes and "- ~~Bỏ: " in changes


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_form_description_summarises_first_and_fits_the_dialog(two_rounds):
    cycle_id, _ = two_rounds
    description = decision_description(cycle_id)
    lines = description.splitlines()
    # The round, the deadline and the links first: the classic UI shows about 100 px of it.
    assert "**Vòng 2**" in lines[0] and "08/6/2020" in lines[0]
    assert "phần đã nộp" in description
    assert not any(line.startswith("#") for line in lines), "no heading: it takes the box"
    assert "Thay đổi từ vòng 1" in description
    assert escape("Bổ sung <b>số liệu</b> quý II") in description
    tables = [line for line in lines if line.startswith("|")]
    assert tables and max(_columns(line) for line in tables) <= 3
