"""The production topology on one machine: `reportflow serve --workers 2` with the Prefect server
on PostgreSQL and the project database on PostgreSQL (real processes), running a small cycle
(three sections) from the request mails to the dispatch."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from uuid import UUID

import httpx
import psycopg
import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings

from reportflow.core.config import reload_settings
from reportflow.cycle.collecting.submit import submit_section
from reportflow.cycle.cycles import get_cycle, open_cycle
from reportflow.cycle.deciding.decide import send_decision
from reportflow.definitions.loader import load_definition
from reportflow.demo.run import wait_until
from reportflow.models import CycleState, session_scope
from reportflow.runtime.runs import start_cycle_run
from tests.factories import AGENCY_DEFINITIONS, approval_codes
from tests.test_second_definition import REQUEST
from tests.test_serve import READY, Serve, field, free_port, serve_environment

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

SECTIONS = [
    ("ha-tang", "tp-cds", "- 100% xã có cáp quang đến trung tâm xã."),
    ("dich-vu-cong", "tp-cds", "- Tỷ lệ hồ sơ trực tuyến toàn trình đạt 42,5%."),
    ("du-lieu-so", "tp-cds", "1. Kho dữ liệu dùng chung."),
    ("kien-nghi", "cvp", "Đề nghị Bộ hỗ trợ tỉnh triển khai nền tảng dữ liệu dùng chung."),
]


def prefect_rows(prefect_url: str, table: str) -> int:
    plain = prefect_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    with psycopg.connect(plain) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_serve_on_postgresql_with_two_workers_runs_a_cycle_to_the_dispatch(
    postgres_databases, smtp, tmp_path: Path, restore_environment
):
    prefect_url, project_url = postgres_databases
    settings = {
        "REPORTFLOW_DATABASE_URL": project_url,
        "REPORTFLOW_DEFINITIONS_DIRS": f'["{AGENCY_DEFINITIONS / "soc-trang"}"]',
        "REPORTFLOW_FROZEN_NOW": "2021-12-15T09:00:00+07:00",
        "REPORTFLOW_SECRET_KEY": "khoa-thu-chung-cua-moi-may-trong-bai-thu-nay",
        "REPORTFLOW_WORKER_QUERY_S": "1",
    }
    os.environ.update(settings)
    reload_settings()
    env = serve_environment(tmp_path, **settings)
    env.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)
    port = free_port()
    serve = Serve(["--port", str(port), "--workers", "2"], env, tmp_path)
    try:
        serve.wait_for(READY, 300)
        assert "cơ sở dữ liệu của Prefect: postgresql+asyncpg://" in serve.output, serve.output
        assert "Cấu hình vận hành: Prefect dùng PostgreSQL" in serve.output
        assert f"{prefect_url.rsplit('/', 1)[1]} (vừa tạo)" in serve.output
        assert field(serve.output, "Cơ sở dữ liệu").startswith("postgresql+psycopg://")
        api = f"http://127.0.0.1:{port}/api"
        workers = httpx.post(f"{api}/work_pools/reportflow/workers/filter", json={}).json()
        assert sorted(w["status"] for w in workers) == ["ONLINE", "ONLINE"]

        with temporary_settings({PREFECT_API_URL: api}):
            with session_scope() as session:
                cycle_id = open_cycle(session, "chuyen-doi-so-nam", REQUEST, "cvp").id
            started = start_cycle_run(cycle_id)

            def suspended_at(prefix: str) -> bool:
                with get_client(sync_client=True) as client:
                    state = client.read_flow_run(UUID(started.flow_run_id)).state
                return state.name == "Suspended" and state.state_details.pause_key.startswith(
                    prefix
                )

            wait_until(lambda: suspended_at("sections-"), 180, "waiting for the sections")
            for key, person, text in SECTIONS:
                section = tmp_path / f"{key}.md"
                section.write_text(text + "\n", encoding="utf-8")
                submit_section(cycle_id, key, section, person)
            # The signer (the deputy, KT.) is mailed first, then the director, a listed approver.
            code = wait_until(lambda: approval_codes(smtp), 180, "the approval mail")[0]
            outcome = send_decision(cycle_id, code, [], False, "Đồng ý")
            assert outcome.startswith("Đã ghi quyết định"), outcome

            def state() -> CycleState:
                with session_scope() as session:
                    return CycleState(get_cycle(session, cycle_id).state)

            wait_until(lambda: state() == CycleState.DONE, 180, "the dispatch")
        # The runs live in Prefect's PostgreSQL database, not in a SQLite file of the server.
        assert prefect_rows(prefect_url, "flow_run") >= 1
        assert not list(Path(env["PREFECT_HOME"]).glob("*.db"))
        dispatched = [m for m in smtp.messages() if "/BC-STTTT" in str(m["Subject"])]
        recipients = load_definition("chuyen-doi-so-nam").recipients
        assert len(dispatched) == len(recipients), [str(m["Subject"]) for m in smtp.messages()]
        serve.stop_with(signal.SIGINT)
        assert not serve.processes(), serve.processes()
    finally:
        serve.clean_up()
