"""A third agency's report with two appendices after the signature (one holding the indicator
table, one a section a division writes), sent upward to two addressees and signed "TL. GIÁM
ĐỐC", run through a whole cycle: open, every division submits, draft, the director approves
with the mailed code, number, dispatch."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from reportflow.core.vi_format import long_date
from reportflow.cycle.collecting.submit import submit_indicators
from reportflow.cycle.cycles import get_cycle, open_cycle
from reportflow.cycle.documents import document_file, find_document
from reportflow.cycle.opening.plan import CycleRequest
from reportflow.document.writing.textdump import docx_text_lines
from reportflow.models import CycleState, RegisterEntry, RenderedDocument, session_scope
from reportflow.runtime.smtp_sink import message_text
from tests.factories import (
    greetings,
    pdf_pages,
    run_whole_cycle,
    submit_texts,
    use_agency_definitions,
)

DEFINITION = "tai-nguyen-nuoc-6-thang"
REQUEST = CycleRequest(
    number="1520/TNN-QLKT",
    date=dt.date(2023, 5, 22),
    sender="Cục Quản lý tài nguyên nước",
    subject="báo cáo công tác quản lý tài nguyên nước 6 tháng đầu năm 2023",
    deadline=dt.date(2023, 6, 20),
)
LICENCES = (
    "| TT | Tổ chức được cấp phép | Số giấy phép |\n"
    "|---|---|---|\n"
    "| 1 | Công ty Cổ phần Cấp thoát nước Bến Tre | 125/GP-UBND |\n"
    "| 2 | Nhà máy nước Giồng Trôm | 131/GP-UBND |"
)
SECTIONS = [
    ("cap-phep", "tp-tnn", "- Cấp mới 18 giấy phép khai thác, sử dụng nước dưới đất."),
    ("thanh-tra", "ctt", "Kiểm tra 12 tổ chức khai thác nước mặt, xử phạt 02 trường hợp."),
    ("kien-nghi", "cvp", "Đề nghị Cục hỗ trợ kinh phí quan trắc xâm nhập mặn."),
    ("danh-muc-giay-phep", "tp-tnn", LICENCES),
]
FIGURES = 'giay-phep-moi: "18"\ncong-trinh-cap-phep: "340/400"\n'
BODY_NAME = "Sở Tài nguyên và Môi trường tỉnh Bến Tre"
SIGNATURE = (
    "Nơi nhận: - Như trên; - Giám đốc Sở (b/c); - Lưu: VT, TNN."
    "\tTL. GIÁM ĐỐC CHÁNH VĂN PHÒNG Nguyễn Thị Bích Vân"
)
APPENDIX_TITLES = [
    "KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU 6 THÁNG ĐẦU NĂM 2023",
    "DANH MỤC GIẤY PHÉP TÀI NGUYÊN NƯỚC ĐÃ CẤP",
]
INDICATOR_HEADER = "TT\tChỉ tiêu\tĐơn vị tính\tKế hoạch năm 2023\tKết quả 6 tháng đầu năm"


def _submit_all(cycle_id: int, folder: Path) -> None:
    figures = folder / "so-lieu.yaml"
    figures.write_text(FIGURES, encoding="utf-8")
    submit_indicators(cycle_id, figures, "tp-tnn")
    submit_texts(cycle_id, folder, SECTIONS)


def _check_document(lines: list[str], reference: str) -> None:
    """Field by field: addressees under the title, the TL. signature, then the two appendices
    after it, in order, each with its "Kèm theo" line; the indicator table only in Phụ lục I."""
    summary = lines.index(
        "Kết quả công tác quản lý nhà nước về tài nguyên nước 6 tháng đầu năm 2023"
    )
    assert lines[summary + 1 : summary + 4] == [
        "Kính gửi:",
        "- Cục Quản lý tài nguyên nước;",
        "- Ủy ban nhân dân tỉnh Bến Tre.",
    ]
    signature = lines.index(SIGNATURE)
    body = lines[:signature]
    headings = ["I. KẾT QUẢ THỰC HIỆN", "1. Công tác quản lý nhà nước"]
    headings += ["1.1. Công tác cấp phép tài nguyên nước", "1.2. Công tác thanh tra, kiểm tra"]
    headings += ["II. KIẾN NGHỊ, ĐỀ XUẤT"]
    assert [line for line in body if line in headings] == headings
    assert not any(line.startswith("Phụ lục") for line in body)
    assert INDICATOR_HEADER not in body
    first, second = lines.index("Phụ lục I"), lines.index("Phụ lục II")
    assert signature + 1 == first < second
    assert lines[first + 1 : first + 5] == [
        APPENDIX_TITLES[0],
        reference,
        INDICATOR_HEADER,
        "1\tSố giấy phép cấp mới\tGiấy phép\t40\t18",
    ]
    assert lines[first + 5].startswith("2\tTỷ lệ công trình khai thác được cấp phép\t%\t85\t")
    assert lines[second + 1 : second + 3] == [APPENDIX_TITLES[1], reference]
    assert lines[second + 3 :] == [
        "I. GIẤY PHÉP KHAI THÁC, SỬ DỤNG NƯỚC MẶT",
        "TT\tTổ chức được cấp phép\tSố giấy phép",
        "1\tCông ty Cổ phần Cấp thoát nước Bến Tre\t125/GP-UBND",
        "2\tNhà máy nước Giồng Trôm\t131/GP-UBND",
    ]


@pytest.mark.e2e
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_report_with_two_appendices_goes_through_a_whole_cycle(
    prefect_server, database, smtp, tmp_path, restore_environment, monkeypatch
):
    monkeypatch.setenv("REPORTFLOW_PAUSE_POLL_S", "1")
    use_agency_definitions("ben-tre", "2023-06-05T09:00:00+07:00")
    with session_scope() as session:
        cycle_id = open_cycle(session, DEFINITION, REQUEST, "cvp").id
    draft = run_whole_cycle(
        cycle_id, tmp_path, smtp, lambda: _submit_all(cycle_id, tmp_path), "Huỳnh Quang Đức"
    )
    draft_lines = docx_text_lines(draft)

    with session_scope() as session:
        assert get_cycle(session, cycle_id).state == CycleState.DONE
        entry = session.exec(select(RegisterEntry)).one()
        final = session.exec(select(RenderedDocument).where(RenderedDocument.kind == "final")).one()
    assert re.fullmatch(r"\d{2,}/BC-STNMT", entry.number_text), entry.number_text

    # The draft leaves the number and the date blank, as its own number and date lines do.
    blank = f"(Kèm theo Báo cáo số       /BC-STNMT ngày … tháng … năm … của {BODY_NAME})"
    _check_document(draft_lines, blank)
    header = draft_lines[1]
    assert header.startswith("Số:       /BC-STNMT\tBến Tre, ngày … tháng … năm …"), header

    # The final carries the register's number and date, in the header and under each appendix.
    filled = (
        f"(Kèm theo Báo cáo số {entry.number_text} {long_date(entry.issued_on)} của {BODY_NAME})"
    )
    final_lines = docx_text_lines(document_file(final))
    _check_document(final_lines, filled)
    assert final_lines[1] == f"Số: {entry.number_text}\tBến Tre, {long_date(entry.issued_on)}"

    # Each appendix starts a page of its own.
    pdf, pages = pdf_pages(document_file(final))
    # Each appendix numbers its pages from 1, its first page included.
    appendix_pages = [i for i, text in enumerate(pages) if text.startswith("1 Phụ lục")]
    assert len(pages) >= 1 + len(APPENDIX_TITLES)
    assert len(appendix_pages) == 2 and appendix_pages[0] >= 1, pages
    assert pages[appendix_pages[0]].startswith(f"1 Phụ lục I {APPENDIX_TITLES[0]}")
    assert pages[appendix_pages[1]].startswith(f"1 Phụ lục II {APPENDIX_TITLES[1]}")
    assert "TL. GIÁM ĐỐC" in pages[appendix_pages[0] - 1]

    # The register lists the real recipients, the archive copy apart; the addressees are
    # greeted by name.
    assert entry.recipients == [
        "Cục Quản lý tài nguyên nước",
        "UBND tỉnh Bến Tre",
        "Giám đốc Sở (b/c)",
    ]
    assert entry.archive == "Lưu: VT, TNN."
    dispatched = {
        str(m["To"]): m for m in smtp.messages() if entry.number_text in str(m["Subject"])
    }
    assert sorted(dispatched) == [
        "giamdoc@stnmt.bentre.example",
        "ubnd@bentre.example",
        "vanthu@dwrm.example",
    ]
    first_lines = greetings(smtp)
    assert first_lines["vanthu@dwrm.example"] == "Kính gửi: Cục Quản lý tài nguyên nước"
    assert first_lines["ubnd@bentre.example"] == "Kính gửi: Ủy ban nhân dân tỉnh Bến Tre"
    assert not any("Như trên" in line for line in first_lines.values())
    print(f"final PDF: {pdf} ({len(pages)} pages)")


@pytest.fixture
def appendix_cycle(database, smtp, tmp_path, restore_environment) -> int:
    use_agency_definitions("ben-tre", "2023-06-05T09:00:00+07:00")
    with session_scope() as session:
        cycle_id = open_cycle(session, DEFINITION, REQUEST, "cvp").id
    _submit_all(cycle_id, tmp_path)
    return cycle_id


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_directors_draft_page_and_artifact_show_the_appendices(appendix_cycle, smtp):
    from reportflow.cycle.drafting.draft_view import draft_markdown
    from reportflow.cycle.steps import prepare_draft
    from tests.test_web_draft import DRAFT_LINK
    from tests.web_server import serving_web

    with serving_web():
        with session_scope() as session:
            # The flow marks the cycle complete before merging; the flow test takes that path.
            get_cycle(session, appendix_cycle, for_update=True).state = CycleState.DRAFTING
        prepare_draft(appendix_cycle)
        (mail,) = [m for m in smtp.messages() if "chờ Giám đốc phê duyệt" in str(m["Subject"])]
        (link,) = DRAFT_LINK.findall(message_text(mail))
        page = httpx.get(link, timeout=30).text
    first = page.index(f"Phụ lục I: {APPENDIX_TITLES[0].capitalize()}")
    second = page.index("Phụ lục II: Danh mục giấy phép tài nguyên nước đã cấp")
    assert page.index("KIẾN NGHỊ, ĐỀ XUẤT") < first < page.index("Số giấy phép cấp mới") < second
    assert second < page.index("Nhà máy nước Giồng Trôm")
    with session_scope() as session:
        markdown = draft_markdown(session, get_cycle(session, appendix_cycle))
    first = markdown.index(f"## Phụ lục I: {APPENDIX_TITLES[0].capitalize()}")
    assert markdown.index("KIẾN NGHỊ") < first < markdown.index("| 2 | Tỷ lệ công trình")
    assert markdown.index("## Phụ lục II: Danh mục") < markdown.index("Nhà máy nước Giồng Trôm")


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_final_appendix_holds_what_the_director_approved(appendix_cycle):
    from reportflow.cycle.deciding.approval import DirectorDecision, record_decision
    from reportflow.cycle.drafting.merge import render_final
    from reportflow.cycle.issuing.numbering import assign_number
    from reportflow.document.blocks import Paragraph, Run, SectionContent
    from reportflow.models import SectionVersion
    from tests.factories import issue_code_for_draft

    with session_scope() as session:
        cycle = get_cycle(session, appendix_cycle, for_update=True)
        code = issue_code_for_draft(session, cycle, "gd")
    with session_scope() as session:
        record_decision(
            session, appendix_cycle, DirectorDecision(decision="approve", approval_code=code)
        )
    with session_scope() as session:
        # A version of the appendix's section no draft held, written behind the product's back.
        approved = find_document(session, appendix_cycle, "draft", 1)
        held = session.get(SectionVersion, approved.section_versions["danh-muc-giay-phep"])
        session.add(
            SectionVersion(
                assignment_id=held.assignment_id,
                version_no=held.version_no + 1,
                blocks=SectionContent([Paragraph([Run("Danh mục chưa duyệt.")])]).to_json(),
                source_name="x.md",
                source_format="markdown",
                source_bytes=b"x",
                sha256="0" * 64,
                submitted_by="tp-tnn",
            )
        )
    assign_number(appendix_cycle)
    with session_scope() as session:
        final = render_final(session, get_cycle(session, appendix_cycle))
    lines = docx_text_lines(document_file(final))
    assert "Danh mục chưa duyệt." not in lines
    assert lines[-1] == "2\tNhà máy nước Giồng Trôm\t131/GP-UBND"
