"""E-mail to a person through the installation's own mail server (`REPORTFLOW_SMTP_*`).

apprise (2.0.1) builds a new TLS context for every SMTP session, even a plain one, and each load
of the system's CA store costs about 30 ms of CPU: twelve times the rest of a send, paid by every
request, reminder and receipt. This sends the same message with the standard library and one TLS
context per process. Channels an agency configures as apprise URLs still go through apprise.
"""

from __future__ import annotations

import mimetypes
import smtplib
import ssl
from collections.abc import Sequence
from email.charset import QP, Charset
from email.encoders import encode_base64
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate
from functools import cache
from pathlib import Path

from reportflow.core.config import get_settings
from reportflow.notifications.message_id import message_id_to_send

TIMEOUT_S = 15
_BODY_CHARSET = Charset("utf-8")
_BODY_CHARSET.body_encoding = QP


@cache
def tls_context() -> ssl.SSLContext:
    """One verifying context, shared: an SSLContext serves many connections and threads."""
    return ssl.create_default_context()


def compose(address: str, title: str, body: str, attachments: Sequence[Path]) -> Message:
    """The message as apprise composes it. The headers are folded the `compat32` way: the
    newer policy folds a long Vietnamese subject between two encoded words and readers drop
    the space there ("Giám đốcphê duyệt")."""
    settings = get_settings()
    text = MIMEText(body, "plain", _BODY_CHARSET)
    message: Message = text
    if attachments:
        message = MIMEMultipart()
        message.attach(text)
        for path in attachments:
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            part = MIMEBase(*kind.split("/", 1))
            part.set_payload(path.read_bytes())
            encode_base64(part)
            part.add_header("Content-Disposition", "attachment", filename=path.name)
            message.attach(part)
    message["X-Application"] = "reportflow"
    message["Subject"] = Header(title, "utf-8")
    message["From"] = settings.mail_from
    message["To"] = address
    message["Message-ID"] = message_id_to_send()
    message["Date"] = formatdate()
    return message


def send_email(address: str, title: str, body: str, attachments: Sequence[Path] = ()) -> None:
    """Raises smtplib.SMTPException or OSError when the server does not take the message."""
    settings = get_settings()
    message = compose(address, title, body, attachments)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S) as server:
        if settings.smtp_secure or settings.smtp_user:
            server.starttls(context=tls_context())
        if settings.smtp_user:
            server.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        server.send_message(message)
