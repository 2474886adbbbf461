"""Which apprise URLs reach a person or a recipient."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlsplit

from reportflow.core.config import get_settings
from reportflow.core.signing import signing_key
from reportflow.definitions.loader import expand_env


def email_url(address: str) -> str:
    settings = get_settings()
    auth = ""
    if settings.smtp_user:
        password = settings.smtp_password.get_secret_value()
        auth = f"{quote(settings.smtp_user, safe='')}:{quote(password, safe='')}@"
    # A password never crosses the network in clear: credentials imply STARTTLS.
    mode = "starttls" if settings.smtp_secure or settings.smtp_user else "insecure"
    return (
        f"mailto://{auth}{settings.smtp_host}:{settings.smtp_port}"
        f"?from={quote(settings.mail_from, safe='@')}&to={quote(address, safe='@')}&mode={mode}"
    )


def own_email_address(url: str) -> str | None:
    """The address, when the URL is exactly one `email_url` makes (the installation's own mail
    server); None for any other URL, an agency's own mailto:// included."""
    if not url.startswith("mailto://"):
        return None
    address = unquote(parse_qs(urlsplit(url).query).get("to", [""])[0])
    return address if address and email_url(address) == url else None


@dataclass(frozen=True)
class Channel:
    key: str
    """Stable and not revealing (`channel_key`): an e-mail channel is named by its address alone
    and an apprise channel by its URL as written, before ``${…}`` is filled in, so changing the
    mail server, its password or a token leaves the channel the same one."""
    url: str
    """With its secrets: used to send, never stored or shown."""


def channels(email: str | None, apprise_urls: list[str]) -> list[Channel]:
    found = [Channel(channel_key(u), expand_env(u)) for u in apprise_urls]
    if email:
        found.append(Channel(channel_key(f"mailto:{email.strip().lower()}"), email_url(email)))
    return found


def channel_urls(email: str | None, apprise_urls: list[str]) -> list[str]:
    return [channel.url for channel in channels(email, apprise_urls)]


def known_secrets() -> tuple[str, ...]:
    return (get_settings().smtp_password.get_secret_value(),)


def channel_key(url: str) -> str:
    """A stable name for one channel that does not reveal it: keyed, because the rest of a URL
    is easy to guess and would let its password or token be found by trying."""
    return hmac.new(signing_key(), url.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
