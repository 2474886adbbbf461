"""What every command shares: the consoles it prints on, how it fails, how it reads a date."""

from __future__ import annotations

import datetime as dt

import typer
from rich.console import Console
from rich.markup import escape

from reportflow.core.vi_format import parse_date as parse_vi_date

console = Console()
err = Console(stderr=True)


def parse_date(value: str) -> dt.date:
    day = parse_vi_date(value)
    if day is None:
        raise typer.BadParameter(
            f"'{value}' không phải ngày hợp lệ (viết dd/mm/yyyy, ví dụ 13/05/2020)."
        )
    return day


def fail(exc: Exception) -> None:
    err.print("[bold red]Lỗi:[/]", escape(str(exc)))
    raise typer.Exit(code=2)
