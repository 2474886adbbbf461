"""`reportflow submit` and `reportflow remind`: sections in, reminders out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reportflow.cli.output import console, err, fail
from reportflow.core.errors import UserError
from reportflow.models import init_db, session_scope


def submit(
    cycle_id: Annotated[int, typer.Argument(help="Số kỳ báo cáo")],
    section: Annotated[str | None, typer.Argument(help="Mã phần (xem: reportflow status)")] = None,
    file: Annotated[Path | None, typer.Argument(help="Tệp .docx hoặc .md")] = None,
    indicators: Annotated[
        Path | None, typer.Option(help="Tệp YAML số liệu 'mã chỉ tiêu: giá trị'")
    ] = None,
    by: Annotated[str, typer.Option(help="Mã người gửi")] = ...,
) -> None:
    """Gửi một phần báo cáo (.docx/.md) và/hoặc số liệu chỉ tiêu."""
    from reportflow.cycle.collecting.submit import submit_indicators, submit_section

    if (section is None) != (file is None) or (section is None and indicators is None):
        fail(UserError("Cần 'MÃ_PHẦN TỆP', hoặc --indicators TỆP, hoặc cả hai."))
    init_db()
    try:
        if indicators is not None:
            codes = submit_indicators(cycle_id, indicators, by)
            console.print(f"Đã nhận số liệu: {', '.join(codes)}")
        if section is not None:
            result = submit_section(cycle_id, section, file, by)
            console.print(f"Đã nhận phần '{section}', phiên bản {result.version_no}.")
            if result.complete:
                console.print(
                    "Đã đủ các phần; quy trình tổng hợp dự thảo"
                    + (
                        " đã được đánh thức."
                        if result.woke_cycle
                        else " sẽ chạy khi quy trình hoạt động."
                    )
                )
    except UserError as exc:
        fail(exc)


def remind(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Chỉ in danh sách, không gửi")] = False,
    retry_failed: Annotated[
        bool,
        typer.Option(
            "--retry-failed", help="Gửi lại cả các tin đã lỗi nhiều lần (sau khi sửa kênh gửi)"
        ),
    ] = False,
) -> None:
    """Gửi nhắc việc cho các phần chưa nộp theo thang nhắc (mỗi bước một lần, trong giờ hành chính),
    và gửi nốt các tin đề nghị, phát hành còn dở do sự cố."""
    from reportflow.cycle.reminding.reminders import dry_run_lines, planned_label, sweep
    from reportflow.cycle.safety_net import wake_waiting_runs

    init_db()
    if dry_run:
        with session_scope() as session:
            lines = dry_run_lines(session)
        for line in lines:
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        return
    report = sweep(retry_failed=retry_failed)
    for cycle_id in wake_waiting_runs():
        console.print(
            f"Đã đánh thức quy trình của kỳ {cycle_id} (đã đủ phần hoặc đã có quyết định)."
        )
    for p in report.sent:
        console.print(f"Đã nhắc: {planned_label(p)}", markup=False, highlight=False)
    for line in report.resent:
        console.print(f"Đã gửi nốt: {line}", markup=False, highlight=False)
    console.print(f"Đã gửi {len(report.sent)} nhắc việc.")
    for problem in report.held:
        console.print(
            f"Đang được gửi ở nơi khác hoặc bị ngắt giữa chừng: {problem.what} · "
            f"{problem.channel}; lần quét sau sẽ gửi lại nếu vẫn chưa xong.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if report.failed:
        err.print(f"Gửi lỗi {len(report.failed)} tin:", style="red")
        for problem in report.failed:
            err.print(
                f"  {problem.what} · {problem.channel}: {problem.reason}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        err.print(
            "Kiểm tra kênh gửi (reportflow check) rồi chạy lại: reportflow remind "
            "(tin đã lỗi nhiều lần: reportflow remind --retry-failed)"
        )
        raise typer.Exit(code=1)
    if not report.attempted:
        console.print(
            "Không có tin nào đến hạn gửi lúc này. Nhắc việc chỉ được gửi trong giờ hành chính "
            "của ngày làm việc. Xem các nhắc việc đến hạn và lý do: reportflow remind --dry-run",
            soft_wrap=True,
        )
