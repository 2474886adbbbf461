"""A report another agency writes with YAML only: sent upward with a "Kính gửi:" line, signed
by a deputy for the director (KT.), its addressees "Như trên" under "Nơi nhận:"."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from pypdf import PdfReader

from reportflow.config import reload_settings
from reportflow.document.textdump import docx_text_lines
from reportflow.models import CycleState, RegisterEntry, session_scope
from reportflow.smtp_sink import message_text
from reportflow.tasks.cycle_plan import CycleRequest
from reportflow.tasks.cycles import get_cycle, open_cycle
from reportflow.tasks.dispatch import dispatch_report
from reportflow.tasks.documents import document_file
from reportflow.tasks.export import convert_to_pdf
from reportflow.tasks.merge import render_draft, render_final
from reportflow.tasks.numbering import assign_number
from reportflow.tasks.submit import submit_section

FOLDER = Path(__file__).parent / "definitions" / "soc-trang"
REQUEST = CycleRequest(
    number="4102/BTTTT-CĐSQG",
    date=dt.date(2021, 12, 1),
    sender="Bộ Thông tin và Truyền thông",
    subject="báo cáo kết quả chuyển đổi số năm 2021",
    deadline=dt.date(2021, 12, 20),
)


@pytest.fixture
def upward_cycle(database, smtp, tmp_path, restore_environment) -> int:
    os.environ["REPORTFLOW_DEFINITIONS_DIRS"] = f'["{FOLDER}"]'
    os.environ["REPORTFLOW_FROZEN_NOW"] = "2021-12-15T09:00:00+07:00"
    reload_settings()
    with session_scope() as session:
        cycle_id = open_cycle(session, "chuyen-doi-so-nam", REQUEST, "cvp").id
    for key, person, text in [
        ("ha-tang", "tp-cds", "- 100% xã có cáp quang đến trung tâm xã."),
        ("chinh-quyen-so", "tp-cds", "- Tỷ lệ hồ sơ trực tuyến toàn trình đạt 42,5%."),
        ("kien-nghi", "cvp", "Đề nghị Bộ hỗ trợ tỉnh triển khai nền tảng dữ liệu dùng chung."),
    ]:
        section = tmp_path / f"{key}.md"
        section.write_text(text + "\n", encoding="utf-8")
        submit_section(cycle_id, key, section, person)
    return cycle_id


def test_the_draft_names_its_addressees_and_the_deputy_signs_for_the_director(upward_cycle):
    with session_scope() as session:
        draft = render_draft(session, get_cycle(session, upward_cycle))
    lines = docx_text_lines(document_file(draft))
    summary = lines.index("Kết quả thực hiện chuyển đổi số năm 2021 của tỉnh Sóc Trăng")
    assert lines[summary + 1 : summary + 4] == [
        "Kính gửi:",
        "- Bộ Thông tin và Truyền thông;",
        "- Cục Chuyển đổi số quốc gia.",
    ]
    # The signature table: "Nơi nhận:" and its lines beside the signer's authority, title, name.
    assert lines[-1] == (
        "Nơi nhận: - Như trên; - UBND tỉnh (b/c); - Ban Giám đốc Sở; - Lưu: VT."
        "\tKT. GIÁM ĐỐC PHÓ GIÁM ĐỐC Trần Thị Kim Thoa"
    )
    pdf = convert_to_pdf(document_file(draft), document_file(draft).parent / "pdf")
    reader = PdfReader(pdf)
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    assert "Kính gửi:" in text and "KT. GIÁM ĐỐC" in text and "Như trên;" in text


def test_the_addressees_get_the_report_by_name_and_the_register_lists_real_recipients(
    upward_cycle, smtp
):
    with session_scope() as session:
        # Straight to the state under test; the flow tests take the director's path.
        get_cycle(session, upward_cycle, for_update=True).state = CycleState.APPROVED
    entry = assign_number(upward_cycle)
    with session_scope() as session:
        render_final(session, get_cycle(session, upward_cycle))
    outcome = dispatch_report(upward_cycle)
    assert sorted(outcome.sent) == ["bgd", "bo-tttt", "cuc-cds", "ubnd"]
    greetings = {str(m["To"]): message_text(m).splitlines()[0] for m in smtp.messages()}
    assert greetings["vanthu@mic.example"] == "Kính gửi: Bộ Thông tin và Truyền thông"
    assert greetings["cucdcs@mic.example"] == "Kính gửi: Cục Chuyển đổi số quốc gia"
    assert not any("Như trên" in g for g in greetings.values())
    with session_scope() as session:
        register = session.get(RegisterEntry, entry.id)
    assert "Như trên" not in " ".join(register.recipients)
    assert register.recipients[:2] == ["Bộ Thông tin và Truyền thông", "Cục Chuyển đổi số quốc gia"]
