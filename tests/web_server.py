"""The web app served by a real uvicorn on a free port, in a thread of the test process, with
`REPORTFLOW_WEB_URL` pointing at it so the mails carry links to it."""

from __future__ import annotations

import re

from reportflow.runtime.smtp_sink import message_text
from reportflow.web.server import web_in_thread

LINK = re.compile(r"(https?://\S+/l/[A-Za-z0-9_.-]+)")
DRAFT_LINK = re.compile(r"(https?://\S+/d/[A-Za-z0-9_.-]+)")
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def serving_web():
    return web_in_thread()


def links_in_mails(smtp, person_email_part: str = "") -> dict[str, str]:
    """Assignment key -> link, read from the .eml files the sink stored (the request e-mails);
    the key is what the signed link itself names."""
    from reportflow.cycle.links import verify

    found: dict[str, str] = {}
    for message in smtp.messages():
        if person_email_part and person_email_part not in str(message["To"]):
            continue
        for link in LINK.findall(message_text(message)):
            found[verify(link.rsplit("/l/", 1)[1]).section_key] = link
    return found
