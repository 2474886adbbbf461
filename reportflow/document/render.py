"""Render a ReportDocument into a Decree 30/2020 .docx.

The page, styles and fixed blocks come from ``layout`` and ``letterhead``; this module walks
the intro, the numbered outline with its section content, and the closing.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

import docx
from docx.document import Document
from lxml import etree

from reportflow.document.blocks import Block, Heading, ListItem, Paragraph, Run, Table
from reportflow.document.layout import (
    CONTENT_WIDTH_MM,
    TABLE_SIZE_PT,
    StyleIds,
    setup_page,
    setup_styles,
)
from reportflow.document.letterhead import header_block, setup_page_header, signature_block, title_block
from reportflow.document.numbering import letter, number_outline
from reportflow.document.oxml import (
    ParaSpec,
    RunSpec,
    append_row,
    mm_to_twips,
    new_paragraph,
    new_table,
)
from reportflow.document.report import OutlineNode, ReportDocument
from reportflow.document.vi_format import is_numeric_text

BULLETS = ("- ", "+ ")  # list levels 0 and 1; deeper levels reuse the last


def _run_specs(runs: Iterable[Run]) -> list[RunSpec]:
    return [RunSpec(run.text, bold=run.bold, italic=run.italic) for run in runs if run.text]


_CHAR_MM = TABLE_SIZE_PT * 0.55 * 25.4 / 72  # average glyph width of table text
_CELL_PADDING_MM = 4.5  # both cell margins and a little air


def _column_widths(table: Table, total_twips: int) -> list[int]:
    """Each column gets room for its longest word; the rest is shared by line length."""
    minimums, desires = [], []
    for col in range(len(table.header)):
        texts = [table.header[col], *(row[col] for row in table.rows)]
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
    """Collects the body elements of the report in reading order."""

    def __init__(self, ids: StyleIds) -> None:
        self.ids = ids
        self.out: list[etree._Element] = []
        self._specs = {
            style: ParaSpec(style_id=style)
            for style in (ids.body, ids.list_item, ids.section_heading, ids.marker_heading,
                          ids.table_text, ids.table_number, ids.table_header, *ids.headings)
        }  # fmt: skip
        self._table_width = mm_to_twips(CONTENT_WIDTH_MM)

    def paragraph(self, style_id: str, runs: Sequence[RunSpec]) -> None:
        self.out.append(new_paragraph(self._specs[style_id], runs))

    def text_paragraphs(self, texts: Iterable[str]) -> None:
        for text in texts:
            if text.strip():
                self.paragraph(self.ids.body, [RunSpec(text.strip())])

    def blocks(self, blocks: Iterable[Block]) -> None:
        ordered_counts: dict[int, int] = {}
        for block in blocks:
            if not isinstance(block, ListItem):
                ordered_counts.clear()
            if isinstance(block, Paragraph):
                self.paragraph(self.ids.body, _run_specs(block.runs))
            elif isinstance(block, ListItem):
                level = max(block.level, 0)
                for deeper in [k for k in ordered_counts if k > level]:
                    del ordered_counts[deeper]
                if block.ordered:
                    ordered_counts[level] = ordered_counts.get(level, 0) + 1
                    prefix = f"{letter(ordered_counts[level])}) "
                else:
                    ordered_counts.pop(level, None)
                    prefix = BULLETS[min(level, len(BULLETS) - 1)]
                self.paragraph(self.ids.list_item, [RunSpec(prefix), *_run_specs(block.runs)])
            elif isinstance(block, Heading):
                self.paragraph(self.ids.section_heading, _run_specs(block.runs))
            elif isinstance(block, Table):
                self.table(block)

    def _cell(self, text: str, style_id: str) -> list[etree._Element]:
        spec = self._specs[style_id]
        lines = text.split("\n") if text else [""]
        return [new_paragraph(spec, [RunSpec(line)] if line else ()) for line in lines]

    def table(self, table: Table) -> None:
        if not table.header and not table.rows:
            return
        columns = max(len(table.header), *(len(row) for row in table.rows)) if table.rows else len(table.header)
        header = list(table.header) + [""] * (columns - len(table.header))
        rows = [list(row) + [""] * (columns - len(row)) for row in table.rows]
        table = Table(header=header, rows=rows)
        widths = _column_widths(table, self._table_width)
        tbl = new_table(widths, style_id=self.ids.table_grid)
        ids = self.ids
        header_cells = [self._cell(text, ids.table_header) for text in header]
        append_row(tbl, header_cells, widths, header=True, cant_split=True)
        for row in rows:
            cells = [
                self._cell(text, ids.table_number if is_numeric_text(text) else ids.table_text)
                for text in row
            ]
            append_row(tbl, cells, widths, cant_split=True)
        self.out.append(tbl)
        # Word merges two adjacent tables; a paragraph keeps them apart and gives air.
        self.out.append(new_paragraph(ParaSpec(space_after_pt=0, mark_size_pt=6)))

    def outline(self, nodes: Sequence[OutlineNode]) -> None:
        for item in number_outline(nodes):
            node = item.node
            title = node.title.strip()
            if item.label is not None:
                text = f"{item.label} {title.upper() if node.level <= 1 else title}"
                self.paragraph(self.ids.heading(node.level), [RunSpec(text)])
            elif title or node.marker:
                text = f"{node.marker.strip()} {title}".strip()
                self.paragraph(self.ids.marker_heading, [RunSpec(text)])
            self.blocks(node.content.blocks)
            if node.table is not None:
                self.table(node.table)


def build_document(report: ReportDocument) -> Document:
    """The python-docx Document of ``report``, not yet saved."""
    document = docx.Document()
    setup_page(document)
    ids = setup_styles(document)
    setup_page_header(document, report.draft_watermark)
    if report.summary.strip() or report.doc_type_name.strip():
        document.core_properties.title = f"{report.doc_type_name} {report.summary}".strip()
    document.core_properties.language = "vi-VN"

    writer = _BodyWriter(ids)
    writer.out.append(header_block(report))
    writer.out.extend(title_block(report))
    writer.text_paragraphs(report.intro)
    writer.outline(report.outline)
    writer.text_paragraphs(report.closing)
    writer.out.append(signature_block(report))

    body = document.element.body
    sect_pr = body.sectPr
    for child in list(body):
        body.remove(child)
    body.extend(writer.out)
    if sect_pr is not None:
        body.append(sect_pr)
    return document


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
