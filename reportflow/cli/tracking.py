"""`reportflow status` and `reportflow audit`: where a cycle stands and what happened in it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from reportflow.cli.output import console, err, fail
from reportflow.core.errors import UserError
from reportflow.cycle.tracking.cycle_table import print_cycle_table
from reportflow.models import init_db, session_scope


def status(
    cycle_id: Annotated[
        int | None, typer.Argument(help="Số kỳ báo cáo; bỏ trống để xem tất cả")
    ] = None,
) -> None:
    """Bảng tiến độ: phần, đơn vị, trạng thái, số phiên bản, lần nhắc gần nhất."""
    from sqlmodel import select

    from reportflow.cycle.tracking.progress import progress_rows, row_cells
    from reportflow.models import Cycle

    init_db()
    with session_scope() as session:
        cycles = session.exec(select(Cycle).order_by(Cycle.id)).all()
        if cycle_id is not None:
            cycles = [c for c in cycles if c.id == cycle_id]
            if not cycles:
                fail(UserError(f"Không có kỳ báo cáo số {cycle_id}."))
        if not cycles:
            console.print("Chưa có kỳ báo cáo nào. Mở kỳ mới: reportflow cycle open --help")
        for cycle in cycles:
            print_cycle_table(
                console, cycle, [row_cells(r) for r in progress_rows(session, cycle.id)]
            )
    print_stalled([c.id for c in cycles])


def audit(cycle_id: Annotated[int, typer.Argument(help="Số kỳ báo cáo")]) -> None:
    """Nhật ký của kỳ báo cáo: mở kỳ, đề nghị, bài nộp, nhắc việc, dự thảo, mã phê duyệt,
    quyết định, cấp số, phát hành."""
    from reportflow.cycle.tracking.audit_trail import trail_rows
    from reportflow.models import Cycle

    init_db()
    with session_scope() as session:
        if session.get(Cycle, cycle_id) is None:
            fail(UserError(f"Không có kỳ báo cáo số {cycle_id}."))
    console.print(f"[bold]Nhật ký kỳ báo cáo số {cycle_id}[/]")
    for row in trail_rows(cycle_id):
        when, who, what = row.values()
        console.print(f"{escape(when)}  [cyan]{escape(who)}[/]  {escape(what)}", soft_wrap=True)


def print_stalled(cycle_ids: list[int]) -> None:
    """Open cycles whose run cannot carry them on, with the command that mends each."""
    import httpx

    from reportflow.runtime.run_health import stalled_cycles

    try:
        stalled = stalled_cycles(cycle_ids)
    except httpx.HTTPError:
        err.print("Không kiểm tra được quy trình: máy chủ Prefect không trả lời.")
        return
    for item in stalled:
        err.print(f"Cần xử lý: {escape(item.line)}", highlight=False)
