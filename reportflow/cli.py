"""The `reportflow` command line. Every command prints Vietnamese for users and has --help."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from reportflow import cli_words
from reportflow.core.config import SettingsError, get_settings
from reportflow.core.errors import UserError
from reportflow.core.vi_format import short_date as vn_date
from reportflow.cycle_table import print_cycle_table
from reportflow.definitions.schema import DefinitionError
from reportflow.models import init_db, session_scope
from reportflow.models.db import shown_database_url

cli_words.install()
app = typer.Typer(
    help="reportflow: lập, tổng hợp, phê duyệt và phát hành báo cáo định kỳ.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)
cycle_app = typer.Typer(help="Mở và chạy kỳ báo cáo.", no_args_is_help=True)
register_app = typer.Typer(help="Sổ đăng ký văn bản đi.", no_args_is_help=True)
approval_app = typer.Typer(help="Mã phê duyệt của Giám đốc.", no_args_is_help=True)
db_app = typer.Typer(
    help="Cơ sở dữ liệu: phiên bản lược đồ và nâng cấp sau khi cài bản mới.", no_args_is_help=True
)
app.add_typer(cycle_app, name="cycle")
app.add_typer(register_app, name="register")
app.add_typer(approval_app, name="approval")
app.add_typer(db_app, name="db")
link_app = typer.Typer(help="Liên kết riêng gửi báo cáo qua web.", no_args_is_help=True)
app.add_typer(link_app, name="link")
console = Console()
err = Console(stderr=True)


def _parse_date(value: str) -> dt.date:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            pass
    raise typer.BadParameter(
        f"'{value}' không phải ngày hợp lệ (viết dd/mm/yyyy, ví dụ 13/05/2020)."
    )


def _fail(exc: Exception) -> None:
    err.print("[bold red]Lỗi:[/]", escape(str(exc)))
    raise typer.Exit(code=2)


@app.callback()
def _read_settings() -> None:
    try:
        get_settings()
    except SettingsError as exc:
        _fail(exc)


@cycle_app.command("open")
def cycle_open(
    definition: Annotated[str, typer.Argument(help="Mã định nghĩa báo cáo, ví dụ ktxh-6-thang")],
    request_number: Annotated[
        str, typer.Option(help="Số công văn yêu cầu, ví dụ 850/SKHĐT-THKTKG")
    ],
    request_date: Annotated[
        dt.date,
        typer.Option(parser=_parse_date, metavar="DD/MM/YYYY", help="Ngày của công văn yêu cầu"),
    ],
    sender: Annotated[str, typer.Option(help="Cơ quan gửi yêu cầu")],
    subject: Annotated[str, typer.Option(help="Trích yếu của yêu cầu")],
    deadline: Annotated[
        dt.date | None,
        typer.Option(
            parser=_parse_date,
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
            parser=_parse_date, metavar="DD/MM/YYYY", help="Báo cáo đột xuất: chốt số liệu từ ngày"
        ),
    ] = None,
    cutoff_end: Annotated[
        dt.date | None,
        typer.Option(
            parser=_parse_date, metavar="DD/MM/YYYY", help="Báo cáo đột xuất: chốt số liệu đến ngày"
        ),
    ] = None,
    internal_deadline: Annotated[
        dt.date | None,
        typer.Option(parser=_parse_date, metavar="DD/MM/YYYY", help="Hạn nội bộ cho các phòng"),
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
        _fail(exc)
    if start:
        console.print(f"Đã mở kỳ báo cáo số [bold]{cycle_id}[/].")
        _start_run(cycle_id)
    else:
        console.print(
            f"Đã mở kỳ báo cáo số [bold]{cycle_id}[/]. Khởi chạy quy trình: "
            f"reportflow cycle start {cycle_id} (hoặc chạy tại máy này: reportflow cycle run {cycle_id})"
        )


def _start_run(cycle_id: int, replace: bool = False) -> None:
    from reportflow.runtime.runs import start_cycle_run

    try:
        started = start_cycle_run(cycle_id, replace)
    except UserError as exc:
        _fail(exc)
    console.print(
        f"Đã khởi chạy quy trình của kỳ {cycle_id}; máy thực thi (worker, nhóm 'reportflow') sẽ "
        "chạy quy trình. "
        f"Theo dõi: {started.url or started.flow_run_id}",
        highlight=False,
    )


@cycle_app.command("start")
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
    _start_run(cycle_id, replace)


@cycle_app.command("withdraw")
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
        _fail(exc)
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


@cycle_app.command("run")
def cycle_run(cycle_id: Annotated[int, typer.Argument(help="Số kỳ báo cáo")]) -> None:
    """Chạy quy trình của kỳ báo cáo tại máy này (tạm dừng khi chờ các phòng và chờ Giám đốc)."""
    from reportflow.flows.report_cycle import report_cycle

    init_db()
    result = report_cycle(cycle_id)
    outcome = "không phê duyệt" if result == "rejected" else f"đã phát hành, số {result}"
    console.print(f"Kỳ báo cáo số {cycle_id}: {outcome}.")


@app.command()
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
                _fail(UserError(f"Không có kỳ báo cáo số {cycle_id}."))
        if not cycles:
            console.print("Chưa có kỳ báo cáo nào. Mở kỳ mới: reportflow cycle open --help")
        for cycle in cycles:
            print_cycle_table(
                console, cycle, [row_cells(r) for r in progress_rows(session, cycle.id)]
            )
    _print_stalled([c.id for c in cycles])


@app.command()
def audit(cycle_id: Annotated[int, typer.Argument(help="Số kỳ báo cáo")]) -> None:
    """Nhật ký của kỳ báo cáo: mở kỳ, đề nghị, bài nộp, nhắc việc, dự thảo, mã phê duyệt,
    quyết định, cấp số, phát hành."""
    from reportflow.cycle.tracking.audit_trail import trail_rows
    from reportflow.models import Cycle

    init_db()
    with session_scope() as session:
        if session.get(Cycle, cycle_id) is None:
            _fail(UserError(f"Không có kỳ báo cáo số {cycle_id}."))
    console.print(f"[bold]Nhật ký kỳ báo cáo số {cycle_id}[/]")
    for row in trail_rows(cycle_id):
        when, who, what = row.values()
        console.print(f"{escape(when)}  [cyan]{escape(who)}[/]  {escape(what)}", soft_wrap=True)


def _print_stalled(cycle_ids: list[int]) -> None:
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


@app.command()
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
        _fail(UserError("Cần 'MÃ_PHẦN TỆP', hoặc --indicators TỆP, hoặc cả hai."))
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
        _fail(exc)


@app.command()
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


@app.command()
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
        outcome = send_decision(cycle_id, code, changes or [], reject, comment)
    except UserError as exc:
        _fail(exc)
    console.print(outcome)


@approval_app.command("renew")
def approval_renew(cycle_id: Annotated[int, typer.Argument(help="Số kỳ báo cáo")]) -> None:
    """Cấp và gửi lại mã phê duyệt mới cho Giám đốc (khi mã cũ hết hạn hoặc thất lạc); mã cũ bị thu hồi."""
    from reportflow.cycle.steps import send_approval_codes

    init_db()
    try:
        sent = send_approval_codes(cycle_id, renew=True)
    except (UserError, RuntimeError) as exc:
        _fail(exc)
    console.print(
        f"Đã gửi {sent} thư kèm dự thảo và mã phê duyệt mới; mã cũ đã bị thu hồi.",
        highlight=False,
    )


@register_app.command("open")
def register_open(
    year: Annotated[int, typer.Option(help="Năm")],
    last_number: Annotated[int, typer.Option(help="Số văn bản đi cuối cùng đã dùng trong năm")],
) -> None:
    """Khai báo số cuối cùng đã dùng trong năm (khi bắt đầu dùng reportflow giữa năm)."""
    from reportflow.cycle.issuing.numbering import open_register
    from reportflow.definitions.loader import load_organisation

    init_db()
    open_register(load_organisation().issuing_body, year, last_number)
    console.print(f"Sổ văn bản đi năm {year}: số tiếp theo là {last_number + 1:02d}.")


@register_app.command("show")
def register_show(
    year: Annotated[int | None, typer.Option(help="Năm; bỏ trống: năm nay")] = None,
) -> None:
    """In sổ văn bản đi của một năm: số, ngày, trích yếu, người ký, nơi nhận."""
    from sqlmodel import select

    from reportflow.core.clock import today
    from reportflow.models import RegisterEntry

    init_db()
    year = year or today().year
    with session_scope() as session:
        entries = session.exec(
            select(RegisterEntry).where(RegisterEntry.year == year).order_by(RegisterEntry.number)
        ).all()
    if not entries:
        console.print(f"Sổ văn bản đi năm {year} chưa có văn bản nào.")
        return
    table = Table(title=f"Sổ văn bản đi năm {year}")
    for column in ("Số, ký hiệu", "Ngày", "Trích yếu", "Người ký", "Nơi nhận"):
        table.add_column(column, no_wrap=column in {"Số, ký hiệu", "Ngày"})
    for entry in entries:
        table.add_row(
            entry.number_text,
            vn_date(entry.issued_on),
            entry.summary,
            entry.signer,
            "; ".join(r.removeprefix("- ").rstrip(";.") for r in entry.recipients),
        )
    console.print(table)


@app.command()
def dispatch(cycle_id: Annotated[int, typer.Argument(help="Số kỳ báo cáo")]) -> None:
    """Gửi lại báo cáo đã cấp số tới nơi nhận chưa nhận được (nơi đã nhận được bỏ qua)."""
    from reportflow.cycle.cycles import get_cycle
    from reportflow.cycle.issuing.dispatch import dispatch_report
    from reportflow.models import CycleState

    init_db()
    try:
        with session_scope() as session:
            state = CycleState(get_cycle(session, cycle_id).state)
        if state not in {CycleState.NUMBERED, CycleState.DISPATCHING, CycleState.DONE}:
            raise UserError(
                f"Kỳ báo cáo số {cycle_id} chưa được cấp số ({state.label_vi}); "
                "chỉ gửi được báo cáo đã phê duyệt và cấp số."
            )
        with console.status("Đang gửi báo cáo tới các nơi nhận…"):
            outcome = dispatch_report(cycle_id, max_attempts=None)
    except UserError as exc:
        _fail(exc)
    for key in outcome.sent:
        console.print(f"  đã gửi: {key}")
    for key in outcome.already_sent:
        console.print(f"  đã nhận từ trước, bỏ qua: {key}")
    for key in outcome.failed:
        console.print(f"  [red]chưa gửi được:[/] {escape(key)}")
    for key in outcome.in_progress:
        console.print(
            f"  [yellow]đang được gửi ở nơi khác hoặc bị ngắt giữa chừng:[/] {escape(key)}"
        )
    for row in outcome.problems:
        reason = row.error or _held_until(row.lease_until)
        console.print(
            f"    {row.recipient} · {row.channel}: {reason}", markup=False, highlight=False
        )
    if outcome.failed or outcome.in_progress:
        err.print("Một số nơi nhận chưa gửi được; kiểm tra máy chủ thư rồi chạy lại lệnh này.")
        raise typer.Exit(code=1)
    console.print(f"Kỳ báo cáo số {cycle_id}: mọi nơi nhận đã có báo cáo.")


def _held_until(lease_until) -> str:
    from reportflow.notifications.messages import vn_datetime

    if lease_until is None:
        return "đang gửi"
    return f"một tiến trình khác đang giữ tin này; nếu nó đã dừng, chạy lại sau {vn_datetime(lease_until)}"


@app.command()
def export(
    cycle_id: Annotated[int | None, typer.Argument(help="Số kỳ báo cáo")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Xuất PDF qua LibreOffice")] = False,
    sample: Annotated[
        bool, typer.Option("--sample", help="Xuất báo cáo mẫu 859/BC-STTTT-VP từ dữ liệu demo")
    ] = False,
    out: Annotated[Path, typer.Option(help="Thư mục kết quả")] = Path("out/export"),
) -> None:
    """Xuất văn bản của kỳ báo cáo (bản chính thức, hoặc dự thảo mới nhất) ra .docx hoặc PDF."""
    import shutil

    from reportflow.cycle.pdf_export import convert_to_pdf, latest_document, pdf_page_count

    try:
        if sample:
            from reportflow.demo.sample import build_sample_document
            from reportflow.document.render import render_report

            out.mkdir(parents=True, exist_ok=True)
            document = render_report(build_sample_document(), out / "859-BC-STTTT-VP.docx")
        elif cycle_id is not None:
            init_db()
            document = latest_document(cycle_id)
        else:
            raise UserError("Cần số kỳ báo cáo, hoặc --sample.")
        if pdf:
            with console.status(f"Đang chuyển {document.name} sang PDF bằng LibreOffice…"):
                target = convert_to_pdf(document, out)
            console.print(f"Đã xuất {target} ({pdf_page_count(target)} trang).")
        else:
            out.mkdir(parents=True, exist_ok=True)
            target = out / document.name
            if target.resolve() != document.resolve():
                shutil.copyfile(document, target)
            console.print(f"Đã xuất {target}.")
    except UserError as exc:
        _fail(exc)


@app.command()
def check() -> None:
    """Kiểm tra máy này: cơ sở dữ liệu, định nghĩa, máy chủ thư, Prefect, LibreOffice, khóa ký."""
    from reportflow.runtime.health import run_checks

    with console.status("Đang kiểm tra…"):
        findings = run_checks()
    table = Table(title="Kiểm tra cài đặt reportflow")
    for column in ("Hạng mục", "Kết quả", "Chi tiết"):
        table.add_column(column, no_wrap=column == "Kết quả")
    colours = {"ok": "green", "cảnh báo": "yellow", "lỗi": "red"}
    for finding in findings:
        colour = colours[finding.severity]
        table.add_row(
            escape(finding.name), f"[{colour}]{finding.severity}[/]", escape(finding.detail)
        )
    console.print(table)
    if any(f.severity == "lỗi" for f in findings):
        err.print("Có hạng mục lỗi; sửa rồi chạy lại: reportflow check")
        raise typer.Exit(code=1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Nâng cấp lược đồ cơ sở dữ liệu lên bản mới nhất, giữ nguyên dữ liệu (sau khi cài bản mới)."""
    from sqlalchemy.exc import SQLAlchemyError

    from reportflow.models.migrate import BASELINE, MigrationError, upgrade_db

    console.print(f"Cơ sở dữ liệu: {escape(shown_database_url())}", highlight=False)
    try:
        result = upgrade_db(progress=lambda revision: console.print(f"  Đã chạy bước {revision}."))
    except (MigrationError, SQLAlchemyError) as exc:
        _fail(exc)
    if result.adopted:
        console.print(
            "Cơ sở dữ liệu do bản reportflow trước tạo (chưa ghi phiên bản lược đồ): "
            f"đã đối chiếu với lược đồ {BASELINE}, bổ sung phần thiếu và ghi nhận phiên bản "
            f"{BASELINE}.",
            highlight=False,
        )
    if result.steps or result.adopted:
        console.print(
            f"Đã nâng cấp lược đồ: {result.before or 'trống'} → {result.after}.", highlight=False
        )
    else:
        console.print(
            f"Lược đồ đã ở phiên bản mới nhất ({result.after}); không có gì thay đổi.",
            highlight=False,
        )


@db_app.command("current")
def db_current() -> None:
    """In phiên bản lược đồ của cơ sở dữ liệu và cho biết có cần nâng cấp không (không ghi gì)."""
    from sqlalchemy.exc import SQLAlchemyError

    from reportflow.models.migrate import current_revision, head_revision, is_known

    console.print(f"Cơ sở dữ liệu: {escape(shown_database_url())}", highlight=False)
    try:
        current = current_revision()
    except SQLAlchemyError as exc:
        _fail(exc)
    head = head_revision()
    if current == head:
        console.print(f"Phiên bản lược đồ: {current} (mới nhất).", highlight=False)
    elif current is None:
        console.print(
            "Chưa ghi phiên bản lược đồ (cơ sở dữ liệu trống, hoặc do bản reportflow trước "
            f"tạo); bản mới nhất là {head}. Chạy: reportflow db upgrade",
            highlight=False,
        )
    elif is_known(current):
        console.print(
            f"Phiên bản lược đồ: {current}; bản mới nhất là {head}. Chạy: reportflow db upgrade",
            highlight=False,
        )
    else:
        err.print(
            f"Phiên bản lược đồ: {current}, mới hơn bản reportflow này (bản mới nhất nó biết là "
            f"{head}); hãy cài bản reportflow mới hơn.",
            highlight=False,
        )
        raise typer.Exit(code=1)


@app.command("smtp-sink")
def smtp_sink(
    outbox: Annotated[Path, typer.Option(help="Thư mục lưu thư nhận được (.eml)")] = Path(
        "out/outbox"
    ),
    port: Annotated[int, typer.Option(help="Cổng SMTP")] = 8025,
) -> None:
    """Máy chủ SMTP thử nghiệm: lưu mọi thư nhận được thành tệp .eml (Ctrl+C để dừng)."""
    import time

    from reportflow.runtime.smtp_sink import SmtpSink

    sink = SmtpSink(outbox, port=port).start()
    console.print(f"SMTP đang nhận tại 127.0.0.1:{sink.port}, lưu vào {outbox}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sink.stop()


@app.command()
def serve(
    host: Annotated[
        str,
        typer.Option(
            help="Địa chỉ máy chủ Prefect lắng nghe; khác 127.0.0.1 thì phải đặt "
            "PREFECT_SERVER_API_AUTH_STRING"
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Cổng của máy chủ Prefect")] = 4200,
    workers: Annotated[int, typer.Option(help="Số máy thực thi (worker) chạy tại máy này")] = 1,
    no_server: Annotated[
        bool,
        typer.Option(
            "--no-server", help="Không khởi động máy chủ Prefect; dùng máy chủ tại PREFECT_API_URL"
        ),
    ] = False,
) -> None:
    """Chạy hệ thống cho cơ quan: máy chủ Prefect, cập nhật cơ sở dữ liệu, nhóm máy thực thi
    'reportflow', các deployment của prefect.yaml và máy thực thi; Ctrl+C để dừng tất cả."""
    from reportflow.runtime.serve import ServeFailed, ServeOptions, ServeRefused, run

    def say(text: str) -> None:
        console.print(escape(text), highlight=False, soft_wrap=True)

    options = ServeOptions(host=host, port=port, workers=workers, no_server=no_server)
    try:
        run(options, say, _print_ready)
    except ServeRefused as exc:
        _fail(exc)
    except ServeFailed as exc:
        err.print("[bold red]Lỗi:[/]", escape(str(exc)))
        raise typer.Exit(code=1) from None


def _web_url() -> str:
    return get_settings().web_url


def _print_ready(served) -> None:
    server = "đã khởi động" if served.server is not None else "có sẵn"
    console.print(f"[bold green]Sẵn sàng[/] sau {served.started_s:.1f} giây.", highlight=False)
    lines = [
        f"Giao diện Prefect: {served.ui_url}",
        f"Máy chủ Prefect ({server}): {served.api_url}",
        f"Cơ sở dữ liệu: {served.database}",
        f"Deployment: {', '.join(served.deployments)}",
        f"Máy thực thi ({len(served.workers)}): {', '.join(served.worker_names)}",
        f"Trang web gửi báo cáo: {served.web_address}"
        + (f" (liên kết trong thư: {web_url})" if (web_url := _web_url()) else ""),
        f"Nhật ký: {served.log_dir}",
        "Nhấn Ctrl+C để dừng tất cả.",
    ]
    for line in lines:
        console.print(f"  {escape(line)}", highlight=False, soft_wrap=True)


@app.command()
def web(
    host: Annotated[
        str | None, typer.Option(help="Địa chỉ lắng nghe (mặc định REPORTFLOW_WEB_HOST)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Cổng (mặc định REPORTFLOW_WEB_PORT)")] = None,
) -> None:
    """Chạy trang web để lãnh đạo các phòng gửi báo cáo bằng liên kết riêng trong thư."""
    from reportflow.web.server import run_web

    init_db()
    run_web(host, port, lambda text: console.print(escape(text), highlight=False))


@link_app.command("show")
def link_show(
    cycle_id: Annotated[int, typer.Argument(help="Số kỳ báo cáo")],
    section: Annotated[str, typer.Argument(help="Mã phần")],
    person: Annotated[str, typer.Argument(help="Mã người nhận liên kết")],
) -> None:
    """In liên kết hiện tại của một người cho một phần (để gửi lại cho họ)."""
    from reportflow.cycle.links import make_link

    init_db()
    if not _web_url():
        err.print("Chưa đặt REPORTFLOW_WEB_URL: liên kết dưới đây thiếu địa chỉ trang web.")
    try:
        with session_scope() as session:
            console.print(make_link(session, cycle_id, section, person), highlight=False)
    except UserError as exc:
        _fail(exc)


@link_app.command("revoke")
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
        _fail(exc)
    console.print("Đã thu hồi các liên kết cũ. Liên kết mới:", highlight=False)
    console.print(new_link, highlight=False, soft_wrap=True)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Thư mục kết quả")] = Path("out/demo"),
) -> None:
    """Chạy trọn một kỳ báo cáo mẫu (859/BC-STTTT-VP), không cần thao tác."""
    from reportflow.demo.run import run_demo

    run_demo(out, console)


def main() -> None:
    """The `reportflow` command: a database that does not answer is said in one line."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    try:
        app(prog_name="reportflow")
    except (OperationalError, InterfaceError) as exc:
        reason = str(exc.orig or exc).splitlines()[0]
        err.print(
            f"[bold red]Lỗi:[/] cơ sở dữ liệu không trả lời ({escape(reason)}). Kiểm tra máy chủ "
            f"cơ sở dữ liệu {escape(shown_database_url())} rồi chạy lại lệnh: những gì đã ghi "
            "được giữ nguyên, lệnh chạy lại làm tiếp phần còn lại.",
            highlight=False,
        )
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
