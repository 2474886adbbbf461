"""A section submitted as Markdown (or plain text) into blocks.

Recognised: paragraphs (wrapped lines joined), emphasis, "- " / "+ " bullets, "1." / "a)"
ordered items, "#" headings, whole-bold lines and "* Tiêu đề" lines as headings, GitHub pipe
tables and tab-separated tables (what a copy from Word or a spreadsheet gives). The text
is data: nothing in it is evaluated, and raw HTML is text.

Paragraphs, lists and "#" headings are read by markdown-it-py (CommonMark). A first pass over
the lines keeps the product's own rules, which CommonMark reads otherwise: it takes out the
tables (checking their size before a cell is made), the "* Tiêu đề" and whole-bold lines,
checks how deep the lists go, and writes the markers CommonMark does not know ("a)", "–",
"•") as ones it does, remembering what the author wrote.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

from reportflow.core.vi_format import format_number
from reportflow.document.blocks import (
    Block,
    Heading,
    ListItem,
    Paragraph,
    Run,
    SectionContent,
    Table,
)
from reportflow.document.reading.errors import SectionInputError
from reportflow.document.reading.limits import (
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
from reportflow.document.reading.markdown_inline import parse_inline, strip_inline
from reportflow.document.writing.numbering import following_marker
from reportflow.document.xml_text import find_illegal_char

DEFAULT_MAX_BYTES = 2_000_000

_ATX_HEADING = re.compile(r"#{1,6}\s+\S.*")
_STAR_HEADING = re.compile(r"\\?\*\s+(\S.*)")
_WHOLE_BOLD = re.compile(r"(\*\*|__)(?P<inner>(?:(?!\1).)+)\1(?P<tail>[:.]?)")
_BULLET = re.compile(r"(?P<indent>[ \t]*)(?P<marker>[-+\u2013\u2022])\s+(?P<text>\S.*)")
_ORDERED = re.compile(r"(?P<indent>[ \t]*)(?P<marker>\d{1,3}[.)]|[a-zđ]\))\s+(?P<text>\S.*)")
_BLOCK_START = re.compile(r"(?P<digits>\d{0,9})(?:[.)]|(?<!\d)[-+*#])#{0,5}(?:\s|$)")
"""What CommonMark reads as a list item or a heading at the start of a line."""
_THEMATIC_BREAK = re.compile(r"(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,}")
_TABLE_DELIMITER = re.compile(r"\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?")


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


def _heading_from_line(stripped: str) -> Heading | None:
    """The product's own headings, which CommonMark reads as a bullet or a paragraph."""
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


_MAX_NESTING = 2 * MAX_LIST_LEVELS + 4
"""markdown-it's nesting bound: a list and its item per level, and a paragraph inside."""


@cache
def _markdown() -> MarkdownIt:
    """CommonMark blocks only: indented and fenced code, quotes, raw HTML, setext headings and
    link references stay text as they always were; inline emphasis is ``parse_inline``'s."""
    md = MarkdownIt("commonmark", {"maxNesting": _MAX_NESTING})
    md.disable(["code", "fence", "blockquote", "html_block", "lheading", "reference", "inline"])
    return md


@dataclass(frozen=True)
class _ItemLine:
    """A list item's line as its author wrote it, before its marker was rewritten."""

    original: str
    marker: str  # the ordered marker as written ("2.", "b)"); "" for a bullet


def _canonical(line: str, item: re.Match[str]) -> str:
    """``line`` as an item CommonMark always reads as one, where the product always did.

    The marker becomes one CommonMark knows, of the same width: "b)" -> "1)", "12." -> "1. ",
    "–" -> "-"; every ordered item is a "1", as only a list starting at 1 may interrupt a
    paragraph in CommonMark. The indentation goes: an item indented 4 spaces would be read as
    the paragraph's continuation. The item's level comes from the line as written."""
    marker = item.group("marker")
    if item.re is _BULLET:
        new = "-" if marker in "\u2013\u2022" else marker
    else:
        new = ("1" + (")" if marker.endswith(")") else ".")).ljust(len(marker))
    text = item.group("text")
    starts = _BLOCK_START.match(text)
    if starts:
        # "- - x" or "- # x" is one item whose text starts so, as it always was; unescaped,
        # CommonMark would nest a list or a heading in it, thousands deep on a single line.
        cut = starts.end("digits")
        text = text[:cut] + "\\" + text[cut:]
    return new + line[item.end("marker") : item.start("text")] + text


class _Segments:
    """The first pass: Markdown text for markdown-it, cut where a table or a product heading
    stands, and those blocks in their places."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.items: dict[int, _ItemLine] = {}

    def __iter__(self) -> Iterator[tuple[int, list[str]] | Block]:
        lines = self.lines
        tables = _Tables(lines)
        depth = _ListDepth()
        start, chunk = 0, []
        in_text = False  # inside a paragraph or list item, no blank line since

        def cut(at: int) -> Iterator[tuple[int, list[str]]]:
            nonlocal start, chunk
            if any(line.strip() for line in chunk):
                yield start, chunk
            start, chunk = at, []

        i = 0
        while i < len(lines):
            line = lines[i]
            stripped = line.strip()
            if not stripped:
                in_text = False
            elif (pipe := _is_pipe_table_start(lines, i)) or _is_tab_table_start(lines, i):
                yield from cut(i)
                depth.reset()
                in_text = False
                table, i = tables.pipe_table(i) if pipe else tables.tab_table(i)
                start = i
                yield table
                continue
            elif _THEMATIC_BREAK.fullmatch(stripped) or _ATX_HEADING.fullmatch(stripped):
                depth.reset()
                in_text = False
            elif (heading := _heading_from_line(stripped)) is not None:
                yield from cut(i + 1)
                depth.reset()
                in_text = False
                yield heading
                i += 1
                continue
            elif item := (_BULLET.fullmatch(line) or _ORDERED.fullmatch(line)):
                depth.enter(_indent_width(item.group("indent")), i + 1)
                ordered = item.re is _ORDERED
                self.items[i] = _ItemLine(line, item.group("marker") if ordered else "")
                line = _canonical(line, item)
                in_text = True
            elif not in_text:
                depth.reset()
                in_text = True
            chunk.append(line)
            i += 1
        yield from cut(len(lines))


class _Reader:
    """Turns markdown-it's tokens of one piece of text into blocks."""

    def __init__(self, segments: _Segments, offset: int, tokens: list[Token]) -> None:
        self._segments = segments
        self._offset = offset
        self._tokens = tokens
        self._ordered_runs: dict[int, tuple[str, str]] = {}
        """Per list level since the last paragraph or heading: the last ordered item's marker
        as written and as printed."""

    def _line(self, token: Token) -> int:
        return self._offset + (token.map[0] if token.map else 0)

    def blocks(self) -> Iterator[Block]:
        lists: list[bool] = []  # ordered or not, innermost last
        item: Token | None = None  # an item whose first paragraph is still to come
        tokens = self._tokens
        for at, token in enumerate(tokens):
            kind = token.type
            if kind in ("bullet_list_open", "ordered_list_open"):
                lists.append(kind == "ordered_list_open")
            elif kind in ("bullet_list_close", "ordered_list_close"):
                lists.pop()
            elif kind == "list_item_open":
                item = token
            elif kind == "heading_open":
                item = None
                title = tokens[at + 1].content.strip()
                if title:
                    self._ordered_runs.clear()
                    yield Heading(runs=parse_inline(title))
            elif kind == "paragraph_open":
                # An item the first pass did not take for one (e.g. "1234. x") stays a paragraph.
                as_item = item is not None and self._line(item) in self._segments.items
                text = self._paragraph_text(token, tokens[at + 1].content, as_item)
                if as_item:
                    yield self._list_item(item, lists[-1], text)
                else:
                    self._ordered_runs.clear()
                    yield Paragraph(runs=parse_inline(text))
                item = None

    def _paragraph_text(self, paragraph: Token, content: str, as_item: bool) -> str:
        """The paragraph's lines joined. Only an item's own marker is dropped: a line whose
        marker the first pass rewrote but which CommonMark took as a continuation, or a
        marker only CommonMark reads, stays as it was written."""
        first = self._line(paragraph)
        lines = self._segments.lines
        parts = []
        for k, text in enumerate(content.split("\n")):
            if k > 0 or not as_item:
                written = self._segments.items.get(first + k)
                if written is not None:
                    text = written.original
                elif k == 0:
                    text = lines[first]
            parts.append(text.strip())
        return " ".join(parts)

    def _list_item(self, token: Token, ordered: bool, text: str) -> ListItem:
        written = self._segments.items[self._line(token)]
        source = written.original
        indent = _indent_width(source[: len(source) - len(source.lstrip())])
        level = 1 if indent >= 2 or token.markup == "+" else 0
        marker = self._printed_marker(written.marker, level) if ordered else ""
        return ListItem(runs=parse_inline(text), level=level, ordered=ordered, marker=marker)

    def _printed_marker(self, written: str, level: int) -> str:
        """The marker as written; an author who typed the same marker on every item ("1. 1. 1.",
        as Markdown allows) gets them counted on ("1. 2. 3.") as Markdown means."""
        runs = self._ordered_runs
        for deeper in [k for k in runs if k > level]:
            del runs[deeper]
        last_written, last_printed = runs.get(level, ("", ""))
        printed = following_marker(last_printed) if written == last_written else written
        runs[level] = (written, printed)
        return printed


def parse_markdown(text: str, max_bytes: int = DEFAULT_MAX_BYTES) -> SectionContent:
    """Parse a Markdown or plain-text section into blocks; raises SectionInputError."""
    _check_input(text, max_bytes)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    _check_line_count(text)
    segments = _Segments(text.split("\n"))
    pieces = list(segments)  # every limit of the first pass is checked before markdown-it runs
    budget = SectionBudget()
    blocks: list[Block] = []
    for piece in pieces:
        if isinstance(piece, tuple):
            offset, lines = piece
            tokens = _markdown().parse("\n".join(lines))
            found: Iterator[Block] = _Reader(segments, offset, tokens).blocks()
        else:
            found = iter([piece])
        for block in found:
            budget.add(block)
            blocks.append(block)
    return SectionContent(blocks=blocks)
