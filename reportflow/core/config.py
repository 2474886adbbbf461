"""All configuration, from `REPORTFLOW_*` environment variables (or a `.env` file)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent.parent
MIN_KEY_LENGTH = 32
"""`REPORTFLOW_SECRET_KEY` signs the approval codes' hashes and the web links: a shorter key
could be guessed."""
SAMPLES_DIR = PACKAGE_DIR / "samples"
"""The sample report (ktxh-6-thang) and the organisation it belongs to: for trials and the demo."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTFLOW_", env_file=".env", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str = ""
    definitions_dirs: list[Path] = []
    """The agency's folders of definitions and its organisation.yaml (`REPORTFLOW_DEFINITIONS_DIRS`,
    a JSON list); a later folder's file of the same name wins."""
    samples: bool | None = None
    """Whether the samples (`reportflow/samples/`) are loaded too (`REPORTFLOW_SAMPLES`). Unset:
    only when no definitions folder is configured, so a fresh install and the demo have a report
    and an agency's setup never sees the sample."""

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
    stuck_pending_s: float = Field(default=90.0, gt=0)
    """A cycle's run Pending longer than this was picked up by a worker that died before the
    flow began (a flow process starts in seconds); `check` and `status` name it."""
    serve_mend_s: float = Field(default=15.0, gt=0)
    """How often `reportflow serve` looks for a cycle whose run's machine died (and starts a new
    run) or whose run still waits although it need not (and wakes it)."""
    prefect_sqlite_immediate: bool = True
    """Whether a Prefect server started here on SQLite begins its write transactions IMMEDIATE
    (`reportflow.runtime.prefect_sqlite_server`): Prefect's own DEFERRED ones fail with "database is
    locked" under a served cycle's load (bench P1). Off: Prefect's own `server start`."""
    warm_office: bool = True
    """Whether `reportflow serve` keeps one LibreOffice running on this machine for conversions
    (the draft's PDF in about 0.1 s instead of about 1 s; some 150 MB of memory)."""

    outbox_lease_s: float = 300.0
    """How long a claimed message is left to its sender before another process may send it
    again; longer than any one send can take."""
    db_outage_wait_s: float = Field(default=180.0, ge=0)
    """How long a message just sent waits for the database to answer again before it is marked
    sent (a PostgreSQL restart); shorter than `outbox_lease_s`, so no other sender takes it
    meanwhile."""
    outbox_max_attempts: int = 5
    """Sends of one message to one channel before the sweep stops retrying it (it is then
    reported by `reportflow check`)."""
    send_concurrency: int = Field(default=8, ge=1, le=64)
    """How many request mails a cycle sends at once (each its own SMTP session); a process
    killed mid-send may send that many twice (with the same Message-ID)."""
    draft_pdf_wait_s: float = Field(default=30.0, ge=0, le=600)
    """How long the director's mail waits for a draft's PDF that another process is making
    (the completing submission makes it ahead; a LibreOffice started for the file takes a few
    seconds, a draft of hundreds of pages longer); past it the mail goes with the DOCX alone
    and says the draft page has the PDF."""
    outbox_wait_s: float = 30.0
    """How long a dispatch waits for messages another process is sending."""

    progress_refresh_s: float = 2.0
    """The web app publishes a cycle's progress table at most this often, always after the last
    submission: one refresh costs O(divisions), so one per submission would cost O(N²)."""

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
    web_workers: int = Field(default=2, ge=1, le=32)
    """Processes serving the division heads' pages (`REPORTFLOW_WEB_WORKERS`): a page costs CPU,
    so one process uses one core at the deadline hour's burst."""
    web_threads: int = Field(default=8, ge=1, le=200)
    """Requests one web process works on at once (`REPORTFLOW_WEB_THREADS`); the rest wait
    their turn. The pages are CPU-bound: more threads add memory and switching, not speed."""
    web_max_connections: int = Field(default=1000, ge=10)
    """Connections the pages hold at once before answering 503; at the deadline hour every
    division head may press at once, and the rest queue."""
    web_requests_per_minute: int = 30
    """Requests one link may make in a minute; more get a page asking to wait."""

    agency_key: str = ""
    """The agency's signing key (`REPORTFLOW_AGENCY_KEY`): ``pkcs11:module=…;token=…;key=…`` or
    ``pkcs12:/path/agency.p12``; its PIN in `REPORTFLOW_AGENCY_KEY_PIN` or the file named by
    `REPORTFLOW_AGENCY_KEY_PIN_FILE`. Set, the cycle issues a signed PDF (Decree 30, Điều 5)."""
    agency_key_pin_file: str = ""
    signer_keys: dict[str, str] = {}
    """Each signer's key by person code (`REPORTFLOW_SIGNER_KEYS`, JSON: {"giamdoc": "pkcs11:…"});
    the PIN in `REPORTFLOW_SIGNER_PIN_<CODE>` (the code in capitals, - as _) or the file named
    by `REPORTFLOW_SIGNER_PIN_FILE_<CODE>`."""
    trust_roots: list[Path] = []
    """CA certificates (.pem) a signed PDF is verified against before it is sent
    (`REPORTFLOW_TRUST_ROOTS`, a JSON list)."""
    tsa_url: str = ""
    """An RFC 3161 timestamp authority (`REPORTFLOW_TSA_URL`, e.g. the state CA's): each
    signature then carries its time from there, not from this machine's clock."""
    signature_images_dir: Path | None = None
    """PNG images: ``<person code>.png`` for each signer (blue, transparent) and ``seal.png`` (red,
    transparent, drawn at the seal's real size) (`REPORTFLOW_SIGNATURE_IMAGES_DIR`)."""
    frozen_now: str = ""
    """When set, the product's clock stands still at this moment (demo, simulated calendars):
    ISO 8601, `2020-06-05T09:00:00+07:00`. Without an offset (`2020-06-05T09:00`) it is a time
    in Asia/Ho_Chi_Minh; a date alone is its midnight there. Anything else is refused."""

    @field_validator("secret_key")
    @classmethod
    def _secret_key_is_long(cls, value: SecretStr) -> SecretStr:
        if 0 < len(value.get_secret_value()) < MIN_KEY_LENGTH:
            raise ValueError(f"REPORTFLOW_SECRET_KEY cần ít nhất {MIN_KEY_LENGTH} ký tự")
        return value

    @field_validator("frozen_now")
    @classmethod
    def _frozen_now_is_iso(cls, value: str) -> str:
        if value:
            try:
                dt.datetime.fromisoformat(value)
            except ValueError:
                raise ValueError(
                    f"REPORTFLOW_FROZEN_NOW='{value[:40]}' không phải thời điểm ISO 8601; "
                    "viết ví dụ 2020-06-05T09:00:00+07:00, hoặc 2020-06-05T09:00 (giờ Việt Nam)"
                ) from None
        return value

    @property
    def signs_issued_reports(self) -> bool:
        """The agency's key is set: a cycle issues a signed PDF (`cycle/issuing/signing.py`)."""
        return bool(self.agency_key)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'reportflow.db').resolve()}"

    @property
    def documents_dir(self) -> Path:
        return self.data_dir / "documents"

    @property
    def uses_samples(self) -> bool:
        return self.samples if self.samples is not None else not self.definitions_dirs

    @property
    def all_definitions_dirs(self) -> list[Path]:
        """The folders searched, in order: the samples first (when used), then the agency's."""
        samples = [SAMPLES_DIR] if self.uses_samples else []
        return [*samples, *self.definitions_dirs]


class SettingsError(ValueError):
    """A `REPORTFLOW_*` variable that cannot be read; the message names it, in Vietnamese."""


def _settings_problem(error: dict) -> str:
    variable = f"REPORTFLOW_{str(error['loc'][0]).upper()}" if error["loc"] else "REPORTFLOW_*"
    if error["type"] == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    # The value itself is not repeated: it may be a password.
    return f"{variable}: giá trị không hợp lệ ({error['type']})"


@lru_cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(_settings_problem(error) for error in exc.errors())
        raise SettingsError(f"Cấu hình không hợp lệ: {problems}") from None


def reload_settings() -> Settings:
    get_settings.cache_clear()
    return get_settings()
