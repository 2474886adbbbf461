"""The demo cycle against a real local Prefect server and a real SMTP server, checked from outside:
the final DOCX opened again with python-docx, and the .eml files the SMTP server received."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from rich.console import Console
from typer.testing import CliRunner

from reportflow.cli import app
from reportflow.definitions.loader import load_definition
from reportflow.demo.run import DATA_DIR, run_demo
from reportflow.document.blocks import block_text
from reportflow.document.reading.markdown import parse_markdown
from reportflow.document.writing.textdump import docx_text_lines
from reportflow.runtime.smtp_sink import attachment_names, read_eml

pytestmark = pytest.mark.e2e


def normal(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def demo_result(prefect_server, tmp_path_factory):
    import os

    from reportflow.core.config import reload_settings

    saved = dict(os.environ)
    out = tmp_path_factory.mktemp("demo")
    console = Console(record=True, width=160)
    try:
        final = run_demo(out, console)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reload_settings()
    return out, final, console.export_text()


def test_final_document_holds_every_section_in_order(demo_result):
    _, final, _ = demo_result
    text = normal("\n".join(docx_text_lines(final)))
    definition = load_definition("ktxh-6-thang")
    position = 0
    for section in definition.sections():
        content = parse_markdown(
            (DATA_DIR / "sections" / f"{section.key}.md").read_text(encoding="utf-8")
        )
        for block in content.blocks:
            snippet = normal(block_text(block))[:80]
            found = text.find(snippet, position)
            assert found >= 0, f"section {section.key}: missing or out of order: {snippet!r}"
            position = found


def test_final_document_has_number_indicators_and_recipients(demo_result):
    _, final, _ = demo_result
    lines = [normal(line) for line in docx_text_lines(final)]
    text = "\n".join(lines)
    assert "Số: 859/BC-STTTT-VP" in text
    assert "Trà Vinh, ngày 05 tháng 6 năm 2020" in text
    for value in (
        "82/85 xã có điểm BD-VHX",
        "96,47% (82/85 xã có BD-VHX)",
        "228",
        "547,5",
        "98,82",
    ):
        assert value in text, value
    table_rows = [line.split("\t") for line in docx_text_lines(final) if line.startswith("3\t")]
    assert [
        "3",
        "- Thời lượng phát thanh bằng tiếng dân tộc",
        "Giờ/năm",
        "547,5",
        "228",
    ] in table_rows
    recipients = [
        "Nơi nhận:",
        "- Sở KH&ĐT (b/c);",
        "- BGD Sở;",
        "- Lãnh đạo các phòng, TT;",
        "- Lưu: VT.",
    ]
    positions = [text.find(r) for r in recipients]
    assert -1 not in positions and positions == sorted(positions), dict(
        zip(recipients, positions, strict=True)
    )
    assert "DỰ THẢO" not in text


def test_every_recipient_received_exactly_one_email_with_the_docx(demo_result):
    out, _, _ = demo_result
    definition = load_definition("ktxh-6-thang")
    messages = [read_eml(p) for p in sorted((out / "outbox").glob("*.eml"))]
    for recipient in definition.recipients:
        received = [m for m in messages if recipient.email in str(m["To"])]
        assert len(received) == 1, (recipient.key, len(received))
        assert attachment_names(received[0]) == ["859-BC-STTTT-VP.pdf"]
        assert "859/BC-STTTT-VP" in str(received[0]["Subject"])


def test_the_director_got_the_draft_as_docx_and_pdf(demo_result):
    """The last section came through the web, which made the draft and its PDF ahead of the
    run (with a LibreOffice started for the file: no `serve` here); the mail waited for it."""
    out, _, _ = demo_result
    messages = [read_eml(p) for p in sorted((out / "outbox").glob("*.eml"))]
    [mail] = [m for m in messages if "chờ Giám đốc phê duyệt" in str(m["Subject"])]
    assert attachment_names(mail) == ["du-thao-vong-1.docx", "du-thao-vong-1.pdf"]
    assert "chưa tạo được bản PDF" not in mail.get_body().get_content()


def test_late_division_was_reminded_and_director_copied(demo_result):
    out, _, log = demo_result
    messages = [read_eml(p) for p in sorted((out / "outbox").glob("*.eml"))]
    reminders = [m for m in messages if "quá hạn" in str(m["Subject"]).lower()]
    assert {str(m["To"]) for m in reminders} == {
        "thanhtra@stttt.travinh.example",
        "giamdoc@stttt.travinh.example",
    }
    assert all("thanh-tra" in m.get_body().get_content() for m in reminders)
    for message in reminders:
        lines = [line.strip() for line in message.get_body().get_content().splitlines()]
        assert any(
            line.startswith("reportflow submit") and "--by chanhtt" in line for line in lines
        )
    assert re.search(r"Nhắc việc bước t\+2 → chanhtt", log)


def test_summary_names_the_document_run_and_mails(demo_result):
    _, final, log = demo_result
    assert f"Bảnchínhthức:{final.resolve()}" in normal(log).replace(" ", "")
    assert re.search(r"/runs/flow-run/[0-9a-f-]{36}", log)
    assert "thktkg@skhdt.travinh.example" in log


def test_the_late_section_came_through_the_web_link_of_the_reminder(demo_result):
    out, final, log = demo_result
    assert re.search(
        r"chanhtt gửi muộn phần 'thanh-tra' qua trang web \(liên kết trong thư nhắc việc: "
        r"http://127\.0\.0\.1:\d+/l/[A-Za-z0-9_.-]+\); phiên bản 1, biên nhận sau",
        normal(log),
    )
    messages = [read_eml(p) for p in sorted((out / "outbox").glob("*.eml"))]
    receipts = [
        m
        for m in messages
        if str(m["To"]) == "thanhtra@stttt.travinh.example" and "Đã nhận" in str(m["Subject"])
    ]
    assert len(receipts) == 1, "the web's receipt mail"


def test_the_demo_issues_a_pdf_that_verify_passes_and_libreoffice_opens(demo_result, tmp_path):
    """Signed with the demo's own keys (PKCS#12, marked THỬ NGHIỆM): `reportflow verify` passes
    it against the demo CA, and LibreOffice (Draw's PDF import) opens it."""
    out, _, log = demo_result
    signed = out / "final.pdf"
    assert "Đạt yêu cầu của Nghị định 30/2020." in log
    result = CliRunner().invoke(
        app,
        ["verify", str(signed), "--trust", str(out / "demo-keys" / "ca-thu-nghiem.pem")],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    assert "THỬ NGHIỆM" in result.output
    as_the_clerk_sees_it = subprocess.run(
        [sys.executable, "-m", "reportflow.cli", "verify", str(signed), "--trust"]
        + [str(out / "demo-keys" / "ca-thu-nghiem.pem")],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert as_the_clerk_sees_it.returncode == 0
    assert as_the_clerk_sees_it.stderr == "", "no library warning on the clerk's terminal"
    messages = [read_eml(p) for p in sorted((out / "outbox").glob("*.eml"))]
    sent = [m for m in messages if "859/BC-STTTT-VP" in str(m["Subject"])]
    payloads = {
        part.get_content() for m in sent for part in m.iter_attachments() if part.get_filename()
    }
    assert payloads == {signed.read_bytes()}, "every recipient got the verified file"
    if shutil.which("soffice"):
        opened = subprocess.run(
            [
                "soffice",
                "--headless",
                "--convert-to",
                "odg",
                "--outdir",
                str(tmp_path),
                str(signed),
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert (tmp_path / "final.odg").stat().st_size > 10_000, opened.stdout + opened.stderr
