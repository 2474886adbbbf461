"""`reportflow cycle …`: open a cycle, start or run its flow, withdraw a draft."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.markup import escape

from reportflow.cli.output import console, err, fail, parse_date
from reportflow.core.errors import UserError
from reportflow.definitions.schema import DefinitionError
from reportflow.models import init_db, session_scope

group = typer.Typer(help="Mở và chạy kỳ báo cáo.", no_args_is_help=True)


@group.command("open")
def cycle_open(
    definition: Annotated[str, typer.Argument(help="Mã định nghĩa báo cáo, ví dụ ktxh-6-thang")],
    request_number: Annotated[
        str, typer.Option(help="Số công văn yêu cầu, ví dụ 850/SKHĐT-THKTKG")
    ],
    request_date: Annotated[
        dt.date,
        typer.Option(parser=parse_date, metavar="DD/MM/YYYY", help="Ngày của công văn yêu cầu"),
    ],
    sender: Annotated[str, typer.Option(help="Cơ quan gửi yêu cầu")],
    subject: Annotated[str, typer.Option(help="Trích yếu của yêu cầu")],
    deadline: Annotated[
        dt.date | None,
        typer.Option(
            parser=parse_date,
            metavar="DD/MM/YYYY",
            help="Hạn gửi theo công văn; bỏ trống: ngày làm việc đầu tiên sau ngày chốt số liệu",
        ),
    ] = None,
    period_kind: Annotated[
        str | None,
        typer.Option(
            help="Loại kỳ theo NĐ 09/2019: monthly, quarterly, first_half, nine_months, "
            "last_half, annual, ad_hoc (đột xuất); bỏ trống: theo định nghĩa báo cáo"
        ),
    ] = None,
    period_index: Annotated[
        int | None,
        typer.Option(help="Tháng (1-12) hoặc quý (1-4); bỏ trống: tháng/quý của ngày công văn"),
    ] = None,
    year: Annotated[
        int | None,
        typer.Option(help="Năm của kỳ báo cáo; bỏ trống: năm của ngày công văn"),
    ] = None,
    cutoff_start: Annotated[
        dt.date | None,
        typer.Option(
            parser=parse_date, metavar="DD/MM/YYYY", help="Báo cáo đột xuất: chốt số liệu từ ngày"
        ),
    ] = None,
    cutoff_end: Annotated[
        dt.date | None,
        typer.Option(
            parser=parse_date, metavar="DD/MM/YYYY", help="Báo cáo đột xuất: chốt số liệu đến ngày"
        ),
    ] = None,
    internal_deadline: Annotated[
        dt.date | None,
        typer.Option(parser=parse_date, metavar="DD/MM/YYYY", help="Hạn nội bộ cho các phòng"),
    ] = None,
    internal_days_before: Annotated[
        int | None,
        typer.Option(help="Hạn nội bộ = số ngày làm việc này trước hạn gửi (thay cho định nghĩa)"),
    ] = None,
    period_label: Annotated[str, typer.Option(help="Kỳ báo cáo, ví dụ '6 tháng đầu năm'")] = "",
    by: Annotated[str, typer.Option(help="Mã người mở kỳ (Văn phòng)")] = "chanhvp",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Không hỏi lại trước khi ghi")] = False,
    start: Annotated[
        bool,
        typer.Option("--start", help="Mở xong thì khởi chạy quy trình qua deployment report-cycle"),
    ] = False,
) -> None:
    """Mở một kỳ báo cáo theo công văn yêu cầu; in kỳ chốt số liệu và các hạn trước khi ghi."""
    from reportflow.cycle.cycles import open_cycle
    from reportflow.cycle.opening.plan import CycleRequest, plan_cycle
    from reportflow.definitions.loader import load_definition

    request = CycleRequest(
        number=request_number,
        date=request_date,
        sender=sender,
        subject=subject,
        deadline=deadline,
        period_label=period_label,
        internal_deadline=internal_deadline,
        internal_days_before=internal_days_before,
        period_kind=period_kind,
        period_index=period_index,
        year=year,
        cutoff_start=cutoff_start,
        cutoff_end=cutoff_end,
    )
    try:
        spec = load_definition(definition)
        plan = plan_cycle(spec, request)
        console.print(f"Báo cáo: [bold]{spec.name}[/]")
        for line in plan.describe(sender):
            console.print(line, highlight=False)
        if not yes and not typer.confirm("Mở kỳ báo cáo?"):
            console.print("Chưa mở kỳ báo cáo; không có gì được ghi.")
            raise typer.Exit(code=1)
        init_db()
        with session_scope() as session:
            cycle = open_cycle(session, definition, request, by)
            cycle_id = cycle.id
    except (UserError, DefinitionError) as exc:
        fail(exc)
    if start:
        console.print(f"Đã mở kỳ báo cáo số [bold]{cycle_id}[/].")
        start_run(cycle_id)
    else:
        console.print(
            f"Đã mở kỳ báo cáo số [bold]{cycle_id}[/]. Khởi chạy quy trình: "
            f"reportflow cycle start {cycle_id} (hoặc chạy tại máy này: reportflow cycle run {cycle_id})"
        )


def start_run(cycle_id: int, replace: bool = False) -> None:
    from reportflow.runtime.runs import start_cycle_run

    try:
        started = start_cycle_run(cycle_id, replace)
    except UserError as exc:
        fail(exc)
    console.print(
        f"Đã khởi chạy quy trình của kỳ {cycle_id}; máy thực thi (worker, nhóm 'reportflow') sẽ "
        "chạy quy trình. "
        f"Theo dõi: {started.url or started.flow_run_id}",
        highlight=False,
    )


@group.command("start")
def cycle_start(
    cycle_id: Annotated[int, typer.Argument(help="Số kỳ báo cáo")],
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Hủy quy trình cũ còn treo (máy chạy nó đã tắt/hỏng) và chạy quy trình mới; "
            "các bước đã xong không làm lại",
        ),
    ] = False,
) -> None:
    """Khởi chạy quy trình của kỳ báo cáo qua deployment report-cycle (worker thực hiện)."""
    init_db()
    start_run(cycle_id, replace)


@group.command("withdraw")
def cycle_withdraw(
    cycle_id: Annotated[int, typer.Argument(help="Số kỳ báo cáo")],
    reopen: Annotated[
        list[str],
        typer.Option("--reopen", help="Mã phần mở lại để nộp bản mới (lặp lại được)"),
    ],
    by: Annotated[str, typer.Option(help="Mã người rút (Văn phòng hoặc Giám đốc)")],
    comment: Annotated[
        str, typer.Option(help="Lý do, gửi kèm thư mở lại phần")
    ] = "Văn phòng rút dự thảo để nhận bản mới của phần này.",
) -> None:
    """Rút dự thảo đang chờ Giám đốc: mở vòng mới chờ các phần nêu tên, thu hồi mã phê duyệt cũ.

    Khi các phần đó được nộp lại, dự thảo mới được tổng hợp và gửi Giám đốc kèm mã mới.
    """
    from reportflow.cycle.deciding.approval import withdraw_draft
    from reportflow.cycle.wake import release_decision_wait

    init_db()
    try:
        with session_scope() as session:
            cycle = withdraw_draft(session, cycle_id, reopen, by, comment)
            round_no = cycle.round
    except UserError as exc:
        fail(exc)
    console.print(
        f"Đã rút dự thảo của kỳ {cycle_id}; vòng {round_no} chờ các phần: {', '.join(reopen)}. "
        "Mã phê duyệt cũ đã bị thu hồi.",
        highlight=False,
    )
    try:
        released = release_decision_wait(cycle_id)
    except Exception as exc:  # noqa: BLE001 - the withdrawal is stored; the sweep wakes the run
        released = False
        err.print(f"Chưa báo được cho quy trình ({escape(str(exc))[:200]}).")
    if not released:
        console.print(
            "Quy trình chưa ở bước chờ quyết định; nó sẽ đọc vòng mới khi chạy tiếp.",
            highlight=False,
        )


@group.command("run")
def cycle_run(cycle_id: Annotated[int, typer.Argument(help="Số kỳ báo cáo")]) -> None:
    """Chạy quy trình của kỳ báo cáo tại máy này (tạm dừng khi chờ các phòng và chờ Giám đốc)."""
    from reportflow.flows.report_cycle import report_cycle

    init_db()
    result = report_cycle(cycle_id)
    outcome = "không phê duyệt" if result == "rejected" else f"đã phát hành, số {result}"
    console.print(f"Kỳ báo cáo số {cycle_id}: {outcome}.")
