"""The command line: help on every command, and `cycle open` showing its deadlines before it writes."""

from __future__ import annotations

import pytest
from sqlmodel import select
from typer.main import get_command
from typer.testing import CliRunner

from reportflow.cli import app
from reportflow.models import Cycle, session_scope

runner = CliRunner()


def all_command_paths() -> list[list[str]]:
    paths = []

    def walk(command, prefix):
        paths.append(prefix)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*prefix, name])

    walk(get_command(app), [])
    return paths


@pytest.mark.parametrize("path", all_command_paths(), ids=lambda p: " ".join(p) or "reportflow")
def test_every_command_has_help(path):
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    body = result.output.split("Options")[0]
    assert len(body.split()) > 3, f"no description for {path}"


OPEN_ARGS = [
    "cycle", "open", "ktxh-6-thang",
    "--request-number", "850/SKHĐT-THKTKG", "--request-date", "13/05/2020",
    "--sender", "Sở Kế hoạch và Đầu tư", "--subject", "báo cáo KT-XH 6 tháng đầu năm 2020",
    "--deadline", "08/06/2020",
]  # fmt: skip


def test_cycle_open_prints_deadlines_then_writes(database):
    result = runner.invoke(app, [*OPEN_ARGS, "--yes"])
    assert result.exit_code == 0, result.output
    assert "hạn nội bộ các phòng: 03/6/2020" in result.output
    with session_scope() as session:
        cycles = session.exec(select(Cycle)).all()
    assert [(c.request_number, str(c.internal_deadline)) for c in cycles] == [
        ("850/SKHĐT-THKTKG", "2020-06-03")
    ]


def test_cycle_open_declined_writes_nothing(database):
    result = runner.invoke(app, OPEN_ARGS, input="n\n")
    assert result.exit_code == 1
    assert "08/6/2020" in result.output
    with session_scope() as session:
        assert session.exec(select(Cycle)).all() == []


def test_bad_date_is_a_clear_error(database):
    args = [a if a != "08/06/2020" else "31/02/2020" for a in OPEN_ARGS]
    result = runner.invoke(app, [*args, "--yes"])
    assert result.exit_code == 2
    assert "không phải ngày hợp lệ" in result.output
