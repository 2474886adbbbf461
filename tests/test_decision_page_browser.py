"""The director decides on his phone, on the web app's page behind his own link, in Chromium at
390×844, with a real flow run: a wrong code is said at once in red, one section is sent back and
resubmitted, then the report is approved and the page follows the run to "đã phát hành".

Screenshots go to out/ui/decision-page/."""

from __future__ import annotations

import time

import pytest
from sqlmodel import select

from reportflow.core.config import reload_settings
from reportflow.cycle.collecting.submit import submit_section
from reportflow.cycle.cycles import get_cycle
from reportflow.demo.run import start_flow_process, wait_for_pause, wait_until
from reportflow.models import ApprovalDecision, AuditEvent, CycleState, RegisterEntry, session_scope
from reportflow.runtime.smtp_sink import message_text
from tests.browser import CHROMIUM, SCREENSHOTS, launch
from tests.factories import APPROVAL_CODE, open_sample_cycle, submit_everything
from tests.web_server import DRAFT_LINK, serving_web

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
SHOTS = SCREENSHOTS / "decision-page"
WARN_RED = "rgb(164, 38, 44)"
"""The pages' --warn colour: a refusal is said in red."""


def mailed(smtp, round_no: int) -> tuple[str, str]:
    """The link and code of the round's approval mail."""
    for message in smtp.messages():
        if f"phê duyệt (vòng {round_no})" in str(message["Subject"]):
            text = message_text(message)
            return DRAFT_LINK.findall(text)[0], APPROVAL_CODE.findall(text)[0]
    return ()


def on_first_screen(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_director_decides_on_his_phone(prefect_server, database, smtp, tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-05T09:00:00+07:00")
    reload_settings()
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    cycle_id = open_sample_cycle()
    with serving_web(), sync_playwright() as playwright:
        flow = start_flow_process(cycle_id, tmp_path / "flow.log")
        browser = launch(playwright)
        page = browser.new_page(viewport=PHONE)
        try:
            wait_for_pause(cycle_id, "sections-", flow)
            submit_everything(cycle_id, tmp_path)
            wait_for_pause(cycle_id, "decision-r1", flow)
            link, code = wait_until(lambda: mailed(smtp, 1), 30, "the round-1 mail")

            page.goto(link)
            page.screenshot(path=str(SHOTS / "01-first-screen.png"))
            for shown in ("#pdf", "text=Dự thảo vòng 1 trình Giám đốc", "text=08/6/2020"):
                assert on_first_screen(page, shown), shown
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, "the page scrolls sideways on a phone"

            page.get_by_role("radio", name="Phê duyệt").check()
            page.fill("#code", "0000-0000" if code != "0000-0000" else "1111-1111")
            page.click("#send")
            page.locator("#problem").wait_for()
            assert "Mã phê duyệt không đúng" in page.inner_text("#problem")
            assert on_first_screen(page, "#problem"), "the refusal is the first thing he sees"
            colour = page.eval_on_selector("#problem", "e => getComputedStyle(e).borderLeftColor")
            assert colour == WARN_RED
            page.screenshot(path=str(SHOTS / "02-wrong-code-in-red.png"))

            page.get_by_role("radio", name="Trả lại để sửa").check()
            page.click("#send-back summary")
            page.locator("input[name=send_back][value=bcvt]").check()
            page.fill("textarea[name='note:bcvt']", "Bổ sung số liệu bưu chính quý II")
            page.fill("#code", code)
            page.locator("#send-back").screenshot(path=str(SHOTS / "03-send-back-filled.png"))
            page.click("#send")
            page.locator("#recorded").wait_for()
            assert "trả lại để sửa" in page.inner_text("#recorded")
            page.get_by_text("đã chuyển các phần trả lại").wait_for(timeout=60_000)
            page.screenshot(path=str(SHOTS / "04-sent-back-recorded.png"))
            wait_for_pause(cycle_id, "sections-r2", flow)

            revised = tmp_path / "bcvt-v2.md"
            revised.write_text("- Bổ sung: sản lượng bưu chính quý II tăng 12,5%.\n", "utf-8")
            submit_section(cycle_id, "bcvt", revised, "tp-bcvt")
            wait_for_pause(cycle_id, "decision-r2", flow)
            link2, code2 = wait_until(lambda: mailed(smtp, 2), 30, "the round-2 mail")
            page.goto(link2)
            page.locator("#round-changes").wait_for()
            assert "Bổ sung số liệu bưu chính quý II" in page.inner_text("#round-changes")
            page.screenshot(path=str(SHOTS / "05-round-2.png"))

            page.get_by_role("radio", name="Phê duyệt").check()
            page.fill("#code", code2)
            pressed = time.monotonic()
            page.click("#send")
            page.locator("#recorded").wait_for()
            recorded_s = time.monotonic() - pressed
            page.get_by_text("đã phát hành văn bản số").wait_for(timeout=120_000)
            issued_s = time.monotonic() - pressed
            issued_text = page.inner_text("#progress")
            page.screenshot(path=str(SHOTS / "06-issued.png"))
            assert flow.wait(timeout=120) == 0, (tmp_path / "flow.log").read_text()
        finally:
            page.close()
            browser.close()
            if flow.poll() is None:
                flow.kill()

    with session_scope() as session:
        assert get_cycle(session, cycle_id).state == CycleState.DONE
        entry = session.exec(select(RegisterEntry)).one()
        decisions = session.exec(
            select(ApprovalDecision.round, ApprovalDecision.decision).order_by(ApprovalDecision.id)
        ).all()
        paths = session.exec(
            select(AuditEvent.detail).where(AuditEvent.action == "decision.refused")
        ).all()
    assert [tuple(d) for d in decisions] == [(1, "request_changes"), (2, "approve")]
    assert [p["path"] for p in paths] == ["web"]
    assert entry.number_text in issued_text
    dispatched = [m for m in smtp.messages() if entry.number_text in str(m["Subject"])]
    assert len(dispatched) == 3
    print(f"\nphone page: Gửi → Đã ghi nhận {recorded_s:.1f} s, → đã phát hành {issued_s:.1f} s")
