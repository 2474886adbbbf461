"""What `reportflow check` looks at on a machine: everything a cycle will need, in one pass."""

from __future__ import annotations

import shutil
import smtplib
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from reportflow.core.config import PACKAGE_DIR, get_settings
from reportflow.notifications.redaction import redact_text
from reportflow.runtime.web_probe import bind_address, web_is_up
from reportflow.services.office import warm_profile

Severity = Literal["ok", "cảnh báo", "lỗi"]


@dataclass(frozen=True)
class Finding:
    name: str
    severity: Severity
    detail: str


def database_problem(upgrade: bool = False) -> str | None:
    """Why the database does not answer (upgraded first when asked), or None when it does."""
    from sqlalchemy import text

    from reportflow.models import get_engine, init_db

    try:
        if upgrade:
            init_db()
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - reported, not raised: this is a diagnosis
        return redact_text(str(exc))[:200]
    return None


def key_problem() -> str | None:
    """Why the key that signs codes and links cannot be read, or None when it can."""
    from reportflow.core.signing import signing_key

    try:
        signing_key()
    except (ValueError, OSError) as exc:
        return str(exc)
    return None


def web_dependencies() -> dict[str, bool]:
    """What the division heads' pages need to answer a link, for `/healthz`: each working or
    not, with no detail (the health check answers anyone)."""
    return {"cơ sở dữ liệu": database_problem() is None, "khóa bí mật": key_problem() is None}


def _database() -> Finding:
    from reportflow.models.db import shown_database_url

    shown = shown_database_url()
    problem = database_problem(upgrade=True)
    if problem is not None:
        return Finding("Cơ sở dữ liệu", "lỗi", f"{shown}: {problem}")
    return Finding("Cơ sở dữ liệu", "ok", shown)


def _outbox() -> Finding:
    """Messages a crash left half-sent, and messages that keep failing: each with its command."""
    from reportflow.models import session_scope
    from reportflow.notifications.outbox import troubles

    try:
        with session_scope() as session:
            found = troubles(session)
    except Exception as exc:  # noqa: BLE001 - the database check says what is wrong
        return Finding("Hộp thư đi", "cảnh báo", f"không đọc được: {redact_text(str(exc))[:200]}")
    if not found:
        return Finding("Hộp thư đi", "ok", "không có tin nào kẹt hoặc gửi lỗi")
    severity: Severity = "lỗi" if any(t.failed for t in found) else "cảnh báo"
    return Finding("Hộp thư đi", severity, " | ".join(t.describe() for t in found))


def _definitions() -> Finding:
    """Each definition with the file it comes from; the samples are named as samples."""
    from reportflow.definitions.loader import (
        definition_files,
        is_sample,
        load_definition,
        organisation_file,
    )
    from reportflow.definitions.schema import DefinitionError

    def shown(path: Path) -> str:
        return f"mẫu {path.relative_to(PACKAGE_DIR.parent)}" if is_sample(path) else str(path)

    files = definition_files()
    organisation = organisation_file()
    listed, problems = [], []
    for code, path in sorted(files.items()):
        try:
            load_definition(code)
            listed.append(f"{code} ({shown(path)})")
        except DefinitionError as exc:
            hint = ""
            if is_sample(path) and organisation is not None and not is_sample(organisation):
                hint = " (định nghĩa mẫu, viết cho tệp tổ chức mẫu: đặt REPORTFLOW_SAMPLES=false)"
            problems.append(f"{exc} [{shown(path)}]{hint}")
    if organisation is not None:
        listed.append(f"tệp tổ chức: {shown(organisation)}")
    if problems:
        return Finding("Định nghĩa báo cáo", "lỗi", " | ".join(problems))
    if not files:
        return Finding("Định nghĩa báo cáo", "lỗi", "không có định nghĩa nào")
    if any(is_sample(path) for path in files.values()):
        listed.append(
            "định nghĩa mẫu chỉ để thử: đặt REPORTFLOW_DEFINITIONS_DIRS tới thư mục định nghĩa "
            "và organisation.yaml của cơ quan"
        )
        return Finding("Định nghĩa báo cáo", "cảnh báo", "; ".join(listed))
    return Finding("Định nghĩa báo cáo", "ok", "; ".join(listed))


def _literal_secrets() -> Finding:
    """Apprise URLs written with their token in the YAML end up in the database and in every
    definition snapshot; `${REPORTFLOW_APPRISE_…}` keeps them in the environment instead."""
    from reportflow.definitions.loader import definition_files, load_definition, load_organisation
    from reportflow.definitions.schema import DefinitionError
    from reportflow.notifications.redaction import url_secrets

    try:
        owners = [(f"người '{p.code}'", p.apprise) for p in load_organisation().people]
    except DefinitionError:
        owners = []  # reported by the definitions check
    for code in definition_files():
        try:
            definition = load_definition(code)
        except DefinitionError:
            continue  # reported by the definitions check
        owners += [(f"nơi nhận '{r.key}' ({code})", r.apprise) for r in definition.recipients]
    literal = sorted(
        {
            owner
            for owner, urls in owners
            for url in urls
            if "${" not in url and any(len(part) >= 12 for part in url_secrets(url))
        }
    )
    if literal:
        return Finding(
            "Bí mật trong tệp YAML",
            "cảnh báo",
            f"địa chỉ apprise của {', '.join(literal)} ghi thẳng token/mật khẩu; "
            "thay bằng ${REPORTFLOW_APPRISE_…} và đặt biến môi trường",
        )
    return Finding("Bí mật trong tệp YAML", "ok", "địa chỉ apprise không ghi thẳng token")


def _mail_server() -> Finding:
    settings = get_settings()
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=5) as server:
            code, _ = server.ehlo()
    except OSError as exc:
        return Finding("Máy chủ thư", "lỗi", f"{where} không trả lời ({exc.strerror or exc})")
    if code != 250:
        return Finding("Máy chủ thư", "lỗi", f"{where} trả lời EHLO bằng mã {code}")
    return Finding("Máy chủ thư", "ok", where)


def _prefect() -> list[Finding]:
    import httpx
    from prefect.settings import PREFECT_API_URL

    from reportflow.runtime.runs import REPORT_CYCLE_DEPLOYMENT

    api = PREFECT_API_URL.value()
    if not api:
        return [Finding("Máy chủ Prefect", "lỗi", "chưa đặt PREFECT_API_URL")]
    try:
        healthy = httpx.get(f"{api.rstrip('/')}/health", timeout=5).status_code == 200
    except httpx.HTTPError as exc:
        return [Finding("Máy chủ Prefect", "lỗi", f"{api} không trả lời ({exc})")]
    if not healthy:
        return [Finding("Máy chủ Prefect", "lỗi", f"{api} trả lời nhưng chưa sẵn sàng")]
    findings = [Finding("Máy chủ Prefect", "ok", api)]
    for name in (REPORT_CYCLE_DEPLOYMENT, "send_reminders/send-reminders"):
        response = httpx.get(f"{api.rstrip('/')}/deployments/name/{name}", timeout=5)
        if response.status_code == 200:
            findings.append(Finding(f"Deployment {name}", "ok", "đã triển khai"))
        else:
            findings.append(
                Finding(
                    f"Deployment {name}",
                    "cảnh báo",
                    "chưa triển khai: REPORTFLOW_HOME=<thư mục> prefect deploy --all",
                )
            )
    return findings


def _libreoffice() -> Finding:
    if shutil.which("soffice") is None and shutil.which("libreoffice") is None:
        return Finding(
            "LibreOffice (xuất PDF)",
            "cảnh báo",
            "chưa cài: apt install libreoffice-writer-nogui fonts-liberation2",
        )
    try:
        # A Times-compatible family that has "Ở" (U+1EDE); without it lines break differently.
        families = subprocess.run(
            ["fc-list", ":charset=1ede", "family"], capture_output=True, text=True, timeout=20
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        families = ""
    if "Liberation Serif" in families or "Times New Roman" in families:
        warm = (
            "một bản đang chạy sẵn"
            if warm_profile()
            else "không chạy sẵn (reportflow serve giữ một bản), mỗi PDF chậm thêm ~1 giây"
        )
        return Finding("LibreOffice (xuất PDF)", "ok", f"có phông Times tiếng Việt; {warm}")
    return Finding(
        "LibreOffice (xuất PDF)",
        "cảnh báo",
        "thiếu phông Times tương thích có đủ chữ tiếng Việt: apt install fonts-liberation2",
    )


def _signing_key() -> Finding:
    from reportflow.core.signing import KEY_FILE

    settings = get_settings()
    problem = key_problem()
    if problem is not None:
        return Finding("Khóa ký mã phê duyệt", "lỗi", problem)
    if settings.secret_key.get_secret_value():
        return Finding("Khóa ký mã phê duyệt", "ok", "REPORTFLOW_SECRET_KEY")
    return Finding(
        "Khóa ký mã phê duyệt",
        "cảnh báo",
        f"khóa riêng của máy này ({settings.data_dir / KEY_FILE}); nếu nhiều máy dùng chung "
        "cơ sở dữ liệu, đặt cùng một REPORTFLOW_SECRET_KEY trên mọi máy",
    )


def _stalled_cycles() -> list[Finding]:
    import httpx
    from sqlalchemy.exc import SQLAlchemyError

    from reportflow.runtime.run_health import stalled_cycles

    try:
        stalled = stalled_cycles()
    except (httpx.HTTPError, SQLAlchemyError):
        return []  # the database or Prefect finding already says what does not answer
    never = [s.line for s in stalled if not s.had_run]
    ended = [s.line for s in stalled if s.had_run]
    findings = []
    if ended:
        findings.append(Finding("Kỳ báo cáo đang mở", "lỗi", " | ".join(ended)))
    if never:
        findings.append(Finding("Kỳ báo cáo chưa khởi chạy", "cảnh báo", " | ".join(never)))
    return findings or [
        Finding("Kỳ báo cáo đang mở", "ok", "mỗi kỳ đang mở có quy trình đang chờ hoặc đang chạy")
    ]


def _web() -> Finding:
    """The division heads' pages answer at the address the mails give them."""
    from urllib.parse import urlsplit

    name, settings = "Trang web gửi báo cáo", get_settings()
    host, port = bind_address()
    local = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    if not settings.web_url:
        running = "đang chạy" if web_is_up(local) else "chưa chạy"
        return Finding(
            name,
            "cảnh báo",
            f"chưa đặt REPORTFLOW_WEB_URL nên thư không kèm liên kết gửi báo cáo (trang web "
            f"{running} tại {local})",
        )
    public = settings.web_url.rstrip("/")
    if not web_is_up(public, timeout_s=5):
        where = (
            f"trang web chạy tại {local} nhưng địa chỉ công khai không tới được: kiểm tra "
            "reverse proxy"
            if web_is_up(local)
            else "chạy reportflow serve (hoặc reportflow web)"
        )
        return Finding(name, "lỗi", f"{public} không trả lời; {where}")
    parts = urlsplit(public)
    if parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return Finding(
            name,
            "cảnh báo",
            f"{public} trả lời, nhưng không qua https: liên kết riêng đi qua mạng không mã hóa",
        )
    return Finding(name, "ok", f"{public} trả lời")


CHECKS: tuple[Callable[[], Finding | list[Finding]], ...] = (
    _database,
    _outbox,
    _definitions,
    _literal_secrets,
    _mail_server,
    _prefect,
    _web,
    _libreoffice,
    _signing_key,
    _stalled_cycles,
)


def run_checks() -> list[Finding]:
    findings: list[Finding] = []
    for check in CHECKS:
        result = check()
        findings.extend(result if isinstance(result, list) else [result])
    return findings
