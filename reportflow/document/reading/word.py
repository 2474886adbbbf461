"""A section submitted as a Word .docx into blocks.

The body is walked in order (paragraphs and tables interleaved). Only structure survives:
text, bold/italic, list items, headings and tables; the source's fonts, sizes and spacing
are dropped on purpose so that every section takes the report's own layout.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.ns import qn
from docx.parts.document import DocumentPart
from docx.styles.style import BaseStyle
from docx.text.run import Run as DocxRun
from lxml import etree

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
from reportflow.document.reading.limits import SectionBudget
from reportflow.document.reading.word_file.checks import check_body, xpath
from reportflow.document.reading.word_file.limits import (
    check_limits,
    grid_before,
    grid_span,
    whole_number,
)
from reportflow.document.reading.word_file.opening import DocxPackage, open_package
from reportflow.document.reading.word_file.python_docx import document_of, xml_trees
from reportflow.document.writing.numbering import roman

DEFAULT_MAX_BYTES = 10_000_000

_W_P, _W_TBL, _W_R = qn("w:p"), qn("w:tbl"), qn("w:r")
_CONTAINERS = {qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml")}
_LITERAL_BULLETS = {"-": 0, "\u2013": 0, "\u2022": 0, "+": 1}
_SPACES = re.compile(r"[ \t\n\u00a0]+")
_HEADING_STYLE = re.compile(r"(heading \d|title|subtitle)", re.IGNORECASE)
_LIST_STYLE = re.compile(r"list (bullet|number)(?: (\d))?", re.IGNORECASE)


@dataclass(frozen=True)
class _ListKind:
    level: int
    ordered: bool
    num_id: str | None = None
    num_level: int = 0
    """The item's own Word level (ilvl 0-8); ``level`` is what the report prints (0 or 1)."""


@dataclass(frozen=True)
class _Level:
    """One level of a Word list (w:lvl): how its number is written and where it starts."""

    fmt: str | None
    text: str | None
    start: int

    @property
    def ordered(self) -> bool:
        return self.fmt not in ("bullet", "none", None)


MAX_MARKER_CHARS = 16
"""A list label longer than this (a damaged or hostile lvlText) is not kept."""
_PLACEHOLDER = re.compile(r"%([1-9])")


def _read_level(lvl: etree._Element, start: int | None = None) -> _Level:
    fmt = xpath(lvl, "w:numFmt/@w:val")
    text = xpath(lvl, "w:lvlText/@w:val")
    if start is None:
        value = xpath(lvl, "w:start/@w:val")
        start = whole_number(str(value[0])) if value else None
    return _Level(
        str(fmt[0]) if fmt else None,
        str(text[0]) if text else None,
        1 if start is None else start,
    )


def word_number(number: int, fmt: str | None) -> str:
    """``number`` as Word writes it in a list of format ``fmt`` (w:numFmt)."""
    if fmt in ("lowerLetter", "upperLetter") and 1 <= number <= 26 * 4:
        # Word's letters: a ... z, then aa, bb, ...
        text = chr(ord("a") + (number - 1) % 26) * ((number - 1) // 26 + 1)
        return text if fmt == "lowerLetter" else text.upper()
    if fmt in ("lowerRoman", "upperRoman") and 1 <= number < 4000:
        text = roman(number)
        return text.lower() if fmt == "lowerRoman" else text
    if fmt == "decimalZero" and number < 10:
        return f"0{number}"
    return str(number)


@dataclass(frozen=True)
class _StyleInfo:
    is_heading: bool
    list_kind: _ListKind | None
    num_id: str | None
    num_level: int


class _Resolver:
    """Looks up paragraph styles and list formats once per id."""

    def __init__(self, part: DocumentPart) -> None:
        self._part = part
        self._styles: dict[str | None, _StyleInfo] = {}
        self._char_bold: dict[str | None, tuple[bool | None, bool | None]] = {}
        self._num_levels: dict[str, dict[int, _Level]] = {}
        self._numbering: etree._Element | None = None

    def paragraph_style(self, style_id: str | None) -> _StyleInfo:
        if style_id not in self._styles:
            style = self._part.get_style(style_id, WD_STYLE_TYPE.PARAGRAPH)
            self._styles[style_id] = self._describe(style)
        return self._styles[style_id]

    def _describe(self, style: BaseStyle) -> _StyleInfo:
        name = style.name or ""
        is_heading = bool(_HEADING_STYLE.fullmatch(name))
        match = _LIST_STYLE.fullmatch(name)
        list_kind = None
        if match:
            level = min(int(match.group(2) or 1) - 1, 1)
            list_kind = _ListKind(level, match.group(1).lower() == "number")
        num_id, num_level = None, 0
        current: BaseStyle | None = style
        while current is not None and num_id is None:
            num_pr = current.element.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
            if num_pr is not None:
                num_id = _val(num_pr.find(qn("w:numId")))
                num_level = whole_number(_val(num_pr.find(qn("w:ilvl")))) or 0
            current = current.base_style
        return _StyleInfo(is_heading, list_kind, num_id, num_level)

    def char_style_flags(self, style_id: str | None) -> tuple[bool | None, bool | None]:
        if style_id not in self._char_bold:
            bold = italic = None
            current: BaseStyle | None = self._part.get_style(style_id, WD_STYLE_TYPE.CHARACTER)
            while current is not None and (bold is None or italic is None):
                font = current.font
                bold = font.bold if bold is None else bold
                italic = font.italic if italic is None else italic
                current = current.base_style
            self._char_bold[style_id] = (bold, italic)
        return self._char_bold[style_id]

    def is_ordered(self, num_id: str, level: int) -> bool:
        found = self.level(num_id, level)
        return found is not None and found.ordered

    def level(self, num_id: str, level: int) -> _Level | None:
        """The definition of ``level`` of list ``num_id``; a "singleLevel" list defines level
        0 only and Word then uses it for deeper levels."""
        levels = self._levels(num_id)
        usable = [n for n in levels if n <= level]
        return levels[max(usable)] if usable else None

    def _levels(self, num_id: str) -> dict[int, _Level]:
        if num_id not in self._num_levels:
            try:
                self._num_levels[num_id] = self._read_levels(int(num_id))
            except ValueError:  # a non-numeric id in a damaged numbering part
                self._num_levels[num_id] = {}
        return self._num_levels[num_id]

    def _read_levels(self, num_id: int) -> dict[int, _Level]:
        if self._numbering is None:
            self._numbering = self._part.numbering_part.element
        num = xpath(self._numbering, f"w:num[@w:numId='{num_id}']")
        if not num:
            return {}
        levels: dict[int, _Level] = {}
        abstract_id = xpath(num[0], "w:abstractNumId/@w:val")
        if abstract_id:
            for lvl in xpath(
                self._numbering, f"w:abstractNum[@w:abstractNumId='{int(abstract_id[0])}']/w:lvl"
            ):
                ilvl = whole_number(lvl.get(qn("w:ilvl")))
                if ilvl is not None:
                    levels[ilvl] = _read_level(lvl)
        for override in xpath(num[0], "w:lvlOverride"):
            ilvl = whole_number(override.get(qn("w:ilvl")))
            if ilvl is None:
                continue
            start = xpath(override, "w:startOverride/@w:val")
            start_at = whole_number(str(start[0])) if start else None
            lvl = xpath(override, "w:lvl")
            if lvl:
                levels[ilvl] = _read_level(lvl[0], start_at)
            elif ilvl in levels and start_at is not None:
                levels[ilvl] = dataclasses.replace(levels[ilvl], start=start_at)
        return levels


def _val(element: etree._Element | None) -> str | None:
    return None if element is None else element.get(qn("w:val"))


def _clean_runs(runs: list[Run]) -> list[Run]:
    """Merge runs of equal format, collapse white space and trim the paragraph's ends."""
    merged: list[tuple[list[str], bool, bool]] = []  # joined once at the end: linear time
    ends_in_space = False
    for run in runs:
        text = _SPACES.sub(" ", run.text)
        if ends_in_space and text.startswith(" "):
            text = text[1:]
        if not text:
            continue
        ends_in_space = text.endswith(" ")
        if merged and merged[-1][1:] == (run.bold, run.italic):
            merged[-1][0].append(text)
        else:
            merged.append(([text], run.bold, run.italic))
    out = [Run("".join(texts), bold, italic) for texts, bold, italic in merged]
    if out:
        out[0] = Run(out[0].text.lstrip(), out[0].bold, out[0].italic)
        out[-1] = Run(out[-1].text.rstrip(), out[-1].bold, out[-1].italic)
    return [r for r in out if r.text]


def _drop_prefix(runs: list[Run], count: int) -> list[Run]:
    out: list[Run] = []
    for run in runs:
        if count >= len(run.text):
            count -= len(run.text)
            continue
        out.append(Run(run.text[count:], run.bold, run.italic) if count else run)
        count = 0
    return _clean_runs(out)


class _Walker:
    def __init__(self, document_part: DocumentPart) -> None:
        self._part = document_part
        self._resolver = _Resolver(document_part)
        self._budget = SectionBudget()
        self._list_counts: dict[str, dict[int, int]] = {}
        self.blocks: list[Block] = []

    def _add(self, block: Block) -> None:
        self._budget.add(block)
        self.blocks.append(block)

    def walk(self, container: etree._Element) -> None:
        for child in container.iterchildren():
            if child.tag == _W_P:
                block = self._paragraph(child)
                if block is not None:
                    self._add(block)
            elif child.tag == _W_TBL:
                table = self._table(child)
                if table is not None:
                    self._add(table)
            elif child.tag in _CONTAINERS:
                self.walk(child)

    def _runs(self, p: etree._Element) -> list[Run]:
        runs: list[Run] = []
        for r in p.iter(_W_R):
            run = DocxRun(r, self._part)  # type: ignore[arg-type]
            if run.font.hidden:
                continue
            text = run.text
            if not text:
                continue
            bold, italic = run.bold, run.italic
            if bold is None or italic is None:
                style_id = _val(r.find(f"{qn('w:rPr')}/{qn('w:rStyle')}"))
                style_bold, style_italic = self._resolver.char_style_flags(style_id)
                bold = style_bold if bold is None else bold
                italic = style_italic if italic is None else italic
            runs.append(Run(text, bool(bold), bool(italic)))
        return _clean_runs(runs)

    def _list_kind(self, p: etree._Element, style: _StyleInfo) -> _ListKind | None:
        num_pr = p.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
        if num_pr is None and style.list_kind is not None:
            # "List Bullet 2" carries its level in its name; its own numbering starts at 0.
            if style.num_id is None:
                return style.list_kind
            return dataclasses.replace(
                style.list_kind, num_id=style.num_id, num_level=style.num_level
            )
        num_id, level = style.num_id, style.num_level
        if num_pr is not None:
            num_id = _val(num_pr.find(qn("w:numId"))) or num_id
            ilvl = whole_number(_val(num_pr.find(qn("w:ilvl"))))
            level = level if ilvl is None else ilvl
        if num_id is not None and num_id.isdigit() and num_id != "0":
            ordered = self._resolver.is_ordered(num_id, level)
            return _ListKind(min(level, 1), ordered, num_id, level)
        return style.list_kind

    def _marker(self, num_id: str, level: int) -> str:
        """The label Word shows on this item ("1.", "a)", "2.1."), counted as Word counts:
        each level from its start, deeper levels starting again after a shallower item."""
        own = self._resolver.level(num_id, level)
        if own is None:
            return ""
        counts = self._list_counts.setdefault(num_id, {})
        counts[level] = counts[level] + 1 if level in counts else own.start
        for deeper in [k for k in counts if k > level]:
            del counts[deeper]

        def number(match: re.Match[str]) -> str:
            at = int(match.group(1)) - 1
            found = self._resolver.level(num_id, at)
            start = found.start if found else 1
            return word_number(counts.get(at, start), found.fmt if found else None)

        template = own.text if own.text is not None else "%" + str(level + 1) + "."
        marker = _PLACEHOLDER.sub(number, template[:MAX_MARKER_CHARS]).strip()
        return marker if len(marker) <= MAX_MARKER_CHARS else ""

    def _paragraph(self, p: etree._Element) -> Block | None:
        runs = self._runs(p)
        if not runs:
            return None
        style = self._resolver.paragraph_style(_val(p.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")))
        text = runs[0].text
        if style.is_heading:
            return Heading(runs=runs)
        list_kind = self._list_kind(p, style)
        marker, _, rest = text.partition(" ")
        if marker in _LITERAL_BULLETS and rest:
            level = _LITERAL_BULLETS[marker] if list_kind is None else list_kind.level
            return ListItem(runs=_drop_prefix(runs, len(marker) + 1), level=level)
        if list_kind is not None:
            numbered = list_kind.ordered and list_kind.num_id is not None
            return ListItem(
                runs=runs,
                level=list_kind.level,
                ordered=list_kind.ordered,
                marker=self._marker(list_kind.num_id, list_kind.num_level) if numbered else "",
            )
        if marker == "*" and rest:
            return Heading(runs=runs)
        return Paragraph(runs=runs)

    def _cell_text(self, tc: etree._Element) -> str:
        lines = [" ".join(r.text for r in self._runs(p)) for p in tc.iter(_W_P)]
        return "\n".join(line for line in lines if line)

    def _table(self, tbl: etree._Element) -> Table | None:
        rows: list[list[str]] = []
        for tr in tbl.iterchildren(qn("w:tr")):
            row: list[str] = []
            row.extend([""] * grid_before(tr))
            for tc in tr.iterchildren(qn("w:tc")):
                row.append(self._cell_text(tc))
                row.extend([""] * (grid_span(tc) - 1))
            if any(cell.strip() for cell in row):
                rows.append(row)
        if not rows:
            return None
        width = max(len(row) for row in rows)
        rows = [row + [""] * (width - len(row)) for row in rows]
        return Table(header=rows[0], rows=rows[1:])


def _malformed_part(package: DocxPackage) -> None:
    """Names the XML part python-docx could not parse (only on that path: the parts are
    parsed once, by python-docx, when they are sound)."""
    for name in package.parts:
        if name.endswith((".xml", ".rels")):
            package.read_xml(name)


def _open_document(package: DocxPackage) -> docx.document.Document:
    try:
        document = document_of(package)
    except etree.XMLSyntaxError as exc:
        _malformed_part(package)
        raise SectionInputError(
            f"Tệp Word bị hỏng: có phần không phải XML hợp lệ ({exc.msg}). {_RESAVE}",
            code="malformed_xml",
        ) from exc
    except SectionInputError:
        raise
    except Exception as exc:  # python-docx raises many kinds on damaged packages
        raise SectionInputError(
            f"Không đọc được tệp Word ({type(exc).__name__}: {exc}). Tệp có thể bị hỏng; {_RESAVE}",
            code="unreadable",
        ) from exc
    for name, tree in xml_trees(document):
        if tree.docinfo.doctype:
            raise SectionInputError(
                f"Tệp Word có phần {name} chứa khai báo DOCTYPE, điều mà Word không bao giờ tạo "
                f"ra. Tệp có thể đã bị chỉnh sửa bằng công cụ khác. {_RESAVE}",
                code="malformed_xml",
            )
    return document


_RESAVE = "hãy mở tệp bằng Word, lưu lại thành Word Document (.docx) rồi nộp lại."


def parse_docx(
    data: bytes, filename: str = "", max_bytes: int = DEFAULT_MAX_BYTES
) -> SectionContent:
    """Parse a submitted .docx into blocks; raises SectionInputError for anything refused."""
    package = open_package(data, filename=filename, max_bytes=max_bytes)
    document = _open_document(package)
    body = document.element.body
    check_body(package, body)
    check_limits(body)
    walker = _Walker(document.part)
    walker.walk(body)
    return SectionContent(blocks=walker.blocks)
