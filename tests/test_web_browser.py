"""A division head in a real browser (Debian's chromium through Playwright), against a real
cycle run on a real Prefect server, the SMTP sink and the web app on a free port: the links
come from the request e-mails; the last section handed in on the web resumes the cycle.

Screenshots of each page, at desktop (1280) and phone (390) widths, go to out/ui/web/."""

from __future__ import annotations

import io
import time
from pathlib import Path

import docx
import pytest
from typer.testing import CliRunner

from reportflow.cli import app
from reportflow.cycle.collecting.submit import submit_indicators, submit_section
from reportflow.cycle.cycles import get_cycle
from reportflow.demo.run import start_flow_process, wait_for_pause, wait_until
from reportflow.demo.scenario import DATA_DIR
from reportflow.models import CycleState, session_scope
from tests.browser import CHROMIUM, SCREENSHOTS, launch
from tests.factories import SECTION_HEADS, open_sample_cycle, row_counts, section_md
from tests.web_server import links_in_mails, serving_web

SHOTS = SCREENSHOTS / "web"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


def docx_file(tmp_path: Path) -> Path:
    document = docx.Document()
    document.add_heading("Bưu chính", level=2)
    document.add_paragraph("Sản lượng bưu gửi 6 tháng đầu năm tăng 8,5% so với cùng kỳ.")
    document.add_paragraph("Toàn tỉnh có 84 điểm bưu điện văn hóa xã hoạt động ổn định.")
    buffer = io.BytesIO()
    document.save(buffer)
    path = tmp_path / "bao-cao-bcvt.docx"
    path.write_bytes(buffer.getvalue())
    return path


def state_of(cycle_id: int) -> str:
    with session_scope() as session:
        return get_cycle(session, cycle_id).state


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_division_head_submits_in_a_browser(
    prefect_server, database, smtp, tmp_path, monkeypatch
):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("REPORTFLOW_PAUSE_POLL_S", "1")
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-02T09:00:00+07:00")
    SHOTS.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    cycle_id = open_sample_cycle()
    with serving_web():
        flow = start_flow_process(cycle_id, tmp_path / "flow.log")
        try:
            wait_for_pause(cycle_id, "sections-", flow)
            links = wait_until(
                lambda: (
                    (found := links_in_mails(smtp, "bcvt@") | links_in_mails(smtp, "cntt@"))
                    and {"bcvt", "cntt"} <= set(found)
                    and found
                ),
                30,
                "request mails with links",
            )
            submit_indicators(cycle_id, DATA_DIR / "indicators-ttbcxb.yaml", "tp-ttbcxb")
            for key, person in SECTION_HEADS.items():
                if key not in {"bcvt", "cntt"}:
                    submit_section(cycle_id, key, section_md(tmp_path, key), person)

            with sync_playwright() as p:
                browser = launch(p, "--lang=vi")
                try:
                    pages = {
                        name: browser.new_context(
                            viewport={"width": w, "height": h}, locale="vi-VN"
                        ).new_page()
                        for name, (w, h) in WIDTHS.items()
                    }

                    def shoot(name: str) -> None:
                        for width, page in pages.items():
                            page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True)

                    def everywhere(url: str) -> None:
                        for page in pages.values():
                            page.goto(url)

                    desktop, phone = pages["desktop"], pages["phone"]

                    # The refusals: a tampered link, a GET of the confirm address.
                    base, token = links["bcvt"].rsplit("/l/", 1)
                    everywhere(f"{base}/l/{token[:-3]}xyz")
                    assert "Liên kết không đúng" in desktop.inner_text("#refused")
                    shoot("6-link-tampered")
                    before = row_counts()
                    everywhere(f"{links['bcvt']}/confirm")
                    assert "Chưa gửi gì" in desktop.inner_text("#refused")
                    shoot("7-confirm-by-get")
                    assert row_counts() == before, "a GET submits nothing"

                    everywhere(f"{links['bcvt']}/viec-cua-toi")
                    assert "Bưu chính – Viễn thông" in desktop.inner_text("#open")
                    shoot("10-my-work")

                    # The section page; a refused file shows the CLI's message.
                    everywhere(links["bcvt"])
                    assert "Bưu chính – Viễn thông" in desktop.inner_text("h1")
                    shoot("1-section")
                    bad = tmp_path / "bao-cao.pdf"
                    bad.write_bytes(b"%PDF-1.4 not a report")
                    for page in pages.values():
                        page.set_input_files("#file", str(bad))
                        page.click("text=Xem trước")
                    assert "chỉ nhận .docx (Word) hoặc .md (Markdown)" in desktop.inner_text(
                        "#problem"
                    )
                    shoot("3-preview-refused")

                    # Desktop: a .docx, preview, Gửi, receipt.
                    desktop.goto(links["bcvt"])
                    desktop.set_input_files("#file", str(docx_file(tmp_path)))
                    desktop.click("text=Xem trước")
                    assert "84 điểm bưu điện văn hóa xã" in desktop.inner_text("#preview")
                    desktop.screenshot(path=SHOTS / "2-preview-desktop.png", full_page=True)
                    started = time.monotonic()
                    desktop.click("#confirm")
                    desktop.wait_for_selector("#receipt")
                    timings["docx"] = time.monotonic() - started
                    assert desktop.inner_text("#version") == "1"
                    desktop.screenshot(path=SHOTS / "4-receipt-desktop.png", full_page=True)
                    assert state_of(cycle_id) == CycleState.COLLECTING

                    # Phone: the figures form, a wrong figure corrected on the page.
                    phone.goto(links["so-lieu-bcvt"])
                    phone.fill("#v-xa-bdvhx", "84")
                    phone.fill("#v-ty-le-bdvhx", "90/85")
                    phone.click("#send-figures")
                    assert "không thể lớn hơn số tổng" in phone.inner_text("#err-ty-le-bdvhx")
                    phone.screenshot(path=SHOTS / "8-figures-wrong-phone.png", full_page=True)
                    phone.fill("#v-ty-le-bdvhx", "82/85")
                    phone.click("#send-figures")
                    phone.wait_for_selector("#receipt")
                    assert phone.inner_text("#got-ty-le-bdvhx") == "82/85"
                    phone.screenshot(path=SHOTS / "9-figures-received-phone.png", full_page=True)
                    desktop.goto(links["so-lieu-bcvt"])
                    desktop.screenshot(path=SHOTS / "8-figures-desktop.png", full_page=True)

                    # Phone: pasted Markdown, the last section: it resumes the cycle.
                    phone.goto(links["cntt"])
                    phone.fill(
                        "#markdown",
                        "Triển khai **chữ ký số** cho 120 cán bộ.\n\n- Cổng dịch vụ công "
                        "vận hành ổn định.\n- <script>alert(1)</script> không chạy.",
                    )
                    phone.screenshot(path=SHOTS / "1-section-filled-phone.png", full_page=True)
                    phone.click("text=Xem trước")
                    assert "<script>alert(1)</script> không chạy." in phone.inner_text("#preview")
                    phone.screenshot(path=SHOTS / "2-preview-phone.png", full_page=True)
                    started = time.monotonic()
                    phone.click("#confirm")
                    phone.wait_for_selector("#receipt")
                    timings["markdown"] = time.monotonic() - started
                    phone.screenshot(path=SHOTS / "4-receipt-phone.png", full_page=True)

                    wait_until(
                        lambda: state_of(cycle_id) != CycleState.COLLECTING,
                        60,
                        "the cycle leaves collecting",
                        flow,
                    )
                    everywhere(links["bcvt"])
                    assert "các phần tạm khóa" in desktop.inner_text("body")
                    assert desktop.query_selector("#send") is None, "no form once merged"
                    shoot("5-section-after-merge")
                finally:
                    browser.close()
        finally:
            if flow.poll() is None:
                flow.kill()
                flow.wait(10)
    status = CliRunner().invoke(app, ["status", str(cycle_id)], env={"COLUMNS": "200"})
    assert "│ bcvt " in status.output and "đã gửi" in status.output
    print(f"'Gửi' to receipt: {timings}")
    (SHOTS / "timings.txt").write_text(
        "".join(f"{k}: {v * 1000:.0f} ms\n" for k, v in timings.items()), encoding="utf-8"
    )
    assert all(v < 10 for v in timings.values()), timings
    receipts = [m for m in smtp.messages() if "Đã nhận" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in receipts) == [
        "bcvt@stttt.travinh.example",
        "bcvt@stttt.travinh.example",
        "cntt@stttt.travinh.example",
    ], "a receipt e-mail for each web submission (the .docx, the figures, the Markdown)"
