"""`reportflow submit` loads no Prefect: the completing submission wakes the paused run through
Prefect's REST API, and the run carries on to the director's draft."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from reportflow.core.config import reload_settings
from reportflow.cycle.collecting.submit import submit_indicators, submit_section
from reportflow.cycle.cycles import get_cycle
from reportflow.demo.run import start_flow_process, wait_for_pause
from reportflow.demo.scenario import DATA_DIR
from reportflow.models import CycleState, session_scope
from reportflow.services.prefect_api import api_client, read_run_state
from tests.factories import SECTION_HEADS, open_sample_cycle, section_md

pytestmark = pytest.mark.e2e

IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", re.MULTILINE)


def cli_imports(*args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Runs the real command line in a process of its own; the modules it imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reportflow.cli", *args],
        capture_output=True,
        text=True,
        env=os.environ | {"COLUMNS": "200"},
        timeout=120,
    )
    return done, set(IMPORTED.findall(done.stderr))


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_completing_cli_submission_wakes_the_run_without_importing_prefect(
    prefect_server, database, smtp, tmp_path, monkeypatch
):
    monkeypatch.setenv("REPORTFLOW_PAUSE_POLL_S", "1")
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-05T09:00:00+07:00")
    reload_settings()
    cycle_id = open_sample_cycle()
    flow = start_flow_process(cycle_id, tmp_path / "flow.log")
    try:
        wait_for_pause(cycle_id, "sections-", flow)
        submit_indicators(cycle_id, DATA_DIR / "indicators-bcvt.yaml", "tp-bcvt")
        submit_indicators(cycle_id, DATA_DIR / "indicators-ttbcxb.yaml", "tp-ttbcxb")
        *first, (last_key, last_person) = SECTION_HEADS.items()
        for key, person in first:
            submit_section(cycle_id, key, section_md(tmp_path, key), person)

        done, modules = cli_imports(
            "submit", str(cycle_id), last_key, str(section_md(tmp_path, last_key)),
            "--by", last_person,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "reportflow.cycle.collecting.submit" in modules, (
            "the check sees the command's imports"
        )
        assert not {m for m in modules if m == "prefect" or m.startswith("prefect.")}
        assert "apprise" not in modules
        assert "quy trình tổng hợp dự thảo đã được đánh thức" in " ".join(done.stdout.split())
        with session_scope() as session:
            run_id = get_cycle(session, cycle_id).flow_run_id
        with api_client() as client:
            state = read_run_state(client, run_id)
        assert not state.is_paused, "resumed by the submission itself, not left to a sweep"

        wait_for_pause(cycle_id, "decision-", flow)
        with session_scope() as session:
            assert get_cycle(session, cycle_id).state == CycleState.AWAITING_DECISION
    finally:
        flow.kill()
        flow.wait(timeout=30)


def test_help_and_a_refused_submission_load_no_prefect(database, tmp_path):
    cycle_id = open_sample_cycle()
    done, modules = cli_imports("--help")
    assert done.returncode == 0 and "prefect" not in modules
    done, modules = cli_imports(
        "submit", str(cycle_id), "bcvt", str(section_md(tmp_path, "bcvt")), "--by", "chanhtt"
    )
    assert done.returncode == 2 and "Mỗi phòng chỉ gửi phần của mình" in done.stderr
    assert "reportflow.cycle.collecting.submit" in modules and "prefect" not in modules
