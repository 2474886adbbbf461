"""Low-level WordprocessingML builders used by the renderer.

Like python-docx's own ``oxml`` layer, this module only produces or changes XML; it knows
nothing of reports. Body content is written as WordprocessingML text, in schema order, and
parsed once with python-docx's parser (:func:`with_body_content`). Creating an lxml proxy
object for every paragraph and run, or moving thousands of elements between trees, is what
makes large reports slow; one parse of the joined text is how docxtpl gets its speed too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from copy import deepcopy
from dataclasses import dataclass
from functools import lru_cache

from docx.oxml.ns import nsdecls, qn
from docx.oxml.parser import parse_xml
from lxml import etree

from reportflow.document.xml_text import ILLEGAL_XML_CHARS

TWIPS_PER_MM = 1440 / 25.4


def mm_to_twips(mm: float) -> int:
    return round(mm * TWIPS_PER_MM)


def escape(text: str) -> str:
    """Text content for XML: markup characters escaped, XML-illegal characters dropped."""
    if ILLEGAL_XML_CHARS.search(text):
        text = ILLEGAL_XML_CHARS.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: str) -> str:
    return escape(value).replace('"', "&quot;")


def _t(text: str) -> str:
    return f'<w:t xml:space="preserve">{escape(text)}</w:t>' if text else ""


def text_xml(text: str) -> str:
    """The content of a run: "\\n" becomes a line break and "\\t" a tab."""
    if "\n" not in text and "\t" not in text:
        return _t(text)
    lines = ("<w:tab/>".join(_t(piece) for piece in line.split("\t")) for line in text.split("\n"))
    return "<w:br/>".join(lines)


def _size(size_pt: float) -> str:
    half_points = round(size_pt * 2)
    return f'<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/>'


def run_xml(
    text: str,
    bold: bool = False,
    italic: bool = False,
    size_pt: float | None = None,
    underline: bool = False,
) -> str:
    """One run; formatting not asked for is left to the paragraph's style."""
    if bold or italic or size_pt or underline:
        rpr = (
            "<w:rPr>"
            + ("<w:b/>" if bold else "")
            + ("<w:i/>" if italic else "")
            + (_size(size_pt) if size_pt else "")
            + ('<w:u w:val="single"/>' if underline else "")
            + "</w:rPr>"
        )
        return f"<w:r>{rpr}{text_xml(text)}</w:r>"
    return f"<w:r>{text_xml(text)}</w:r>"


@dataclass(frozen=True)
class ParaSpec:
    """Direct paragraph formatting; None leaves the style's value."""

    style_id: str | None = None
    align: str | None = None  # "left", "center", "right", "both"
    space_before_pt: float | None = None
    space_after_pt: float | None = None
    keep_next: bool = False
    indent_left_twips: int | None = None
    indent_right_twips: int | None = None
    first_line_twips: int | None = None
    bottom_border: bool = False
    mark_size_pt: float | None = None  # size of the paragraph mark (height of an empty line)


@lru_cache(maxsize=256)
def _ppr_xml(spec: ParaSpec) -> str:
    parts = []
    if spec.style_id:
        parts.append(f'<w:pStyle w:val="{_attr(spec.style_id)}"/>')
    if spec.keep_next:
        parts.append("<w:keepNext/>")
    if spec.bottom_border:
        parts.append(
            '<w:pBdr><w:bottom w:val="single" w:sz="6" w:space="1" w:color="auto"/></w:pBdr>'
        )
    spacing = ""
    if spec.space_before_pt is not None:
        spacing += f' w:before="{round(spec.space_before_pt * 20)}"'
    if spec.space_after_pt is not None:
        spacing += f' w:after="{round(spec.space_after_pt * 20)}"'
    if spacing:
        parts.append(f"<w:spacing{spacing}/>")
    indents = ""
    for name, value in (
        ("left", spec.indent_left_twips),
        ("right", spec.indent_right_twips),
        ("firstLine", spec.first_line_twips),
    ):
        if value is not None:
            indents += f' w:{name}="{value}"'
    if indents:
        parts.append(f"<w:ind{indents}/>")
    if spec.align:
        parts.append(f'<w:jc w:val="{spec.align}"/>')
    if spec.mark_size_pt:
        parts.append(f"<w:rPr>{_size(spec.mark_size_pt)}</w:rPr>")
    return f"<w:pPr>{''.join(parts)}</w:pPr>" if parts else ""


def paragraph_xml(spec: ParaSpec, content: str = "") -> str:
    """A paragraph; ``content`` is the runs' XML."""
    return f"<w:p>{_ppr_xml(spec)}{content}</w:p>"


def styled_paragraph_xml(style_id: str, content: str = "") -> str:
    """The hot path: a paragraph formatted by its style alone."""
    return f'<w:p><w:pPr><w:pStyle w:val="{style_id}"/></w:pPr>{content}</w:p>'


def field_xml(instruction: str, placeholder: str, size_pt: float) -> str:
    """The runs of a complex field (e.g. ``PAGE``) whose cached result is ``placeholder``."""
    rpr = f"<w:rPr>{_size(size_pt)}</w:rPr>"
    return (
        f'<w:r>{rpr}<w:fldChar w:fldCharType="begin"/></w:r>'
        f'<w:r>{rpr}<w:instrText xml:space="preserve"> {escape(instruction)} </w:instrText></w:r>'
        f'<w:r>{rpr}<w:fldChar w:fldCharType="separate"/></w:r>'
        f"<w:r>{rpr}{_t(placeholder)}</w:r>"
        f'<w:r>{rpr}<w:fldChar w:fldCharType="end"/></w:r>'
    )


_NO_BORDERS = (
    "<w:tblBorders>"
    + "".join(
        f'<w:{side} w:val="nil"/>'
        for side in ("top", "left", "bottom", "right", "insideH", "insideV")
    )
    + "</w:tblBorders>"
)


def table_xml(
    col_widths_twips: Sequence[int],
    rows: Iterable[str],
    style_id: str | None = None,
    borders: bool = True,
    indent_twips: int = 0,
    fixed_layout: bool = False,
    side_cell_margin_twips: int | None = None,
) -> str:
    """A table of ``rows`` (from :func:`row_xml`).

    ``borders=False`` writes explicit "nil" borders, so no table style can add any.
    """
    tblpr = [f'<w:tblStyle w:val="{_attr(style_id)}"/>' if style_id else ""]
    tblpr.append(f'<w:tblW w:w="{sum(col_widths_twips)}" w:type="dxa"/>')
    if indent_twips:
        tblpr.append(f'<w:tblInd w:w="{indent_twips}" w:type="dxa"/>')
    if not borders:
        tblpr.append(_NO_BORDERS)
    if fixed_layout:
        tblpr.append('<w:tblLayout w:type="fixed"/>')
    if side_cell_margin_twips is not None:
        margin = side_cell_margin_twips
        tblpr.append(
            f'<w:tblCellMar><w:left w:w="{margin}" w:type="dxa"/>'
            f'<w:right w:w="{margin}" w:type="dxa"/></w:tblCellMar>'
        )
    tblpr.append(
        '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" '
        'w:lastColumn="0" w:noHBand="0" w:noVBand="1"/>'
    )
    grid = "".join(f'<w:gridCol w:w="{width}"/>' for width in col_widths_twips)
    return (
        f"<w:tbl><w:tblPr>{''.join(tblpr)}</w:tblPr><w:tblGrid>{grid}</w:tblGrid>"
        f"{''.join(rows)}</w:tbl>"
    )


def row_xml(
    cells: Sequence[str],
    col_widths_twips: Sequence[int],
    header: bool = False,
    cant_split: bool = False,
) -> str:
    """A row whose i-th cell holds the paragraphs XML ``cells[i]``.

    ``header`` marks the row as a header row repeated at the top of each page.
    """
    trpr = ""
    if header or cant_split:
        trpr = (
            "<w:trPr>"
            + ("<w:cantSplit/>" if cant_split else "")
            + ("<w:tblHeader/>" if header else "")
            + "</w:trPr>"
        )
    tcs = "".join(
        f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>{content or "<w:p/>"}</w:tc>'
        for content, width in zip(cells, col_widths_twips, strict=True)
    )
    return f"<w:tr>{trpr}{tcs}</w:tr>"


# CT_SectPr children that come after w:pgNumType in the schema's sequence.
_AFTER_PAGE_NUMBERING = tuple(
    qn(f"w:{name}")
    for name in (
        "cols", "formProt", "vAlign", "noEndnote", "titlePg", "textDirection", "bidi",
        "rtlGutter", "docGrid", "printerSettings", "sectPrChange",
    )
)  # fmt: skip


def restart_page_numbers(sect_pr: etree._Element) -> None:
    """The section's page numbers start again at 1."""
    existing = sect_pr.find(qn("w:pgNumType"))
    if existing is None:
        existing = etree.SubElement(sect_pr, qn("w:pgNumType"))
        later = next((c for c in sect_pr if c.tag in _AFTER_PAGE_NUMBERING), None)
        if later is not None:
            later.addprevious(existing)
    existing.set(qn("w:start"), "1")


def number_first_page(sect_pr: etree._Element) -> None:
    """The section's first page shows its number like the others (no "different first page")."""
    for title_page in sect_pr.findall(qn("w:titlePg")):
        sect_pr.remove(title_page)


def section_break_xml(sect_pr: etree._Element, restart_numbering: bool = False) -> str:
    """A paragraph ending a section laid out like ``sect_pr`` (page, margins, headers); the
    next section starts on a new page."""
    copy = deepcopy(sect_pr)
    for kind in copy.findall(qn("w:type")):
        copy.remove(kind)
    if restart_numbering:
        restart_page_numbers(copy)
    spec = ParaSpec(space_before_pt=0, space_after_pt=0, first_line_twips=0, mark_size_pt=1)
    ppr = _ppr_xml(spec)
    return f"<w:p>{ppr[: -len('</w:pPr>')]}{etree.tostring(copy, encoding='unicode')}</w:pPr></w:p>"


_BODY_START = re.compile(r"<w:body\b[^>]*>")


def with_body_content(document_root: etree._Element, body_xml: str) -> etree._Element:
    """A new ``w:document`` root: ``document_root`` with ``body_xml`` first in its body.

    One parse of the whole part is several times faster than parsing a fragment and moving
    thousands of elements into the existing tree, which lxml does node by node.
    """
    text = etree.tostring(document_root, encoding="unicode")
    match = _BODY_START.search(text)
    if match is None:
        raise ValueError("the document part has no w:body")
    return parse_xml((text[: match.end()] + body_xml + text[match.end() :]).encode())


def parse_fragment(xml: str, container: str = "w:body") -> list[etree._Element]:
    """Parse sibling elements written by this module, ready to be moved into a part."""
    root = parse_xml(f"<{container} {nsdecls('w')}>{xml}</{container}>".encode())
    return list(root)


def set_style_outline_level(style_element: etree._Element, level: int) -> None:
    """Give a paragraph style an outline level so its paragraphs show in Word's navigation."""
    ppr = style_element.get_or_add_pPr()
    ppr.get_or_add_outlineLvl().val = level


def set_rfonts(rpr: etree._Element, font_name: str) -> None:
    """Set all four font slots explicitly, dropping theme fonts, which would take precedence."""
    rfonts = rpr.get_or_add_rFonts()
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        rfonts.attrib.pop(qn(f"w:{attr}"), None)
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        rfonts.set(qn(f"w:{attr}"), font_name)
