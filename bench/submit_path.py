"""S1 and S2: one submission through the web route and one `reportflow submit`, on a served-mode
cycle of 100 divisions (the cycle has a flow run on a real Prefect server, so the submission
does everything it does in production: store, audit, refresh the progress table).

S1 runs the real FastAPI app under uvicorn (`reportflow web`, a process of its own) and times
the "Gửi" POST from a client on the same machine, one request at a time: server time plus a
loopback round trip (well under a millisecond). The cycle is never completed (one division
never submits), so no measured request resumes the run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.agency import (
    agency_environment,
    head_code,
    open_bench_cycle,
    section_key,
    section_links,
    section_markdown,
)
from bench.harness import (
    patched_environment,
    percentile,
    prefect_server,
    prefect_settings_for,
    submit_through_web,
    web_process,
)
from bench.results import Row
from reportflow.runtime.smtp_sink import free_port

DIVISIONS = 100
S1_P50_S = 0.1
S1_P95_S = 0.3
S2_RATIO = 1.5
CLI_RUNS = 5


def attach_flow_run(cycle_id: int) -> str:
    """A real (scheduled, never executed) run of the cycle's flow, recorded on the cycle as
    `cycle start` would."""
    from prefect.client.orchestration import get_client

    from reportflow.cycle.cycles import get_cycle
    from reportflow.flows.report_cycle import report_cycle
    from reportflow.models import session_scope

    with get_client(sync_client=True) as client:
        run = client.create_flow_run(report_cycle, parameters={"cycle_id": cycle_id})
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id)
        cycle.flow_run_id = str(run.id)
        session.add(cycle)
    return str(run.id)


def _timed_command(args: list[str], cwd: Path) -> float:
    began = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[2:])} failed:\n{done.stdout}{done.stderr}")
    return seconds


def run(divisions: int = DIVISIONS, cli_runs: int = CLI_RUNS) -> list[Row]:
    from reportflow.models import init_db
    from reportflow.runtime.smtp_sink import SmtpSink

    with tempfile.TemporaryDirectory(prefix="reportflow-bench-submit-") as tmp:
        folder = Path(tmp)
        sink = SmtpSink(folder / "outbox").start()
        web_port = free_port()
        env = agency_environment(
            folder,
            divisions,
            REPORTFLOW_SMTP_PORT=str(sink.port),
            REPORTFLOW_WEB_PORT=str(web_port),
            REPORTFLOW_WEB_URL=f"http://127.0.0.1:{web_port}",
            REPORTFLOW_DATABASE_URL="",
        )
        try:
            with prefect_server(folder / "prefect"), patched_environment(**env):
                with prefect_settings_for(os.environ["PREFECT_API_URL"]):
                    init_db()
                    cycle_id = open_bench_cycle()
                    attach_flow_run(cycle_id)
                links = section_links(cycle_id, range(1, divisions))
                print(f"  S1: {len(links)} web submissions at {divisions} divisions…", flush=True)
                with (
                    web_process(dict(os.environ), folder / "web.log", folder),
                    httpx.Client(timeout=120) as client,
                ):
                    confirm = [
                        submit_through_web(client, link, section_markdown(i)).confirm_s
                        for i, link in links.items()
                    ]
                print(
                    f"  S2: {cli_runs} × `reportflow submit` and `reportflow --help`…", flush=True
                )
                submit_s, help_s = _cli_timings(cycle_id, folder, cli_runs)
        finally:
            sink.stop()
    p50, p95 = statistics.median(confirm), percentile(confirm, 95)
    print(
        f"  S1 web 'Gửi' p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms ({len(confirm)} requests)"
    )
    print(f"  S2 submit {submit_s:.2f} s vs --help {help_s:.2f} s: {submit_s / help_s:.2f} ×")
    where = f"{divisions} divisions, SQLite, served cycle; uvicorn process, {len(confirm)} requests"
    return [
        Row(
            id="S1.p50",
            figure=f"one web submission ('Gửi' POST), server side, p50 ({where})",
            goal=f"≤ {S1_P50_S:g} s",
            measured=p50,
            unit="s",
            meets_goal=p50 <= S1_P50_S,
        ),
        Row(
            id="S1.p95",
            figure=f"one web submission ('Gửi' POST), server side, p95 ({where})",
            goal=f"≤ {S1_P95_S:g} s",
            measured=p95,
            unit="s",
            meets_goal=p95 <= S1_P95_S,
        ),
        Row(
            id="S2",
            figure=(
                f"one `reportflow submit` from a shell, median of {cli_runs} "
                f"({divisions} divisions, served cycle)"
            ),
            goal=f"≤ {S2_RATIO:g}× `reportflow --help`",
            measured=submit_s,
            unit="s",
            baseline=help_s,
            baseline_label="`reportflow --help`, same run",
            meets_goal=submit_s <= S2_RATIO * help_s,
        ),
    ]


def _cli_timings(cycle_id: int, folder: Path, runs: int) -> tuple[float, float]:
    """Median wall times of `reportflow submit` (a new version of a submitted section) and of
    `reportflow --help`, interleaved so both see the same machine."""
    script = Path(sys.executable).with_name("reportflow")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "reportflow.cli"]
    submits, helps = [], []
    for i in range(1, runs + 1):
        source = folder / f"cli-{i}.md"
        source.write_text(section_markdown(i), encoding="utf-8")
        helps.append(_timed_command([*command, "--help"], folder))
        submits.append(
            _timed_command(
                [
                    *command,
                    "submit",
                    str(cycle_id),
                    section_key(i),
                    str(source),
                    "--by",
                    head_code(i),
                ],
                folder,
            )
        )
    return statistics.median(submits), statistics.median(helps)
