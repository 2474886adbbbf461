"""`reportflow serve` as an agency runs it: a real process that starts the Prefect server, the
work pool, the deployments and a worker, and stops every process it started on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

from reportflow.runtime.prefect_server import is_healthy
from reportflow.runtime.smtp_sink import free_port
from reportflow.services.processes import (
    descendants,
    kill_pids,
    kill_tree,
    processes_with_environment,
)
from tests.hold_flow import ROOT, deploy_hold, wait_for_flow_run_process, wait_until_running

READY = "Sẵn sàng"
PREFECT_YAML_DEPLOYMENTS = {
    d["name"] for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]
}


def serve_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A Prefect home of its own, below the session's (so the session's leftover check sees
    it), a data folder of its own, and no Prefect server configured."""
    env = {
        **os.environ,
        "PREFECT_HOME": str(Path(os.environ["PREFECT_HOME"]) / f"serve-{tmp_path.name}"),
        "REPORTFLOW_DATA_DIR": str(tmp_path / "data"),
        "PYTHONUNBUFFERED": "1",
        "REPORTFLOW_WEB_PORT": str(free_port()),
        **extra,
    }
    for key in ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING"):
        env.pop(key, None)
    if "PREFECT_SERVER_API_AUTH_STRING" not in extra:
        env.pop("PREFECT_SERVER_API_AUTH_STRING", None)
    return env


class Serve:
    """`reportflow serve` in a process of its own; its output collected line by line."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path):
        self.env = env
        self.began = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "reportflow.cli", "serve", *args],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout_s: float) -> float:
        """Seconds from the start until a line holding `text` was printed."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return time.monotonic() - self.began
            assert self.process.poll() is None, f"serve stopped:\n{self.output}"
            time.sleep(0.2)
        raise AssertionError(f"no '{text}' after {timeout_s} s:\n{self.output}")

    def processes(self) -> dict[int, str]:
        return processes_with_environment("PREFECT_HOME", self.env["PREFECT_HOME"])

    def stop_with(self, sig: int, timeout_s: float = 60) -> float:
        began = time.monotonic()
        self.process.send_signal(sig)
        assert self.process.wait(timeout=timeout_s) == 0, self.output
        self.reader.join(timeout=10)
        return time.monotonic() - began

    def clean_up(self) -> None:
        if self.process.poll() is None:
            kill_tree(self.process)
        kill_pids(self.processes())


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def field(output: str, label: str) -> str:
    return re.search(rf"{label}: (\S+)", output)[1]


def test_serve_starts_everything_and_stops_all_of_it_on_ctrl_c(tmp_path):
    port = free_port()
    serve = Serve(["--port", str(port)], serve_environment(tmp_path), tmp_path)
    try:
        ready_s = serve.wait_for(READY, 300)
        print(f"\nreportflow serve: ready after {ready_s:.1f} s")
        ui = field(serve.output, "Giao diện Prefect")
        assert ui == f"http://127.0.0.1:{port}"
        api = field(serve.output, r"Máy chủ Prefect \(đã khởi động\)")
        assert api == f"{ui}/api"

        pool = httpx.get(f"{api}/work_pools/reportflow").json()
        assert pool["type"] == "process"
        deployments = httpx.post(
            f"{api}/deployments/filter",
            json={"work_pools": {"name": {"any_": ["reportflow"]}}},
        ).json()
        assert {d["name"] for d in deployments} == PREFECT_YAML_DEPLOYMENTS
        workers = httpx.post(f"{api}/work_pools/reportflow/workers/filter", json={}).json()
        assert [w["status"] for w in workers] == ["ONLINE"]
        assert workers[0]["name"] in serve.output
        page = httpx.get(ui, follow_redirects=True)
        assert page.status_code == 200 and "<html" in page.text.lower()
        web = field(serve.output, "Trang web gửi báo cáo")
        assert web == f"http://127.0.0.1:{serve.env['REPORTFLOW_WEB_PORT']}"
        assert httpx.get(f"{web}/healthz").text.splitlines()[0] == "ok"

        # A flow run on the served worker: a process in a session of its own.
        with temporary_settings({PREFECT_API_URL: api}):
            flow_run = run_deployment(deploy_hold("reportflow"), timeout=0, as_subflow=False)
            wait_for_flow_run_process(flow_run.id, serve.process)
            wait_until_running(flow_run.id)
        started = " | ".join(serve.processes().values())
        for command in (
            "reportflow.runtime.prefect_sqlite_server server start",
            "prefect worker start",
            "prefect.engine",
        ):
            assert command in started, started
        assert "Cấu hình dùng thử: Prefect và dữ liệu dự án trên SQLite" in serve.output
        office_profile = (tmp_path / "data" / "office" / "profile").resolve().as_uri()
        assert f"soffice.bin -env:UserInstallation={office_profile} --headless" in started

        # A conversion that failed through the warm LibreOffice retires it (its pid file goes):
        # serve starts a fresh one.
        pid_file = tmp_path / "data" / "office" / "warm.pid"
        retired = pid_file.read_text()
        pid_file.unlink()
        serve.wait_for("LibreOffice chạy sẵn không chuyển được một tệp; khởi động lại.", 60)
        deadline = time.monotonic() + 60
        while not (pid_file.exists() and pid_file.read_text() not in ("", retired)):
            assert time.monotonic() < deadline, serve.output
            time.sleep(0.2)
        assert int(retired) not in serve.processes()

        # A Prefect server killed outright is started again on the same address.
        [server_pid] = [
            pid for pid, cmd in serve.processes().items() if "prefect_sqlite_server server" in cmd
        ]
        os.kill(server_pid, signal.SIGKILL)
        serve.wait_for("Máy chủ Prefect đã dừng bất ngờ", 30)
        serve.wait_for("Máy chủ Prefect đã chạy lại", 180)
        assert is_healthy(api) and serve.process.poll() is None
        assert server_pid not in serve.processes()
        assert httpx.get(f"{api}/work_pools/reportflow").json()["type"] == "process"

        # The web pages killed outright are started again on the same address.
        [web_pid] = [pid for pid, cmd in serve.processes().items() if "reportflow.cli web" in cmd]
        web_workers = descendants(web_pid)
        assert web_workers, "uvicorn's worker processes"
        os.kill(web_pid, signal.SIGKILL)
        serve.wait_for("Trang web đã dừng bất ngờ (mã -9); khởi động lại.", 30)
        deadline = time.monotonic() + 60
        while not _answers(f"{web}/healthz"):
            assert time.monotonic() < deadline, serve.output
            time.sleep(0.2)
        assert web_pid not in serve.processes() and serve.process.poll() is None
        assert not web_workers & set(serve.processes()), "the old pages' workers are gone"

        stop_s = serve.stop_with(signal.SIGINT)
        print(f"reportflow serve: stopped {stop_s:.1f} s after SIGINT")
        assert not serve.processes(), serve.processes()
        assert not is_healthy(api)
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{web}/healthz", timeout=2)
        lines = serve.output.splitlines()
        assert lines[-4:] == [
            f"Đang dừng máy thực thi {workers[0]['name']}…",
            "Đang dừng LibreOffice chạy sẵn…",
            "Đang dừng máy chủ Prefect…",
            "Đã dừng mọi thứ reportflow serve đã khởi động.",
        ]
    finally:
        serve.clean_up()


def test_serve_on_another_address_needs_prefect_basic_auth(tmp_path):
    port = free_port()
    env = serve_environment(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "reportflow.cli", "serve", "--host", "0.0.0.0", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    message = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 2, message
    assert "Không khởi động: địa chỉ 0.0.0.0 cho máy khác truy cập" in message
    assert "PREFECT_SERVER_API_AUTH_STRING" in message
    assert not processes_with_environment("PREFECT_HOME", env["PREFECT_HOME"])
    assert not is_healthy(f"http://127.0.0.1:{port}/api")
    assert not (tmp_path / "data").exists(), "no database, no logs"


def test_serve_on_another_address_with_basic_auth(tmp_path):
    port = free_port()
    auth = "vanphong:mat-khau-thu"
    serve = Serve(
        ["--host", "0.0.0.0", "--port", str(port)],
        serve_environment(tmp_path, PREFECT_SERVER_API_AUTH_STRING=auth),
        tmp_path,
    )
    try:
        serve.wait_for(READY, 300)
        api = f"http://127.0.0.1:{port}/api"
        assert httpx.get(f"{api}/work_pools/reportflow").status_code == 401
        user, password = auth.split(":")
        workers = httpx.post(
            f"{api}/work_pools/reportflow/workers/filter", json={}, auth=(user, password)
        ).json()
        assert [w["status"] for w in workers] == ["ONLINE"], "the worker signed in"
        with temporary_settings({PREFECT_API_URL: api, PREFECT_API_AUTH_STRING: auth}):
            flow_run = run_deployment(deploy_hold("reportflow"), timeout=0, as_subflow=False)
            wait_for_flow_run_process(flow_run.id, serve.process)
            wait_until_running(flow_run.id)
        serve.stop_with(signal.SIGTERM)
        assert not serve.processes(), serve.processes()
    finally:
        serve.clean_up()


def test_serve_interrupted_while_it_deploys_stops_what_it_had_started(tmp_path):
    serve = Serve(["--port", str(free_port())], serve_environment(tmp_path), tmp_path)
    try:
        serve.wait_for("Đang triển khai", 300)
        deadline = time.monotonic() + 10
        while "deploy --all" not in (deploying := " | ".join(serve.processes().values())):
            assert time.monotonic() < deadline, deploying
            time.sleep(0.1)
        assert "prefect_sqlite_server server start" in deploying, deploying
        serve.stop_with(signal.SIGINT)
        assert not serve.processes(), serve.processes()
        assert serve.output.splitlines()[-2:] == [
            "Đang dừng máy chủ Prefect…",
            "Đã dừng mọi thứ reportflow serve đã khởi động.",
        ]
    finally:
        serve.clean_up()


def test_serve_without_a_server_needs_prefect_api_url(tmp_path):
    env = serve_environment(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "reportflow.cli", "serve", "--no-server"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    message = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 2, message
    assert "Chưa đặt PREFECT_API_URL" in message
    assert not processes_with_environment("PREFECT_HOME", env["PREFECT_HOME"])
    assert not (tmp_path / "data").exists()
