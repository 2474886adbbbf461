"""Small builders shared by tests: an open cycle of the sample definition, section files."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import SQLModel

from reportflow.core.config import PACKAGE_DIR, reload_settings
from reportflow.cycle.collecting.submit import submit_indicators, submit_section
from reportflow.cycle.cycles import CycleRequest, open_cycle
from reportflow.cycle.deciding.decide import send_decision
from reportflow.cycle.documents import document_file, find_document
from reportflow.demo.run import start_flow_process, wait_for_pause, wait_until
from reportflow.demo.scenario import DATA_DIR
from reportflow.models import get_engine, session_scope
from reportflow.runtime.smtp_sink import message_text

AGENCY_DEFINITIONS = Path(__file__).parent / "definitions"
SAMPLES_DIR = PACKAGE_DIR / "samples"
SECTIONS_DIR = PACKAGE_DIR / "demo" / "data" / "sections"
SAMPLE_TEXT = PACKAGE_DIR / "demo" / "data" / "sample-859-BC-STTTT-VP.txt"
# The sample was OCR'd; the product's data writes these words correctly.
SAMPLE_OCR_ERRORS = {"Bru chính": "Bưu chính"}

# Each section of the sample definition and the head of the division that writes it.
SECTION_HEADS = {
    "tham-muu": "chanhvp",
    "ttbcxb": "tp-ttbcxb",
    "bcvt": "tp-bcvt",
    "cntt": "tp-cntt",
    "thanh-tra": "chanhtt",
    "dau-tu-cong": "tp-cntt",
    "cong-ttdt": "gd-ttcntt",
    "cong-tac-khac": "chanhvp",
    "danh-gia": "chanhvp",
    "nhiem-vu": "chanhvp",
}

# The divisions that owe figures for the sample's indicator table, as assignments of their own.
FIGURE_HEADS = {"so-lieu-bcvt": "tp-bcvt", "so-lieu-ttbcxb": "tp-ttbcxb"}
ASSIGNMENT_HEADS = SECTION_HEADS | FIGURE_HEADS

SAMPLE_REQUEST = CycleRequest(
    number="850/SKHĐT-THKTKG",
    date=dt.date(2020, 5, 13),
    sender="Sở Kế hoạch và Đầu tư",
    subject="báo cáo tình hình KT-XH 6 tháng đầu năm 2020",
    deadline=dt.date(2020, 6, 8),
)


def use_definitions(folder: Path, samples: bool = True) -> None:
    """An agency's folder of definitions, by default beside the samples: a folder with no
    organisation.yaml of its own is written for the sample's organisation."""
    os.environ["REPORTFLOW_DEFINITIONS_DIRS"] = json.dumps([str(folder)])
    os.environ["REPORTFLOW_SAMPLES"] = "true" if samples else "false"
    reload_settings()


DEPUTY_LINE = (
    "  - {code: phogiamdoc, name: Nguyễn Thị Hoa, title: Phó Giám đốc, role: director, "
    "division: bgd, email: phogiamdoc@stttt.travinh.example}\n"
)


def use_sample_with_deputy(folder: Path) -> None:
    """The sample agency with a deputy director whom the sample report lists as an approver
    (signing KT. GIÁM ĐỐC); call under `restore_environment`."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in SAMPLES_DIR.glob("*.yaml"):
        text = source.read_text(encoding="utf-8")
        if source.name == "organisation.yaml":
            text = text.replace("people:\n", "people:\n" + DEPUTY_LINE, 1)
        else:
            text = text.replace(
                "signer: {title: GIÁM ĐỐC, person: giamdoc}\n",
                "signer: {title: GIÁM ĐỐC, person: giamdoc}\napprovers:\n"
                "  - {authority: KT., on_behalf_of: GIÁM ĐỐC, title: PHÓ GIÁM ĐỐC, "
                "person: phogiamdoc}\n",
            )
        (folder / source.name).write_text(text, encoding="utf-8")
    use_definitions(folder, samples=False)


def use_sample_sending_docx(folder: Path) -> None:
    """The sample report, asking that the recipients get the DOCX beside the signed PDF; call
    under `restore_environment`."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in SAMPLES_DIR.glob("*.yaml"):
        text = source.read_text(encoding="utf-8")
        if source.name != "organisation.yaml":
            text += "send_docx_too: true\n"
        (folder / source.name).write_text(text, encoding="utf-8")
    use_definitions(folder, samples=False)


def open_sample_cycle(definition: str = "ktxh-6-thang") -> int:
    with session_scope() as session:
        return open_cycle(session, definition, SAMPLE_REQUEST, "chanhvp").id


def section_md(tmp_path: Path, key: str) -> Path:
    target = tmp_path / f"{key}.md"
    target.write_text((SECTIONS_DIR / f"{key}.md").read_text(encoding="utf-8"), encoding="utf-8")
    return target


def row_counts() -> dict[str, int]:
    """Rows in every table, to show that a refused input wrote nothing."""
    with get_engine().connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in SQLModel.metadata.tables.items()
        }


APPROVAL_CODE = re.compile(r"Mã phê duyệt một lần của vòng này: ([0-9A-Z]{4}-[0-9A-Z]{4})")


def approval_codes(smtp) -> list[str]:
    """The one-time codes mailed to the director so far, oldest first."""
    return [m.group(1) for msg in smtp.messages() if (m := APPROVAL_CODE.search(message_text(msg)))]


def submit_everything(cycle_id: int, tmp_path: Path) -> None:
    """Every division hands in its figures and sections of the sample report."""
    submit_indicators(cycle_id, DATA_DIR / "indicators-bcvt.yaml", "tp-bcvt")
    submit_indicators(cycle_id, DATA_DIR / "indicators-ttbcxb.yaml", "tp-ttbcxb")
    for key, person in SECTION_HEADS.items():
        submit_section(cycle_id, key, section_md(tmp_path, key), person)


def issue_code_for_draft(session, cycle, person_code: str = "giamdoc") -> str:
    """Straight to the state under test (the real path is covered by the flow tests): the
    round's draft rendered and awaiting the director, and a code issued for it."""
    from reportflow.cycle.deciding.approval import issue_approval_code
    from reportflow.cycle.drafting.merge import render_draft
    from reportflow.models import CycleState, Person

    cycle.state = CycleState.AWAITING_DECISION
    session.add(cycle)
    draft = render_draft(session, cycle)
    code, _ = issue_approval_code(session, cycle, session.get(Person, person_code), draft)
    return code


def use_agency_definitions(folder: str, frozen_now: str) -> None:
    """The installation reads one agency's folder under tests/definitions (its definitions and
    its own organisation.yaml), at a frozen moment (call under `restore_environment`)."""
    os.environ["REPORTFLOW_FROZEN_NOW"] = frozen_now
    use_definitions(AGENCY_DEFINITIONS / folder, samples=False)


def submit_texts(cycle_id: int, folder: Path, sections: list[tuple[str, str, str]]) -> None:
    """Each (section key, person, Markdown text) handed in as a .md file, as a division would."""
    for key, person, text in sections:
        source = folder / f"{key}.md"
        source.write_text(text + "\n", encoding="utf-8")
        submit_section(cycle_id, key, source, person)


def greetings(smtp) -> dict[str, str]:
    """The first line of the mail each address received ("Kính gửi: …"), by address."""
    return {str(m["To"]): message_text(m).splitlines()[0] for m in smtp.messages()}


def pdf_pages(docx_path: Path) -> tuple[Path, list[str]]:
    """The document converted by LibreOffice, and each page's text with its spaces collapsed."""
    from pypdf import PdfReader

    from reportflow.cycle.pdf_export import convert_to_pdf

    pdf = convert_to_pdf(docx_path, docx_path.parent / "pdf")
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages]
    return pdf, pages


def run_to_decision(cycle_id: int, tmp_path: Path, smtp, log_name: str = "flow.log"):
    """The cycle's real flow in its own process, every section handed in, waiting for the
    director's decision: the process and the mailed code (the caller ends the process)."""
    flow = start_flow_process(cycle_id, tmp_path / log_name)
    try:
        wait_for_pause(cycle_id, "sections-", flow)
        submit_everything(cycle_id, tmp_path)
        wait_for_pause(cycle_id, "decision-", flow)
        (code,) = wait_until(lambda: approval_codes(smtp), 30, "the approval mail")
    except BaseException:
        flow.kill()
        raise
    return flow, code


def run_whole_cycle(cycle_id: int, tmp_path: Path, smtp, submit, approver: str) -> Path:
    """The cycle's real flow in its own process: it mails the requests and waits; ``submit()``
    hands every section in; the director approves with the mailed code; the flow numbers and
    dispatches. Returns the draft the director approved."""
    flow = start_flow_process(cycle_id, tmp_path / "flow.log")
    try:
        wait_for_pause(cycle_id, "sections-", flow)
        submit()
        wait_for_pause(cycle_id, "decision-", flow)
        code = wait_until(lambda: approval_codes(smtp), 30, "approval mail")[0]
        with session_scope() as session:
            draft = document_file(find_document(session, cycle_id, "draft", 1))
        approved = send_decision(cycle_id, code, [], False, "Đồng ý")
        assert approved == f"Đã ghi quyết định của {approver} (vòng 1): phê duyệt.", approved
        assert flow.wait(timeout=120) == 0
    finally:
        if flow.poll() is None:
            flow.kill()
    return draft
