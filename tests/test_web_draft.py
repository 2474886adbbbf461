"""The director's draft page: opened from the approval e-mail, read-only, exactly the draft that
was mailed (its DOCX byte for byte, and a PDF); nobody else's link opens it."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from reportflow.cycle.cycles import get_cycle
from reportflow.cycle.documents import find_document
from reportflow.cycle.links import make_link
from reportflow.cycle.steps import prepare_draft
from reportflow.models import CycleState, session_scope
from reportflow.runtime.smtp_sink import message_text
from tests.browser import CHROMIUM, SCREENSHOTS, launch
from tests.factories import open_sample_cycle, row_counts, submit_everything
from tests.web_server import DRAFT_LINK, serving_web

SHOTS = SCREENSHOTS / "web"


@pytest.fixture
def mailed_draft(database, smtp, tmp_path):
    cycle_id = open_sample_cycle()
    submit_everything(cycle_id, tmp_path)
    with serving_web() as base:
        with session_scope() as session:
            # The flow marks the cycle complete before merging; the flow tests take that path.
            get_cycle(session, cycle_id, for_update=True).state = CycleState.DRAFTING
        prepare_draft(cycle_id)
        (mail,) = [m for m in smtp.messages() if "chờ Giám đốc phê duyệt" in str(m["Subject"])]
        (link,) = DRAFT_LINK.findall(message_text(mail))
        yield cycle_id, base, link


def test_the_director_reads_the_mailed_draft_and_downloads_it(mailed_draft):
    cycle_id, base, link = mailed_draft
    before = row_counts()
    page = httpx.get(link, timeout=30)
    assert page.status_code == 200
    assert "Dự thảo vòng 1 trình Giám đốc" in page.text
    assert "Chỉ đạo các Doanh nghiệp Bưu chính" in page.text  # the bcvt section, as merged
    assert "96,47%" in page.text  # the indicator table, computed as in the document
    docx = httpx.get(f"{link}/du-thao.docx", timeout=30)
    with session_scope() as session:
        draft = find_document(session, cycle_id, "draft", 1)
    assert hashlib.sha256(docx.content).hexdigest() == draft.sha256
    assert draft.sha256[:12] in page.text
    pdf = httpx.get(f"{link}/du-thao.pdf", timeout=180)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert row_counts() == before, "reading changes nothing"


def test_only_the_directors_link_opens_the_draft(mailed_draft):
    cycle_id, base, link = mailed_draft
    token = link.rsplit("/d/", 1)[1]
    tampered = httpx.get(f"{base}/d/{token[:-2]}xx", timeout=30)
    assert tampered.status_code == 403 and "Liên kết không đúng" in tampered.text
    with session_scope() as session:
        head = make_link(session, cycle_id, "bcvt", "tp-bcvt")
    as_draft = httpx.get(head.replace("/l/", "/d/"), timeout=30)
    assert as_draft.status_code == 403, "a division head's link is no draft link"
    assert "Chỉ đạo các Doanh nghiệp" not in as_draft.text


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
def test_the_draft_page_reads_on_a_phone(mailed_draft):
    from playwright.sync_api import sync_playwright

    _, _, link = mailed_draft
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch(p)
        for name, width in (("phone", 390), ("desktop", 1280)):
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(link)
            assert page.locator("#docx").is_visible() and page.locator("#pdf").is_visible()
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"the page scrolls sideways at {width} px"
            page.screenshot(path=str(SHOTS / f"11-director-draft-{name}.png"), full_page=False)
            page.close()
        browser.close()
