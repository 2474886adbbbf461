"""The web pages take only what they should (issue 19, part 3): file names cleaned on every path,
every error the app's own Vietnamese page with its headers, a confirm sent twice stored once,
HEAD answered as GET, and a short secret key refused before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from reportflow.cycle.collecting.submit import submit_section
from reportflow.demo.run import wait_until
from reportflow.document.reading.file_names import MAX_FILE_NAME_CHARS, clean_file_name
from reportflow.runtime.smtp_sink import message_text
from tests.factories import row_counts, section_md
from tests.test_web import CSRF, DATA, SUBMISSION, assert_plain_page, preview, versions, web
from tests.web_server import links_in_mails

__all__ = ["web"]

SECURITY_HEADERS = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}


def assert_app_page(response: httpx.Response, status: int, tmp) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    for header, value in SECURITY_HEADERS.items():
        assert response.headers.get(header) == value, header
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert_plain_page(response, tmp)
    assert '"detail"' not in response.text, "not FastAPI's JSON"


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("bao\x00cao.md", "baocao.md"),
        ("bao-cao.md\r\nBcc: ke-gian@example.com", "bao-cao.mdBcc: ke-gian@example.com"),
        ("hoa-don\u202egpj.md", "hoa-dongpj.md"),
        ("C:\\Users\\hai\\Báo cáo.docx", "Báo cáo.docx"),
        ("../../etc/passwd", "passwd"),
        (unicodedata.normalize("NFD", "Bưu chính.md"), "Bưu chính.md"),
        ("\u200b\u2066.md\u2069", ".md"),
    ],
)
def test_a_file_name_is_cleaned(sent, kept):
    cleaned = clean_file_name(sent)
    assert cleaned == kept
    assert unicodedata.is_normalized("NFC", cleaned)


def test_a_long_file_name_is_cut_keeping_its_extension():
    cleaned = clean_file_name("a" * 5_000 + ".docx")
    assert len(cleaned) == MAX_FILE_NAME_CHARS and cleaned.endswith("a.docx")
    assert clean_file_name("b" * 5_000) == "b" * MAX_FILE_NAME_CHARS


def confirm_with(link: str, shown: str, filename: str) -> httpx.Response:
    data = {
        "csrf": CSRF.search(shown).group(1),
        "filename": filename,
        "data": DATA.search(shown).group(1),
        "submission": SUBMISSION.search(shown).group(1),
    }
    return httpx.post(
        f"{link}/confirm", data=data, files={"x": ("", b"")}, timeout=60, follow_redirects=True
    )


def receipt_mails(smtp, person: str) -> list:
    return [
        m for m in smtp.messages() if person in str(m["To"]) and "Đã nhận phần" in str(m["Subject"])
    ]


def test_a_hostile_hidden_file_name_is_stored_and_mailed_clean(web):
    link = links_in_mails(web["smtp"], "bcvt@")["bcvt"]
    csrf = CSRF.search(httpx.get(link, timeout=30).text).group(1)
    shown = preview(link, csrf, markdown="Doanh thu bưu chính tăng 12%.")
    hostile = "bao\x00cao\r\nBcc: ke-gian@example.com\u202egpj" + "x" * 5_000 + ".md"
    receipt = confirm_with(link, shown.text, hostile)
    assert receipt.status_code == 200 and str(receipt.url).endswith("/receipt/1")
    [stored] = versions(web["cycle"], "bcvt")
    assert stored.source_name == clean_file_name(hostile)
    assert len(stored.source_name) == MAX_FILE_NAME_CHARS and stored.source_name.endswith(".md")
    for bad in ("\x00", "\r", "\n", "\u202e"):
        assert bad not in stored.source_name
    assert "\x00" not in receipt.text and "\u202e" not in receipt.text
    [mail] = wait_until(lambda: receipt_mails(web["smtp"], "bcvt@"), 20, "the receipt e-mail")
    assert mail["Bcc"] is None and "ke-gian" not in str(mail["To"])
    body = message_text(mail)
    assert "\x00" not in body and "\u202e" not in body
    assert "Bcc: ke-gian" not in body.replace("caoBcc: ke-gian", "")


def test_the_cli_cleans_the_name_of_the_file_it_is_given(database, tmp_path):
    from tests.factories import open_sample_cycle

    cycle_id = open_sample_cycle()
    source = section_md(tmp_path, "bcvt")
    odd = source.with_name("bao\u202ecao\u200b.md")
    source.rename(odd)
    submit_section(cycle_id, "bcvt", odd, "tp-bcvt")
    [stored] = versions(cycle_id, "bcvt")
    assert stored.source_name == "baocao.md"


def test_the_same_confirm_sent_twice_stores_one_version_and_mails_one_receipt(web):
    link = links_in_mails(web["smtp"], "bcvt@")["bcvt"]
    csrf = CSRF.search(httpx.get(link, timeout=30).text).group(1)
    shown = preview(link, csrf, markdown="Doanh thu bưu chính tăng 12%.")
    first = confirm_with(link, shown.text, "bao-cao.md")
    again = confirm_with(link, shown.text, "bao-cao.md")
    assert str(first.url).endswith("/receipt/1") and str(again.url).endswith("/receipt/1")
    assert [v.version_no for v in versions(web["cycle"], "bcvt")] == [1]
    wait_until(lambda: receipt_mails(web["smtp"], "bcvt@"), 20, "the receipt e-mail")
    # The resend's mail would have gone by now: the first one went within the same wait.
    second = preview(link, csrf, markdown="Một nội dung khác.")
    assert str(confirm_with(link, second.text, "bao-cao.md").url).endswith("/receipt/2")
    wait_until(lambda: len(receipt_mails(web["smtp"], "bcvt@")) == 2, 20, "the second receipt")
    assert [v.version_no for v in versions(web["cycle"], "bcvt")] == [1, 2]
    assert len(receipt_mails(web["smtp"], "bcvt@")) == 2, "one mail per version"


def test_eight_presses_of_the_same_confirm_at_once_store_one_version(web):
    """The presses race: each holds the cycle only FOR SHARE, and the section's row is the lock
    under which the first press's key is found by the others."""
    link = links_in_mails(web["smtp"], "bcvt@")["bcvt"]
    csrf = CSRF.search(httpx.get(link, timeout=30).text).group(1)
    shown = preview(link, csrf, markdown="Doanh thu bưu chính tăng 12%.").text
    start = threading.Barrier(8)

    def press(_: int) -> str:
        start.wait()
        return str(confirm_with(link, shown, "bao-cao.md").url)

    with ThreadPoolExecutor(8) as pool:
        landed = list(pool.map(press, range(8)))
    assert all(url.endswith("/receipt/1") for url in landed), landed
    assert [v.version_no for v in versions(web["cycle"], "bcvt")] == [1]
    wait_until(lambda: receipt_mails(web["smtp"], "bcvt@"), 20, "the receipt e-mail")
    time.sleep(2)
    assert len(receipt_mails(web["smtp"], "bcvt@")) == 1


def test_every_error_is_the_apps_vietnamese_page_with_its_headers(web):
    link = links_in_mails(web["smtp"], "bcvt@")["bcvt"]
    base, tmp = web["base"], web["tmp"]
    huge_number = httpx.get(f"{link}/receipt/99999999999999999999999", timeout=30)
    assert_app_page(huge_number, 404, tmp)
    assert "Không có trang này" in huge_number.text
    assert_app_page(httpx.get(f"{base}/l/x/receipt/abc", timeout=30), 403, tmp)
    assert_app_page(httpx.get(f"{link}/receipt/abc", timeout=30), 404, tmp)
    assert_app_page(httpx.get(f"{base}/khong-co", timeout=30), 404, tmp)
    wrong_method = httpx.delete(link, timeout=30)
    assert_app_page(wrong_method, 405, tmp)
    assert "Không làm được thao tác này" in wrong_method.text
    no_length = httpx.post(
        f"{link}/preview", content=iter([b"x"]), headers={"content-type": "text/plain"}
    )
    assert_app_page(no_length, 413, tmp)


def test_head_on_a_link_answers_as_get_without_a_body_and_changes_nothing(web):
    link = links_in_mails(web["smtp"], "bcvt@")["bcvt"]
    before = row_counts()
    head = httpx.head(link, timeout=30)
    get = httpx.get(link, timeout=30)
    assert head.status_code == get.status_code == 200
    assert head.content == b"" and len(get.content) > 1_000
    assert head.headers["x-frame-options"] == "DENY"
    assert httpx.head(f"{web['base']}/l/sai", timeout=30).status_code == 403
    assert row_counts() == before


def test_the_health_check_names_each_dependency_and_fails_with_one(web):
    base = web["base"]
    assert httpx.get(f"{base}/healthz", timeout=30).text.splitlines() == [
        "ok",
        "cơ sở dữ liệu: ok",
        "khóa bí mật: ok",
    ]
    key = web["tmp"] / "data" / "secret.key"
    assert key.is_file(), "the test's own key file, made when the links were signed"
    key.write_bytes(b"short")
    broken = httpx.get(f"{base}/healthz", timeout=30)
    assert broken.status_code == 503
    assert broken.text.splitlines() == ["lỗi", "cơ sở dữ liệu: ok", "khóa bí mật: lỗi"]


@pytest.mark.parametrize("command", [["web", "--port", "1"], ["serve"], ["status"]])
def test_a_short_secret_key_is_refused_in_one_vietnamese_line(command, tmp_path):
    env = {
        **os.environ,
        "REPORTFLOW_SECRET_KEY": "short",
        "REPORTFLOW_DATA_DIR": str(tmp_path),
        "COLUMNS": "80",
    }
    env.pop("REPORTFLOW_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "reportflow.cli", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "REPORTFLOW_SECRET_KEY cần ít nhất 32 ký tự" in lines[0]
    assert "short" not in lines[0].replace("REPORTFLOW", ""), "the key itself is not shown"
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_a_person_sees_the_error_page_and_the_cleaned_name(web):
    """Screenshots for a person's eye: out/ui/web-error-405.png, out/ui/web-receipt-clean.png."""
    from playwright.sync_api import sync_playwright

    from tests.browser import SCREENSHOTS, launch

    link = links_in_mails(web["smtp"], "bcvt@")["bcvt"]
    csrf = CSRF.search(httpx.get(link, timeout=30).text).group(1)
    shown = preview(link, csrf, markdown="Doanh thu bưu chính tăng 12%.")
    receipt = confirm_with(link, shown.text, "Báo\u202ecáo\x00 quý II.md")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 390, "height": 700})
        page.goto(str(receipt.url))
        assert "Báocáo quý II.md" in page.inner_text("body")
        page.screenshot(path=str(SCREENSHOTS / "web-receipt-clean.png"), full_page=True)
        page.goto(f"{link}/receipt/99999999999999999999999")
        assert "Không có trang này" in page.inner_text("body")
        page.screenshot(path=str(SCREENSHOTS / "web-error-404.png"), full_page=True)
        browser.close()
