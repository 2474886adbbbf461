"""`reportflow approve` and `reportflow approval …`: the director's decision and his code."""

from __future__ import annotations

from typing import Annotated

import typer

from reportflow.cli.output import console, fail
from reportflow.core.errors import UserError
from reportflow.models import init_db

group = typer.Typer(help="Mã phê duyệt của Giám đốc.", no_args_is_help=True)


def approve(
    cycle_id: Annotated[int, typer.Argument(help="Số kỳ báo cáo")],
    code: Annotated[
        str | None,
        typer.Option(
            help="Mã phê duyệt một lần nhận qua thư riêng; bỏ trống để nhập ẩn "
            "(không lưu vào lịch sử lệnh)"
        ),
    ] = None,
    changes: Annotated[
        list[str] | None,
        typer.Option("--changes", help="MÃ_PHẦN=ý kiến: trả lại phần này để sửa (lặp lại được)"),
    ] = None,
    due: Annotated[
        str,
        typer.Option(
            metavar="DD/MM/YYYY",
            help="Hạn gửi lại các phần trả lại; bỏ trống: ngày sớm hơn trong hai ngày làm việc "
            "(2 ngày sau khi trả lại; 1 ngày trước hạn nộp báo cáo)",
        ),
    ] = "",
    reject: Annotated[bool, typer.Option("--reject", help="Hủy báo cáo")] = False,
    comment: Annotated[str, typer.Option(help="Ý kiến chung")] = "",
) -> None:
    """Gửi quyết định của Giám đốc qua đúng API 'Resume' mà giao diện Prefect dùng.

    Mã phê duyệt được gửi riêng cho Giám đốc, nên mã cho biết ai quyết định.
    """
    from reportflow.cycle.deciding.decide import send_decision

    if code is None:
        code = typer.prompt("Mã phê duyệt một lần", hide_input=True)

    init_db()
    try:
        outcome = send_decision(cycle_id, code, changes or [], reject, comment, due=due)
    except UserError as exc:
        fail(exc)
    console.print(outcome)


@group.command("renew")
def approval_renew(cycle_id: Annotated[int, typer.Argument(help="Số kỳ báo cáo")]) -> None:
    """Cấp và gửi lại mã phê duyệt mới cho Giám đốc (khi mã cũ hết hạn hoặc thất lạc); mã cũ bị thu hồi."""
    from reportflow.cycle.steps import send_approval_codes

    init_db()
    try:
        sent = send_approval_codes(cycle_id, renew=True)
    except (UserError, RuntimeError) as exc:
        fail(exc)
    console.print(
        f"Đã gửi {sent} thư kèm dự thảo và mã phê duyệt mới; mã cũ đã bị thu hồi.",
        highlight=False,
    )
