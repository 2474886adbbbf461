"""The Decree 30/2020 page and the report's paragraph styles.

Body text is formatted through a handful of named paragraph styles created once per
document, so each body paragraph only references its style. That keeps the file small,
keeps rendering fast and lets an editor restyle the report in Word afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from docx.document import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.styles.style import ParagraphStyle

from reportflow.document.writing.oxml import set_rfonts, set_style_outline_level

FONT_NAME = "Times New Roman"
LANGUAGE = "vi-VN"
BODY_SIZE_PT = 14
TABLE_SIZE_PT = 13
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297
MARGIN_TOP_MM, MARGIN_BOTTOM_MM = 20, 20
MARGIN_LEFT_MM, MARGIN_RIGHT_MM = 30, 15
HEADER_DISTANCE_MM = 10
CONTENT_WIDTH_MM = PAGE_WIDTH_MM - MARGIN_LEFT_MM - MARGIN_RIGHT_MM
FIRST_LINE_INDENT = Cm(1.27)
BODY_SPACE_AFTER = Pt(6)
BODY_LINE_SPACING = 1.15
PAGE_NUMBER_SIZE_PT = 14


@dataclass(frozen=True)
class StyleIds:
    """The style ids the renderer writes into ``w:pStyle``."""

    body: str
    list_item: str
    section_heading: str
    headings: tuple[str, str, str, str]  # outline levels 1..4 (deeper levels use the last)
    marker_heading: str
    table_text: str
    table_number: str
    table_header: str
    table_grid: str | None

    def heading(self, level: int) -> str:
        return self.headings[min(max(level, 1), len(self.headings)) - 1]


# (name, bold, italic, upper-case is done by the renderer) for outline levels 1..4.
HEADING_FORMATS = (
    ("RF Heading 1", True, False),
    ("RF Heading 2", True, False),
    ("RF Heading 3", True, True),
    ("RF Heading 4", False, False),
)


def setup_page(document: Document) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM)
    section.top_margin, section.bottom_margin = Mm(MARGIN_TOP_MM), Mm(MARGIN_BOTTOM_MM)
    section.left_margin, section.right_margin = Mm(MARGIN_LEFT_MM), Mm(MARGIN_RIGHT_MM)
    section.header_distance = section.footer_distance = Mm(HEADER_DISTANCE_MM)
    section.gutter = Mm(0)


def _set_defaults(document: Document) -> None:
    """Times New Roman 14, Vietnamese, no spacing, in the document defaults and Normal."""
    styles_element = document.styles.element
    doc_defaults = styles_element.find(qn("w:docDefaults"))
    if doc_defaults is not None:
        rpr = doc_defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
        if rpr is not None:
            set_rfonts(rpr, FONT_NAME)
            rpr.get_or_add_sz().val = Pt(BODY_SIZE_PT)
            size_cs = rpr.find(qn("w:szCs"))
            if size_cs is not None:
                size_cs.set(qn("w:val"), str(BODY_SIZE_PT * 2))
            lang = rpr.find(qn("w:lang"))
            if lang is not None:
                lang.set(qn("w:val"), LANGUAGE)
        spacing = doc_defaults.find(f"{qn('w:pPrDefault')}/{qn('w:pPr')}/{qn('w:spacing')}")
        if spacing is not None:
            spacing.set(qn("w:after"), "0")
            spacing.set(qn("w:line"), "240")
            spacing.set(qn("w:lineRule"), "auto")
    normal = document.styles["Normal"]
    normal.font.name = FONT_NAME
    normal.font.size = Pt(BODY_SIZE_PT)
    set_rfonts(normal.element.get_or_add_rPr(), FONT_NAME)
    pf = normal.paragraph_format
    pf.space_before, pf.space_after = Pt(0), Pt(0)
    pf.line_spacing_rule = WD_LINE_SPACING.SINGLE


def _paragraph_style(document: Document, name: str, base: ParagraphStyle) -> ParagraphStyle:
    # Styles.add_style() first scans every style by name; ours are new, so skip the scan.
    element = document.styles.element.add_style_of_type(name, WD_STYLE_TYPE.PARAGRAPH, False)
    style = ParagraphStyle(element)
    style.base_style = base
    style.quick_style = True
    return style


def _body_format(style: ParagraphStyle) -> None:
    pf = style.paragraph_format
    pf.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    pf.first_line_indent = FIRST_LINE_INDENT
    pf.space_before = Pt(0)
    pf.space_after = BODY_SPACE_AFTER
    pf.line_spacing = BODY_LINE_SPACING
    pf.widow_control = True


def _table_format(style: ParagraphStyle, align: WD_ALIGN_PARAGRAPH, bold: bool = False) -> None:
    pf = style.paragraph_format
    pf.alignment = align
    pf.first_line_indent = Pt(0)
    pf.space_before, pf.space_after = Pt(2), Pt(2)
    pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    style.font.size = Pt(TABLE_SIZE_PT)
    if bold:
        style.font.bold = True


def setup_styles(document: Document) -> StyleIds:
    _set_defaults(document)
    normal = document.styles["Normal"]
    body = _paragraph_style(document, "RF Body", normal)
    _body_format(body)
    list_item = _paragraph_style(document, "RF List", body)
    section_heading = _paragraph_style(document, "RF Section Heading", body)
    section_heading.font.bold = True
    section_heading.paragraph_format.keep_with_next = True

    headings = []
    for level, (name, bold, italic) in enumerate(HEADING_FORMATS, start=1):
        style = _paragraph_style(document, name, body)
        style.font.bold = bold
        style.font.italic = italic
        style.paragraph_format.keep_with_next = True
        set_style_outline_level(style.element, level - 1)
        headings.append(style.style_id)
    marker = _paragraph_style(document, "RF Heading Marker", body)
    marker.font.bold = True
    marker.paragraph_format.keep_with_next = True

    table_text = _paragraph_style(document, "RF Table Text", normal)
    _table_format(table_text, WD_ALIGN_PARAGRAPH.LEFT)
    table_number = _paragraph_style(document, "RF Table Number", table_text)
    _table_format(table_number, WD_ALIGN_PARAGRAPH.RIGHT)
    table_header = _paragraph_style(document, "RF Table Header", table_text)
    _table_format(table_header, WD_ALIGN_PARAGRAPH.CENTER, bold=True)

    try:
        table_grid: str | None = document.styles["Table Grid"].style_id
    except KeyError:
        table_grid = None

    return StyleIds(
        body=body.style_id,
        list_item=list_item.style_id,
        section_heading=section_heading.style_id,
        headings=tuple(headings),  # type: ignore[arg-type]
        marker_heading=marker.style_id,
        table_text=table_text.style_id,
        table_number=table_number.style_id,
        table_header=table_header.style_id,
        table_grid=table_grid,
    )
