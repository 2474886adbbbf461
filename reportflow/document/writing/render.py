"""Render a ReportDocument into a Decree 30/2020 .docx.

The page, styles and fixed blocks come from ``layout`` and ``letterhead``; this module walks
the intro, the numbered outline with its section content, and the closing.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterable, Sequence
from copy import deepcopy
from pathlib import Path

import docx
from docx.document import Document
from lxml import etree

from reportflow.core.vi_format import is_numeric_text
from reportflow.document.blocks import Block, Heading, ListItem, Paragraph, Run, Table
from reportflow.document.writing.layout import (
    CONTENT_WIDTH_MM,
    TABLE_SIZE_PT,
    StyleIds,
    setup_page,
    setup_styles,
)
from reportflow.document.writing.letterhead import (
    appendix_heading_xml,
    header_block_xml,
    setup_page_header,
    signature_block_xml,
    title_block_xml,
)
from reportflow.document.writing.numbering import ListPrefixes, number_outline
from reportflow.document.writing.oxml import (
    ParaSpec,
    mm_to_twips,
    number_first_page,
    paragraph_xml,
    restart_page_numbers,
    row_xml,
    run_xml,
    section_break_xml,
    styled_paragraph_xml,
    table_xml,
    with_body_content,
)
from reportflow.document.writing.report import OutlineNode, ReportDocument

_CHAR_MM = TABLE_SIZE_PT * 0.55 * 25.4 / 72  # average glyph width of table text
_CELL_PADDING_MM = 4.5  # both cell margins and a little air


def _column_widths(
    header: Sequence[str], rows: Sequence[Sequence[str]], total_twips: int
) -> list[int]:
    """Each column gets room for its longest word; the rest is shared by line length."""
    minimums, desires = [], []
    for col in range(len(header)):
        texts = [header[col], *(row[col] for row in rows)]
        words = [len(word) for text in texts for word in text.split()]
        lines = [len(line) for text in texts for line in text.splitlines()]
        minimums.append(max(words, default=1) * _CHAR_MM + _CELL_PADDING_MM)
        desires.append(min(max(lines, default=1), 40))
    total_mm = total_twips / mm_to_twips(1)
    spare = total_mm - sum(minimums)
    if spare > 0:
        widths_mm = [m + spare * d / sum(desires) for m, d in zip(minimums, desires, strict=True)]
    else:
        widths_mm = [m * total_mm / sum(minimums) for m in minimums]
    widths = [mm_to_twips(w) for w in widths_mm]
    widths[-1] += total_twips - sum(widths)
    return widths


class _BodyWriter:
    """Collects the XML of the report's body, in reading order."""

    def __init__(self, ids: StyleIds) -> None:
        self.ids = ids
        self.parts: list[str] = []
        self._table_width = mm_to_twips(CONTENT_WIDTH_MM)

    def paragraph(self, style_id: str, runs: Iterable[Run], prefix: str = "") -> None:
        content = "".join(run_xml(r.text, r.bold, r.italic) for r in runs if r.text)
        if prefix:
            content = run_xml(prefix) + content
        self.parts.append(styled_paragraph_xml(style_id, content))

    def text_paragraphs(self, texts: Iterable[str]) -> None:
        for text in texts:
            if text.strip():
                self.paragraph(self.ids.body, [Run(text.strip())])

    def blocks(self, blocks: Iterable[Block]) -> None:
        ids = self.ids
        prefixes = ListPrefixes()
        for block in blocks:
            if isinstance(block, ListItem):
                self.paragraph(ids.list_item, block.runs, f"{prefixes.prefix(block)} ")
                continue
            prefixes.reset()
            if isinstance(block, Paragraph):
                self.paragraph(ids.body, block.runs)
            elif isinstance(block, Heading):
                self.paragraph(ids.section_heading, block.runs)
            elif isinstance(block, Table):
                self.table(block)

    @staticmethod
    def _cell(text: str, style_id: str) -> str:
        lines = text.split("\n") if text else [""]
        return "".join(
            styled_paragraph_xml(style_id, run_xml(line) if line else "") for line in lines
        )

    def table(self, table: Table) -> None:
        columns = max([len(table.header), *(len(row) for row in table.rows)])
        if columns == 0:
            return
        header = [*table.header, *[""] * (columns - len(table.header))]
        rows = [[*row, *[""] * (columns - len(row))] for row in table.rows]
        widths = _column_widths(header, rows, self._table_width)
        ids = self.ids
        header_cells = [self._cell(text, ids.table_header) for text in header]
        xml_rows = [row_xml(header_cells, widths, header=True, cant_split=True)]
        styles = [
            ids.table_number if numeric else ids.table_text for numeric in _numeric_columns(rows)
        ]
        for row in rows:
            cells = [self._cell(text, style) for text, style in zip(row, styles, strict=True)]
            xml_rows.append(row_xml(cells, widths, cant_split=True))
        self.parts.append(table_xml(widths, xml_rows, style_id=ids.table_grid))
        # Word merges two adjacent tables; a small paragraph keeps them apart and gives air.
        self.parts.append(paragraph_xml(ParaSpec(space_after_pt=0, mark_size_pt=6)))

    def outline(self, nodes: Sequence[OutlineNode], scheme: Sequence[str]) -> None:
        for item in number_outline(nodes, scheme):
            node = item.node
            title = node.title.strip()
            if item.label is not None:
                text = f"{item.label} {title.upper() if node.level <= 1 else title}"
                self.paragraph(self.ids.heading(node.level), [Run(text)])
            elif title or node.marker.strip():
                text = f"{node.marker.strip()} {title}".strip()
                self.paragraph(self.ids.marker_heading, [Run(text)])
            self.blocks(node.content.blocks)
            if node.table is not None:
                self.table(node.table)


def _numeric_columns(rows: list[list[str]]) -> list[bool]:
    """A column is aligned as one: right when at least half of its filled cells are numbers, so
    a note among the figures ("82/85 xã") lines up with them."""
    if not rows:
        return []
    flags = []
    for cells in zip(*rows, strict=True):
        filled = [text for text in cells if text.strip()]
        numbers = sum(1 for text in filled if is_numeric_text(text))
        flags.append(bool(numbers) and 2 * numbers >= len(filled))
    return flags


def _appendices(writer: _BodyWriter, report: ReportDocument, body_section: etree._Element) -> None:
    """Each appendix is a section of its own after the signature block: it starts on a new
    page and numbers its pages from 1 (Decree 30, Phụ lục I, III.1), its first page included
    (only the document's own first page goes without). The body's last section properties
    become the last appendix's, so they restart the numbering too."""
    if not report.appendices:
        return
    appendix_section = deepcopy(body_section)
    number_first_page(appendix_section)
    writer.parts.append(section_break_xml(body_section))
    for position, appendix in enumerate(report.appendices, start=1):
        if position > 1:
            writer.parts.append(section_break_xml(appendix_section, restart_numbering=True))
        writer.parts.append(appendix_heading_xml(report, position))
        if appendix.table is not None:
            writer.table(appendix.table)
        writer.outline(appendix.outline, report.numbering)
    restart_page_numbers(body_section)
    number_first_page(body_section)


def build_document(report: ReportDocument) -> Document:
    """The python-docx Document of ``report``, not yet saved."""
    document = docx.Document()
    setup_page(document)
    ids = setup_styles(document)
    setup_page_header(document, report.draft_watermark)
    properties = document.core_properties
    properties.title = f"{report.doc_type_name} {report.summary}".strip()
    properties.language = "vi-VN"

    writer = _BodyWriter(ids)
    writer.parts.append(header_block_xml(report))
    writer.parts.append(title_block_xml(report))
    writer.text_paragraphs(report.intro)
    writer.outline(report.outline, report.numbering)
    writer.text_paragraphs(report.closing)
    writer.parts.append(signature_block_xml(report))
    _appendices(writer, report, document.element.body.sectPr)

    body = document.element.body
    for child in list(body):
        if child is not body.sectPr:  # the section properties stay the body's last child
            body.remove(child)
    part = document.part
    # python-docx has no public way to swap a part's root element; XmlPart keeps it here.
    part._element = with_body_content(document.element, "".join(writer.parts))
    return part.document


def render_report_bytes(report: ReportDocument) -> bytes:
    buffer = io.BytesIO()
    build_document(report).save(buffer)
    return buffer.getvalue()


def render_report(doc: ReportDocument, path: str | os.PathLike[str]) -> Path:
    """Write ``doc`` as .docx to ``path`` (atomically: a reader never sees half a file)."""
    target = Path(path)
    data = render_report_bytes(doc)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "xb") as handle:  # created with the usual umask, unlike mkstemp's 0600
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
