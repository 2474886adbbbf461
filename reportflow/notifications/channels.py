"""Which apprise URLs reach a person or a recipient."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from reportflow.config import get_settings
from reportflow.definition_loader import expand_env


def email_url(address: str) -> str:
    settings = get_settings()
    auth = ""
    if settings.smtp_user:
        password = settings.smtp_password.get_secret_value()
        auth = f"{quote(settings.smtp_user, safe='')}:{quote(password, safe='')}@"
    mode = "starttls" if settings.smtp_secure else "insecure"
    return (
        f"mailto://{auth}{settings.smtp_host}:{settings.smtp_port}"
        f"?from={quote(settings.mail_from, safe='@')}&to={quote(address, safe='@')}&mode={mode}"
    )


def channel_urls(email: str | None, apprise_urls: list[str]) -> list[str]:
    urls = [expand_env(u) for u in apprise_urls]
    if email:
        urls.append(email_url(email))
    return urls


def known_secrets() -> tuple[str, ...]:
    return (get_settings().smtp_password.get_secret_value(),)


def channel_key(url: str) -> str:
    """A stable name for one channel that does not reveal it (URLs hold credentials)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
