"""`reportflow check`: what IT staff run on a new machine, against the real services here."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reportflow.cli import app
from reportflow.core.config import reload_settings
from reportflow.runtime.health import run_checks

AGENCY = Path(__file__).parent / "definitions" / "soc-trang"


def by_name(findings) -> dict[str, tuple[str, str]]:
    return {f.name: (f.severity, f.detail) for f in findings}


def test_a_machine_with_everything_running_passes(prefect_server, database, smtp):
    found = by_name(run_checks())
    assert found["Cơ sở dữ liệu"][0] == "ok"
    # No definitions folder configured: the sample is loaded, and said to be one.
    severity, detail = found["Định nghĩa báo cáo"]
    assert severity == "cảnh báo"
    assert detail.startswith("ktxh-6-thang (mẫu reportflow/samples/ktxh-6-thang.yaml)")
    assert "tệp tổ chức: mẫu reportflow/samples/organisation.yaml" in detail
    assert "định nghĩa mẫu chỉ để thử" in detail
    assert found["Máy chủ thư"] == ("ok", f"127.0.0.1:{smtp.port}")
    assert found["Máy chủ Prefect"] == ("ok", prefect_server)
    assert found["Khóa ký mã phê duyệt"][0] == "cảnh báo"  # a machine-local key, said so


def test_a_dead_mail_server_fails_the_check_and_names_it(database, restore_environment):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        os.environ["REPORTFLOW_SMTP_PORT"] = str(port)  # bound, not listening: refused
        reload_settings()
        result = CliRunner().invoke(app, ["check"], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if "Máy chủ thư" in line)
    assert "lỗi" in line and f"127.0.0.1:{port} không trả lời" in line
    assert "Có hạng mục lỗi" in result.output


def test_a_password_in_the_database_url_is_not_shown(restore_environment, tmp_path):
    os.environ["REPORTFLOW_DATA_DIR"] = str(tmp_path)
    os.environ["REPORTFLOW_DATABASE_URL"] = "postgresql://reportflow:Bi-Mat-123@127.0.0.1:9/none"
    reload_settings()
    severity, detail = by_name(run_checks())["Cơ sở dữ liệu"]
    assert severity == "lỗi"
    assert "Bi-Mat-123" not in detail and "127.0.0.1:9/none" in detail


def test_a_token_written_in_the_yaml_is_pointed_out_without_being_shown(
    database, restore_environment, tmp_path
):
    from reportflow.core.config import SAMPLES_DIR

    organisation = (SAMPLES_DIR / "organisation.yaml").read_text(encoding="utf-8")
    token = "123456789:AAHsecretBotToken1234567890abcdef"
    organisation = organisation.replace(
        "role: director, division: bgd,",
        f'role: director, division: bgd, apprise: ["tgram://{token}/42"],',
    )
    assert token in organisation
    (tmp_path / "organisation.yaml").write_text(organisation, encoding="utf-8")
    os.environ["REPORTFLOW_DEFINITIONS_DIRS"] = f'["{tmp_path}"]'
    reload_settings()
    severity, detail = by_name(run_checks())["Bí mật trong tệp YAML"]
    assert severity == "cảnh báo"
    assert "người 'giamdoc'" in detail and token not in detail and "AAHsecret" not in detail


def test_an_open_cycle_whose_run_ended_is_reported_with_the_command_that_mends_it(
    prefect_server, database, smtp
):
    from uuid import uuid4

    from prefect import flow
    from prefect.context import get_run_context

    from reportflow.cycle.cycles import get_cycle
    from reportflow.models import session_scope
    from tests.factories import open_sample_cycle

    @flow
    def ended_elsewhere() -> str:
        return str(get_run_context().flow_run.id)

    never_started = open_sample_cycle()
    ended = open_sample_cycle()
    vanished = open_sample_cycle()
    with session_scope() as session:
        get_cycle(session, ended, for_update=True).flow_run_id = ended_elsewhere()
        get_cycle(session, vanished, for_update=True).flow_run_id = str(uuid4())
    found = by_name(run_checks())
    assert found["Kỳ báo cáo đang mở"] == (
        "lỗi",
        f"Kỳ báo cáo số {ended}: quy trình đã xong nhưng kỳ báo cáo còn mở. Khắc phục: "
        f"reportflow cycle start {ended} | Kỳ báo cáo số {vanished}: quy trình không còn trên "
        f"máy chủ Prefect. Khắc phục: reportflow cycle start {vanished}",
    )
    assert found["Kỳ báo cáo chưa khởi chạy"] == (
        "cảnh báo",
        f"Kỳ báo cáo số {never_started}: chưa có quy trình chạy. Khắc phục: "
        f"reportflow cycle start {never_started}",
    )
    status = CliRunner().invoke(app, ["status", str(ended)], env={"COLUMNS": "200"})
    assert (
        f"Cần xử lý: Kỳ báo cáo số {ended}: quy trình đã xong nhưng kỳ báo cáo còn mở. "
        f"Khắc phục: reportflow cycle start {ended}"
    ) in " ".join(status.output.split())


def test_an_agency_with_its_own_organisation_is_checked_without_the_sample(
    database, restore_environment
):
    os.environ["REPORTFLOW_DEFINITIONS_DIRS"] = json.dumps([str(AGENCY)])
    reload_settings()
    result = CliRunner().invoke(app, ["check"], env={"COLUMNS": "400"})
    line = next(line for line in result.output.splitlines() if "Định nghĩa báo cáo" in line)
    assert "│ ok " in line, line
    assert "chuyen-doi-so-nam" in line
    assert "ktxh-6-thang" not in result.output and "mẫu" not in result.output
    severity, detail = by_name(run_checks())["Định nghĩa báo cáo"]
    assert (severity, detail) == (
        "ok",
        f"chuyen-doi-so-nam ({AGENCY / 'chuyen-doi-so-nam.yaml'}); "
        f"tệp tổ chức: {AGENCY / 'organisation.yaml'}",
    )


def test_samples_asked_for_beside_an_agency_organisation_say_how_to_switch_them_off(
    database, restore_environment
):
    os.environ["REPORTFLOW_DEFINITIONS_DIRS"] = json.dumps([str(AGENCY)])
    os.environ["REPORTFLOW_SAMPLES"] = "true"
    reload_settings()
    severity, detail = by_name(run_checks())["Định nghĩa báo cáo"]
    assert severity == "lỗi"
    assert "[mẫu reportflow/samples/ktxh-6-thang.yaml]" in detail
    assert "đặt REPORTFLOW_SAMPLES=false" in detail
    assert "chuyen-doi-so-nam" not in detail  # the agency's own definition is fine


def test_a_run_left_pending_by_a_dead_worker_is_named_with_the_replace_command(
    prefect_server, database, smtp, restore_environment
):
    """A worker killed just after pickup leaves its run Pending for good (the flow never began,
    so no heartbeat marks it crashed). Here the run is put in the state a worker gives it at
    pickup (Pending, on the real Prefect server) and no worker ever takes it further."""
    import time
    from uuid import UUID

    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.states import Pending

    from reportflow.core.errors import Conflict
    from reportflow.cycle.cycles import get_cycle
    from reportflow.models import session_scope
    from reportflow.runtime.runs import start_cycle_run
    from tests.factories import open_sample_cycle

    @flow(name="report_cycle")
    def report_cycle_stand_in() -> None:
        pass

    cycle_id = open_sample_cycle()
    with get_client(sync_client=True) as client:
        run = client.create_flow_run(report_cycle_stand_in, state=Pending())
    with session_scope() as session:
        get_cycle(session, cycle_id, for_update=True).flow_run_id = str(run.id)

    os.environ["REPORTFLOW_STUCK_PENDING_S"] = "600"
    reload_settings()
    assert f"Kỳ báo cáo số {cycle_id}" not in str(run_checks()), "a fresh Pending is normal"
    assert start_cycle_run(cycle_id).flow_run_id == str(run.id), "asked twice: one run"

    os.environ["REPORTFLOW_STUCK_PENDING_S"] = "1"
    reload_settings()
    time.sleep(1.5)
    severity, detail = by_name(run_checks())["Kỳ báo cáo đang mở"]
    assert severity == "lỗi"
    assert f"Kỳ báo cáo số {cycle_id}: quy trình kẹt ở bước chuẩn bị từ" in detail
    assert detail.endswith(f"Khắc phục: reportflow cycle start {cycle_id} --replace")
    status = CliRunner().invoke(app, ["status", str(cycle_id)], env={"COLUMNS": "200"})
    assert "kẹt ở bước chuẩn bị" in status.output and "--replace" in status.output
    with pytest.raises(Conflict, match="--replace"):
        start_cycle_run(cycle_id)
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(UUID(str(run.id))).state.type.value == "PENDING"
