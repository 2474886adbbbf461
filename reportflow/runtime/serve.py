"""`reportflow serve`: everything an agency's server runs, started in order and stopped in the
reverse order. The Prefect server (or the one at PREFECT_API_URL), the project database upgrade,
the `reportflow` work pool, the deployments of prefect.yaml, and process workers.

Every process started here sits in a process group of its own: a Ctrl-C in the terminal reaches
only `serve`, which then stops the workers (with their flow runs) and the server itself.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from reportflow.core.config import get_settings
from reportflow.core.errors import UserError
from reportflow.runtime.mending import RunMender
from reportflow.runtime.prefect_server import ensure_server, is_healthy, stop_server
from reportflow.runtime.web_probe import bind_address, web_is_up
from reportflow.runtime.zombie_runs import HEARTBEAT_S, ensure_zombie_automation
from reportflow.services.office import start_warm_office, stop_warm_office, warm_pid
from reportflow.services.processes import start_in_own_group, start_worker, stop_tree

POOL = "reportflow"
WORKER_RESTART_S = 10.0
WILDCARD_HOSTS = {"0.0.0.0", "::", ""}
Say = Callable[[str], None]


class ServeRefused(UserError):
    """Refused before anything was started."""


class ServeFailed(UserError):
    """A step or a started process failed; what was started has been stopped."""


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 4200
    workers: int = 1
    no_server: bool = False


@dataclass
class Served:
    api_url: str = ""
    ui_url: str = ""
    server: subprocess.Popen | None = None
    """None when a server already answered (it is left running on stop)."""
    workers: list[subprocess.Popen] = field(default_factory=list)
    web: subprocess.Popen | None = None
    """`reportflow web`, the division heads' pages."""
    web_address: str = ""
    office: subprocess.Popen | None = None
    """The warm LibreOffice (`reportflow.services.office`), None when switched off or not installed."""
    worker_names: list[str] = field(default_factory=list)
    deployments: list[str] = field(default_factory=list)
    pool_created: bool = False
    database: str = ""
    log_dir: Path = Path()
    env: dict[str, str] = field(default_factory=dict)
    started_s: float = 0.0
    """Seconds from the call to ready."""
    options: ServeOptions = field(default_factory=ServeOptions)

    def stop(self, say: Say) -> None:
        """The web pages, the workers (each with the flow runs it started), then the server."""
        if self.web is not None:
            if self.web.poll() is None:
                say("Đang dừng trang web gửi báo cáo…")
            stop_tree(self.web)
            self.web = None
        for name, worker in zip(self.worker_names, self.workers, strict=False):
            if worker.poll() is None:
                say(f"Đang dừng máy thực thi {name}…")
            stop_tree(worker)
        self.workers.clear()
        if self.office is not None:
            say("Đang dừng LibreOffice chạy sẵn…")
            stop_warm_office(self.office)
            self.office = None
        if self.server is not None:
            say("Đang dừng máy chủ Prefect…")
            stop_server(self.server)
            self.server = None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def server_auth_string() -> str | None:
    """PREFECT_SERVER_API_AUTH_STRING (Prefect's basic auth), from the environment or profile."""
    from prefect.settings import get_current_settings

    secret = get_current_settings().server.api.auth_string
    return secret.get_secret_value() if secret else None


def check_listen_address(host: str) -> None:
    if is_loopback(host) or server_auth_string():
        return
    raise ServeRefused(
        f"Không khởi động: địa chỉ {host} cho máy khác truy cập máy chủ Prefect, mà qua API ai "
        "cũng đọc được dữ liệu các bước chờ (kể cả mã phê duyệt đã nhập). Đặt "
        "PREFECT_SERVER_API_AUTH_STRING='tên:mật-khẩu' (xác thực của Prefect) rồi chạy lại, "
        "hoặc bỏ --host để chỉ nghe tại 127.0.0.1."
    )


def _url_host(host: str) -> str:
    """The address to reach a server listening on `host` from this machine."""
    host = "127.0.0.1" if host in WILDCARD_HOSTS else host
    return f"[{host}]" if ":" in host else host


def _client_environment(api_url: str) -> dict[str, str]:
    """The environment of the processes that talk to the server (deploy, workers)."""
    settings = get_settings()
    env = {
        **os.environ,
        "PREFECT_API_URL": api_url,
        "PREFECT_WORKER_QUERY_SECONDS": f"{settings.worker_query_s:g}",
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(HEARTBEAT_S),
        "REPORTFLOW_HOME": str(settings.home.resolve()),
    }
    auth = server_auth_string()
    if auth and "PREFECT_API_AUTH_STRING" not in env:
        env["PREFECT_API_AUTH_STRING"] = auth
    if "prefect_ui_url" not in settings.model_fields_set:
        env["REPORTFLOW_PREFECT_UI_URL"] = api_url.rstrip("/").removesuffix("/api")
    return env


@contextmanager
def _prefect_settings(env: dict[str, str]):
    """This process's Prefect client settings, on the served server."""
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    updates = {PREFECT_API_URL: env["PREFECT_API_URL"]}
    if env.get("PREFECT_API_AUTH_STRING"):
        updates[PREFECT_API_AUTH_STRING] = env["PREFECT_API_AUTH_STRING"]
    with temporary_settings(updates=updates):
        yield


@contextmanager
def _prefect_client(env: dict[str, str]):
    from prefect.client.orchestration import get_client

    with _prefect_settings(env), get_client(sync_client=True) as client:
        yield client


def existing_server() -> str:
    """PREFECT_API_URL, for --no-server; refused when unset or not answering."""
    from prefect.settings import get_current_settings

    configured = get_current_settings().api.url
    if not configured:
        raise ServeRefused(
            "Chưa đặt PREFECT_API_URL: với --no-server, đặt địa chỉ API của máy chủ Prefect "
            "có sẵn, ví dụ PREFECT_API_URL=http://may-chu:4200/api."
        )
    if not is_healthy(configured):
        raise ServeRefused(f"Máy chủ Prefect tại {configured} không trả lời.")
    return configured


def start_or_reuse_server(options: ServeOptions, served: Served, say: Say) -> None:
    from prefect.settings import get_current_settings

    if options.no_server:
        served.api_url = existing_server()
        say(f"Dùng máy chủ Prefect có sẵn tại {served.api_url}.")
        return
    configured = get_current_settings().api.url
    if configured and is_healthy(configured):
        served.api_url = configured
        say(f"Dùng máy chủ Prefect đang chạy tại {configured} (PREFECT_API_URL).")
        return
    api_url = f"http://{_url_host(options.host)}:{options.port}/api"
    say(f"Đang khởi động máy chủ Prefect tại {api_url} (khoảng 10–30 giây)…")
    began = time.monotonic()
    started: list[subprocess.Popen] = []
    try:
        process = ensure_server(
            api_url,
            get_current_settings().home,
            served.log_dir / "prefect-server.log",
            host=options.host,
            started=started,
        )
    except RuntimeError as exc:
        raise ServeFailed(str(exc)) from exc
    finally:
        served.server = started[0] if started else None
    served.api_url = api_url
    if process is None:
        say(f"Dùng máy chủ Prefect đang chạy tại {api_url}.")
    else:
        say(
            f"Máy chủ Prefect đã chạy sau {time.monotonic() - began:.1f} giây "
            f"(cơ sở dữ liệu của Prefect: {prefect_database()})."
        )


def restart_server(served: Served, say: Say) -> None:
    """The Prefect server `serve` started has died: started again on the same address and
    database (the waiting cycles are kept there; the workers reconnect, or are restarted)."""
    from prefect.settings import get_current_settings

    log = served.log_dir / "prefect-server.log"
    say(f"Máy chủ Prefect đã dừng bất ngờ (mã {served.server.returncode}); khởi động lại…")
    stop_server(served.server)
    served.server = None
    started: list[subprocess.Popen] = []
    try:
        ensure_server(
            served.api_url,
            get_current_settings().home,
            log,
            host=served.options.host,
            started=started,
        )
    except RuntimeError as exc:
        raise ServeFailed(f"Không khởi động lại được máy chủ Prefect: {exc}") from exc
    finally:
        served.server = started[0] if started else None
    say(f"Máy chủ Prefect đã chạy lại tại {served.api_url}.")


PREFECT_DATABASE_SUFFIX = "_prefect"


def choose_prefect_database(say: Say) -> None:
    """The production topology when the project database is PostgreSQL: the Prefect server
    started here gets a database of its own on the same PostgreSQL server (created if missing),
    unless PREFECT_API_DATABASE_CONNECTION_URL names one. On SQLite, says it is the trial setup."""
    from sqlalchemy import make_url

    project = make_url(get_settings().resolved_database_url)
    if os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL"):
        return
    if not project.drivername.startswith("postgresql"):
        say(
            "Cấu hình dùng thử: Prefect và dữ liệu dự án trên SQLite, cho một máy và ít phòng. "
            "Khi dùng thật, đặt REPORTFLOW_DATABASE_URL=postgresql://… thì reportflow serve tự "
            "dùng PostgreSQL cho cả Prefect."
        )
        return
    name = f"{project.database}{PREFECT_DATABASE_SUFFIX}"
    created = create_database_if_missing(project, name)
    prefect_url = project.set(drivername="postgresql+asyncpg", database=name, query={})
    os.environ["PREFECT_API_DATABASE_CONNECTION_URL"] = prefect_url.render_as_string(
        hide_password=False
    )
    say(
        f"Cấu hình vận hành: Prefect dùng PostgreSQL, cơ sở dữ liệu {name} "
        f"({'vừa tạo' if created else 'đã có'}) trên cùng máy chủ với dữ liệu dự án."
    )


def create_database_if_missing(project, name: str) -> bool:
    """CREATE DATABASE on the project's PostgreSQL server; True when it was made now."""
    import psycopg
    from psycopg import sql

    dsn = project.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(dsn, autocommit=True) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.errors.DuplicateDatabase:
        return False
    except psycopg.Error as exc:
        raise ServeFailed(
            f"Không tạo được cơ sở dữ liệu {name} cho Prefect trên máy chủ PostgreSQL của dự án "
            f"({str(exc).splitlines()[0][:200]}); tạo sẵn, hoặc đặt "
            "PREFECT_API_DATABASE_CONNECTION_URL."
        ) from exc
    return not exists


def prefect_database() -> str:
    """The database the Prefect server started here uses (PREFECT_API_DATABASE_CONNECTION_URL,
    else SQLite in PREFECT_HOME), its password masked."""
    from prefect.settings import get_current_settings
    from sqlalchemy import make_url

    settings = get_current_settings()
    configured = settings.server.database.connection_url
    url = os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL") or (
        configured.get_secret_value() if configured is not None else ""
    )
    if not url:
        return f"SQLite trong {settings.home}"
    return make_url(url).render_as_string(hide_password=True)


def upgrade_database(served: Served, say: Say) -> None:
    from sqlalchemy.exc import OperationalError

    from reportflow.models import get_engine
    from reportflow.models.migrate import MigrationError, upgrade_db

    served.database = get_engine().url.render_as_string(hide_password=True)
    try:
        result = upgrade_db()
    except OperationalError as exc:
        raise ServeFailed(
            f"Không mở được cơ sở dữ liệu {served.database}: {exc.orig or exc}"
        ) from exc
    except MigrationError as exc:
        raise ServeFailed(str(exc)) from exc
    change = (
        f"phiên bản {result.before or 'mới'} → {result.after}"
        if result.steps
        else f"phiên bản {result.after}"
    )
    say(f"Cơ sở dữ liệu đã cập nhật ({change}): {served.database}")


def ensure_work_pool(env: dict[str, str], served: Served, say: Say) -> None:
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with _prefect_client(env) as client:
        try:
            pool = client.read_work_pool(POOL)
        except ObjectNotFound:
            template = ProcessWorker.get_default_base_job_template()
            client.create_work_pool(
                WorkPoolCreate(name=POOL, type="process", base_job_template=template)
            )
            served.pool_created = True
            say(f"Đã tạo nhóm máy thực thi '{POOL}' (loại process).")
            return
    if pool.type != "process":
        raise ServeFailed(
            f"Nhóm máy thực thi '{POOL}' đã có nhưng thuộc loại {pool.type}, không phải process."
        )
    say(f"Nhóm máy thực thi '{POOL}' đã có.")


def deployment_names(home: Path) -> list[str]:
    project = home / "prefect.yaml"
    if not project.is_file():
        raise ServeFailed(
            f"Không thấy {project}: đặt REPORTFLOW_HOME là thư mục mã nguồn reportflow."
        )
    return [d["name"] for d in yaml.safe_load(project.read_text(encoding="utf-8"))["deployments"]]


def deploy(env: dict[str, str], served: Served, say: Say, timeout_s: float = 600) -> None:
    """`prefect deploy --all` on prefect.yaml, then checks that each of its deployments exists
    in the pool."""
    from prefect.client.schemas.filters import WorkPoolFilter, WorkPoolFilterName

    home = get_settings().home.resolve()
    wanted = deployment_names(home)
    say(f"Đang triển khai {len(wanted)} deployment của prefect.yaml ({', '.join(wanted)})…")
    log_path = served.log_dir / "prefect-deploy.log"
    command = [sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--all"]
    process = start_in_own_group(command, log_path, env, cwd=home)
    try:
        code = process.wait(timeout=timeout_s)
    except BaseException:
        stop_tree(process, grace_s=2)
        raise
    if code != 0:
        raise ServeFailed(f"Triển khai prefect.yaml không thành công (mã {code}); xem {log_path}")
    with _prefect_client(env) as client:
        found = client.read_deployments(
            work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[POOL]))
        )
    missing = set(wanted) - {d.name for d in found}
    if missing:
        raise ServeFailed(f"Thiếu deployment sau khi triển khai: {', '.join(sorted(missing))}")
    served.deployments = wanted
    say(f"Đã triển khai: {', '.join(wanted)}.")


def start_workers(count: int, env: dict[str, str], served: Served, say: Say) -> None:
    """Starts `count` process workers and waits until the server sees each of them online."""
    settings = get_settings()
    say(f"Đang khởi động {count} máy thực thi (nhóm '{POOL}')…")
    base = f"reportflow-{socket.gethostname()}-{os.getpid()}"
    for index in range(1, count + 1):
        name = f"{base}-{index}"
        worker = start_worker(
            POOL, served.log_dir / f"worker-{index}.log", env, settings.home.resolve(), name
        )
        served.workers.append(worker)
        served.worker_names.append(name)
    deadline = time.monotonic() + settings.worker_ready_timeout_s
    while (waiting := _workers_not_online(env, served)) and time.monotonic() < deadline:
        for name, worker in zip(served.worker_names, served.workers, strict=True):
            if worker.poll() is not None:
                raise ServeFailed(f"Máy thực thi {name} đã dừng; xem {worker.log_path}")
        time.sleep(0.5)
    if waiting:
        raise ServeFailed(
            f"Máy thực thi chưa kết nối sau {settings.worker_ready_timeout_s:.0f} giây: "
            f"{', '.join(waiting)}; xem {served.log_dir}"
        )


def _workers_not_online(env: dict[str, str], served: Served) -> list[str]:
    from prefect.client.schemas.objects import WorkerStatus

    with _prefect_client(env) as client:
        workers = client.read_workers_for_work_pool(POOL)
    online = {w.name for w in workers if w.status == WorkerStatus.ONLINE}
    return [name for name in served.worker_names if name not in online]


def start(options: ServeOptions, served: Served, say: Say) -> None:
    """Starts everything, recording each process in `served` as soon as it exists."""
    began = time.monotonic()
    served.options = options
    served.log_dir = (get_settings().data_dir / "logs").resolve()
    upgrade_database(served, say)
    if not options.no_server:
        choose_prefect_database(say)
    start_or_reuse_server(options, served, say)
    served.ui_url = served.api_url.rstrip("/").removesuffix("/api")
    env = _client_environment(served.api_url)
    ensure_work_pool(env, served, say)
    try:
        with _prefect_client(env) as client:
            if ensure_zombie_automation(client):
                say("Đã tạo quy tắc đánh dấu Crashed quy trình mất nhịp tim (máy chạy đã chết).")
    except Exception as exc:  # noqa: BLE001 - serving goes on; `check` reports stalled cycles
        say(f"Cảnh báo: chưa tạo được quy tắc phát hiện quy trình mất nhịp tim ({exc}).")
    deploy(env, served, say)
    start_office(served, say)
    start_workers(options.workers, env, served, say)
    start_web(env, served, say)
    served.started_s = time.monotonic() - began
    served.env = env


def start_office(served: Served, say: Say) -> None:
    """The warm LibreOffice for the drafts' PDFs; without it, each conversion starts its own."""
    if not get_settings().warm_office:
        return
    say("Đang khởi động LibreOffice chạy sẵn (chuyển dự thảo sang PDF)…")
    try:
        served.office = start_warm_office(served.log_dir / "office.log")
    except UserError as exc:
        say(f"Cảnh báo: {exc} Mỗi lần chuyển PDF sẽ tự khởi động LibreOffice (chậm hơn).")


def start_web(env: dict[str, str], served: Served, say: Say, timeout_s: float = 60) -> None:
    """`reportflow web` in a process group of its own; ready once its health check answers."""
    host, port = bind_address()
    served.web_address = f"http://{_url_host(host)}:{port}"
    say(f"Đang khởi động trang web gửi báo cáo tại {served.web_address}…")
    served.web = start_in_own_group(
        [sys.executable, "-m", "reportflow.cli", "web"],
        served.log_dir / "web.log",
        env,
        get_settings().home.resolve(),
    )
    deadline = time.monotonic() + timeout_s
    while not web_is_up(served.web_address):
        if served.web.poll() is not None or time.monotonic() > deadline:
            raise ServeFailed(
                f"Trang web không khởi động được tại {served.web_address} (cổng đã có chương "
                f"trình khác dùng? đổi bằng REPORTFLOW_WEB_PORT); xem {served.log_dir / 'web.log'}"
            )
        time.sleep(0.2)


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived."""


def _interrupt(signum: int, frame) -> None:
    raise Interrupted(signal.Signals(signum).name)


def run(
    options: ServeOptions, say: Say, on_ready: Callable[[Served], None], poll_s: float = 1.0
) -> None:
    """Starts everything, calls `on_ready`, then waits until SIGINT/SIGTERM (or until a started
    process dies, which raises ServeFailed); whatever was started is stopped in every case."""
    if options.workers < 1:
        raise ServeRefused("Cần ít nhất một máy thực thi (--workers 1 trở lên).")
    if options.no_server:
        existing_server()
    else:
        check_listen_address(options.host)
    served = Served()
    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, _interrupt) for sig in handled}
    try:
        start(options, served, say)
        on_ready(served)
        _watch(served, poll_s, say)
    except Interrupted:
        pass
    finally:
        for sig in handled:
            signal.signal(sig, signal.SIG_IGN)
        try:
            served.stop(say)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    say("Đã dừng mọi thứ reportflow serve đã khởi động.")


def _watch(served: Served, poll_s: float, say: Say) -> None:
    """Keeps up what `serve` started: the server, the web pages, LibreOffice and the workers (one
    that stopped, as a worker gives up after about a minute of Prefect outage, is started again,
    at most every `WORKER_RESTART_S`); and mends the cycles whose run's machine died."""
    restarted_at: dict[int, float] = {}
    mender, mend_every = RunMender(), get_settings().serve_mend_s
    mended_at = time.monotonic()
    while True:
        if served.server is not None and served.server.poll() is not None:
            restart_server(served, say)
        if served.web is not None and served.web.poll() is not None:
            say(f"Trang web đã dừng bất ngờ (mã {served.web.returncode}); khởi động lại.")
            stop_tree(served.web)
            start_web(served.env, served, say)
        if served.office is not None and warm_pid() != served.office.pid:
            if served.office.poll() is not None:
                say(f"LibreOffice chạy sẵn đã dừng (mã {served.office.returncode}); khởi động lại.")
            else:
                say("LibreOffice chạy sẵn không chuyển được một tệp; khởi động lại.")
            stop_warm_office(served.office)
            served.office = None
            start_office(served, say)
        for index, (name, worker) in enumerate(
            zip(served.worker_names, served.workers, strict=True)
        ):
            if worker.poll() is None:
                continue
            if time.monotonic() - restarted_at.get(index, -WORKER_RESTART_S) < WORKER_RESTART_S:
                continue
            say(f"Máy thực thi {name} đã dừng (mã {worker.returncode}); khởi động lại.")
            stop_tree(worker)
            served.workers[index] = start_worker(
                POOL, worker.log_path, served.env, get_settings().home.resolve(), name
            )
            restarted_at[index] = time.monotonic()
        if time.monotonic() - mended_at >= mend_every:
            with _prefect_settings(served.env):
                for line in mender.mend():
                    say(line)
            mended_at = time.monotonic()
        time.sleep(poll_s)
