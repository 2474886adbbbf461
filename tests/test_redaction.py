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


def test_a_token_quoted_alone_in_an_error_is_blanked():
    from reportflow.notifications.redaction import url_secrets

    url = "json://bot:pw-Secret77@hooks.example.org/hook/tok3nABCDEF?key=apikey12345"
    message = "HTTP 401 for token tok3nABCDEF (user bot, key apikey12345, pass pw-Secret77)"
    cleaned = redact_text(message, url_secrets(url))
    for secret in ("tok3nABCDEF", "apikey12345", "pw-Secret77"):
        assert secret not in cleaned
    assert cleaned.startswith("HTTP 401 for token ***")
    telegram = "tgram://123456789:AAHsecretBotToken1234567890abcdef/42"
    quoted = redact_text(
        "bot token AAHsecretBotToken1234567890abcdef rejected", url_secrets(telegram)
    )
    assert quoted == "bot token *** rejected"


def test_apprise_urls_may_read_only_their_own_environment_variables():
    from pydantic import ValidationError

    from reportflow.definitions.schema import PersonSpec, RecipientSpec

    allowed = PersonSpec(code="a", name="A", apprise=["tgram://${REPORTFLOW_APPRISE_TG}/42"])
    assert allowed.apprise == ["tgram://${REPORTFLOW_APPRISE_TG}/42"]
    for url in ("json://h/${REPORTFLOW_SECRET_KEY}", "json://h/${REPORTFLOW_SMTP_PASSWORD}"):
        with pytest.raises(ValidationError, match="REPORTFLOW_APPRISE_"):
            RecipientSpec(key="k", label="Nơi nhận", apprise=[url])


def test_only_apprise_variables_are_expanded(restore_environment):
    import os

    from reportflow.definitions.loader import expand_env

    os.environ["REPORTFLOW_APPRISE_TG"] = "123:tok"
    os.environ["REPORTFLOW_SECRET_KEY"] = "x" * 40
    assert expand_env("tgram://${REPORTFLOW_APPRISE_TG}/1") == "tgram://123:tok/1"
    assert "x" * 40 not in expand_env("json://h/${REPORTFLOW_SECRET_KEY}")
