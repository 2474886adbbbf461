"""The `reportflow` command: every command and group in the order `--help` lists them. Each
group's module only parses and presents; the rules live below."""

from __future__ import annotations

import warnings

import typer
from rich.markup import escape
from sqlalchemy.exc import InterfaceError, OperationalError

from reportflow.cli import collecting, cycles, deciding, issuing, links, operations, tracking, words
from reportflow.cli.output import err, fail
from reportflow.core.config import SettingsError, get_settings
from reportflow.models.db import shown_database_url

words.install()
# pyHanko imports cryptography's DSA, which then warns on every command that signs or verifies;
# the clerk can do nothing about it (reportflow's keys are RSA).
warnings.filterwarnings("ignore", message="DSA is deprecated")
app = typer.Typer(
    help="reportflow: lập, tổng hợp, phê duyệt và phát hành báo cáo định kỳ.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)


@app.callback()
def _read_settings() -> None:
    try:
        get_settings()
    except SettingsError as exc:
        fail(exc)


app.add_typer(cycles.group, name="cycle")
app.add_typer(issuing.group, name="register")
app.add_typer(issuing.signing, name="sign")
app.add_typer(deciding.group, name="approval")
app.add_typer(operations.db, name="db")
app.add_typer(links.group, name="link")
for command in (
    tracking.status,
    tracking.audit,
    collecting.submit,
    collecting.remind,
    deciding.approve,
    issuing.dispatch,
    issuing.export,
    issuing.verify,
    operations.check,
):
    app.command()(command)
app.command("smtp-sink")(operations.smtp_sink)
for command in (operations.serve, operations.web, operations.demo):
    app.command()(command)


def main() -> None:
    """The `reportflow` command: a database that does not answer is said in one line."""
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
