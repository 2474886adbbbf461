"""How big and how deep a submitted section may be, whatever its format.

The limits are far above any real section (the sample report's longest section has about
6,000 characters and one 20-row table) and low enough that a hostile file is refused before
it costs memory, time or database space. Each check runs before the work it guards: a
table's span is read before its cells are made, its rows are counted before they are read.
"""

from __future__ import annotations

from reportflow.core.vi_format import format_number
from reportflow.document.blocks import Block, Table, runs_text
from reportflow.document.reading.errors import SectionInputError

MAX_TABLE_COLUMNS = 63
"""Columns of a table, and so the widest merge (gridSpan, gridBefore): Word's own maximum."""
MAX_TABLE_ROWS = 1_000
MAX_SECTION_CELLS = 20_000
"""Cells of all tables of a section together, counted after merged cells are spread out."""
MAX_NESTING = 8
"""Tables inside tables, and content controls inside content controls."""
MAX_LIST_LEVELS = 9
"""List levels (Word's ilvl 0 to 8); Markdown lists nested by indentation alike."""
MAX_SECTION_CHARS = 1_000_000
MAX_SECTION_BLOCKS = 10_000
"""Paragraphs, headings, list items and tables."""
MAX_SECTION_RUNS = 100_000
"""Stretches of text with one format (bold, italic); each is stored on its own."""
MAX_MARKDOWN_LINES = 50_000

_SHORTEN = "Hãy rút gọn hoặc tách phần báo cáo thành nhiều phần nhỏ hơn rồi nộp lại."


def n(value: int) -> str:
    """A count the Vietnamese way: 1.000.000."""
    return format_number(value)


def refuse_too_long(chars: int | None = None) -> SectionInputError:
    """``chars`` is the whole length when known; without it, the text was cut short at the limit."""
    found = f"dài {n(chars)} ký tự" if chars else f"dài hơn {n(MAX_SECTION_CHARS)} ký tự"
    return SectionInputError(
        f"Phần báo cáo {found}, vượt giới hạn {n(MAX_SECTION_CHARS)} ký tự. " + _SHORTEN,
        code="too_long",
    )


def refuse_table_rows(table_no: int, rows: int) -> SectionInputError:
    return SectionInputError(
        f"Bảng thứ {table_no} có {n(rows)} dòng, vượt giới hạn {n(MAX_TABLE_ROWS)} dòng mỗi bảng. "
        "Hãy tách bảng, hoặc chỉ đưa số liệu tổng hợp vào báo cáo rồi nộp lại.",
        code="table_rows",
    )


def refuse_table_columns(table_no: int, row_no: int, found: str) -> SectionInputError:
    """``found`` says what makes the row too wide: "rộng 70 cột", "có một ô gộp 900 cột"."""
    return SectionInputError(
        f"Bảng thứ {table_no}, dòng {row_no} {found}, vượt giới hạn {MAX_TABLE_COLUMNS} cột "
        "(mức tối đa của Word). Tệp có thể đã bị chỉnh sửa bằng công cụ khác, hoặc bảng quá "
        "rộng; hãy tách bảng thành nhiều bảng hẹp hơn rồi nộp lại.",
        code="table_columns",
    )


def refuse_section_cells(cells: int | None = None) -> SectionInputError:
    found = f"tổng cộng {n(cells)} ô" if cells else f"hơn {n(MAX_SECTION_CELLS)} ô"
    return SectionInputError(
        f"Các bảng của phần báo cáo có {found}, vượt giới hạn {n(MAX_SECTION_CELLS)} ô. "
        "Hãy rút gọn bảng hoặc tách phần báo cáo rồi nộp lại.",
        code="too_many_cells",
    )


def refuse_too_many_runs(runs: int | None = None) -> SectionInputError:
    found = f"có {n(runs)}" if runs else f"có hơn {n(MAX_SECTION_RUNS)}"
    return SectionInputError(
        f"Phần báo cáo {found} đoạn chữ định dạng riêng (run), vượt giới hạn "
        f"{n(MAX_SECTION_RUNS)}. Thường do định dạng xen kẽ từng chữ hoặc tệp tạo bằng công cụ "
        "khác; hãy chép nội dung sang tệp mới (dán dạng chữ thuần), định dạng lại rồi nộp lại.",
        code="too_many_runs",
    )


class SectionBudget:
    """Counts what a parser has produced and refuses the moment a limit is passed, so a
    section never grows beyond what the limits allow to be stored."""

    def __init__(self) -> None:
        self.blocks = 0
        self.runs = 0
        self.chars = 0
        self.cells = 0

    def add(self, block: Block) -> None:
        self.blocks += 1
        if self.blocks > MAX_SECTION_BLOCKS:
            raise SectionInputError(
                f"Phần báo cáo có hơn {n(MAX_SECTION_BLOCKS)} đoạn văn, mục và bảng, vượt giới "
                f"hạn {n(MAX_SECTION_BLOCKS)}. " + _SHORTEN,
                code="too_many_blocks",
            )
        if isinstance(block, Table):
            rows = [block.header, *block.rows]
            self.cells += sum(len(row) for row in rows)
            if self.cells > MAX_SECTION_CELLS:
                raise refuse_section_cells()
            self.chars += sum(len(cell) for row in rows for cell in row)
        else:
            self.runs += len(block.runs)
            if self.runs > MAX_SECTION_RUNS:
                raise refuse_too_many_runs()
            self.chars += len(runs_text(block.runs))
        if self.chars > MAX_SECTION_CHARS:
            raise refuse_too_long()
