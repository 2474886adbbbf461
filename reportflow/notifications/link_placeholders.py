"""What a stored message body holds instead of a person's link: the link, a bearer credential,
is signed only when the message is sent and never written to the database."""

from __future__ import annotations

import re

from reportflow.core.config import get_settings

PLACEHOLDER = re.compile(r"\[\[reportflow-link:(\d+):([A-Za-z0-9_.-]+):([A-Za-z0-9_.@-]+)\]\]")


def placeholder(cycle_id: int, section_key: str, person_code: str) -> str:
    """Empty when `REPORTFLOW_WEB_URL` is not set: a mail then carries no link."""
    if not get_settings().web_url:
        return ""
    return f"[[reportflow-link:{cycle_id}:{section_key}:{person_code}]]"
