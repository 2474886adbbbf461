"""The installation's own e-mail goes out through the standard library with one TLS context per
process; any other URL (an agency's own mailto:// among them) still goes through apprise. Real
SMTP sink, real messages read back."""

from __future__ import annotations

import os
import ssl

from reportflow.core.config import reload_settings
from reportflow.notifications import smtp_mail
from reportflow.notifications.channels import email_url, own_email_address
from reportflow.notifications.message_id import stable_message_id
from reportflow.notifications.sender import send_message
from reportflow.runtime.smtp_sink import attachment_names, message_text

ADDRESS = "truong.phong@sotttt.travinh.gov.vn"


def test_only_the_url_email_url_makes_is_the_installations_own(smtp):
    own = email_url(ADDRESS)
    assert own_email_address(own) == ADDRESS
    assert own_email_address(own + "&cc=khac@vidu.vn") is None
    assert own_email_address(own.replace("127.0.0.1", "smtp.gmail.com")) is None
    assert own_email_address(f"mailtos://u:p@smtp.vidu.vn?to={ADDRESS}") is None
    assert own_email_address("json://127.0.0.1:9/hook") is None


def test_an_own_email_arrives_whole_in_vietnamese_with_its_attachments_and_id(smtp, tmp_path):
    docx = tmp_path / "du-thao-vong-1.docx"
    docx.write_bytes(b"PK\x03\x04 not a real archive")
    pdf = tmp_path / "du-thao-vong-1.pdf"
    pdf.write_bytes(b"%PDF-1.7 tiny")
    title = "Đề nghị gửi phần “Bưu chính – Viễn thông”"
    body = "Kính gửi: Ông Võ Thanh Hải\n\nHạn gửi: 17 giờ 00 ngày 05/06/2020."

    with stable_message_id("<reportflow.7.abc123@sotttt.travinh.gov.vn>"):
        delivery = send_message(email_url(ADDRESS), title, body, [docx, pdf])

    assert delivery.ok, delivery.error
    [mail] = smtp.messages()
    assert mail["X-Application"] == "reportflow", "not apprise's path"
    assert str(mail["Subject"]) == title and str(mail["To"]) == ADDRESS
    assert mail["Message-ID"] == "<reportflow.7.abc123@sotttt.travinh.gov.vn>"
    assert message_text(mail).strip().splitlines() == body.splitlines()
    assert attachment_names(mail) == ["du-thao-vong-1.docx", "du-thao-vong-1.pdf"]
    parts = {p.get_filename(): p for p in mail.iter_attachments()}
    assert parts["du-thao-vong-1.pdf"].get_content_type() == "application/pdf"
    assert parts["du-thao-vong-1.docx"].get_payload(decode=True) == docx.read_bytes()


def test_an_agencys_own_mailto_url_still_goes_through_apprise(smtp):
    url = f"mailto://127.0.0.1:{smtp.port}?from=vanphong@vidu.vn&to={ADDRESS}&mode=insecure"
    assert own_email_address(url) is None

    delivery = send_message(url, "Thử kênh", "Nội dung")

    assert delivery.ok, delivery.error
    [mail] = smtp.messages()
    assert mail["X-Application"] == "Apprise"


def test_one_tls_context_serves_every_message_of_the_process():
    first = smtp_mail.tls_context()
    assert first is smtp_mail.tls_context()
    assert first.verify_mode == ssl.CERT_REQUIRED and first.check_hostname


def test_a_refused_server_or_a_server_without_starttls_fails_in_vietnamese_without_the_password(
    smtp, refused_port, restore_environment
):
    os.environ["REPORTFLOW_SMTP_PORT"] = str(refused_port)
    reload_settings()
    down = send_message(email_url(ADDRESS), "Tiêu đề", "Nội dung")
    assert not down.ok and down.error.startswith("không gửi được tới máy chủ thư")

    # Credentials imply STARTTLS; the sink offers none, so nothing is sent in clear.
    os.environ["REPORTFLOW_SMTP_PORT"] = str(smtp.port)
    os.environ["REPORTFLOW_SMTP_USER"] = "vanphong"
    os.environ["REPORTFLOW_SMTP_PASSWORD"] = "Mat-Khau-Bi-Mat-42"
    reload_settings()
    refused = send_message(email_url(ADDRESS), "Tiêu đề", "Nội dung")
    assert not refused.ok and "máy chủ thư" in refused.error
    assert "Mat-Khau-Bi-Mat-42" not in refused.error + refused.channel
    assert smtp.messages() == []


def test_a_long_vietnamese_subject_keeps_every_space(smtp):
    """The default e-mail policy folds such a subject between encoded words, and readers then
    drop the space at the fold: "Giám đốcphê duyệt"."""
    title = (
        "[Báo cáo tình hình thực hiện nhiệm vụ phát triển kinh tế - xã hội 6 tháng] "
        "Dự thảo báo cáo chờ Giám đốc phê duyệt (vòng 1)"
    )
    assert send_message(email_url(ADDRESS), title, "Nội dung").ok
    [mail] = smtp.messages()
    assert str(mail["Subject"]) == title
