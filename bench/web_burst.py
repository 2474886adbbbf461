"""The deadline hour's last burst on the served PostgreSQL topology, driven by Locust
(`web_locust.py`): every division head of one cycle opens, previews and confirms. The figures
beside their goals: errors, lost and duplicate versions, page and confirm → receipt p95, the
cycle's run resumed once, and the web process's memory against its own before.

Two arrival patterns, each its own cycle: the last hour's heads arriving within ``LAST_HOUR_S``
(the hour squeezed 60 times), which the goals are for, and all of them within 4 s, a stress
figure that shows where this machine's capacity ends."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlmodel import func, select

from bench.agency import section_markdown
from bench.results import Row

PAGE_P95_S = 0.3
CONFIRM_P95_S = 1.0
WEB_RSS_RATIO = 2.0
LAST_HOUR_S = 60.0
AT_ONCE_S = 4.0
LOCUST_FILE = Path(__file__).with_name("web_locust.py")
OUT = Path("out/bench")


def word_file(index: int) -> bytes:
    """The head's section as a Word file, made before the run."""
    import docx

    document = docx.Document()
    for line in section_markdown(index).splitlines():
        if line.strip():
            document.add_paragraph(line.lstrip("-#* ").strip())
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def run_locust(
    links: dict[int, str], host: str, folder: Path, run_time_s: int, arrivals_s: float
) -> dict:
    """Locust headless with one user per link, the users started evenly within ``arrivals_s``;
    its figures per request name."""
    word_files = {}
    for index in links:
        if index % 2 == 0:
            word_files[index] = str(folder / f"phan-{index}.docx")
            Path(word_files[index]).write_bytes(word_file(index))
    links_file = folder / "locust-links.json"
    links_file.write_text(json.dumps({"links": links, "word_files": word_files}), "utf-8")
    stats_file = folder / "locust-figures.json"
    users = len(links)
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUST_FILE),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        f"{users / arrivals_s:.3f}",
        "--run-time",
        f"{run_time_s}s",
        "--host",
        host,
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    began = time.monotonic()
    done = subprocess.run(
        command,
        env={
            **os.environ,
            "REPORTFLOW_LOCUST_LINKS": str(links_file),
            "REPORTFLOW_LOCUST_STATS": str(stats_file),
        },
        capture_output=True,
        text=True,
        timeout=run_time_s + 120,
    )
    took = time.monotonic() - began
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"locust-{arrivals_s:g}s.log").write_text(done.stdout + done.stderr, "utf-8")
    stats = json.loads(stats_file.read_text("utf-8"))
    return {"stats": stats, "took_s": took, "exit": done.returncode, "arrivals_s": arrivals_s}


def stored_versions(cycle_id: int) -> tuple[int, int, int]:
    """Sections of the cycle, sections with a version, and versions in all."""
    from reportflow.models import SectionAssignment, SectionVersion, session_scope

    with session_scope() as session:
        sections = session.exec(
            select(func.count()).where(SectionAssignment.cycle_id == cycle_id)
        ).one()
        rows = session.exec(
            select(SectionVersion.assignment_id)
            .join(SectionAssignment, SectionAssignment.id == SectionVersion.assignment_id)
            .where(SectionAssignment.cycle_id == cycle_id)
        ).all()
    return sections, len(set(rows)), len(rows)


def times_resumed(api_url: str, flow_run_id: str) -> int:
    """How often Prefect resumed the run: its "Resuming" states."""
    states = httpx.get(
        f"{api_url}/flow_run_states/", params={"flow_run_id": flow_run_id}, timeout=60
    ).json()
    return sum(1 for state in states if state.get("name") == "Resuming")


def rows(figures: dict, users: int, stamp: str, prefix: str = "SX.L") -> list[Row]:
    stats = figures["stats"]
    failures = sum(s["failures"] for s in stats.values())
    sections, with_version, versions = figures["versions"]
    lost, duplicates = sections - with_version, versions - with_version
    page_p95 = max(stats["mở liên kết"]["p95_s"], stats["xem trước"]["p95_s"])
    confirm_p95 = stats["gửi → biên nhận"]["p95_s"]
    where = (
        f"{users} division heads arriving within {figures['arrivals_s']:g} s (Locust, half Word, "
        f"half Markdown), {stamp}"
    )
    return [
        Row(
            id=f"{prefix}.errors",
            figure=f"errors, lost and duplicate versions; {where}",
            goal="0 / 0 / 0",
            measured=float(failures + lost + duplicates),
            unit="count",
            meets_goal=failures == 0 and lost == 0 and duplicates == 0,
            note=f"{failures} failed requests, {lost} lost, {duplicates} duplicate versions",
        ),
        Row(
            id=f"{prefix}.page-p95",
            figure=f"p95 of opening the link and of the preview; {where}",
            goal=f"≤ {PAGE_P95_S} s",
            measured=page_p95,
            unit="s",
            meets_goal=page_p95 <= PAGE_P95_S,
            note=f"open {stats['mở liên kết']['p95_s']:.3f} s, "
            f"preview {stats['xem trước']['p95_s']:.3f} s",
        ),
        Row(
            id=f"{prefix}.confirm-p95",
            figure=f"p95 of 'Gửi' to the receipt page; {where}",
            goal=f"≤ {CONFIRM_P95_S} s",
            measured=confirm_p95,
            unit="s",
            meets_goal=confirm_p95 <= CONFIRM_P95_S,
        ),
        Row(
            id=f"{prefix}.resumed-once",
            figure=f"times the cycle's run was resumed until its draft was mailed; {where}",
            goal="1",
            measured=float(figures["resumed"]),
            unit="count",
            meets_goal=figures["resumed"] == 1,
        ),
        Row(
            id=f"{prefix}.web-rss",
            figure=f"peak memory of the web process during the burst; {where}",
            goal=f"≤ {WEB_RSS_RATIO:g}× its memory just before",
            measured=figures["web_rss_peak_mb"],
            unit="MB",
            baseline=figures["web_rss_before_mb"],
            baseline_label="the same process just before the burst",
            meets_goal=figures["web_rss_peak_mb"] <= WEB_RSS_RATIO * figures["web_rss_before_mb"],
        ),
    ]
