"""The director decides in the real Prefect UI, driven in Chromium: the classic UI and the V2 UI
that Prefect 3.9 also serves under /v2. A wrong code is asked again with its reason, one section
is sent back and resubmitted, then the report is approved, numbered and dispatched.

Screenshots of each step go to out/ui/<ui>/ in the checkout."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactCollectionFilter, ArtifactCollectionFilterKey
from sqlmodel import select
from typer.testing import CliRunner

from reportflow.cli import app
from reportflow.core.config import reload_settings
from reportflow.cycle.collecting.submit import submit_section
from reportflow.cycle.cycles import get_cycle
from reportflow.demo.run import start_flow_process, wait_for_pause, wait_until
from reportflow.models import AuditEvent, CycleState, RegisterEntry, session_scope
from reportflow.runtime.smtp_sink import attachment_names, message_text
from tests.browser import CHROMIUM, SCREENSHOTS, launch
from tests.factories import approval_codes, open_sample_cycle, submit_everything

pytestmark = pytest.mark.e2e

REQUIRED_LABELS = ["Quyết định", "Mã phê duyệt một lần"]
RESUME_TIMES: dict[str, list[tuple[float, float]]] = {}
"""Seconds from the click on Submit to the run leaving Paused and to the form being handled."""


class ResumeForm:
    """The Resume dialog of one of Prefect's two UIs."""

    def __init__(self, page, ui_url: str, run_id: UUID, folder: Path):
        self.page, self.ui_url, self.run_id, self.folder = page, ui_url, run_id, folder
        self.calls: list[str] = []
        page.on("request", self._seen)

    def _seen(self, request) -> None:
        if "/resume" in request.url:
            self.calls.append(f"{request.method} {request.post_data}")

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.folder / f"{name}.png"))

    def dialog(self):
        raise NotImplementedError

    def open(self) -> None:
        raise NotImplementedError

    def open_on_phone(self) -> None:
        """The same form at a phone's width, for the screenshot."""
        self.open()
        self.shot("01b-resume-form-phone")

    def choose(self, index: int, choice: str) -> None:
        """Picks `choice` in the index-th list of the form (0: the decision)."""
        raise NotImplementedError

    def submit(self) -> None:
        raise NotImplementedError

    def text(self) -> str:
        return self.dialog().inner_text()

    def fill(self, decision: str, code: str, changes: list[tuple[str, str]] = ()) -> None:
        self.choose(0, decision)
        self.dialog().locator("textarea").nth(0).fill(code)
        for index, (section, comment) in enumerate(changes):
            self.dialog().get_by_role("button", name="Add item").click()
            self.choose(1 + index, section)
            self.dialog().locator("textarea").nth(2 + index).fill(comment)


class ClassicForm(ResumeForm):
    def dialog(self):
        return self.page.locator(".p-modal")

    def open(self, timeout_ms: float = 30_000) -> None:
        self.page.goto(f"{self.ui_url}/runs/flow-run/{self.run_id}")
        self.page.get_by_role("button", name="Resume").first.click()
        self.dialog().get_by_text("Mã phê duyệt một lần").first.wait_for(timeout=timeout_ms)

    def open_on_phone(self) -> None:
        # At a phone's width the classic UI moves Resume into the run's ⋮ menu, and draws the
        # dialog shifted off the left edge of the screen (Prefect's CSS).
        self.page.goto(f"{self.ui_url}/runs/flow-run/{self.run_id}")
        self.page.locator(".flow-run-menu button").first.click()
        self.page.get_by_text("Resume", exact=True).click()
        self.dialog().get_by_text("Mã phê duyệt một lần").first.wait_for()
        self.shot("01b-resume-form-phone")

    def choose(self, index: int, choice: str) -> None:
        self.dialog().locator(".p-select-button__control").nth(index).click()
        self.page.keyboard.press("ArrowDown")  # the click alone leaves the list closed
        self.page.get_by_role("option", name=choice, exact=True).click()

    def submit(self) -> None:
        self.dialog().get_by_role("button", name="Submit").click()


class V2Form(ResumeForm):
    def dialog(self):
        return self.page.get_by_role("dialog")

    def open(self) -> None:
        self.page.goto(f"{self.ui_url}/v2/runs/flow-run/{self.run_id}")
        # V2 has no Resume button: it is an item of the run's ⋮ menu, top right.
        self.page.locator("main button[aria-haspopup=menu]").first.click()
        self.page.get_by_role("menuitem", name="Resume").click()
        self.dialog().get_by_text("Mã phê duyệt một lần").first.wait_for()

    def choose(self, index: int, choice: str) -> None:
        self.dialog().locator("button[aria-haspopup=listbox]").nth(index).click()
        self.page.get_by_role("option", name=choice, exact=True).click()

    def submit(self) -> None:
        self.dialog().get_by_role("button", name="Resume", exact=True).click()


FORMS = {"classic": ClassicForm, "v2": V2Form}


@pytest.fixture
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = launch(playwright)
        yield launched
        launched.close()


PHONE = {"width": 390, "height": 844}
FIRST_PX = 100
"""What the director must see without scrolling sits in the top of the form's description box
(the classic UI gives that box about 100 px of height)."""
FIRST_LINES_JS = """(dialog, texts) => {
  const out = {};
  for (const text of texts) {
    const holders = [...dialog.querySelectorAll('*')].filter(
      el => el.textContent.includes(text)
        && ![...el.children].some(child => child.textContent.includes(text)));
    if (!holders.length) { out[text] = null; continue; }
    const el = holders[0];
    let box = el.parentElement;
    while (box && box !== dialog) {
      const style = getComputedStyle(box);
      if (['auto', 'scroll'].includes(style.overflowY)) break;
      box = box.parentElement;
    }
    box = box && box !== dialog ? box : dialog;
    const top = el.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
    const bottom = top + el.getBoundingClientRect().height;
    out[text] = [Math.round(top), Math.round(bottom), box.clientHeight];
  }
  return out;
}"""


def first_lines(form: ResumeForm, texts: list[str]) -> dict[str, list[int] | None]:
    """Where each text sits in the description's own scroll box: [top, bottom, box height]."""
    return form.dialog().evaluate(FIRST_LINES_JS, texts)


def assert_seen_first(form: ResumeForm, texts: list[str], shot: str) -> None:
    form.shot(shot)
    placed = first_lines(form, texts)
    for text, where in placed.items():
        assert where is not None, f"{text!r} is not in the form ({shot})"
        top, bottom, height = where
        assert top < FIRST_PX and bottom <= height, (shot, text, where)


@contextmanager
def sync_browser_page(browser, viewport: dict | None = None) -> Iterator:
    page = browser.new_page(viewport=viewport or {"width": 1280, "height": 900})
    try:
        yield page
    finally:
        page.close()


def _state(run_id: UUID):
    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id).state


def _decisions_seen() -> int:
    with session_scope() as session:
        return len(
            session.exec(select(AuditEvent.id).where(AuditEvent.action.like("decision.%"))).all()
        )


def _submit_and_time(form: ResumeForm, ui: str, fill: Callable[[], None]) -> None:
    """Clicks Submit; measures how long until the run leaves Paused, and until the flow has
    handled the form (its decision, or its refusal, recorded).

    Prefect's dialog sometimes closes on the first Submit of a page without sending anything
    (seen twice in about eight runs, in both UIs). A director would open it again; so does this,
    once, and only when no resume request left the page at all.
    """
    seen = _decisions_seen()
    started = time.monotonic()
    calls = len(form.calls)

    def resumed_or_handled() -> bool:
        # A refused form pauses the run again within one poll of the paused run (1 s): that
        # short Running may fall between two looks, the recorded refusal does not.
        return not _state(form.run_id).is_paused() or _decisions_seen() > seen

    form.submit()
    try:
        wait_until(resumed_or_handled, 15, "run resumed")
    except TimeoutError:
        if len(form.calls) != calls:
            form.shot("submit-not-taken")
            raise AssertionError(f"Submit did not resume the run; calls: {form.calls}") from None
        form.shot("submit-dropped-by-the-ui")
        form.open()
        fill()
        form.submit()
        try:
            wait_until(resumed_or_handled, 60, "run resumed")
        except TimeoutError:
            form.shot("submit-not-taken")
            raise AssertionError(
                f"Submit did not resume the run twice; calls: {form.calls}"
            ) from None
    resumed = time.monotonic() - started
    wait_until(lambda: _decisions_seen() > seen, 60, "form handled")
    RESUME_TIMES.setdefault(ui, []).append((resumed, time.monotonic() - started))


@pytest.mark.parametrize("ui", ["classic", "v2"])
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_director_decides_in_the_prefect_ui(
    ui, prefect_server, database, smtp, browser, tmp_path, monkeypatch
):
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-05T09:00:00+07:00")
    monkeypatch.setenv("REPORTFLOW_PREFECT_UI_URL", prefect_server.removesuffix("/api"))
    monkeypatch.delenv("REPORTFLOW_PAUSE_POLL_S", raising=False)  # the trial's own default
    reload_settings()
    folder = SCREENSHOTS / ui
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()

    cycle_id = open_sample_cycle()
    flow = start_flow_process(cycle_id, tmp_path / "flow.log")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        wait_for_pause(cycle_id, "sections-", flow)
        submit_everything(cycle_id, tmp_path)
        wait_for_pause(cycle_id, "decision-r1", flow)
        (code,) = wait_until(lambda: approval_codes(smtp), 30, "approval mail")
        with session_scope() as session:
            run_id = UUID(get_cycle(session, cycle_id).flow_run_id)
        form = FORMS[ui](page, prefect_server.removesuffix("/api"), run_id, folder)

        form.open()
        form.shot("01-resume-form")
        first = ["Vòng 1", "08/6/2020", "Toàn văn dự thảo"]
        sizes = [(1366, 768), (1920, 1080)] if ui == "classic" else [(390, 844)]
        for width, height in sizes:
            with sync_browser_page(browser, {"width": width, "height": height}) as sized:
                other = FORMS[ui](sized, form.ui_url, run_id, folder)
                other.open()
                time.sleep(0.5)  # the dialog's opening animation
                assert_seen_first(other, first, f"01c-first-lines-{width}x{height}")
        with sync_browser_page(browser, PHONE) as phone:
            FORMS[ui](phone, form.ui_url, run_id, folder).open_on_phone()
        text = form.text()
        for label in REQUIRED_LABELS:
            assert label in text
            assert f"{label} (Optional)" not in text, f"{label} is required"
        for english in ("Decision", "Approver", "Approval Code", "DecisionChoice"):
            assert english not in text

        wrong = "0000-0000" if code != "0000-0000" else "1111-1111"

        def fill_wrong() -> None:
            form.fill("Phê duyệt", wrong)

        fill_wrong()
        form.shot("02-wrong-code-filled")
        _submit_and_time(form, ui, fill_wrong)
        form.shot("03-wrong-code-submitted")
        wait_for_pause(cycle_id, "decision-r1-w1", flow)
        form.open()
        time.sleep(0.5)
        form.shot("04-asked-again-with-reason")
        reason_first = ["Lần trước chưa được chấp nhận", "Vòng 1", "Toàn văn dự thảo"]
        assert_seen_first(form, reason_first, "04b-reason")
        for width, height in sizes:
            with sync_browser_page(browser, {"width": width, "height": height}) as sized:
                other = FORMS[ui](sized, form.ui_url, run_id, folder)
                other.open()
                time.sleep(0.5)
                assert_seen_first(other, reason_first, f"04c-reason-{width}x{height}")
        text = form.text()
        assert text.index("Lần trước chưa được chấp nhận") < text.index("Vòng 1")
        assert "Mã phê duyệt không đúng" in text

        def fill_send_back() -> None:
            form.fill(
                "Trả lại để sửa",
                code,
                [("bcvt · Bưu chính – Viễn thông", "Bổ sung số liệu bưu chính quý II")],
            )

        fill_send_back()
        form.shot("05-send-one-section-back")
        _submit_and_time(form, ui, fill_send_back)
        wait_for_pause(cycle_id, "sections-r2", flow)
        revised = tmp_path / "bcvt-v2.md"
        revised.write_text("- Bổ sung: sản lượng bưu chính quý II tăng 12,5%.\n", encoding="utf-8")
        submit_section(cycle_id, "bcvt", revised, "tp-bcvt")
        wait_for_pause(cycle_id, "decision-r2", flow)
        codes = wait_until(lambda: (c := approval_codes(smtp)) and len(c) == 2 and c, 30, "mail")

        form.open()
        time.sleep(0.5)
        form.shot("06-round-2-form")
        assert_seen_first(form, ["Vòng 2", "Xem thay đổi"], "06a-round-2-first")
        assert "Vòng 2" in form.text() and "Thay đổi từ vòng 1" in form.text()
        changes_link = form.dialog().get_by_role("link", name="Xem thay đổi")
        draft_link = form.dialog().get_by_role("link", name="Toàn văn dự thảo")
        links = [changes_link.get_attribute("href"), draft_link.get_attribute("href")]
        page.goto(links[0], wait_until="networkidle")
        page.get_by_text("phiên bản 1 → 2").first.wait_for()
        assert "sản lượng bưu chính quý II tăng 12,5%" in page.inner_text("body")
        form.shot("06b-round-2-changes-artifact")
        page.goto(links[1], wait_until="networkidle")
        page.get_by_text("Dự thảo vòng 2").first.wait_for()
        form.shot("06c-round-2-draft-artifact")
        form.open()

        def fill_approve() -> None:
            form.fill("Phê duyệt", codes[1])

        fill_approve()
        _submit_and_time(form, ui, fill_approve)
        assert flow.wait(timeout=120) == 0, (tmp_path / "flow.log").read_text()
        page.goto(
            f"{form.ui_url}{'/v2' if ui == 'v2' else ''}/runs/flow-run/{run_id}",
            wait_until="networkidle",
        )
        page.get_by_text("Completed").first.wait_for()
        form.shot("07-completed")
    finally:
        page.close()
        if flow.poll() is None:
            flow.kill()

    with session_scope() as session:
        assert get_cycle(session, cycle_id).state == CycleState.DONE
        entry = session.exec(select(RegisterEntry)).one()
        refused = session.exec(
            select(AuditEvent).where(AuditEvent.action == "decision.refused")
        ).all()
    assert [e.detail["reason"] for e in refused] == [refused[0].detail["reason"]]
    assert "Mã phê duyệt không đúng" in refused[0].detail["reason"]
    dispatched = [m for m in smtp.messages() if entry.number_text in str(m["Subject"])]
    assert len(dispatched) == 3
    trail = CliRunner().invoke(app, ["audit", str(cycle_id)], terminal_width=250)
    assert trail.exit_code == 0, trail.output
    said = " ".join(trail.output.split())
    for event in (
        "Mở kỳ báo cáo theo Công văn 850/SKHĐT-THKTKG",
        "Nộp phần bcvt, phiên bản 2",
        "Tổng hợp dự thảo vòng 2, SHA-256",
        "Quyết định vòng 1 gửi qua giao diện Prefect bị từ chối: Mã phê duyệt không đúng",
        "Quyết định: trả lại để sửa (vòng 1); phần trả lại: bcvt",
        "Quyết định: phê duyệt (vòng 2)",
        f"Cấp số văn bản {entry.number_text}",
        "Đã gửi văn bản phát hành tới",
    ):
        assert event in said, event
    assert said.index("bị từ chối") < said.index("trả lại để sửa (vòng 1)")
    with get_client(sync_client=True) as client:
        artifact = client.read_latest_artifacts(
            artifact_filter=ArtifactCollectionFilter(
                key=ArtifactCollectionFilterKey(any_=[f"cycle-{cycle_id}-audit"])
            )
        )
    rows = json.loads(artifact[0].data)
    assert [r["Sự việc"] for r in rows if r["Sự việc"].startswith("Cấp số")] == [
        f"Cấp số văn bản {entry.number_text}; người ký: GIÁM ĐỐC Trần Văn Khoản"
    ]
    with sync_browser_page(browser) as page:
        page.goto(
            f"{prefect_server.removesuffix('/api')}/artifacts/artifact/{artifact[0].latest_id}",
            wait_until="networkidle",
        )
        page.get_by_text(f"Cấp số văn bản {entry.number_text}").first.wait_for()
        page.screenshot(path=str(folder / "08-audit-trail-artifact.png"))
    asked = [m for m in smtp.messages() if "chờ Giám đốc phê duyệt" in str(m["Subject"])]
    assert len(asked) == 2
    if shutil.which("soffice"):
        assert attachment_names(asked[1]) == ["du-thao-vong-2.docx", "du-thao-vong-2.pdf"]
    else:  # the DOCX goes anyway, and the mail says why there is no PDF
        assert attachment_names(asked[1]) == ["du-thao-vong-2.docx"]
        assert "chưa tạo được bản PDF: Không tìm thấy LibreOffice" in message_text(asked[1])
    print(
        f"\n{ui}: Submit → run resumed / form handled: "
        + ", ".join(f"{a:.1f} s / {b:.1f} s" for a, b in RESUME_TIMES[ui])
    )
