"""S8: the progress table (`progress_rows`, what `status` prints and the artifact shows) of a
cycle of 1,000 divisions, a quarter of them submitted, with the clock set near the internal
deadline, two years before it and two years after it (every open section ~500 working days
late). Each figure is the median of several builds in a fresh session, on SQLite."""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from bench.agency import (
    CLOCK,
    agency_environment,
    head_code,
    open_bench_cycle,
    section_key,
    section_markdown,
)
from bench.harness import patched_environment
from bench.results import Row

DIVISIONS = 1000
SUBMITTED_EVERY = 4
GOAL_S = 0.050
RUNS = 5
FAR = dt.timedelta(days=730)


def _median_build(cycle_id: int, runs: int) -> tuple[float, int]:
    from reportflow.cycle.tracking.progress import progress_rows
    from reportflow.models import session_scope

    times, late = [], 0
    for _ in range(runs):
        with session_scope() as session:
            began = time.perf_counter()
            rows = progress_rows(session, cycle_id)
            times.append(time.perf_counter() - began)
        late = max(r.days_late for r in rows)
    return statistics.median(times), late


def run(divisions: int = DIVISIONS, runs: int = RUNS) -> list[Row]:
    from reportflow.cycle.collecting.submit import read_section_bytes, store_section
    from reportflow.models import init_db

    clock = dt.datetime.fromisoformat(CLOCK)
    with tempfile.TemporaryDirectory(prefix="reportflow-bench-progress-") as tmp:
        env = agency_environment(Path(tmp), divisions, REPORTFLOW_DATABASE_URL="")
        with patched_environment(**env):
            init_db()
            cycle_id = open_bench_cycle()
            print(f"  S8: {divisions} divisions, storing {divisions // SUBMITTED_EVERY} sections…")
            for i in range(1, divisions + 1, SUBMITTED_EVERY):
                data = section_markdown(i).encode("utf-8")
                store_section(
                    cycle_id,
                    section_key(i),
                    read_section_bytes(data, "muc.md"),
                    "muc.md",
                    head_code(i),
                )
            timings = {}
            for name, moment in (
                ("near", clock),
                ("ahead", clock - FAR),
                ("past", clock + FAR),
            ):
                with patched_environment(REPORTFLOW_FROZEN_NOW=moment.isoformat()):
                    timings[name] = _median_build(cycle_id, runs)
    near = timings["near"][0]
    for name, (seconds, late) in timings.items():
        print(f"  S8 progress table, deadline {name}: {seconds * 1000:.1f} ms (most late {late} d)")
    where = f"{divisions} divisions, 1 in {SUBMITTED_EVERY} submitted, SQLite, median of {runs}"
    rows = [
        Row(
            id="S8.near",
            figure=f"progress table, internal deadline 2 days away ({where})",
            goal=f"≤ {GOAL_S * 1000:g} ms",
            measured=near,
            unit="s",
            meets_goal=near <= GOAL_S,
        )
    ]
    for name, label in (
        ("ahead", "two years before the deadline"),
        ("past", "two years after the deadline (open sections ~500 working days late)"),
    ):
        seconds = timings[name][0]
        rows.append(
            Row(
                id=f"S8.{name}",
                figure=f"progress table, {label} ({where})",
                goal=f"≤ {GOAL_S * 1000:g} ms and ≤ 1.5× S8.near (independent of the deadline)",
                measured=seconds,
                unit="s",
                baseline=near,
                baseline_label="S8.near",
                meets_goal=seconds <= GOAL_S and seconds <= 1.5 * near,
            )
        )
    return rows
