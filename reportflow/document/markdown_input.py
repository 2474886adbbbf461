"""A section submitted as Markdown (or plain text) into blocks.

Recognised: paragraphs (wrapped lines joined), emphasis, "- " / "+ " bullets, "1." / "a)"
ordered items, "#" headings, whole-bold lines and "* Tiêu đề" lines as headings, GitHub pipe
tables and tab-separated tables (what a copy from Word or a spreadsheet gives). The text
is data: nothing in it is evaluated.
"""

from __future__ import annotations

import re
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
from reportflow.document.markdown_inline import parse_inline, strip_inline
from reportflow.document.vi_format import format_number
from reportflow.document.xml_text import find_illegal_char

DEFAULT_MAX_BYTES = 2_000_000

_ATX_HEADING = re.compile(r"#+\s+(.*?)(?:\s+#+)?\s*")
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
    lines: list[str] = field(default_factory=list)

    def to_block(self) -> Block:
        runs = parse_inline(" ".join(line.strip() for line in self.lines))
        if self.kind == "list_item":
            return ListItem(runs=runs, level=self.level, ordered=self.ordered)
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
    bad = find_illegal_char(text)
    if bad is not None:
        raise SectionInputError(
            f"Nội dung có ký tự điều khiển không hợp lệ {bad.codepoint} ở dòng {bad.line}, "
            f"cột {bad.column}. Ký tự này thường lọt vào khi sao chép từ phần mềm khác; "
            "hãy xóa nó rồi nộp lại.",
            code="illegal_character",
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


def _heading_from_line(stripped: str) -> Heading | None:
    match = _ATX_HEADING.fullmatch(stripped)
    if match and match.group(1):
        return Heading(runs=parse_inline(match.group(1)))
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


def parse_markdown(text: str, max_bytes: int = DEFAULT_MAX_BYTES) -> SectionContent:
    """Parse a Markdown or plain-text section into blocks; raises SectionInputError."""
    _check_input(text, max_bytes)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks: list[Block] = []
    pending: _Pending | None = None

    def flush() -> None:
        nonlocal pending
        if pending is not None:
            blocks.append(pending.to_block())
            pending = None

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            flush()
            i += 1
            continue
        if _is_pipe_table_start(lines, i):
            flush()
            rows = [_split_pipe_row(lines[i])]
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append(_split_pipe_row(lines[i]))
                i += 1
            blocks.append(_make_table(rows))
            continue
        if _is_tab_table_start(lines, i):
            flush()
            tabs = _tab_count(lines[i])
            rows = []
            while i < len(lines) and _tab_count(lines[i]) == tabs:
                rows.append([strip_inline(cell.strip()) for cell in lines[i].strip().split("\t")])
                i += 1
            blocks.append(_make_table(rows))
            continue
        i += 1
        if _THEMATIC_BREAK.fullmatch(stripped):
            flush()
            continue
        heading = _heading_from_line(stripped)
        if heading is not None:
            flush()
            blocks.append(heading)
            continue
        item = _BULLET.fullmatch(line) or _ORDERED.fullmatch(line)
        if item is not None:
            flush()
            nested = _indent_width(item.group("indent")) >= 2
            ordered = item.re is _ORDERED
            level = 1 if nested or item.group("marker") == "+" else 0
            pending = _Pending("list_item", level=level, ordered=ordered)
            pending.lines.append(item.group("text"))
            continue
        if pending is None:
            pending = _Pending("paragraph")
        pending.lines.append(stripped)
    flush()
    return SectionContent(blocks=blocks)
