"""Low-level WordprocessingML builders used by the renderer.

Like python-docx's own ``oxml`` layer, these functions only make or change XML elements;
they know nothing of reports. They build elements directly with lxml, in schema order,
because going through python-docx's proxy objects for every run is what makes large
reports slow.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from docx.oxml.ns import qn
from docx.oxml.parser import OxmlElement
from lxml import etree

from reportflow.document.xml_text import strip_illegal_chars

W_P, W_PPR, W_PSTYLE, W_JC = qn("w:p"), qn("w:pPr"), qn("w:pStyle"), qn("w:jc")
W_R, W_RPR, W_T, W_BR, W_TAB = qn("w:r"), qn("w:rPr"), qn("w:t"), qn("w:br"), qn("w:tab")
W_B, W_I, W_SZ, W_SZCS, W_U = qn("w:b"), qn("w:i"), qn("w:sz"), qn("w:szCs"), qn("w:u")
W_VAL = qn("w:val")
W_SPACING, W_IND, W_KEEPNEXT, W_PBDR = qn("w:spacing"), qn("w:ind"), qn("w:keepNext"), qn("w:pBdr")
W_TBL, W_TBLPR, W_TBLGRID, W_GRIDCOL = qn("w:tbl"), qn("w:tblPr"), qn("w:tblGrid"), qn("w:gridCol")
W_TR, W_TRPR, W_TC, W_TCPR, W_TCW = qn("w:tr"), qn("w:trPr"), qn("w:tc"), qn("w:tcPr"), qn("w:tcW")
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"

TWIPS_PER_MM = 1440 / 25.4


def mm_to_twips(mm: float) -> int:
    return round(mm * TWIPS_PER_MM)


@dataclass(frozen=True)
class RunSpec:
    """Direct character formatting of one run; None leaves the style's value."""

    text: str
    bold: bool = False
    italic: bool = False
    size_pt: float | None = None
    underline: bool = False


def _sub(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    for key, value in attrs.items():
        element.set(qn(f"w:{key}"), value)
    return element


def append_text(r: etree._Element, text: str) -> None:
    """Append ``text`` to run ``r``; "\\n" becomes a line break and "\\t" a tab."""
    text = strip_illegal_chars(text)
    for line_no, line in enumerate(text.split("\n")):
        if line_no:
            etree.SubElement(r, W_BR)
        for piece_no, piece in enumerate(line.split("\t")):
            if piece_no:
                etree.SubElement(r, W_TAB)
            if piece:
                t = etree.SubElement(r, W_T)
                t.text = piece
                t.set(XML_SPACE, "preserve")


def append_run(p: etree._Element, spec: RunSpec) -> etree._Element:
    r = etree.SubElement(p, W_R)
    if spec.bold or spec.italic or spec.size_pt or spec.underline:
        rpr = etree.SubElement(r, W_RPR)
        if spec.bold:
            etree.SubElement(rpr, W_B)
        if spec.italic:
            etree.SubElement(rpr, W_I)
        if spec.size_pt:
            half_points = str(round(spec.size_pt * 2))
            _sub(rpr, W_SZ, val=half_points)
            _sub(rpr, W_SZCS, val=half_points)
        if spec.underline:
            _sub(rpr, W_U, val="single")
    append_text(r, spec.text)
    return r


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


def new_paragraph(spec: ParaSpec, runs: Iterable[RunSpec] = ()) -> etree._Element:
    p = OxmlElement("w:p")
    ppr = etree.SubElement(p, W_PPR)
    if spec.style_id:
        _sub(ppr, W_PSTYLE, val=spec.style_id)
    if spec.keep_next:
        etree.SubElement(ppr, W_KEEPNEXT)
    if spec.bottom_border:
        pbdr = etree.SubElement(ppr, W_PBDR)
        _sub(pbdr, qn("w:bottom"), val="single", sz="6", space="1", color="auto")
    if spec.space_before_pt is not None or spec.space_after_pt is not None:
        spacing = etree.SubElement(ppr, W_SPACING)
        if spec.space_before_pt is not None:
            spacing.set(qn("w:before"), str(round(spec.space_before_pt * 20)))
        if spec.space_after_pt is not None:
            spacing.set(qn("w:after"), str(round(spec.space_after_pt * 20)))
    indents = (spec.indent_left_twips, spec.indent_right_twips, spec.first_line_twips)
    if any(v is not None for v in indents):
        ind = etree.SubElement(ppr, W_IND)
        if spec.indent_left_twips is not None:
            ind.set(qn("w:left"), str(spec.indent_left_twips))
        if spec.indent_right_twips is not None:
            ind.set(qn("w:right"), str(spec.indent_right_twips))
        if spec.first_line_twips is not None:
            ind.set(qn("w:firstLine"), str(spec.first_line_twips))
    if spec.align:
        _sub(ppr, W_JC, val=spec.align)
    if spec.mark_size_pt:
        rpr = etree.SubElement(ppr, W_RPR)
        half_points = str(round(spec.mark_size_pt * 2))
        _sub(rpr, W_SZ, val=half_points)
        _sub(rpr, W_SZCS, val=half_points)
    if len(ppr) == 0:
        p.remove(ppr)
    for run in runs:
        append_run(p, run)
    return p


def append_field(p: etree._Element, instruction: str, placeholder: str, size_pt: float) -> None:
    """Append a complex field (e.g. ``PAGE``) whose cached result is ``placeholder``."""

    def run() -> etree._Element:
        r = etree.SubElement(p, W_R)
        rpr = etree.SubElement(r, W_RPR)
        _sub(rpr, W_SZ, val=str(round(size_pt * 2)))
        _sub(rpr, W_SZCS, val=str(round(size_pt * 2)))
        return r

    _sub(run(), qn("w:fldChar"), fldCharType="begin")
    instr = etree.SubElement(run(), qn("w:instrText"))
    instr.text = f" {instruction} "
    instr.set(XML_SPACE, "preserve")
    _sub(run(), qn("w:fldChar"), fldCharType="separate")
    t = etree.SubElement(run(), W_T)
    t.text = placeholder
    _sub(run(), qn("w:fldChar"), fldCharType="end")


_BORDER_SIDES = ("top", "left", "bottom", "right", "insideH", "insideV")


def new_table(
    col_widths_twips: Sequence[int],
    style_id: str | None = None,
    borders: bool = True,
    indent_twips: int = 0,
    fixed_layout: bool = False,
    side_cell_margin_twips: int | None = None,
) -> etree._Element:
    """An empty ``w:tbl`` with its grid; rows are added with :func:`append_row`."""
    tbl = OxmlElement("w:tbl")
    tblpr = etree.SubElement(tbl, W_TBLPR)
    if style_id:
        _sub(tblpr, qn("w:tblStyle"), val=style_id)
    _sub(tblpr, qn("w:tblW"), w=str(sum(col_widths_twips)), type="dxa")
    if indent_twips:
        _sub(tblpr, qn("w:tblInd"), w=str(indent_twips), type="dxa")
    if not borders:
        tblborders = etree.SubElement(tblpr, qn("w:tblBorders"))
        for side in _BORDER_SIDES:
            _sub(tblborders, qn(f"w:{side}"), val="nil")
    if fixed_layout:
        _sub(tblpr, qn("w:tblLayout"), type="fixed")
    if side_cell_margin_twips is not None:
        margins = etree.SubElement(tblpr, qn("w:tblCellMar"))
        for side in ("left", "right"):
            _sub(margins, qn(f"w:{side}"), w=str(side_cell_margin_twips), type="dxa")
    _sub(tblpr, qn("w:tblLook"), val="04A0", firstRow="1", lastRow="0", firstColumn="1",
         lastColumn="0", noHBand="0", noVBand="1")  # fmt: skip
    grid = etree.SubElement(tbl, W_TBLGRID)
    for width in col_widths_twips:
        _sub(grid, W_GRIDCOL, w=str(width))
    return tbl


def append_row(
    tbl: etree._Element,
    cells: Sequence[Sequence[etree._Element]],
    col_widths_twips: Sequence[int],
    header: bool = False,
    cant_split: bool = False,
) -> etree._Element:
    """Append a row whose i-th cell holds the paragraphs ``cells[i]``.

    ``header`` marks the row as a header row repeated at the top of each page.
    """
    tr = etree.SubElement(tbl, W_TR)
    if header or cant_split:
        trpr = etree.SubElement(tr, W_TRPR)
        if cant_split:
            etree.SubElement(trpr, qn("w:cantSplit"))
        if header:
            etree.SubElement(trpr, qn("w:tblHeader"))
    for paragraphs, width in zip(cells, col_widths_twips, strict=True):
        tc = etree.SubElement(tr, W_TC)
        tcpr = etree.SubElement(tc, W_TCPR)
        _sub(tcpr, W_TCW, w=str(width), type="dxa")
        if paragraphs:
            tc.extend(paragraphs)
        else:
            etree.SubElement(tc, W_P)  # a cell must end with a paragraph
    return tr


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
