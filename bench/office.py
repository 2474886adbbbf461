"""PDF bench: the sample report's draft converted through the warm LibreOffice `reportflow serve`
keeps, against a LibreOffice started for the one file (what every conversion cost before)."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.documents import sample_report
from bench.harness import patched_environment
from bench.results import Row
from reportflow.document.writing.render import render_report_bytes
from reportflow.services import office

GOAL_RATIO = 0.3
RUNS = 3


def timed_conversions(docx: Path, out: Path, runs: int) -> tuple[list[float], set[bool]]:
    times, warm = [], set()
    for _ in range(runs):
        began = time.perf_counter()
        warm.add(office.convert(docx, out, "pdf", ".pdf").warm)
        times.append(time.perf_counter() - began)
    return times, warm


def run(runs: int = RUNS) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="reportflow-bench-office-") as tmp:
        folder = Path(tmp)
        docx = folder / "du-thao-vong-1.docx"
        docx.write_bytes(render_report_bytes(sample_report()))
        with patched_environment(REPORTFLOW_DATA_DIR=str(folder / "data")):
            cold, cold_kinds = timed_conversions(docx, folder / "cold", runs)
            process = office.start_warm_office(folder / "office.log")
            try:
                warm, warm_kinds = timed_conversions(docx, folder / "warm", runs)
            finally:
                office.stop_warm_office(process)
    assert cold_kinds == {False} and warm_kinds == {True}, (cold_kinds, warm_kinds)
    cold_s, warm_s = statistics.median(cold), statistics.median(warm)
    print(f"\nPDF of the sample draft (median of {runs})")
    print(f"  {'warm LibreOffice':<26} {warm_s:7.3f} s")
    print(f"  {'cold start (baseline)':<26} {cold_s:7.3f} s")
    print(f"  {'ratio warm/cold':<26} {warm_s / cold_s:7.2f} ×   (goal ≤ {GOAL_RATIO:g} ×)")
    return [
        Row(
            id="D2",
            figure=f"the sample draft to PDF through the warm LibreOffice (median of {runs})",
            goal=f"≤ {GOAL_RATIO:g}× a LibreOffice started for the file",
            measured=warm_s,
            unit="s",
            baseline=cold_s,
            baseline_label="cold LibreOffice, same file",
            meets_goal=warm_s <= GOAL_RATIO * cold_s,
        )
    ]
