"""Ten `reportflow submit` processes for one section at the same moment each get their own
version, 1 to 10, with no traceback; the same for one division's figures.

One process imports everything and forks the ten submitters, which wait on a pipe and start
together when it closes, so the submissions really overlap (and the test does not pay ten
imports of Prefect). Without the write lock three of ten died of an IntegrityError on SQLite
(figures: five of ten).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from reportflow.demo.scenario import DATA_DIR
from reportflow.models import (
    AuditEvent,
    IndicatorValue,
    SectionAssignment,
    SectionVersion,
    session_scope,
)
from tests.factories import open_sample_cycle, section_md

PROCESSES = 10

# argv: output folder, process count, then the CLI's arguments. Prints {child: exit code}.
_FORKER = """
import json, os, sys, traceback
from pathlib import Path
import reportflow.cycle.collecting.submit  # noqa: F401 - loaded once, before the fork
from reportflow.cli import app
from reportflow.models import get_engine, init_db

init_db()
get_engine().dispose()  # each child opens its own connections
folder, count, argv = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
start_read, start_write = os.pipe()
pids = []
for n in range(count):
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(start_write)
        for fd, suffix in ((1, "out"), (2, "err")):
            os.dup2(os.open(folder / f"{n}.{suffix}", os.O_WRONLY | os.O_CREAT, 0o644), fd)
        os.read(start_read, 1)  # returns when the parent closes its end: all start at once
        try:
            app(argv, prog_name="reportflow")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    pids.append(pid)
os.close(start_write)
print(json.dumps([os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]))
"""


def _run_together(tmp_path: Path, argv: list[str]) -> list[subprocess.CompletedProcess]:
    folder = tmp_path / "submitters"
    folder.mkdir()
    forker = subprocess.run(
        [sys.executable, "-c", _FORKER, str(folder), str(PROCESSES), *argv],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
    )
    assert forker.returncode == 0, forker.stderr[-3000:]
    codes = json.loads(forker.stdout.strip().splitlines()[-1])
    return [
        subprocess.CompletedProcess(
            argv,
            code,
            (folder / f"{n}.out").read_text(encoding="utf-8"),
            (folder / f"{n}.err").read_text(encoding="utf-8"),
        )
        for n, code in enumerate(codes)
    ]


def _assert_all_clean(results: list[subprocess.CompletedProcess]) -> None:
    for result in results:
        assert "Traceback" not in result.stderr + result.stdout, result.stderr[-3000:]
        assert result.returncode == 0, result.stdout + result.stderr[-3000:]


def test_ten_concurrent_submits_of_one_section_get_versions_1_to_10(database, tmp_path):
    cycle_id = open_sample_cycle()
    source = section_md(tmp_path, "bcvt")
    results = _run_together(
        tmp_path, ["submit", str(cycle_id), "bcvt", str(source), "--by", "tp-bcvt"]
    )
    _assert_all_clean(results)
    printed = sorted(
        int(line.rsplit(" ", 1)[1].rstrip("."))
        for r in results
        for line in r.stdout.splitlines()
        if "phiên bản" in line
    )
    assert printed == list(range(1, PROCESSES + 1))
    with session_scope() as session:
        assignment = session.exec(
            select(SectionAssignment).where(
                SectionAssignment.cycle_id == cycle_id, SectionAssignment.section_key == "bcvt"
            )
        ).one()
        stored = sorted(
            session.exec(
                select(SectionVersion.version_no).where(
                    SectionVersion.assignment_id == assignment.id
                )
            ).all()
        )
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "section.submitted")
        ).all()
    assert stored == list(range(1, PROCESSES + 1))
    assert sorted(e.detail["version"] for e in events) == stored


def test_ten_concurrent_figure_submits_get_versions_1_to_10(database, tmp_path):
    cycle_id = open_sample_cycle()
    source = DATA_DIR / "indicators-ttbcxb.yaml"
    results = _run_together(
        tmp_path, ["submit", str(cycle_id), "--indicators", str(source), "--by", "tp-ttbcxb"]
    )
    _assert_all_clean(results)
    assert all("Đã nhận số liệu" in r.stdout for r in results)
    with session_scope() as session:
        rows = session.exec(select(IndicatorValue).where(IndicatorValue.cycle_id == cycle_id)).all()
    codes = {"phat-thanh-dan-toc", "xem-vtv", "nghe-vov"}
    assert {r.indicator_code for r in rows} == codes
    for code in codes:
        versions = sorted(r.version_no for r in rows if r.indicator_code == code)
        assert versions == list(range(1, PROCESSES + 1)), code
