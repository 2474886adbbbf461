"""Sends one message over a set of apprise URLs, and reports failures without leaking them."""

from __future__ import annotations

import logging
import smtplib
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import apprise
from apprise.manager_plugins import NotificationManager

from reportflow.notifications.channels import channel_key, known_secrets, own_email_address
from reportflow.notifications.redaction import redact_text, redact_url, url_secrets
from reportflow.notifications.smtp_mail import send_email

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    channel: str
    """Redacted."""
    ok: bool
    error: str = ""


def load_channel_plugins() -> None:
    """Apprise imports all its plugins (some 130 modules, about 0.1 s) when it parses its first
    URL; idempotent and thread-safe (apprise's own lock)."""
    NotificationManager().load_modules()


def preload_channel_plugins() -> None:
    """Loads apprise's plugins in the background: a process that will send later (a cycle's
    run) spends that time beside its database and Prefect calls instead of before its first
    message. A send that comes first waits on apprise's lock, so nothing is loaded twice."""
    threading.Thread(target=load_channel_plugins, name="apprise-plugins", daemon=True).start()


def send_message(
    url: str, title: str, body: str, attachments: list[Path] | tuple[Path, ...] = ()
) -> Delivery:
    channel = redact_url(url)
    address = own_email_address(url)
    if address is not None:
        return _send_own_email(channel, address, title, body, attachments)
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
        return Delivery(channel, False, redact_text(str(exc), known_secrets() + url_secrets(url)))
    if not ok:
        return Delivery(channel, False, "kênh thông báo không nhận thư (xem nhật ký máy chủ thư)")
    return Delivery(channel, True)


def _send_own_email(
    channel: str, address: str, title: str, body: str, attachments: Sequence[Path]
) -> Delivery:
    try:
        send_email(address, title, body, attachments)
    except smtplib.SMTPResponseException as exc:
        return Delivery(channel, False, f"máy chủ thư từ chối thư ({exc.smtp_code})")
    except smtplib.SMTPRecipientsRefused:
        return Delivery(channel, False, "máy chủ thư từ chối địa chỉ người nhận")
    except (smtplib.SMTPException, OSError) as exc:
        reason = redact_text(str(exc), known_secrets())
        return Delivery(channel, False, f"không gửi được tới máy chủ thư: {reason}")
    return Delivery(channel, True)


@dataclass
class FanOut:
    """The outcome of one message over all of someone's channels."""

    delivered: set[str] = field(default_factory=set)
    """Channel keys that have the message, from this call and earlier attempts."""
    errors: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    """Redacted, for the audit log."""

    @property
    def ok(self) -> bool:
        return not self.errors


def send_to_channels(
    urls: list[str],
    title: str,
    body: str,
    attachments: Iterable[Path] = (),
    already: Iterable[str] = (),
    sender: Callable[..., Delivery] = send_message,
) -> FanOut:
    """Sends to each channel that does not have the message yet (`already`, by channel key)."""
    outcome = FanOut(delivered=set(already))
    if not urls:
        outcome.errors.append("chưa có kênh gửi (email hoặc apprise)")
    for url in urls:
        key = channel_key(url)
        if key in outcome.delivered:
            continue
        delivery = (
            sender(url, title, body, list(attachments)) if attachments else sender(url, title, body)
        )
        outcome.channels.append(delivery.channel)
        if delivery.ok:
            outcome.delivered.add(key)
        else:
            outcome.errors.append(delivery.error)
    return outcome
