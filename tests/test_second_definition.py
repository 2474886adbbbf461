"""A report another agency writes with YAML only: sent upward with a "Kính gửi:" line, signed
by a deputy for the director (KT.), its addressees "Như trên" under "Nơi nhận:"."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlmodel import select

from reportflow.core.vi_format import long_date
from reportflow.cycle.cycles import get_cycle, open_cycle
from reportflow.cycle.documents import document_file, find_document
from reportflow.cycle.drafting.merge import render_draft
from reportflow.cycle.opening.plan import CycleRequest
from reportflow.document.writing.textdump import docx_text_lines
from reportflow.models import CycleState, RegisterEntry, session_scope
from tests.factories import (
    greetings,
    pdf_pages,
    run_whole_cycle,
    submit_texts,
    use_agency_definitions,
)

REQUEST = CycleRequest(
    number="4102/BTTTT-CĐSQG",
    date=dt.date(2021, 12, 1),
    sender="Bộ Thông tin và Truyền thông",
    subject="báo cáo kết quả chuyển đổi số năm 2021",
    deadline=dt.date(2021, 12, 20),
)


@pytest.fixture
def upward_cycle(database, smtp, restore_environment) -> int:
    use_agency_definitions("soc-trang", "2021-12-15T09:00:00+07:00")
    with session_scope() as session:
        return open_cycle(session, "chuyen-doi-so-nam", REQUEST, "cvp").id


def _submit_all(cycle_id: int, tmp_path: Path) -> None:
    submit_texts(
        cycle_id,
        tmp_path,
        [
            ("ha-tang", "tp-cds", "- 100% xã có cáp quang đến trung tâm xã."),
            ("dich-vu-cong", "tp-cds", "- Tỷ lệ hồ sơ trực tuyến toàn trình đạt 42,5%."),
            ("du-lieu-so", "tp-cds", "1. Kho dữ liệu dùng chung.\n1. Cơ sở dữ liệu đất đai."),
            ("kien-nghi", "cvp", "Đề nghị Bộ hỗ trợ tỉnh triển khai nền tảng dữ liệu dùng chung."),
        ],
    )


def test_the_draft_names_its_addressees_and_the_deputy_signs_for_the_director(
    upward_cycle, tmp_path
):
    _submit_all(upward_cycle, tmp_path)
    with session_scope() as session:
        draft = render_draft(session, get_cycle(session, upward_cycle))
    lines = docx_text_lines(document_file(draft))
    summary = lines.index("Kết quả thực hiện chuyển đổi số năm 2021 của tỉnh Sóc Trăng")
    assert lines[summary + 1 : summary + 4] == [
        "Kính gửi:",
        "- Bộ Thông tin và Truyền thông;",
        "- Cục Chuyển đổi số quốc gia.",
    ]
    # The default scheme, numbered from position; the author's own list kept as she wrote it.
    headings = ["I. KẾT QUẢ ĐẠT ĐƯỢC", "1. Hạ tầng số", "2. Chính quyền số"]
    headings += ["a) Dịch vụ công trực tuyến", "b) Dữ liệu số", "II. KIẾN NGHỊ, ĐỀ XUẤT"]
    assert [line for line in lines if line in headings] == headings
    listed = lines.index("b) Dữ liệu số")
    assert lines[listed + 1 : listed + 3] == [
        "1. Kho dữ liệu dùng chung.",
        "2. Cơ sở dữ liệu đất đai.",
    ]
    # The signature table: "Nơi nhận:" and its lines beside the signer's authority, title, name.
    assert lines[-1] == (
        "Nơi nhận: - Như trên; - UBND tỉnh (b/c); - Ban Giám đốc Sở; - Lưu: VT."
        "\tKT. GIÁM ĐỐC PHÓ GIÁM ĐỐC Trần Thị Kim Thoa"
    )
    _, pages = pdf_pages(document_file(draft))
    assert len(pages) == 1
    text = pages[0]
    assert "Kính gửi:" in text and "KT. GIÁM ĐỐC" in text and "Như trên;" in text


@pytest.mark.e2e
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_whole_cycle_greets_the_addressees_and_registers_the_real_recipients(
    prefect_server, upward_cycle, smtp, tmp_path
):
    run_whole_cycle(
        upward_cycle, tmp_path, smtp, lambda: _submit_all(upward_cycle, tmp_path), "Lâm Văn Mẫn"
    )
    with session_scope() as session:
        assert get_cycle(session, upward_cycle).state == CycleState.DONE
        entry = session.exec(select(RegisterEntry)).one()
        final = find_document(session, upward_cycle, "final", None)
    assert entry.signer == "Trần Thị Kim Thoa"
    lines = docx_text_lines(document_file(final))
    assert lines[1] == f"Số: {entry.number_text}\tSóc Trăng, {long_date(entry.issued_on)}"
    assert lines[-1].endswith("\tKT. GIÁM ĐỐC PHÓ GIÁM ĐỐC Trần Thị Kim Thoa")
    dispatched = {str(m["To"]) for m in smtp.messages() if entry.number_text in str(m["Subject"])}
    assert dispatched == {
        "vanthu@mic.example",
        "cucdcs@mic.example",
        "ubnd@soctrang.example",
        "bgd@stttt.soctrang.example",
    }
    first_lines = greetings(smtp)
    assert first_lines["vanthu@mic.example"] == "Kính gửi: Bộ Thông tin và Truyền thông"
    assert first_lines["cucdcs@mic.example"] == "Kính gửi: Cục Chuyển đổi số quốc gia"
    assert not any("Như trên" in g for g in first_lines.values())
    assert "Như trên" not in " ".join(entry.recipients)
    assert entry.recipients[:2] == ["Bộ Thông tin và Truyền thông", "Cục Chuyển đổi số quốc gia"]
