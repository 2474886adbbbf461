"""`reportflow link …`: a person's own link to the web pages."""

from __future__ import annotations

from typing import Annotated

import typer

from reportflow.cli.output import console, err, fail
from reportflow.core.config import get_settings
from reportflow.core.errors import UserError
from reportflow.models import init_db, session_scope

group = typer.Typer(help="Liên kết riêng gửi báo cáo qua web.", no_args_is_help=True)


@group.command("show")
def link_show(
    cycle_id: Annotated[int, typer.Argument(help="Số kỳ báo cáo")],
    section: Annotated[str, typer.Argument(help="Mã phần")],
    person: Annotated[str, typer.Argument(help="Mã người nhận liên kết")],
) -> None:
    """In liên kết hiện tại của một người cho một phần (để gửi lại cho họ)."""
    from reportflow.cycle.links import make_link

    init_db()
    if not get_settings().web_url:
        err.print("Chưa đặt REPORTFLOW_WEB_URL: liên kết dưới đây thiếu địa chỉ trang web.")
    try:
        with session_scope() as session:
            console.print(make_link(session, cycle_id, section, person), highlight=False)
    except UserError as exc:
        fail(exc)


@group.command("revoke")
def link_revoke(
    cycle_id: Annotated[int, typer.Argument(help="Số kỳ báo cáo")],
    section: Annotated[str, typer.Argument(help="Mã phần")],
    person: Annotated[str, typer.Argument(help="Mã người nhận liên kết")],
    by: Annotated[str, typer.Option(help="Người thu hồi (ghi vào nhật ký)")] = "vanphong",
) -> None:
    """Thu hồi mọi liên kết đã gửi cho người này về phần này; in liên kết mới."""
    from reportflow.cycle.links import revoke

    init_db()
    try:
        new_link = revoke(cycle_id, section, person, by)
    except UserError as exc:
        fail(exc)
    console.print("Đã thu hồi các liên kết cũ. Liên kết mới:", highlight=False)
    console.print(new_link, highlight=False, soft_wrap=True)
