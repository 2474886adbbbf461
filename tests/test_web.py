"""The division heads' web route over real HTTP: uvicorn on a free port, the links read from the
request e-mails the SMTP sink stored, a real database on both backends."""

from __future__ import annotations

import io
import os
import re

import docx
import httpx
import pytest
from sqlmodel import select
from typer.testing import CliRunner

from reportflow.cli import app
from reportflow.core.config import reload_settings
from reportflow.core.errors import UserError
from reportflow.cycle.collecting.submit import read_section_bytes
from reportflow.cycle.links import make_link, sign, verify
from reportflow.cycle.steps import request_sections
from reportflow.demo.run import wait_until
from reportflow.models import OutboxMessage, SectionVersion, session_scope
from reportflow.runtime.smtp_sink import message_text
from tests.factories import open_sample_cycle, row_counts
from tests.web_server import links_in_mails, serving_web

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
DATA = re.compile(r'name="data" value="([A-Za-z0-9+/=]*)"')
FILENAME = re.compile(r'name="filename" value="([^"]*)"')
SUBMISSION = re.compile(r'name="submission" value="([^"]*)"')


@pytest.fixture
def web(database, smtp, tmp_path):
    cycle_id = open_sample_cycle()
    with serving_web() as base:
        request_sections(cycle_id)
        yield {"cycle": cycle_id, "base": base, "smtp": smtp, "tmp": tmp_path}


def docx_bytes(*paragraphs: str) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def versions(cycle_id: int, key: str) -> list[SectionVersion]:
    from reportflow.models import SectionAssignment

    with session_scope() as session:
        return list(
            session.exec(
                select(SectionVersion)
                .join(SectionAssignment, SectionAssignment.id == SectionVersion.assignment_id)
                .where(SectionAssignment.cycle_id == cycle_id, SectionAssignment.section_key == key)
                .order_by(SectionVersion.version_no)
            )
        )


def preview(link: str, csrf: str, **parts) -> httpx.Response:
    files = {"file": parts["file"]} if "file" in parts else {"file": ("", b"")}
    data = {"csrf": csrf, "markdown": parts.get("markdown", "")}
    return httpx.post(f"{link}/preview", data=data, files=files, timeout=30)


def confirm(link: str, page: str) -> httpx.Response:
    data = {
        "csrf": CSRF.search(page).group(1),
        "filename": FILENAME.search(page).group(1),
        "data": DATA.search(page).group(1),
        "submission": SUBMISSION.search(page).group(1),
    }
    return httpx.post(
        f"{link}/confirm", data=data, files={"x": ("", b"")}, timeout=60, follow_redirects=True
    )


def assert_plain_page(response: httpx.Response, tmp) -> None:
    """No server path, no traceback: a page in Vietnamese."""
    assert str(tmp) not in response.text and "/work/" not in response.text
    assert "Traceback" not in response.text and 'lang="vi"' in response.text


def test_the_request_mail_link_opens_the_section_and_a_docx_goes_through_preview_to_receipt(web):
    links = links_in_mails(web["smtp"], "bcvt@")
    assert set(links) == {"bcvt", "so-lieu-bcvt"}, "BCVT's head: his text section, his figures"
    link = links["bcvt"]
    page = httpx.get(link, timeout=30)
    assert page.status_code == 200
    assert "Bưu chính – Viễn thông" in page.text and "Hạn gửi" in page.text
    assert "Võ Thanh Hải" in page.text, "the page knows who opened it: the link says who"
    # The report's headings numbered as the document numbers them (I., 1., 2.1., "*" marked).
    outline = re.findall(r'<li class="(current)?" style="[^"]*">([^<]*)</li>', page.text)
    assert outline[:6] == [
        (
            "",
            "I. KẾT QUẢ TRIỂN KHAI THỰC HIỆN NHIỆM VỤ PHÁT TRIỂN KINH TẾ - XÃ HỘI 6 THÁNG ĐẦU NĂM",
        ),
        ("", "1. Công tác tham mưu và ban hành các văn bản chỉ đạo, điều hành"),
        ("", "2. Công tác thực hiện nhiệm vụ chuyên môn"),
        ("", "2.1. Về Thông tin - Báo chí - Xuất bản"),
        ("", "2.2. Về Bưu chính - Viễn thông, Công nghệ thông tin"),
        ("current", "* Bưu chính – Viễn thông"),
    ]
    assert ("", "2.3. Về công tác thanh tra, kiểm tra, giải quyết khiếu nại, tố cáo") in outline
    assert "Chưa gửi phiên bản nào" in page.text

    shown = preview(
        link,
        CSRF.search(page.text).group(1),
        file=("bao-cao.docx", docx_bytes("Doanh thu bưu chính tăng 12%.", "<b>không đậm</b>")),
    )
    assert shown.status_code == 200 and 'id="confirm"' in shown.text
    assert "Doanh thu bưu chính tăng 12%." in shown.text
    assert "&lt;b&gt;không đậm&lt;/b&gt;" in shown.text, "submitted text is escaped"
    assert versions(web["cycle"], "bcvt") == [], "a preview stores nothing"

    receipt = confirm(link, shown.text)
    assert receipt.status_code == 200 and str(receipt.url).endswith("/receipt/1")
    assert re.search(
        r"Phiên bản số <b id=\"version\">1</b>, nhận lúc <b>\d\d:\d\d ngày \d\d/\d\d/\d{4}</b>",
        receipt.text,
    )
    stored = versions(web["cycle"], "bcvt")
    assert [(v.version_no, v.submitted_by, v.source_format) for v in stored] == [
        (1, "tp-bcvt", "docx")
    ]
    status = CliRunner().invoke(app, ["status", str(web["cycle"])], env={"COLUMNS": "200"})
    assert re.search(r"│ bcvt +│[^\n]*│ đã gửi +│ 1 +│", status.output), status.output

    def receipt_mails():
        return [
            m
            for m in web["smtp"].messages()
            if "bcvt@" in str(m["To"]) and "Đã nhận phần" in str(m["Subject"])
        ]

    [mail] = wait_until(receipt_mails, 20, "the receipt e-mail")
    assert str(mail["Subject"]).endswith('"Bưu chính – Viễn thông", phiên bản 1')
    body = message_text(mail)
    assert "Phiên bản số 1, nhận lúc" in body and "tệp: bao-cao.docx" in body
    assert "/l/" not in body, "the receipt carries no link"

    again = httpx.get(link, timeout=30)
    assert "Doanh thu bưu chính tăng 12%." in again.text and "bao-cao.docx (Word)" in again.text


def test_pasted_markdown_is_previewed_escaped_and_stored(web):
    link = links_in_mails(web["smtp"], "cntt@")["cntt"]
    page = httpx.get(link, timeout=30)
    text = "Triển khai **chữ ký số** cho 120 cán bộ.\n\n- {{ 7*7 }} <script>alert(1)</script>\n"
    shown = preview(link, CSRF.search(page.text).group(1), markdown=text)
    assert "<strong>chữ ký số</strong>" in shown.text
    rendered = re.search(r'id="preview">(.*?)</div>', shown.text, re.S).group(1)
    assert "{{ 7*7 }} &lt;script&gt;" in rendered and "49" not in rendered
    receipt = confirm(link, shown.text)
    assert receipt.status_code == 200
    [stored] = versions(web["cycle"], "cntt")
    assert (stored.source_format, stored.submitted_by) == ("markdown", "tp-cntt")
    assert stored.source_bytes.decode() == text


def test_the_link_is_signed_at_send_time_and_never_stored(web):
    with session_scope() as session:
        bodies = [r.body for r in session.exec(select(OutboxMessage)) if r.body]
    assert bodies and any("[[reportflow-link:" in b for b in bodies)
    assert not any("/l/" in b for b in bodies), "no bearer link in the database"


def test_tampered_expired_foreign_and_revoked_links_are_refused(web):
    cycle_id, tmp = web["cycle"], web["tmp"]
    link = links_in_mails(web["smtp"], "bcvt@")["bcvt"]
    base, token = link.rsplit("/l/", 1)
    payload, signature = token.split(".")

    tampered = httpx.get(f"{base}/l/{payload}.{signature[:-2]}AA", timeout=30)
    assert tampered.status_code == 403 and "Liên kết không đúng" in tampered.text
    assert_plain_page(tampered, tmp)

    own = verify(token)
    someone_else = sign(cycle_id, "bcvt", "tp-cntt", 0, own.expires)
    foreign = httpx.get(f"{base}/l/{someone_else}", timeout=30)
    assert foreign.status_code == 403 and "đơn vị khác phụ trách" in foreign.text

    swapped = sign(cycle_id, "bcvt", "tp-cntt", 0, own.expires).split(".")[0]
    forged = httpx.get(f"{base}/l/{swapped}.{signature}", timeout=30)
    assert forged.status_code == 403 and "Liên kết không đúng" in forged.text

    expired = httpx.get(f"{base}/l/{sign(cycle_id, 'bcvt', 'tp-bcvt', 0, 1_000_000)}", timeout=30)
    assert expired.status_code == 410 and "hết hạn" in expired.text
    assert_plain_page(expired, tmp)

    before = row_counts()
    result = CliRunner().invoke(app, ["link", "revoke", str(cycle_id), "bcvt", "tp-bcvt"])
    assert result.exit_code == 0, result.output
    new_link = re.search(r"(http\S+/l/\S+)", result.output.replace("\n", "")).group(1)
    assert row_counts()["weblinkgeneration"] == before["weblinkgeneration"] + 1
    revoked = httpx.get(link, timeout=30)
    assert revoked.status_code == 403 and "thu hồi" in revoked.text
    assert httpx.get(new_link, timeout=30).status_code == 200


def test_nothing_changes_without_a_post_and_its_token(web):
    link = links_in_mails(web["smtp"], "bcvt@")["bcvt"]
    page = httpx.get(link, timeout=30)
    shown = preview(link, CSRF.search(page.text).group(1), markdown="Nội dung thử.")
    before = row_counts()
    get_confirm = httpx.get(f"{link}/confirm", timeout=30)
    assert "Chưa gửi gì" in get_confirm.text
    get_receipt = httpx.get(f"{link}/receipt/1", timeout=30)
    assert get_receipt.status_code == 404
    forged = httpx.post(
        f"{link}/confirm",
        data={"csrf": "0" * 64, "filename": "a.md", "data": DATA.search(shown.text).group(1)},
        timeout=30,
    )
    assert forged.status_code == 403 and "Biểu mẫu không hợp lệ" in forged.text
    assert row_counts() == before


def test_uploads_get_the_cli_refusals_and_the_size_is_checked_before_reading(web, monkeypatch):
    link = links_in_mails(web["smtp"], "bcvt@")["bcvt"]
    csrf = CSRF.search(httpx.get(link, timeout=30).text).group(1)
    before = row_counts()
    bad = b"\xff\xfe not utf-8"
    with pytest.raises(UserError) as cli_refusal:
        read_section_bytes(bad, "so-lieu.md")
    shown = preview(link, csrf, file=("so-lieu.md", bad))
    assert str(cli_refusal.value) in shown.text.replace("&#39;", "'")
    assert 'id="confirm"' not in shown.text

    pdf = preview(link, csrf, file=("bao-cao.pdf", b"%PDF-1.4"))
    assert "chỉ nhận .docx (Word) hoặc .md (Markdown)" in pdf.text

    os.environ["REPORTFLOW_MAX_UPLOAD_BYTES"] = "20000"
    reload_settings()
    big = preview(link, csrf, file=("lon.md", b"a" * 21_000))
    assert "quá lớn" in big.text and 'id="confirm"' not in big.text
    huge = preview(link, csrf, file=("rat-lon.md", b"a" * 200_000))
    assert huge.status_code == 413 and "Tệp quá lớn" in huge.text
    assert_plain_page(huge, web["tmp"])
    assert row_counts() == before


def test_only_the_health_check_answers_without_a_link_and_each_link_is_rate_limited(web):
    base = web["base"]
    health = httpx.get(f"{base}/healthz", timeout=30)
    assert health.text.splitlines() == ["ok", "cơ sở dữ liệu: ok", "khóa bí mật: ok"]
    for path in ("/", "/docs", "/openapi.json", "/l/", "/static/x", "/l/abc/receipt/1"):
        response = httpx.get(f"{base}{path}", timeout=30)
        assert response.status_code in (403, 404), path
        assert_plain_page(response, web["tmp"])

    os.environ["REPORTFLOW_WEB_REQUESTS_PER_MINUTE"] = "4"
    reload_settings()
    link = links_in_mails(web["smtp"], "cntt@")["cntt"]
    codes = [httpx.get(link, timeout=30).status_code for _ in range(6)]
    assert codes[:4] == [200] * 4 and codes[4:] == [429, 429]
    other = links_in_mails(web["smtp"], "bcvt@")["bcvt"]
    assert httpx.get(other, timeout=30).status_code == 200, "the limit is per link"


def test_a_cycle_that_ended_ends_its_links(web):
    from reportflow.models import Cycle, CycleState

    link = links_in_mails(web["smtp"], "bcvt@")["bcvt"]
    with session_scope() as session:
        cycle = session.get(Cycle, web["cycle"])
        cycle.state = CycleState.DONE
        session.add(cycle)
        fresh = make_link(session, web["cycle"], "bcvt", "tp-bcvt")
    assert httpx.get(fresh, timeout=30).status_code == 410
    ended = httpx.get(link, timeout=30)
    assert ended.status_code == 410 and "đã kết thúc" in ended.text


def test_check_reports_whether_the_web_address_answers(web, refused_port):
    from reportflow.runtime.health import _web

    answering = _web()
    assert (answering.severity, answering.detail) == ("ok", f"{web['base']} trả lời")

    os.environ["REPORTFLOW_WEB_URL"] = f"http://127.0.0.1:{refused_port}"
    reload_settings()
    silent = _web()
    assert silent.severity == "lỗi" and f"127.0.0.1:{refused_port} không trả lời" in silent.detail

    os.environ["REPORTFLOW_WEB_URL"] = ""
    reload_settings()
    assert _web().severity == "cảnh báo" and "REPORTFLOW_WEB_URL" in _web().detail
    result = CliRunner().invoke(app, ["check"], env={"COLUMNS": "200"})
    assert "Trang web gửi báo cáo" in result.output


def test_the_figures_form_checks_each_field_with_the_cli_rules(web):
    from reportflow.definitions.indicators import IndicatorValueError, read_indicator
    from reportflow.definitions.schema import IndicatorSpec
    from reportflow.models import IndicatorValue

    link = links_in_mails(web["smtp"], "bcvt@")["so-lieu-bcvt"]
    page = httpx.get(link, timeout=30)
    assert "Số xã có bưu điện văn hóa xã" in page.text and "Kế hoạch: 98,82" in page.text
    csrf = CSRF.search(page.text).group(1)
    before = row_counts()
    wrong = httpx.post(
        f"{link}/figures",
        data={"csrf": csrf, "v:xa-bdvhx": "84", "v:ty-le-bdvhx": "90/85"},
        files={"x": ("", b"")},
        timeout=30,
    )
    assert wrong.status_code == 422
    with session_scope() as session:
        from reportflow.cycle.cycles import cycle_definition
        from reportflow.models import Cycle

        spec: IndicatorSpec = cycle_definition(session, session.get(Cycle, web["cycle"])).indicator(
            "ty-le-bdvhx"
        )
    with pytest.raises(IndicatorValueError) as cli_says:
        read_indicator(spec, "90/85")
    error = re.search(r'id="err-ty-le-bdvhx">([^<]*)<', wrong.text).group(1)
    assert error == str(cli_says.value).replace("'", "&#39;").replace('"', "&#34;")
    assert 'id="err-xa-bdvhx"' not in wrong.text
    assert 'value="90/85"' in wrong.text, "what was typed stays in the field"
    assert row_counts() == before, "one wrong figure: nothing stored"

    fixed = httpx.post(
        f"{link}/figures",
        data={"csrf": csrf, "v:xa-bdvhx": "84", "v:ty-le-bdvhx": "82/85"},
        files={"x": ("", b"")},
        timeout=30,
        follow_redirects=True,
    )
    assert fixed.status_code == 200 and str(fixed.url).endswith("/figures/received")
    assert re.search(r'id="got-ty-le-bdvhx">82/85<', fixed.text)
    with session_scope() as session:
        stored = session.exec(
            select(IndicatorValue).where(IndicatorValue.cycle_id == web["cycle"])
        ).all()
    assert sorted((v.indicator_code, v.value_text, v.submitted_by) for v in stored) == [
        ("ty-le-bdvhx", "82/85", "tp-bcvt"),
        ("xa-bdvhx", "84", "tp-bcvt"),
    ]

    second = open_sample_cycle()
    with session_scope() as session:
        next_link = make_link(session, second, "so-lieu-bcvt", "tp-bcvt")
    assert "Kỳ trước: 82/85" in httpx.get(next_link, timeout=30).text


def test_my_work_lists_the_persons_open_assignments_across_cycles(web):
    from reportflow.cycle.collecting.submit import submit_section
    from tests.factories import section_md

    link = links_in_mails(web["smtp"], "vanphong@")["tham-muu"]
    second = open_sample_cycle()
    submit_section(web["cycle"], "danh-gia", section_md(web["tmp"], "danh-gia"), "chanhvp")
    page = httpx.get(f"{link}/viec-cua-toi", timeout=30)
    assert page.status_code == 200 and "Nguyễn Thị Lan" in page.text
    open_part, _, done_part = page.text.partition('id="done"')
    tokens = re.findall(r'<li><a href="/l/([^"/]+)"', open_part)
    listed = sorted((verify(t).cycle_id, verify(t).section_key) for t in tokens)
    mine = ["cong-tac-khac", "danh-gia", "nhiem-vu", "tham-muu"]
    assert listed == sorted(
        [(web["cycle"], k) for k in mine if k != "danh-gia"] + [(second, k) for k in mine]
    )
    assert {verify(t).person_code for t in tokens} == {"chanhvp"}
    done = [verify(t).section_key for t in re.findall(r'<li><a href="/l/([^"/]+)"', done_part)]
    assert done == ["danh-gia"]
    assert httpx.get(f"{web['base']}/l/{tokens[0]}", timeout=30).status_code == 200


def test_the_pages_and_the_receipt_name_the_period_with_its_year(web):
    from reportflow.cycle.cycles import get_cycle

    with session_scope() as session:
        cycle = get_cycle(session, web["cycle"])
        label, year = cycle.period_label, cycle.year
    assert (label, year) == ("6 tháng đầu năm", 2020)
    link = links_in_mails(web["smtp"], "bcvt@")["bcvt"]
    page = httpx.get(link, timeout=30)
    header = re.search(r'<div class="meta">(.*?) · theo Công văn số', page.text).group(1)
    assert header == "6 tháng đầu năm 2020"
    work = httpx.get(f"{link}/viec-cua-toi", timeout=30)
    assert "· 6 tháng đầu năm 2020 · hạn" in work.text

    shown = preview(link, CSRF.search(page.text).group(1), markdown="Doanh thu tăng 12%.")
    assert 'id="confirm"' in shown.text
    assert header in shown.text  # the preview page has the same header
    confirm(link, shown.text)

    def receipt_mails():
        return [m for m in web["smtp"].messages() if "Đã nhận phần" in str(m["Subject"])]

    [mail] = wait_until(receipt_mails, 20, "the receipt e-mail")
    assert "(6 tháng đầu năm 2020)" in message_text(mail)
