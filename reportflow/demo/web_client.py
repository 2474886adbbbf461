"""What a division head's browser does with the link from the mail: open it, upload the file,
look at the preview, press "Gửi". The demo sends one section this way."""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from reportflow.cycle.links import verify
from reportflow.runtime.smtp_sink import SmtpSink, message_text

LINK = re.compile(r"(https?://\S+/l/[A-Za-z0-9_.-]+)")
HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')
VERSION = re.compile(r'id="version">(\d+)<')


@dataclass(frozen=True)
class WebSubmission:
    link: str
    version_no: int
    seconds_to_receipt: float


def newest_link(sink: SmtpSink, email: str, section_key: str) -> str:
    """The link for the section in the newest mail the person got (a reminder carries a fresh one)."""
    for message in reversed(sink.messages()):
        if email not in str(message["To"]):
            continue
        for link in LINK.findall(message_text(message)):
            if verify(link.rsplit("/l/", 1)[1]).section_key == section_key:
                return link
    raise LookupError(f"Không có liên kết của phần '{section_key}' trong thư gửi {email}.")


def submit_through_web(link: str, path: Path) -> WebSubmission:
    page = httpx.get(link, timeout=30).text
    fields = dict(HIDDEN.findall(page))
    preview = httpx.post(
        f"{link}/preview",
        data={"csrf": fields["csrf"], "markdown": ""},
        files={"file": (path.name, path.read_bytes())},
        timeout=60,
    )
    if 'id="confirm"' not in preview.text:
        raise RuntimeError(f"Trang xem trước từ chối tệp {path.name}.")
    form = {name: html.unescape(value) for name, value in HIDDEN.findall(preview.text)}
    began = time.monotonic()
    receipt = httpx.post(
        f"{link}/confirm", data=form, files={"x": ("", b"")}, timeout=60, follow_redirects=True
    )
    found = VERSION.search(receipt.text)
    if found is None:
        raise RuntimeError("Trang web không trả biên nhận.")
    return WebSubmission(link, int(found[1]), time.monotonic() - began)
