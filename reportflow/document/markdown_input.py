"""A section submitted as Markdown (or plain text) into blocks.

Recognised: paragraphs (wrapped lines joined), emphasis, "- " / "+ " bullets, "1." / "a)"
ordered items, "#" headings, whole-bold lines and "* Tiêu đề" lines as headings, GitHub pipe
tables and tab-separated tables (what a copy from Word or a spreadsheet gives). The text
is data: nothing in it is evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from reportflow.document.blocks import (
    Block,
    Heading,
    ListItem,
    Paragraph,
    Run,
    SectionContent,
    Table,
)
from reportflow.document.errors import SectionInputError
from reportflow.document.limits import (
    MAX_LIST_LEVELS,
    MAX_MARKDOWN_LINES,
    MAX_SECTION_CHARS,
    MAX_TABLE_COLUMNS,
    MAX_TABLE_ROWS,
    SectionBudget,
    n,
    refuse_table_columns,
    refuse_table_rows,
    refuse_too_long,
)
from reportflow.document.markdown_inline import parse_inline, strip_inline
from reportflow.document.vi_format import format_number
from reportflow.document.xml_text import find_illegal_char

DEFAULT_MAX_BYTES = 2_000_000

_ATX_HEADING = re.compile(r"#+\s+(.*)")
_STAR_HEADING = re.compile(r"\\?\*\s+(\S.*)")
_WHOLE_BOLD = re.compile(r"(\*\*|__)(?P<inner>(?:(?!\1).)+)\1(?P<tail>[:.]?)")
_BULLET = re.compile(r"(?P<indent>[ \t]*)(?P<marker>[-+\u2013\u2022])\s+(?P<text>\S.*)")
_ORDERED = re.compile(r"(?P<indent>[ \t]*)(?P<marker>\d{1,3}[.)]|[a-zđ]\))\s+(?P<text>\S.*)")
_THEMATIC_BREAK = re.compile(r"(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,}")
_TABLE_DELIMITER = re.compile(r"\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?")


@dataclass
class _Pending:
    """A paragraph or list item whose wrapped lines are still being collected."""

    kind: str  # "paragraph" or "list_item"
    level: int = 0
    ordered: bool = False
    marker: str = ""
    lines: list[str] = field(default_factory=list)

    def to_block(self) -> Block:
        runs = parse_inline(" ".join(line.strip() for line in self.lines))
        if self.kind == "list_item":
            return ListItem(runs=runs, level=self.level, ordered=self.ordered, marker=self.marker)
        return Paragraph(runs=runs)


def _indent_width(indent: str) -> int:
    return len(indent.expandtabs(4))


def _check_input(text: str, max_bytes: int) -> None:
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > max_bytes:
        raise SectionInputError(
            f"Nội dung phần báo cáo quá lớn: {format_number(size / 1e6, 1)} MB, vượt giới hạn "
            f"{format_number(max_bytes / 1e6, 1)} MB. Hãy rút gọn hoặc tách nội dung rồi nộp lại.",
            code="too_large",
        )
    if len(text) > MAX_SECTION_CHARS:
        raise refuse_too_long(len(text))
    bad = find_illegal_char(text)
    if bad is not None:
        raise SectionInputError(
            f"Nội dung có ký tự điều khiển không hợp lệ {bad.codepoint} ở dòng {bad.line}, "
            f"cột {bad.column}. Ký tự này thường lọt vào khi sao chép từ phần mềm khác; "
            "hãy xóa nó rồi nộp lại.",
            code="illegal_character",
        )


def _pipe_cells(line: str) -> int:
    """How many cells _split_pipe_row would make of ``line``, without making them."""
    line = line.strip()
    separators = line.count("|") - line.count("\\|")
    if line.startswith("|"):
        separators -= 1
    if line.endswith("|") and not line.endswith("\\|") and len(line) > 1:
        separators -= 1
    return separators + 1


def _check_line_count(text: str) -> None:
    lines = text.count("\n") + (not text.endswith("\n"))
    if lines > MAX_MARKDOWN_LINES:
        raise SectionInputError(
            f"Nội dung phần báo cáo có {n(lines)} dòng, vượt giới hạn {n(MAX_MARKDOWN_LINES)} "
            "dòng. Hãy rút gọn hoặc tách phần báo cáo thành nhiều phần nhỏ hơn rồi nộp lại.",
            code="too_many_lines",
        )


def _split_pipe_row(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    cells: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line) and line[i + 1] == "|":
            current.append("|")
            i += 2
            continue
        if ch == "|":
            cells.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    cells.append("".join(current))
    return [strip_inline(cell.strip()) for cell in cells]


def _make_table(rows: list[list[str]]) -> Table:
    width = max(len(row) for row in rows)
    padded = [row + [""] * (width - len(row)) for row in rows]
    return Table(header=padded[0], rows=padded[1:])


def _is_pipe_table_start(lines: list[str], i: int) -> bool:
    return (
        lines[i].lstrip().startswith("|")
        and i + 1 < len(lines)
        and "-" in lines[i + 1]
        and "|" in lines[i + 1]
        and _TABLE_DELIMITER.fullmatch(lines[i + 1].strip()) is not None
    )


def _tab_count(line: str) -> int:
    return line.strip(" \n").strip("\t").count("\t") if line.strip() else 0


def _is_tab_table_start(lines: list[str], i: int) -> bool:
    tabs = _tab_count(lines[i])
    return tabs > 0 and i + 1 < len(lines) and _tab_count(lines[i + 1]) == tabs


def _without_closing_hashes(text: str) -> str:
    """The heading without its closing hashes ("Tiêu đề ##" -> "Tiêu đề"); done by hand, as
    a regex for it backtracked quadratically over a long run of spaces."""
    text = text.rstrip()
    bare = text.rstrip("#")
    return bare.rstrip() if bare != text and bare and bare[-1].isspace() else text


def _heading_from_line(stripped: str) -> Heading | None:
    match = _ATX_HEADING.fullmatch(stripped)
    if match and (title := _without_closing_hashes(match.group(1))):
        return Heading(runs=parse_inline(title))
    match = _STAR_HEADING.fullmatch(stripped)
    if match:
        rest = parse_inline(match.group(1))
        first = Run("* " + rest[0].text, rest[0].bold, rest[0].italic) if rest else Run("*")
        return Heading(runs=[first, *rest[1:]])
    match = _WHOLE_BOLD.fullmatch(stripped)
    if match:
        inner = match.group("inner").strip()
        if inner and "*" not in inner:
            return Heading(runs=[Run(inner + match.group("tail"), bold=True)])
    return None


class _Tables:
    """Reads the tables of one section, refusing one too long or too wide before its rows
    are split into cells."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines
        self.count = 0

    def pipe_table(self, start: int) -> tuple[Table, int]:
        lines = self._lines
        end = start + 2
        while end < len(lines) and lines[end].lstrip().startswith("|"):
            end += 1
        rows = [lines[start], *lines[start + 2 : end]]
        return self._make(rows, _pipe_cells, _split_pipe_row), end

    def tab_table(self, start: int) -> tuple[Table, int]:
        lines = self._lines
        tabs = _tab_count(lines[start])
        end = start
        while end < len(lines) and _tab_count(lines[end]) == tabs:
            end += 1
        return self._make(lines[start:end], lambda _line: tabs + 1, _split_tab_row), end

    def _make(
        self,
        lines: list[str],
        width: Callable[[str], int],
        split: Callable[[str], list[str]],
    ) -> Table:
        self.count += 1
        if len(lines) > MAX_TABLE_ROWS:
            raise refuse_table_rows(self.count, len(lines))
        for row_no, line in enumerate(lines, start=1):
            if (columns := width(line)) > MAX_TABLE_COLUMNS:
                raise refuse_table_columns(self.count, row_no, f"rộng {n(columns)} cột")
        return _make_table([split(line) for line in lines])


def _split_tab_row(line: str) -> list[str]:
    return [strip_inline(cell.strip()) for cell in line.strip().split("\t")]


class _ListDepth:
    """Nesting of list items by indentation, however many spaces a level takes."""

    def __init__(self) -> None:
        self._indents: list[int] = []

    def reset(self) -> None:
        self._indents.clear()

    def enter(self, indent: int, line_no: int) -> None:
        while self._indents and self._indents[-1] > indent:
            self._indents.pop()
        if not self._indents or self._indents[-1] < indent:
            self._indents.append(indent)
        if len(self._indents) > MAX_LIST_LEVELS:
            raise SectionInputError(
                f"Dòng {n(line_no)} là mục danh sách lồng tới cấp {len(self._indents)}, vượt "
                f"giới hạn {MAX_LIST_LEVELS} cấp. Báo cáo chỉ dùng hai cấp (- và +); hãy bớt "
                "thụt lề các mục danh sách rồi nộp lại.",
                code="too_deep",
            )


def parse_markdown(text: str, max_bytes: int = DEFAULT_MAX_BYTES) -> SectionContent:
    """Parse a Markdown or plain-text section into blocks; raises SectionInputError."""
    _check_input(text, max_bytes)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    _check_line_count(text)
    lines = text.split("\n")
    blocks: list[Block] = []
    budget = SectionBudget()
    tables = _Tables(lines)
    depth = _ListDepth()
    pending: _Pending | None = None

    def add(block: Block) -> None:
        budget.add(block)
        blocks.append(block)

    def flush() -> None:
        nonlocal pending
        if pending is not None:
            add(pending.to_block())
            pending = None

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            flush()
            i += 1
            continue
        pipe = _is_pipe_table_start(lines, i)
        if pipe or _is_tab_table_start(lines, i):
            flush()
            depth.reset()
            table, i = tables.pipe_table(i) if pipe else tables.tab_table(i)
            add(table)
            continue
        i += 1
        if _THEMATIC_BREAK.fullmatch(stripped):
            flush()
            depth.reset()
            continue
        heading = _heading_from_line(stripped)
        if heading is not None:
            flush()
            depth.reset()
            add(heading)
            continue
        item = _BULLET.fullmatch(line) or _ORDERED.fullmatch(line)
        if item is not None:
            flush()
            indent = _indent_width(item.group("indent"))
            depth.enter(indent, i)
            ordered = item.re is _ORDERED
            level = 1 if indent >= 2 or item.group("marker") == "+" else 0
            marker = item.group("marker") if ordered else ""
            pending = _Pending("list_item", level=level, ordered=ordered, marker=marker)
            pending.lines.append(item.group("text"))
            continue
        if pending is None:
            depth.reset()
            pending = _Pending("paragraph")
        pending.lines.append(stripped)
    flush()
    return SectionContent(blocks=blocks)
