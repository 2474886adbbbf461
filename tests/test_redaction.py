"""Apprise URLs carry credentials: only redacted forms may reach logs, errors and the UI."""

from __future__ import annotations

import pytest

from reportflow.notifications.redaction import redact_text, redact_url
from reportflow.notifications.sender import send_message

SECRETS = [
    ("mailto://user:S3cretPass@smtp.example.org:587?to=a@example.org", "S3cretPass"),
    (
        "tgram://123456789:AAHsecretBotToken1234567890abcdef/987654",
        "AAHsecretBotToken1234567890abcdef",
    ),
    (
        "slack://TokenA1/TokenB2BBBBBBB/TokenC3CCCCCCCCCCCCCCCCCCCC/#general",
        "TokenC3CCCCCCCCCCCCCCCCCCCC",
    ),
    # apprise's own privacy form keeps these paths, where the secret is.
    ("jsons://hooks.example.com/webhook/abcd1234secret", "abcd1234secret"),
    ("json://user:pw1234@127.0.0.1:8080/hook", "pw1234"),
    ("ntfy://ntfy.sh/secret-topic-4242", "secret-topic-4242"),
]


@pytest.mark.parametrize(("url", "secret"), SECRETS)
def test_redacted_url_hides_the_secret_and_keeps_the_scheme(url, secret):
    redacted = redact_url(url)
    assert secret not in redacted
    assert redacted.startswith(url.split("://")[0] + "://")


def test_urls_inside_free_text_are_redacted():
    message = f"failed to send via {SECRETS[0][0]} after 3 tries"
    cleaned = redact_text(message, ["S3cretPass"])
    assert "S3cretPass" not in cleaned and "after 3 tries" in cleaned


def test_failed_delivery_reports_only_the_redacted_channel():
    # Port 9 on loopback has no SMTP server: a real, fast connection failure.
    delivery = send_message(
        "mailto://bob:Hunter2Secret@127.0.0.1:9?to=x@example.org&mode=insecure", "t", "b"
    )
    assert not delivery.ok
    assert "Hunter2Secret" not in delivery.channel + delivery.error
    assert delivery.channel.startswith("mailto://127.0.0.1")
