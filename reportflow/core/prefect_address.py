"""Where the Prefect API and its UI are, as Prefect itself would resolve them, without importing
Prefect when the environment already says: the mails' run links and the REST client both ask."""

from __future__ import annotations

import os
import sys

from reportflow.core.config import get_settings


def api_target() -> tuple[str, str, str]:
    """The API address, auth string and API key, as Prefect itself would resolve them.

    When Prefect is already imported in this process (a flow run, a test's temporary settings)
    its settings answer. Otherwise the environment does when it names the API (it takes
    precedence over profiles and files in Prefect's own order); only then are Prefect's settings
    loaded, to read a profile.
    """
    if "prefect.settings" not in sys.modules and os.environ.get("PREFECT_API_URL"):
        return (
            os.environ["PREFECT_API_URL"],
            os.environ.get("PREFECT_API_AUTH_STRING", ""),
            os.environ.get("PREFECT_API_KEY", ""),
        )
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_KEY, PREFECT_API_URL

    def text(value: object) -> str:
        if value is None:
            return ""
        secret = getattr(value, "get_secret_value", None)
        return str(secret() if secret else value)

    return (
        text(PREFECT_API_URL.value()),
        text(PREFECT_API_AUTH_STRING.value()),
        text(PREFECT_API_KEY.value()),
    )


def prefect_ui_url() -> str:
    """REPORTFLOW_PREFECT_UI_URL when set; otherwise the UI beside the API this process really
    uses (a server on another port than 4200 gives links on that port)."""
    settings = get_settings()
    if "prefect_ui_url" in settings.model_fields_set:
        return settings.prefect_ui_url.rstrip("/")
    api_url = api_target()[0].rstrip("/")
    return api_url.removesuffix("/api") if api_url else settings.prefect_ui_url.rstrip("/")
