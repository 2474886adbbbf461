"""All configuration, from `REPORTFLOW_*` environment variables (or a `.env` file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
BUILTIN_DEFINITIONS_DIR = PACKAGE_DIR / "definitions"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTFLOW_", env_file=".env", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str = ""
    definitions_dirs: list[Path] = []

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_secure: bool = False
    mail_from: str = "reportflow@localhost"

    home: Path = PACKAGE_DIR.parent
    """The checkout holding prefect.yaml (`REPORTFLOW_HOME`); workers run the flows from it."""
    prefect_ui_url: str = "http://127.0.0.1:4200"
    worker_query_s: float = 1.0
    """How often a worker `reportflow serve` starts asks for runs (PREFECT_WORKER_QUERY_SECONDS):
    a resumed cycle waits at most this long to be picked up (one light query a second per
    worker; Prefect's own default, 10 s, would add up to 10 s to every wake and decision)."""
    worker_ready_timeout_s: float = 120.0
    pause_timeout_s: int = 14 * 24 * 3600
    pause_poll_s: int = 1
    """How often a trial run (`cycle run`) paused for input asks whether it was resumed: the
    director's Submit is picked up within this many seconds. Served runs suspend instead."""
    resume_wait_s: float = 30.0

    outbox_lease_s: float = 300.0
    """How long a claimed message is left to its sender before another process may send it
    again; longer than any one send can take."""
    outbox_max_attempts: int = 5
    """Sends of one message to one channel before the sweep stops retrying it (it is then
    reported by `reportflow check`)."""
    send_concurrency: int = Field(default=8, ge=1, le=64)
    """How many request mails a cycle sends at once (each its own SMTP session); a process
    killed mid-send may send that many twice (with the same Message-ID)."""
    outbox_wait_s: float = 30.0
    """How long a dispatch waits for messages another process is sending."""

    max_upload_bytes: int = 10_000_000
    approval_code_ttl_h: int = 72
    secret_key: SecretStr = SecretStr("")
    """Signs the approval codes' hashes. Empty: a random key is made once in
    `data_dir/secret.key`. Set the same value on every machine that shares one database."""

    web_url: str = ""
    """The address division heads open (`REPORTFLOW_WEB_URL`, e.g. https://baocao.example.gov.vn
    behind the agency's reverse proxy); empty: the mails carry no links."""
    web_host: str = "127.0.0.1"
    web_port: int = 8800
    web_requests_per_minute: int = 30
    """Requests one link may make in a minute; more get a page asking to wait."""

    frozen_now: str = ""
    """ISO datetime; when set the product's clock stands still (demo and simulated calendars)."""

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'reportflow.db').resolve()}"

    @property
    def documents_dir(self) -> Path:
        return self.data_dir / "documents"

    @property
    def all_definitions_dirs(self) -> list[Path]:
        return [BUILTIN_DEFINITIONS_DIR, *self.definitions_dirs]


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reload_settings() -> Settings:
    get_settings.cache_clear()
    return get_settings()
