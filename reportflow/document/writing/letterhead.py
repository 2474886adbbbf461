"""The fixed parts of a Decree 30 document around the body: the header block (issuing body,
Quốc hiệu, number, place and date), the title, the signature block and the page header."""

from __future__ import annotations

from docx.document import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from reportflow.core.vi_format import blank_long_date, long_date, place_date_line
from reportflow.document.writing.appendix import appendix_label
from reportflow.document.writing.layout import CONTENT_WIDTH_MM, PAGE_NUMBER_SIZE_PT
from reportflow.document.writing.oxml import (
    ParaSpec,
    field_xml,
    mm_to_twips,
    paragraph_xml,
    parse_fragment,
    row_xml,
    run_xml,
    table_xml,
)
from reportflow.document.writing.report import ReportDocument

NATIONAL_TITLE = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
NATIONAL_MOTTO = "Độc lập - Tự do - Hạnh phúc"
RECIPIENTS_LABEL = "Nơi nhận:"
NUMBER_PREFIX = "Số: "
SIGNATURE_BLANK_LINES = 4
DRAFT_MARK_SIZE_PT = 12

# The header table has no side cell margins, so a column is as wide as its text may be:
# "SỞ THÔNG TIN VÀ TRUYỀN THÔNG" (bold 13) needs about 78 mm, the Quốc hiệu (bold 12) 90 mm.
# Together they exceed the 165 mm text width, so the table reaches 7 mm into the left margin,
# as the usual Word templates of the decree do.
HEADER_LEFT_MM, HEADER_RIGHT_MM, HEADER_INDENT_MM = 81, 91, -7
SIGNATURE_LEFT_MM, SIGNATURE_RIGHT_MM = 80, CONTENT_WIDTH_MM - 80
RULE_GAP_PT = 5  # height of the empty paragraph carrying a short rule: the gap above the line
# Average advance of a Times New Roman glyph in em, to size the short rules under text.
_UPPER_BOLD_EM, _MIXED_EM = 0.68, 0.5
_PT_TO_MM = 25.4 / 72


def _text_width_mm(text: str, size_pt: float, em: float) -> float:
    longest = max((len(line) for line in text.splitlines()), default=0)
    return longest * em * size_pt * _PT_TO_MM


def short_rule_xml(text_width_mm: float, box_width_mm: float, fraction: float) -> str:
    """A centred empty paragraph whose bottom border is the short solid line under a heading."""
    width = min(max(text_width_mm * fraction, 15.0), box_width_mm)
    side = mm_to_twips((box_width_mm - width) / 2)
    spec = ParaSpec(
        align="center",
        space_before_pt=0,
        space_after_pt=0,
        indent_left_twips=side,
        indent_right_twips=side,
        first_line_twips=0,
        bottom_border=True,
        mark_size_pt=RULE_GAP_PT,
    )
    return paragraph_xml(spec)


def _centered(
    text: str,
    size: float,
    bold: bool = False,
    italic: bool = False,
    underline: bool = False,
    before: float = 0.0,
) -> str:
    spec = ParaSpec(align="center", space_before_pt=before, space_after_pt=0, first_line_twips=0)
    return paragraph_xml(
        spec, run_xml(text, bold=bold, italic=italic, size_pt=size, underline=underline)
    )


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()] or [""]


def header_block_xml(report: ReportDocument) -> str:
    """Borderless two-column table: bodies and Quốc hiệu, then number and place-date line."""
    widths = [mm_to_twips(HEADER_LEFT_MM), mm_to_twips(HEADER_RIGHT_MM)]
    left = []
    if report.parent_body.strip():
        left += [_centered(line, 13) for line in _lines(report.parent_body.upper())]
    issuing = _lines(report.issuing_body.upper())
    left += [_centered(line, 13, bold=True) for line in issuing]
    issuing_width = _text_width_mm("\n".join(issuing), 13, _UPPER_BOLD_EM)
    left.append(short_rule_xml(min(issuing_width, HEADER_LEFT_MM), HEADER_LEFT_MM, 0.4))
    right = [
        _centered(NATIONAL_TITLE, 12, bold=True),
        _centered(NATIONAL_MOTTO, 13, bold=True, underline=True),
    ]
    # A draft's number keeps its leading blanks, the room the clerk writes the number in.
    number = _centered(NUMBER_PREFIX + report.number_text.rstrip(), 13, before=6)
    dated = _centered(
        place_date_line(report.place, report.issued_on, report.signing_year),
        14,
        italic=True,
        before=6,
    )
    rows = [row_xml(["".join(left), "".join(right)], widths), row_xml([number, dated], widths)]
    return table_xml(
        widths,
        rows,
        borders=False,
        indent_twips=mm_to_twips(HEADER_INDENT_MM),
        fixed_layout=True,
        side_cell_margin_twips=0,
    )


def title_block_xml(report: ReportDocument) -> str:
    parts = [_centered(report.doc_type_name.strip().upper(), 14, bold=True, before=18)]
    summary = report.summary.strip()
    if summary:
        parts += [_centered(line, 14, bold=True) for line in _lines(summary)]
    width = min(_text_width_mm(summary or report.doc_type_name, 14, _MIXED_EM), CONTENT_WIDTH_MM)
    parts.append(short_rule_xml(width, CONTENT_WIDTH_MM, 1 / 3))
    parts += addressee_xml(report.addressees)
    # Room between the title and the first body paragraph.
    parts.append(paragraph_xml(ParaSpec(space_after_pt=6, mark_size_pt=8)))
    return "".join(parts)


ADDRESSEE_LABEL = "Kính gửi:"
ADDRESSEE_INDENT_MM = 40.0


def addressee_xml(addressees: list[str]) -> list[str]:
    """Decree 30 box 9a: "Kính gửi: X." on one centred line, or, for several, "Kính gửi:" and
    one addressee a line ("- X;", the last ending with ".")."""
    names = [name.strip().rstrip(".;") for name in addressees if name.strip()]
    if not names:
        return []
    if len(names) == 1:
        return [_centered(f"{ADDRESSEE_LABEL} {names[0]}.", 14, before=6)]
    spec = ParaSpec(
        align="left",
        space_after_pt=0,
        first_line_twips=0,
        indent_left_twips=mm_to_twips(ADDRESSEE_INDENT_MM),
    )
    lines = [f"- {name};" for name in names[:-1]] + [f"- {names[-1]}."]
    return [_centered(ADDRESSEE_LABEL, 14, before=6)] + [
        paragraph_xml(spec, run_xml(line, size_pt=14)) for line in lines
    ]


def signature_block_xml(report: ReportDocument) -> str:
    """Borderless two-column table: "Nơi nhận:" and its lines, the signer's title and name."""
    widths = [mm_to_twips(SIGNATURE_LEFT_MM), mm_to_twips(SIGNATURE_RIGHT_MM)]
    label_spec = ParaSpec(align="left", space_before_pt=12, space_after_pt=0, first_line_twips=0)
    line_spec = ParaSpec(align="left", space_after_pt=0, first_line_twips=0)
    left = [
        paragraph_xml(label_spec, run_xml(RECIPIENTS_LABEL, bold=True, italic=True, size_pt=12))
    ]
    left += [
        paragraph_xml(line_spec, run_xml(line.strip(), size_pt=11))
        for line in report.recipients
        if line.strip()
    ]
    titles = _lines(report.signer_title.upper())
    right = [
        _centered(line, 14, bold=True, before=12 if i == 0 else 0) for i, line in enumerate(titles)
    ]
    right += [_centered("", 14)] * SIGNATURE_BLANK_LINES
    right.append(_centered(report.signer_name.strip(), 14, bold=True))
    row = row_xml(["".join(left), "".join(right)], widths)
    return table_xml(widths, [row], borders=False, fixed_layout=True)


def appendix_reference(report: ReportDocument) -> str:
    """The line under an appendix's title: "(Kèm theo Báo cáo số 859/BC-STTTT-VP ngày 05 tháng
    6 năm 2020 của Sở …)"; a draft has the blanks of its own number and date lines."""
    kind = report.doc_type_name.strip().capitalize()
    when = long_date(report.issued_on) if report.issued_on else blank_long_date()
    body = report.issuing_body_name.strip()
    of_body = f" của {body}" if body else ""
    return f"(Kèm theo {kind} số {report.number_text.rstrip()} {when}{of_body})"


def appendix_heading_xml(report: ReportDocument, position: int) -> str:
    """The top of an appendix: its label (bold, in lower case, 14), its title (bold, capitals)
    and the italic line naming the document it comes with, all centred."""
    label = appendix_label(position, len(report.appendices))
    title = report.appendices[position - 1].title
    parts = [_centered(label, 14, bold=True)]
    parts += [_centered(line, 14, bold=True) for line in _lines(title.upper()) if line]
    parts.append(_centered(appendix_reference(report), 14, italic=True))
    width = min(_text_width_mm(appendix_reference(report), 14, _MIXED_EM), CONTENT_WIDTH_MM)
    parts.append(short_rule_xml(width, CONTENT_WIDTH_MM, 1 / 3))
    parts.append(paragraph_xml(ParaSpec(space_after_pt=6, mark_size_pt=8)))
    return "".join(parts)


def setup_page_header(document: Document, draft_watermark: str = "") -> None:
    """Page number centred in the header from page 2 on; page 1's header stays empty, except
    for the draft mark when there is one."""
    section = document.sections[0]
    section.different_first_page_header_footer = True
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph._p.extend(parse_fragment(field_xml("PAGE", "1", PAGE_NUMBER_SIZE_PT), "w:p"))
    first = section.first_page_header
    first.is_linked_to_previous = False
    if draft_watermark.strip():
        mark = first.paragraphs[0]
        mark.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        run = mark.add_run(draft_watermark.strip())
        run.bold = True
        run.font.size = Pt(DRAFT_MARK_SIZE_PT)
