"""A report another agency writes with YAML only: sent upward with a "Kính gửi:" line, signed
by a deputy for the director (KT.), its addressees "Như trên" under "Nơi nhận:"."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from reportflow.cli import app
from reportflow.core.errors import Forbidden
from reportflow.core.vi_format import long_date
from reportflow.cycle.cycles import cycle_definition, get_cycle, open_cycle
from reportflow.cycle.deciding.decide import send_decision
from reportflow.cycle.documents import document_file, find_document
from reportflow.cycle.drafting.merge import render_draft, render_final
from reportflow.cycle.issuing.numbering import assign_number
from reportflow.cycle.opening.plan import CycleRequest
from reportflow.cycle.organisation import require_decider
from reportflow.cycle.steps import prepare_draft
from reportflow.document.writing.textdump import docx_text_lines
from reportflow.models import CycleState, Person, RegisterEntry, session_scope
from reportflow.runtime.smtp_sink import message_text
from tests.factories import (
    APPROVAL_CODE,
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
        upward_cycle,
        tmp_path,
        smtp,
        lambda: _submit_all(upward_cycle, tmp_path),
        "Trần Thị Kim Thoa",
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


def test_the_approver_signs_the_final_and_only_the_named_approvers_get_a_code(
    upward_cycle, smtp, tmp_path
):
    """The deputy is the default signer and the director a listed approver: both get a code,
    nobody else with a director's role does; the director approves, so the final carries his
    own block and name, the register and the audit name him."""
    with session_scope() as session:
        session.add(
            Person(
                code="gd2",
                name="Người Khác",
                title="Giám đốc",
                role="director",
                division_code="bgd",
                email="khac@stttt.soctrang.example",
            )
        )
    _submit_all(upward_cycle, tmp_path)
    with session_scope() as session:
        get_cycle(session, upward_cycle, for_update=True).state = CycleState.DRAFTING
    prepare_draft(upward_cycle)
    asked = {
        str(m["To"]): APPROVAL_CODE.findall(message_text(m))[0]
        for m in smtp.messages()
        if "phê duyệt (vòng 1)" in str(m["Subject"])
    }
    assert set(asked) == {"phogiamdoc@stttt.soctrang.example", "giamdoc@stttt.soctrang.example"}
    subjects = {str(m["To"]): str(m["Subject"]) for m in smtp.messages()}
    assert subjects["phogiamdoc@stttt.soctrang.example"].endswith(
        "chờ Phó Giám đốc phê duyệt (vòng 1)"
    )
    with session_scope() as session:
        draft = find_document(session, upward_cycle, "draft", 1)
    assert docx_text_lines(document_file(draft))[-1].endswith(
        "KT. GIÁM ĐỐC PHÓ GIÁM ĐỐC Trần Thị Kim Thoa"
    )

    said = send_decision(upward_cycle, asked["giamdoc@stttt.soctrang.example"], [], False, "")
    assert said.startswith("Đã ghi quyết định của Lâm Văn Mẫn (vòng 1): phê duyệt."), said
    entry = assign_number(upward_cycle)
    with session_scope() as session:
        final = render_final(session, get_cycle(session, upward_cycle))
        lines = docx_text_lines(document_file(final))
    assert entry.signer == "Lâm Văn Mẫn"
    assert lines[-1].endswith("\tGIÁM ĐỐC Lâm Văn Mẫn"), lines[-1]
    assert "KT." not in lines[-1]
    trail = CliRunner().invoke(app, ["audit", str(upward_cycle)], terminal_width=250)
    said = " ".join(trail.output.split())
    assert f"Cấp số văn bản {entry.number_text}; người ký: GIÁM ĐỐC Lâm Văn Mẫn" in said


def test_a_person_outside_the_approvers_cannot_decide(upward_cycle, smtp, tmp_path):
    _submit_all(upward_cycle, tmp_path)
    with session_scope() as session:
        get_cycle(session, upward_cycle, for_update=True).state = CycleState.DRAFTING
    prepare_draft(upward_cycle)
    with session_scope() as session:
        cycle = get_cycle(session, upward_cycle)
        definition = cycle_definition(session, cycle)
        with pytest.raises(Forbidden, match="không có quyền quyết định báo cáo này"):
            require_decider(session, definition, "cvp")
        assert require_decider(session, definition, "pgd").name == "Trần Thị Kim Thoa"
