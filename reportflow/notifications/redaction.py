"""Apprise URLs carry credentials; only these redacted forms may reach logs, errors or the UI."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

_URL_IN_TEXT = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """Keep the scheme and host, which say where a message went; drop users, secrets and tokens."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    host = parts.hostname or ""
    if parts.scheme in {"mailto", "mailtos"}:
        return f"{parts.scheme}://{host}{':' + str(parts.port) if parts.port else ''}/***"
    import apprise  # lazy: 0.3 s, and most texts redacted (a submission's log line) hold no URL

    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is not None:
        # apprise masks credentials in the host part but keeps paths, which hold the secret of a
        # webhook (json://host/hook/<token>) or a topic: only the masked host part is kept.
        safe = urlsplit(plugin.url(privacy=True))
        host = safe.netloc.rsplit("@", 1)[-1]
        return f"{safe.scheme}://{host}/***"
    return f"{parts.scheme}://***"


def redact_text(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """Replace every URL and every known secret in a free text (an exception message, a log line)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


def url_secrets(url: str) -> tuple[str, ...]:
    """The parts of a channel URL that may be secret, to blank them wherever they show up alone
    (an exception message quoting a token rather than the whole URL)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return (url,)
    # Split by hand: a token often sits where a port would be (tgram://<bot>:<token>/<chat>).
    pieces = re.split(r"[:@]", parts.netloc)
    pieces += [segment for segment in parts.path.split("/") if segment]
    pieces += [value for pair in parts.query.split("&") for value in pair.split("=")[1:]]
    return tuple(sorted({unquote(p) for p in pieces if len(p) >= 6}, key=len, reverse=True))
