"""The command line: help on every command, and `cycle open` showing its deadlines before it writes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlmodel import select
from typer.main import get_command
from typer.testing import CliRunner

from reportflow.cli import app
from reportflow.cycle.collecting.submit import submit_section
from reportflow.models import Cycle, session_scope
from tests.factories import open_sample_cycle, row_counts, section_md
from tests.hold_flow import ROOT

runner = CliRunner()


def all_command_paths() -> list[list[str]]:
    paths = []

    def walk(command, prefix):
        paths.append(prefix)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*prefix, name])

    walk(get_command(app), [])
    return paths


ENGLISH = [
    "Usage",
    "Options",
    "Commands",
    "Arguments",
    "Show this message",
    "completion",
    "Missing",
    "No such",
    "Did you mean",
    "Invalid value",
    "Try '",
    "[required]",
    "[default",
    "<int>",
    "<str>",
    "<bool>",
    "Error",
    "COMMAND",
    "[OPTIONS]",
]


def english_in(text: str) -> list[str]:
    return [word for word in ENGLISH if word in text]


@pytest.mark.parametrize("path", all_command_paths(), ids=lambda p: " ".join(p) or "reportflow")
def test_every_command_has_help(path):
    result = runner.invoke(app, [*path, "--help"], prog_name="reportflow", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "Cách dùng: reportflow" in result.output and "Hiện hướng dẫn này" in result.output
    assert english_in(result.output) == [], "Typer's frame is Vietnamese too (issue 20, part 4)"
    command = get_command(app)
    for name in path:
        command = command.commands[name]
    assert command.help and len(command.help.split()) >= 3, f"no description for {path}"
    assert command.help.split()[0] in result.output


def test_serve_is_among_the_commands_and_its_help_names_its_options():
    assert ["serve"] in all_command_paths()
    output = " ".join(runner.invoke(app, ["serve", "--help"]).output.split())
    for option in ("--host", "--port", "--workers", "--no-server"):
        assert option in output
    assert "PREFECT_SERVER_API_AUTH_STRING" in output
    assert "Ctrl+C để dừng tất cả" in output


OPEN_ARGS = [
    "cycle", "open", "ktxh-6-thang",
    "--request-number", "850/SKHĐT-THKTKG", "--request-date", "13/05/2020",
    "--sender", "Sở Kế hoạch và Đầu tư", "--subject", "báo cáo KT-XH 6 tháng đầu năm 2020",
    "--deadline", "08/06/2020",
]  # fmt: skip


def test_cycle_open_prints_deadlines_then_writes(database):
    result = runner.invoke(app, [*OPEN_ARGS, "--yes"])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert (
        "chốt số liệu từ Chủ nhật, 15/12/2019 đến Chủ nhật, 14/6/2020 (Nghị định 09/2019/NĐ-CP"
        in output
    )
    assert "Hạn gửi Sở Kế hoạch và Đầu tư: thứ Hai, 08/6/2020 (theo công văn yêu cầu)" in output
    assert "Hạn nội bộ của các phòng: thứ Tư, 03/6/2020 (3 ngày làm việc trước hạn gửi)" in output
    assert output.index("Hạn nội bộ") < output.index("Đã mở kỳ báo cáo số")
    with session_scope() as session:
        cycles = session.exec(select(Cycle)).all()
    assert [(c.request_number, str(c.internal_deadline)) for c in cycles] == [
        ("850/SKHĐT-THKTKG", "2020-06-03")
    ]


def test_cycle_open_declined_writes_nothing(database):
    before = row_counts()
    result = runner.invoke(app, OPEN_ARGS, input="n\n")
    assert result.exit_code == 1
    assert "08/6/2020" in result.output and "không có gì được ghi" in result.output
    assert row_counts() == before


def test_cycle_open_without_deadline_uses_the_decree_default_and_the_overrides(database):
    args = [a for a in OPEN_ARGS if a not in ("--deadline", "08/06/2020")]
    args += ["--period-kind", "quarterly", "--internal-days-before", "5", "--yes"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert (
        "Kỳ báo cáo: quý II năm 2020; chốt số liệu từ Chủ nhật, 15/3/2020 đến Chủ nhật, 14/6/2020"
        in output
    )
    assert "Hạn gửi Sở Kế hoạch và Đầu tư: thứ Hai, 15/6/2020 (mặc định" in output
    assert "Hạn nội bộ của các phòng: thứ Hai, 08/6/2020 (5 ngày làm việc trước hạn gửi)" in output
    with session_scope() as session:
        (cycle,) = session.exec(select(Cycle)).all()
    assert (cycle.period_kind, cycle.period_label) == ("quarterly", "quý II")
    assert (str(cycle.cutoff_start), str(cycle.cutoff_end)) == ("2020-03-15", "2020-06-14")
    assert (str(cycle.deadline), str(cycle.internal_deadline)) == ("2020-06-15", "2020-06-08")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--period-kind", "weekly"], "Loại kỳ báo cáo 'weekly' không có"),
        (["--period-kind", "ad_hoc"], "Báo cáo đột xuất cần hạn gửi cụ thể"),
        (["--period-kind", "monthly", "--period-index", "13"], "Số tháng phải từ 1 đến 12"),
        (["--cutoff-start", "01/01/2020", "--cutoff-end", "31/03/2020"], "chỉ báo cáo đột xuất"),
        (["--internal-days-before", "-1"], "phải từ 0 trở lên"),
    ],
)
def test_cycle_open_refuses_bad_period_input_and_writes_nothing(database, extra, message):
    args = [a for a in OPEN_ARGS if a not in ("--deadline", "08/06/2020")]
    before = row_counts()
    result = runner.invoke(app, [*args, *extra, "--yes"])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert row_counts() == before


def test_bad_date_is_a_clear_error(database):
    args = [a if a != "08/06/2020" else "31/02/2020" for a in OPEN_ARGS]
    result = runner.invoke(app, [*args, "--yes"])
    assert result.exit_code == 2
    assert "không phải ngày hợp lệ" in result.output


def test_status_fits_a_narrow_terminal_and_speaks_vietnamese(database, tmp_path):
    cycle_id = open_sample_cycle()
    submit_section(cycle_id, "bcvt", section_md(tmp_path, "bcvt"), by="tp-bcvt")
    result = runner.invoke(app, ["status", str(cycle_id)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "(đang nhận các phần)" in result.output
    assert "hạn các phòng 03/6/2020, hạn gửi Sở Kế hoạch và Đầu tư 08/6/2020" in " ".join(
        result.output.split()
    )
    bcvt = next(line for line in lines if line.startswith("│ bcvt "))
    assert "đã gửi" in bcvt and "│ 1 " in bcvt
    wide = runner.invoke(app, ["status", str(cycle_id)], env={"COLUMNS": "160"})
    assert "Bưu chính – Viễn thông" in wide.output and "Số ngày trễ" in wide.output


def test_approve_asks_for_the_code_without_echoing_it(database):
    cycle_id = open_sample_cycle()
    result = runner.invoke(app, ["approve", str(cycle_id)], input="K7QM-4TZP\n")
    assert "Mã phê duyệt một lần:" in result.output
    assert "K7QM-4TZP" not in result.output
    assert result.exit_code == 2  # the cycle is not waiting for a decision yet
    assert "không ở bước chờ phê duyệt (đang nhận các phần)" in " ".join(result.output.split())


def test_submit_from_the_command_line(database, tmp_path):
    cycle_id = open_sample_cycle()
    ok = runner.invoke(
        app, ["submit", str(cycle_id), "bcvt", str(section_md(tmp_path, "bcvt")), "--by", "tp-bcvt"]
    )
    assert ok.exit_code == 0, ok.output
    assert "Đã nhận phần 'bcvt', phiên bản 1." in ok.output

    before = row_counts()
    foreign = runner.invoke(
        app, ["submit", str(cycle_id), "bcvt", str(section_md(tmp_path, "bcvt")), "--by", "chanhtt"]
    )
    assert foreign.exit_code == 2
    assert "Mỗi phòng chỉ gửi phần của mình" in " ".join(foreign.output.split())

    figures = tmp_path / "so-lieu [bcvt].yaml"
    figures.write_text('ty-le-bdvhx: "90/85"\n', encoding="utf-8")
    wrong = runner.invoke(
        app, ["submit", str(cycle_id), "--indicators", str(figures), "--by", "tp-bcvt"]
    )
    assert wrong.exit_code == 2
    text = " ".join(wrong.output.split())
    assert "Tệp số liệu 'so-lieu [bcvt].yaml' có 1 giá trị sai; chưa lưu gì." in text
    assert "số đạt (90) không thể lớn hơn số tổng (85)" in text
    assert row_counts() == before

    neither = runner.invoke(app, ["submit", str(cycle_id), "--by", "tp-bcvt"])
    assert neither.exit_code == 2 and "--indicators" in neither.output


def test_export_gives_the_latest_draft_and_the_audit_keeps_who_did_what(database, tmp_path):
    import docx

    from reportflow.cycle.cycles import get_cycle
    from reportflow.cycle.drafting.merge import render_draft
    from reportflow.models import AuditEvent

    cycle_id = open_sample_cycle()
    nothing = runner.invoke(app, ["export", str(cycle_id), "--out", str(tmp_path / "x")])
    assert nothing.exit_code == 2 and "chưa có văn bản nào" in nothing.output

    submit_section(cycle_id, "bcvt", section_md(tmp_path, "bcvt"), by="tp-bcvt")
    with session_scope() as session:
        render_draft(session, get_cycle(session, cycle_id))
    out = tmp_path / "export"
    result = runner.invoke(app, ["export", str(cycle_id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    (exported,) = out.glob("*.docx")
    text = "\n".join(p.text for p in docx.Document(str(exported)).paragraphs)
    assert "Chỉ đạo các Doanh nghiệp Bưu chính trên địa bàn" in text

    with session_scope() as session:
        events = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.actor, e.action) for e in events] == [
        ("chanhvp", "cycle.opened"),
        ("tp-bcvt", "section.submitted"),
    ]
    assert events[1].detail == {"section": "bcvt", "version": 1}


def test_remind_sends_once_and_status_names_an_unknown_cycle(database, smtp, monkeypatch):
    from reportflow.core.config import reload_settings

    cycle_id = open_sample_cycle()
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-05T09:00:00+07:00")
    reload_settings()
    first = runner.invoke(app, ["remind"])
    assert first.exit_code == 0, first.output
    assert "Đã gửi 24 nhắc việc." in first.output
    assert f"Đã nhắc: kỳ {cycle_id} · thanh-tra · chanhtt · bước r1:2020-06-03:t+2" in first.output
    again = runner.invoke(app, ["remind"])
    assert "Đã gửi 0 nhắc việc." in again.output
    assert len(smtp.messages()) == 24

    night = runner.invoke(
        app, ["remind"], env={"REPORTFLOW_FROZEN_NOW": "2020-06-05T22:00:00+07:00"}
    )
    assert "chỉ được gửi trong giờ hành chính" in night.output

    unknown = runner.invoke(app, ["status", "99"])
    assert unknown.exit_code == 2 and "Không có kỳ báo cáo số 99" in unknown.output


def reportflow_process(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reportflow.cli", *args],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "80"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["approve"], "Thiếu tham số 'cycle_id'."),
        (["approve", "abc"], "Giá trị của 'cycle_id' không hợp lệ: cần một số nguyên"),
        (["aprove"], "Không có lệnh 'aprove'. Có phải ý là 'approve'"),
        (["approve", "1", "--cod", "x"], "Không có tuỳ chọn --cod"),
        (["status", "1", "2", "3"], "Thừa tham số"),
    ],
)
def test_a_usage_error_is_said_in_vietnamese(args, said):
    shown = reportflow_process(*args)
    assert shown.returncode == 2
    assert said in " ".join(shown.stderr.split()), shown.stderr
    assert english_in(shown.stderr) == [], shown.stderr
