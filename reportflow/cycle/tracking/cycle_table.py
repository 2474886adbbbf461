"""The progress table of one cycle as a terminal shows it (`reportflow status`, the demo)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from reportflow.cycle.tracking.progress import cycle_headline

_NO_WRAP = {"Mã phần", "Hạn"}
_SHORT_HEADERS = {"Số phiên bản": "Bản", "Số ngày trễ": "Trễ", "Nhắc gần nhất": "Nhắc gần nhất"}


def print_cycle_table(console: Console, cycle, rows: list[dict[str, str]]) -> None:
    """The progress table; below 120 columns the section titles are left out (the code names
    the section) and the headers shortened, so it stays readable in an 80-column terminal."""
    table = Table(title=escape(cycle_headline(cycle)))
    wide = console.width >= 120
    columns = [c for c in (rows[0] if rows else []) if c != "Phần" or wide]
    for column in columns:
        header = column if wide else _SHORT_HEADERS.get(column, column)
        table.add_column(header, no_wrap=column in _NO_WRAP)
    for row in rows:
        table.add_row(*(escape(row[c]) for c in columns))
    console.print(table)
