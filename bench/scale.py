"""`make bench-scale`: whole cycles of 10, 100 and 1,000 divisions on the production topology,
and 10 cycles of 100 at once.

The topology is `reportflow serve --workers 2` as a process of its own: the Prefect server on
PostgreSQL (a database of the bench's own), the project database on PostgreSQL, two process
workers in the `reportflow` pool and the web app (uvicorn). Mail goes to a local SMTP server in
this process. Every division head submits a realistic section through the web route (open the
link, paste, preview, "Gửi"), 10 clients at a time; one cycle submits through `reportflow
submit` instead. The director approves with the code from his mail, through the same resume
call as the Prefect UI. Every process runs on the frozen clock of `agency.CLOCK` (the internal
deadline two days away), as a cycle in progress would. The floor of S3/S4 (a suspended no-op flow resumed on the same
workers) is measured in the same run.

    python -m bench.scale [--sizes 10,100,1000] [--parallel 10x100] [--cli 10]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import httpx

from bench import web_burst
from bench.agency import (
    DIRECTOR,
    MAIL_DOMAIN,
    agency_environment,
    definition_code,
    head_code,
    open_bench_cycle,
    section_key,
    section_links,
    section_markdown,
    write_definition,
)
from bench.harness import (
    patched_environment,
    percentile,
    prefect_settings_for,
    submit_through_web,
)
from bench.results import Row
from reportflow.runtime.smtp_sink import free_port
from reportflow.services.processes import descendants, kill_tree

POSTGRES = os.environ.get("REPORTFLOW_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
CLIENTS = 10
CODE = re.compile(r"Mã phê duyệt một lần của vòng này: ([0-9A-Z]{4}-[0-9A-Z]{4})")
DRAFT_LINK = re.compile(r"/d/([A-Za-z0-9_.-]+)")
S5_S = 30.0
S6_S = 300.0
S3_SLACK_S = 1.0
S4_SLACK_S = 1.0
S7_RATIO = 2.0
FLOOR_RUNS = 5
REPEAT_UP_TO = 100
"""Cycles bigger than this run once (each takes minutes)."""
SERVE_LOGS = Path("out/bench/serve-logs")
"""The last scale run's `reportflow serve` output and its processes' logs (flow runs, timed)."""


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


# --- the topology ------------------------------------------------------------------------


def _database_names(tag: str) -> tuple[str, str]:
    return f"reportflow_bench_{tag}_prefect", f"reportflow_bench_{tag}"


def fresh_databases(tag: str) -> tuple[str, str]:
    """Two new PostgreSQL databases (Prefect's, the project's); their URLs."""
    import psycopg

    names = _database_names(tag)
    drop_databases(tag)
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(f"CREATE DATABASE {name}")
    prefect_url = POSTGRES.replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{prefect_url}/{names[0]}", f"{POSTGRES}/{names[1]}"


def drop_databases(tag: str) -> None:
    import psycopg

    from reportflow.models.db import _engine_for

    _engine_for.cache_clear()
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        for name in _database_names(tag):
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass
class Topology:
    process: subprocess.Popen
    api_url: str
    web_url: str
    output: list[str] = field(default_factory=list)

    def roles(self) -> dict[str, list[int]]:
        """The processes of the Prefect server, the workers (with the flow runs they started)
        and the web app."""
        found: dict[str, list[int]] = {"server": [], "workers": [], "web": []}
        for pid in descendants(self.process.pid):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "server start" in command:
                found["server"] += [pid, *descendants(pid)]
            elif "prefect worker start" in command:
                found["workers"] += [pid, *descendants(pid)]
            elif "reportflow.cli web" in command:
                found["web"] += [pid, *descendants(pid)]
            elif "soffice" in command or "oosplash" in command:
                found["office"] = [*found.get("office", []), pid]
        return found

    def cpu_s(self) -> dict[str, float]:
        """CPU seconds each role has used so far: its processes' own, and that of the children
        its top processes have reaped (the workers' finished flow runs)."""
        tops = {self.process.pid}
        for pid in descendants(self.process.pid):
            if _stat_fields(pid)[1:2] == [self.process.pid]:
                tops.add(pid)
        used: dict[str, float] = {}
        for role, pids in self.roles().items():
            total = 0
            for pid in set(pids):
                fields = _stat_fields(pid)
                if len(fields) > 15:
                    total += sum(fields[11:13]) + (sum(fields[13:15]) if pid in tops else 0)
            used[role] = total / os.sysconf("SC_CLK_TCK")
        return used


@contextmanager
def served(env: dict[str, str], folder: Path, workers: int) -> Iterator[Topology]:
    """`reportflow serve --workers N` on the environment; stopped with SIGINT afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reportflow.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    topology = Topology(process, f"http://127.0.0.1:{port}/api", env["REPORTFLOW_WEB_URL"])
    reader = threading.Thread(
        target=lambda: [topology.output.append(line.rstrip()) for line in process.stdout],
        daemon=True,
    )
    reader.start()
    try:
        deadline = time.monotonic() + 600
        while not any("Sẵn sàng" in line for line in topology.output):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("serve did not start:\n" + "\n".join(topology.output))
            time.sleep(0.5)
        yield topology
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                kill_tree(process)
        reader.join(timeout=5)
        shutil.rmtree(SERVE_LOGS, ignore_errors=True)
        shutil.copytree(Path(env["REPORTFLOW_DATA_DIR"]) / "logs", SERVE_LOGS)
        (SERVE_LOGS / "serve.log").write_text("\n".join(topology.output) + "\n", "utf-8")


class PeakMemory:
    """Samples the resident memory of each role every `every_s` seconds; keeps the peak sum."""

    def __init__(self, topology: Topology, every_s: float = 1.0):
        self.topology, self.every_s = topology, every_s
        self.peak: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            for role, pids in self.topology.roles().items():
                mb = sum(_rss_mb(pid) for pid in set(pids))
                self.peak[role] = max(self.peak.get(role, 0.0), mb)
            self._stop.wait(self.every_s)


def _stat_fields(pid: int) -> list[int]:
    """The numeric fields of /proc/PID/stat after the command: [state→0, ppid, …]; fields[11:15]
    are utime, stime, cutime, cstime in clock ticks. Empty when the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    values = raw[raw.rindex(")") + 2 :].split()
    return [0, *(int(v) for v in values[1:20])]


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def busy_cpu_s() -> float:
    """CPU seconds this machine has spent busy since boot, all cores (`/proc/stat`)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# --- mail ---------------------------------------------------------------------------------


class Mailbox:
    """What the local SMTP server received: the director's approval codes, by cycle, with the
    moment each arrived."""

    def __init__(self) -> None:
        self.codes: dict[int, tuple[str, float]] = {}
        self.count = 0
        self._lock = threading.Lock()

    def on_message(self, path: Path) -> None:
        from reportflow.cycle.links import verify
        from reportflow.runtime.smtp_sink import message_text, read_eml

        arrived = time.monotonic()
        message = read_eml(path)
        with self._lock:
            self.count += 1
        if f"{DIRECTOR}@{MAIL_DOMAIN}" not in str(message["To"]):
            return
        text = message_text(message)
        code, draft = CODE.search(text), DRAFT_LINK.search(text)
        if code and draft:
            with self._lock:
                self.codes[verify(draft[1]).cycle_id] = (code[1], arrived)


# --- one cycle ----------------------------------------------------------------------------


@dataclass
class CycleRun:
    size: int
    cycle_id: int = 0
    via: str = "web"
    opened: float = 0.0
    requests_sent: float = 0.0
    first_submit: float = 0.0
    last_submit: float = 0.0
    draft_mailed: float = 0.0
    decided: float = 0.0
    acting: float = 0.0
    dispatched: float = 0.0
    submit_s: list[float] = field(default_factory=list)

    def phases(self) -> dict[str, float]:
        return {
            "open → requests sent": self.requests_sent - self.opened,
            "submissions": self.last_submit - self.first_submit,
            "last submission → draft mailed (S3)": self.draft_mailed - self.last_submit,
            "decision → run acting on it (S4)": self.acting - self.decided,
            "decision → dispatched": self.dispatched - self.decided,
            "open → dispatched": self.dispatched - self.opened,
        }


def wait_until(check: Callable[[], object], timeout_s: float, what: str, every_s: float = 0.2):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(every_s)
    raise TimeoutError(f"no {what} after {timeout_s:.0f} s")


def run_state(flow_run_id: str):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(UUID(flow_run_id)).state


def cycle_field(cycle_id: int, name: str):
    from reportflow.cycle.cycles import get_cycle
    from reportflow.models import session_scope

    with session_scope() as session:
        return getattr(get_cycle(session, cycle_id), name)


def suspended_for_sections(cycle_id: int) -> bool:
    run_id = cycle_field(cycle_id, "flow_run_id")
    state = run_id and run_state(run_id)
    return bool(
        state
        and state.name == "Suspended"
        and (state.state_details.pause_key or "").startswith("sections-")
    )


def open_and_start(run: CycleRun, definition: str) -> None:
    from reportflow.runtime.runs import start_cycle_run

    run.opened = time.monotonic()
    run.cycle_id = open_bench_cycle(definition)
    start_cycle_run(run.cycle_id)


def submit_web(runs: list[CycleRun]) -> None:
    """Every division of every run through the web route, `CLIENTS` at a time."""
    jobs = []
    for run in runs:
        links = section_links(run.cycle_id, range(1, run.size + 1))
        jobs += [(run, i, link) for i, link in links.items()]
    # Interleave the cycles, as divisions of several cycles would arrive.
    jobs.sort(key=lambda job: job[1])
    local = threading.local()

    def one(job) -> None:
        run, index, link = job
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=300)
        began = time.monotonic()
        run.first_submit = run.first_submit or began
        sent = submit_through_web(local.client, link, section_markdown(index))
        run.submit_s.append(sent.confirm_s)
        run.last_submit = max(run.last_submit, time.monotonic())

    with ThreadPoolExecutor(CLIENTS) as pool:
        for done, _ in enumerate(pool.map(one, jobs), 1):
            if done % max(1, len(jobs) // 10) == 0:
                say(f"    {done}/{len(jobs)} sections submitted")


def submit_cli(run: CycleRun, folder: Path) -> None:
    """Every division through `reportflow submit`, `CLIENTS` shells at a time."""
    script = Path(sys.executable).with_name("reportflow")

    def one(index: int) -> None:
        source = folder / f"cli-{run.cycle_id}-{index}.md"
        source.write_text(section_markdown(index), encoding="utf-8")
        began = time.monotonic()
        run.first_submit = run.first_submit or began
        done = subprocess.run(
            [
                str(script),
                "submit",
                str(run.cycle_id),
                section_key(index),
                str(source),
                "--by",
                head_code(index),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"reportflow submit failed:\n{done.stdout}{done.stderr}")
        run.submit_s.append(time.monotonic() - began)
        run.last_submit = max(run.last_submit, time.monotonic())

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(one, range(1, run.size + 1)))


def decide_and_finish(run: CycleRun, mailbox: Mailbox, timeout_s: float) -> None:
    """The director's Submit on the Prefect form: the UI's own REST call (resume with the form's
    answer), once the run waits for it; S4 ends when the resumed run has recorded it."""
    from reportflow.cycle.wake import resume_with_input
    from reportflow.models import CycleState
    from reportflow.services.prefect_api import api_client

    code, arrived = wait_until(
        lambda: mailbox.codes.get(run.cycle_id), timeout_s, f"draft of cycle {run.cycle_id}"
    )
    run.draft_mailed = arrived
    run_id = cycle_field(run.cycle_id, "flow_run_id")
    wait_until(lambda: run_state(run_id).is_paused(), timeout_s, "the director's form", 0.05)
    answer = {"decision": "Phê duyệt", "approval_code": code, "comment": "Đồng ý ban hành."}
    run.decided = time.monotonic()
    with api_client() as client:
        resume_with_input(client, run_id, answer)
    wait_until(
        lambda: cycle_field(run.cycle_id, "state") != CycleState.AWAITING_DECISION,
        timeout_s,
        f"the decision recorded by cycle {run.cycle_id}'s run",
        0.05,
    )
    run.acting = time.monotonic()
    wait_until(
        lambda: cycle_field(run.cycle_id, "state") == CycleState.DONE,
        timeout_s,
        f"dispatch of cycle {run.cycle_id}",
    )
    run.dispatched = time.monotonic()


def prefect_counts() -> tuple[int, int]:
    """Flow runs and task runs on the server (the REST count endpoints)."""
    api = os.environ["PREFECT_API_URL"]
    flows = httpx.post(f"{api}/flow_runs/count", json={}, timeout=60).json()
    tasks = httpx.post(f"{api}/task_runs/count", json={}, timeout=60).json()
    return int(flows), int(tasks)


def run_cycles(
    runs: list[CycleRun], mailbox: Mailbox, folder: Path, timeout_s: float
) -> tuple[int, int]:
    """Opens, fills, approves and dispatches the cycles together; the Prefect flow and task runs
    they added."""
    before = prefect_counts()
    for run in runs:
        open_and_start(run, definition_code(run.size))
    for run in runs:
        wait_until(lambda r=run: suspended_for_sections(r.cycle_id), timeout_s, "requests sent")
        run.requests_sent = time.monotonic()
    say(f"  requests sent ({max(r.requests_sent - r.opened for r in runs):.1f} s); submitting…")
    web = [r for r in runs if r.via == "web"]
    if web:
        submit_web(web)
    for run in runs:
        if run.via == "cli":
            submit_cli(run, folder)
    say("  all submitted; waiting for the drafts, approving…")
    with ThreadPoolExecutor(len(runs)) as pool:
        list(pool.map(lambda r: decide_and_finish(r, mailbox, timeout_s), runs))
    after = prefect_counts()
    return after[0] - before[0], after[1] - before[1]


def measure_floor(home: Path, runs: int = FLOOR_RUNS) -> float:
    """Median seconds from resuming the suspended no-op flow to its completion."""
    from prefect import flow
    from prefect.deployments import run_deployment
    from prefect.flow_runs import resume_flow_run

    from reportflow.runtime.serve import POOL

    source = flow.from_source(source=str(home), entrypoint="bench/floor.py:suspended_noop")
    source.deploy(
        name="bench-floor", work_pool_name=POOL, print_next_steps=False, ignore_warnings=True
    )
    times = []
    for _ in range(runs):
        flow_run = run_deployment("bench-floor/bench-floor", timeout=0, as_subflow=False)
        run_id = str(flow_run.id)
        wait_until(lambda r=run_id: run_state(r).name == "Suspended", 300, "the floor suspended")
        began = time.monotonic()
        resume_flow_run(UUID(run_id), run_input={"go": True}, _sync=True)
        wait_until(lambda r=run_id: run_state(r).is_completed(), 300, "the floor completed", 0.05)
        times.append(time.monotonic() - began)
    return statistics.median(times)


# --- the whole bench ----------------------------------------------------------------------


@dataclass
class Plan:
    sizes: list[int]
    parallel: tuple[int, int]
    cli_size: int
    workers: int
    timeout_s: float
    keep_databases: bool
    repeat: int = 3
    locust: int = 0
    """Division heads of one cycle in the Locust burst (0: none)."""


def parse_args(argv: list[str] | None) -> Plan:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--sizes", default="10,100,1000", help="cycles of these sizes, one by one")
    parser.add_argument(
        "--parallel", default="10x100", help="COUNTxSIZE cycles at once (0x0: none)"
    )
    parser.add_argument(
        "--cli", type=int, default=10, help="one cycle of this size through the CLI (0: none)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help=f"cycles of each size up to {REPEAT_UP_TO}, one after another (medians)",
    )
    parser.add_argument(
        "--locust", type=int, default=200, help="division heads in the Locust burst (0: none)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds any one wait may take")
    parser.add_argument(
        "--keep-databases", action="store_true", help="leave the PostgreSQL databases to inspect"
    )
    args = parser.parse_args(argv)
    count, size = (int(x) for x in args.parallel.lower().split("x"))
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    return Plan(
        sizes,
        (count, size),
        args.cli,
        args.workers,
        args.timeout,
        args.keep_databases,
        max(1, args.repeat),
        max(0, args.locust),
    )


def main(argv: list[str] | None = None) -> list[Row]:
    from reportflow.models import init_db
    from reportflow.runtime.smtp_sink import SmtpSink

    plan = parse_args(argv)
    all_sizes = sorted({*plan.sizes, plan.parallel[1], plan.cli_size, plan.locust} - {0})
    mailbox = Mailbox()
    report: dict = {"plan": plan.__dict__, "cycles": []}
    with tempfile.TemporaryDirectory(prefix="reportflow-bench-scale-") as tmp:
        folder = Path(tmp)
        sink = SmtpSink(folder / "outbox", on_message=mailbox.on_message).start()
        tag = str(os.getpid())
        prefect_db, project_db = fresh_databases(tag)
        web_port = free_port()
        env = agency_environment(
            folder,
            max(all_sizes),
            REPORTFLOW_DATABASE_URL=project_db,
            REPORTFLOW_SMTP_PORT=str(sink.port),
            REPORTFLOW_WEB_PORT=str(web_port),
            REPORTFLOW_WEB_URL=f"http://127.0.0.1:{web_port}",
            REPORTFLOW_WORKER_QUERY_S="1",
            PREFECT_API_DATABASE_CONNECTION_URL=prefect_db,
            PREFECT_HOME=str(folder / "prefect"),
            PREFECT_API_URL="",
            PYTHONUNBUFFERED="1",
        )
        for size in all_sizes:
            write_definition(Path(json.loads(env["REPORTFLOW_DEFINITIONS_DIRS"])[0]), size)
        try:
            with patched_environment(**env):
                say(f"starting reportflow serve --workers {plan.workers} on PostgreSQL…")
                init_db()
                with served(dict(os.environ), folder, plan.workers) as topology:
                    os.environ["PREFECT_API_URL"] = topology.api_url
                    with prefect_settings_for(topology.api_url), PeakMemory(topology) as memory:
                        rows = _run_plan(plan, mailbox, folder, memory, report)
        finally:
            sink.stop()
            if not plan.keep_databases:
                drop_databases(tag)
    out = Path("out/bench")
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), "utf-8")
    return rows


def _run_plan(plan: Plan, mailbox: Mailbox, folder: Path, memory: PeakMemory, report: dict):
    from reportflow.core.config import get_settings

    say(f"floor: a suspended no-op flow resumed on the same workers ({FLOOR_RUNS} runs)…")
    floor = measure_floor(get_settings().home.resolve())
    say(f"  floor {floor:.2f} s")
    report["floor_s"] = floor
    done: dict[str, list[CycleRun]] = {}
    counts: dict[str, tuple[int, int]] = {}
    peaks: dict[str, dict[str, float]] = {}
    cpu: dict[str, float] = {}
    batches = [
        (f"{n}", [CycleRun(n)])
        for n in plan.sizes
        for _ in range(plan.repeat if n <= REPEAT_UP_TO else 1)
    ]
    if plan.cli_size:
        batches.append((f"cli-{plan.cli_size}", [CycleRun(plan.cli_size, via="cli")]))
    if plan.parallel[0]:
        count, size = plan.parallel
        batches.append((f"{count}x{size}", [CycleRun(size) for _ in range(count)]))
    for name, runs in batches:
        say(f"cycle(s) {name}: {len(runs)} × {runs[0].size} divisions via {runs[0].via}")
        memory.peak.clear()
        began_cpu, began_roles, began_self = busy_cpu_s(), memory.topology.cpu_s(), own_cpu_s()
        batch_counts = run_cycles(runs, mailbox, folder, plan.timeout_s)
        if name not in cpu:
            cpu[name] = busy_cpu_s() - began_cpu
            ended = memory.topology.cpu_s()
            roles = {k: v - began_roles.get(k, 0.0) for k, v in ended.items()}
            roles["bench clients and mail sink"] = own_cpu_s() - began_self
            roles["PostgreSQL and the rest"] = cpu[name] - sum(roles.values())
            report.setdefault("cpu_s_by_role", {})[name] = roles
            say("  busy CPU-s: " + ", ".join(f"{k} {v:.1f}" for k, v in roles.items()))
        counts.setdefault(name, batch_counts)
        peaks[name] = {k: max(v, peaks.get(name, {}).get(k, 0.0)) for k, v in memory.peak.items()}
        done.setdefault(name, []).extend(runs)
        for run in runs:
            phases = run.phases()
            report["cycles"].append(
                {
                    "batch": name,
                    "size": run.size,
                    "via": run.via,
                    "cycle_id": run.cycle_id,
                    "phases_s": phases,
                    "submit_p50_s": statistics.median(run.submit_s),
                    "submit_p95_s": percentile(run.submit_s, 95),
                    "flow_runs": batch_counts[0] / len(runs),
                    "task_runs": batch_counts[1] / len(runs),
                    "peak_rss_mb": peaks[name],
                }
            )
        _print_batch(name, runs, batch_counts, peaks[name])
    report["busy_cpu_s"] = cpu
    burst = []
    if plan.locust:
        burst = locust_burst(plan, mailbox, memory, report, web_burst.LAST_HOUR_S, "SX.L")
        burst += locust_burst(plan, mailbox, memory, report, web_burst.AT_ONCE_S, "SX.L0")
    return _rows(floor, done, counts, peaks, plan, cpu) + burst


def locust_burst(
    plan: Plan, mailbox: Mailbox, memory: PeakMemory, report: dict, arrivals_s: float, prefix: str
) -> list[Row]:
    """One cycle whose division heads all submit through Locust within ``arrivals_s``; then
    approved."""
    run = CycleRun(plan.locust)
    say(f"Locust burst: {plan.locust} division heads of one cycle within {arrivals_s:g} s…")
    open_and_start(run, definition_code(run.size))
    wait_until(lambda: suspended_for_sections(run.cycle_id), plan.timeout_s, "requests sent")
    links = section_links(run.cycle_id, range(1, run.size + 1))
    web_pids = memory.topology.roles()["web"]
    before = sum(_rss_mb(pid) for pid in web_pids)
    memory.peak.clear()
    figures = web_burst.run_locust(
        links, memory.topology.web_url, Path(tempfile.mkdtemp()), 240, arrivals_s
    )
    figures["web_rss_before_mb"] = before
    figures["web_rss_peak_mb"] = memory.peak.get("web", before)
    run.last_submit = time.monotonic()
    wait_until(lambda: mailbox.codes.get(run.cycle_id), plan.timeout_s, "the burst's draft")
    run_id = cycle_field(run.cycle_id, "flow_run_id")
    figures["resumed"] = web_burst.times_resumed(memory.topology.api_url, run_id)
    decide_and_finish(run, mailbox, plan.timeout_s)
    figures["versions"] = web_burst.stored_versions(run.cycle_id)
    report[f"locust-{arrivals_s:g}s"] = figures
    for name, stat in figures["stats"].items():
        say(
            f"  {name}: {stat['count']} requests, {stat['failures']} failed, "
            f"p50 {stat['p50_s']:.3f} s, p95 {stat['p95_s']:.3f} s"
        )
    say(
        f"  versions {figures['versions']}, resumed {figures['resumed']}× until the draft, "
        f"web RSS {before:.0f} → peak {figures['web_rss_peak_mb']:.0f} MB"
    )
    return web_burst.rows(figures, plan.locust, f"PG topology, {plan.workers} workers", prefix)


def _print_batch(name: str, runs: list[CycleRun], counts, peaks) -> None:
    for run in runs[:1] if len(runs) == 1 else runs:
        line = ", ".join(f"{k} {v:.1f} s" for k, v in run.phases().items())
        say(f"  cycle {run.cycle_id} ({run.size}, {run.via}): {line}")
    submits = [s for r in runs for s in r.submit_s]
    say(
        f"  submit p50 {statistics.median(submits):.3f} s, p95 {percentile(submits, 95):.3f} s; "
        f"Prefect runs: {counts[0]} flow, {counts[1]} task; peak RSS "
        + ", ".join(f"{k} {v:.0f} MB" for k, v in peaks.items())
    )


def median_phases(runs: list[CycleRun]) -> dict[str, float]:
    return {k: statistics.median(r.phases()[k] for r in runs) for k in runs[0].phases()}


def _rows(floor, done, counts, peaks, plan: Plan, cpu: dict[str, float]) -> list[Row]:
    rows: list[Row] = []
    stamp = f"PG topology, {plan.workers} workers"
    first, first_rss, first_runs = None, 0.0, 0
    for size in plan.sizes:
        runs = done[str(size)]
        phases = median_phases(runs)
        submit_s = [s for r in runs for s in r.submit_s]
        total = phases["open → dispatched"]
        where = f"{size} divisions via web, {CLIENTS} clients, {stamp}"
        if len(runs) > 1:
            where += f"; median of {len(runs)} cycles, one after another"
        flows, tasks = counts[str(size)]
        rows += [
            Row(
                id=f"S3.{size}",
                figure=f"last submission → draft mailed to the director ({where})",
                goal=f"≤ floor + {S3_SLACK_S:g} s",
                measured=phases["last submission → draft mailed (S3)"],
                unit="s",
                baseline=floor,
                baseline_label="suspended no-op resumed → completed",
                meets_goal=phases["last submission → draft mailed (S3)"] <= floor + S3_SLACK_S,
            ),
            Row(
                id=f"S4.{size}",
                figure=f"director's Submit (the UI's resume call) → the run has recorded it ({where})",
                goal=f"≤ floor + {S4_SLACK_S:g} s",
                measured=phases["decision → run acting on it (S4)"],
                unit="s",
                baseline=floor,
                baseline_label="suspended no-op resumed → completed",
                meets_goal=phases["decision → run acting on it (S4)"] <= floor + S4_SLACK_S,
            ),
            Row(
                id=f"SX.{size}.submit-p95",
                figure=f"one web submission p95 under load, p50 {statistics.median(submit_s) * 1000:.0f} ms ({where})",
                goal="≤ 0.3 s (S1's goal, here under load)",
                measured=percentile(submit_s, 95),
                unit="s",
                meets_goal=percentile(submit_s, 95) <= 0.3,
            ),
        ]
        rss = sum(peaks[str(size)].values())
        if first is None:
            first = (size, total)
            first_rss, first_runs = rss, flows + tasks
        else:
            rows.append(
                Row(
                    id=f"S9.{size}",
                    figure=(
                        f"Prefect flow + task runs for one cycle of {size} ({flows} + {tasks}) "
                        f"vs one of {first[0]} ({stamp})"
                    ),
                    goal="bounded: no more runs than the smaller cycle (+2), not one per submission",
                    measured=flows + tasks,
                    unit="runs",
                    baseline=first_runs,
                    baseline_label=f"{first[0]} divisions",
                    meets_goal=flows + tasks <= first_runs + 2,
                )
            )
            rows.append(
                Row(
                    id=f"SX.{size}.rss",
                    figure=(
                        f"peak RSS of server + workers + web at {size} divisions ("
                        + ", ".join(f"{k} {v:.0f} MB" for k, v in peaks[str(size)].items())
                        + f") vs {first[0]}"
                    ),
                    goal="grows at most linearly",
                    measured=rss,
                    unit="MB",
                    baseline=first_rss * size / first[0],
                    baseline_label=f"{first[0]} divisions × {size // first[0]}",
                    meets_goal=rss <= first_rss * size / first[0],
                )
            )
        if size == 100:
            rows.append(
                Row(
                    id="S5",
                    figure=f"open → dispatched ({where})",
                    goal=f"≤ {S5_S:g} s",
                    measured=total,
                    unit="s",
                    meets_goal=total <= S5_S,
                )
            )
        if size == 1000:
            small, small_total = first
            linear = small_total * size / small
            rows.append(
                Row(
                    id="S6",
                    figure=f"open → dispatched ({where})",
                    goal=f"≤ {S6_S / 60:g} min, at most linear growth from {small}",
                    measured=total,
                    unit="s",
                    baseline=linear,
                    baseline_label=f"{small} divisions × {size // small}",
                    meets_goal=total <= S6_S and total <= linear,
                )
            )
        elif size != first[0]:
            small, small_total = first
            rows.append(
                Row(
                    id=f"SX.{size}.growth",
                    figure=f"open → dispatched at {size} vs {small} divisions ({stamp})",
                    goal="at most linear growth",
                    measured=total,
                    unit="s",
                    baseline=small_total * size / small,
                    baseline_label=f"{small} divisions × {size // small}",
                    meets_goal=total <= small_total * size / small,
                )
            )
    if plan.parallel[0]:
        count, size = plan.parallel
        runs = done[f"{count}x{size}"]
        worst = max(r.phases()["open → dispatched"] for r in runs)
        s5 = next((r.measured for r in rows if r.id == "S5"), S5_S)
        rows.append(
            Row(
                id="S7",
                figure=f"{count} cycles of {size} at once, slowest open → dispatched (no error; {stamp})",
                goal=f"no error, each ≤ {S7_RATIO:g}× S5",
                measured=worst,
                unit="s",
                baseline=s5,
                baseline_label="S5" if any(r.id == "S5" for r in rows) else "S5's goal",
                meets_goal=worst <= S7_RATIO * s5,
            )
        )
        if str(size) in cpu:
            cores = os.cpu_count() or 1
            bound = count * cpu[str(size)] / cores
            rows.append(
                Row(
                    id="SX.S7.cpu",
                    figure=(
                        f"S7's slowest cycle vs what its CPU work allows: {count} × "
                        f"{cpu[str(size)]:.0f} busy CPU-s (one cycle of {size}, all processes) "
                        f"/ {cores} cores; the batch kept the machine "
                        f"{cpu[f'{count}x{size}'] / (worst * cores):.0%} busy"
                    ),
                    goal="the slowest cycle within 1.5× the CPU bound (the rest is waiting)",
                    measured=worst,
                    unit="s",
                    baseline=bound,
                    baseline_label=f"CPU bound on {cores} cores",
                    meets_goal=worst <= 1.5 * bound,
                )
            )
    return rows


if __name__ == "__main__":
    from bench import results

    print(f"→ {results.record(main())}")
