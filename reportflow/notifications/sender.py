"""Sends one message over a set of apprise URLs, and reports failures without leaking them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import apprise

from reportflow.notifications.channels import known_secrets
from reportflow.notifications.redaction import redact_text, redact_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    channel: str
    """Redacted."""
    ok: bool
    error: str = ""


def send_message(
    url: str, title: str, body: str, attachments: list[Path] | tuple[Path, ...] = ()
) -> Delivery:
    channel = redact_url(url)
    notifier = apprise.Apprise()
    try:
        if not notifier.add(url):
            return Delivery(channel, False, "địa chỉ kênh thông báo không hợp lệ")
        attach = apprise.AppriseAttachment()
        for path in attachments:
            attach.add(str(path))
        ok = notifier.notify(
            title=title,
            body=body,
            body_format=apprise.NotifyFormat.TEXT,
            attach=attach if attachments else None,
        )
    except Exception as exc:  # apprise plugins raise anything; the message may hold the URL
        return Delivery(channel, False, redact_text(str(exc), known_secrets()))
    if not ok:
        return Delivery(channel, False, "kênh thông báo không nhận thư (xem nhật ký máy chủ thư)")
    return Delivery(channel, True)
