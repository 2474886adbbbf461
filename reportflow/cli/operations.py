"""What the agency's IT staff run: `check`, `db …`, `serve`, `web`, `smtp-sink`, `demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from reportflow.cli.output import console, err, fail
from reportflow.core.config import get_settings
from reportflow.models import init_db
from reportflow.models.db import shown_database_url

db = typer.Typer(
    help="Cơ sở dữ liệu: phiên bản lược đồ và nâng cấp sau khi cài bản mới.", no_args_is_help=True
)


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


@db.command("upgrade")
def db_upgrade() -> None:
    """Nâng cấp lược đồ cơ sở dữ liệu lên bản mới nhất, giữ nguyên dữ liệu (sau khi cài bản mới)."""
    from sqlalchemy.exc import SQLAlchemyError

    from reportflow.models.migrate import BASELINE, MigrationError, upgrade_db

    console.print(f"Cơ sở dữ liệu: {escape(shown_database_url())}", highlight=False)
    try:
        result = upgrade_db(progress=lambda revision: console.print(f"  Đã chạy bước {revision}."))
    except (MigrationError, SQLAlchemyError) as exc:
        fail(exc)
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


@db.command("current")
def db_current() -> None:
    """In phiên bản lược đồ của cơ sở dữ liệu và cho biết có cần nâng cấp không (không ghi gì)."""
    from sqlalchemy.exc import SQLAlchemyError

    from reportflow.models.migrate import current_revision, head_revision, is_known

    console.print(f"Cơ sở dữ liệu: {escape(shown_database_url())}", highlight=False)
    try:
        current = current_revision()
    except SQLAlchemyError as exc:
        fail(exc)
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
        run(options, say, print_ready)
    except ServeRefused as exc:
        fail(exc)
    except ServeFailed as exc:
        err.print("[bold red]Lỗi:[/]", escape(str(exc)))
        raise typer.Exit(code=1) from None


def print_ready(served) -> None:
    server = "đã khởi động" if served.server is not None else "có sẵn"
    console.print(f"[bold green]Sẵn sàng[/] sau {served.started_s:.1f} giây.", highlight=False)
    lines = [
        f"Giao diện Prefect: {served.ui_url}",
        f"Máy chủ Prefect ({server}): {served.api_url}",
        f"Cơ sở dữ liệu: {served.database}",
        f"Deployment: {', '.join(served.deployments)}",
        f"Máy thực thi ({len(served.workers)}): {', '.join(served.worker_names)}",
        f"Trang web gửi báo cáo: {served.web_address}"
        + (f" (liên kết trong thư: {web_url})" if (web_url := get_settings().web_url) else ""),
        f"Nhật ký: {served.log_dir}",
        "Nhấn Ctrl+C để dừng tất cả.",
    ]
    for line in lines:
        console.print(f"  {escape(line)}", highlight=False, soft_wrap=True)


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


def demo(
    out: Annotated[Path, typer.Option(help="Thư mục kết quả")] = Path("out/demo"),
) -> None:
    """Chạy trọn một kỳ báo cáo mẫu (859/BC-STTTT-VP), không cần thao tác."""
    from reportflow.demo.run import run_demo

    run_demo(out, console)
