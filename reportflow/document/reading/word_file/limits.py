"""The size limits applied to a Word body's XML before it is walked.

One pass over the elements counts what the walk would produce: table rows and widths with
merged cells spread out, cells, nesting, list levels and text. A 36 KB file whose one cell
claims to span 100,000,000 columns is refused here, before any cell is made.
"""

from __future__ import annotations

import re

from docx.oxml.ns import qn
from lxml import etree

from reportflow.document.reading.errors import SectionInputError
from reportflow.document.reading.limits import (
    MAX_LIST_LEVELS,
    MAX_NESTING,
    MAX_SECTION_CELLS,
    MAX_SECTION_CHARS,
    MAX_SECTION_RUNS,
    MAX_TABLE_COLUMNS,
    MAX_TABLE_ROWS,
    n,
    refuse_section_cells,
    refuse_table_columns,
    refuse_table_rows,
    refuse_too_long,
    refuse_too_many_runs,
)

_W_TBL, _W_TR, _W_TC = qn("w:tbl"), qn("w:tr"), qn("w:tc")
_W_R, _W_T = qn("w:r"), qn("w:t")
_W_VAL = qn("w:val")
_NESTED_CONTAINERS = (qn("w:sdt"), qn("w:customXml"))
_DIGITS = re.compile(r"[0-9]{1,12}")


def whole_number(value: str | None) -> int | None:
    """An OOXML decimal attribute as an int; None when missing or not a plain number."""
    if value is None or not _DIGITS.fullmatch(value.strip()):
        return None
    return int(value)


def grid_span(tc: etree._Element) -> int:
    """Columns a cell covers (w:gridSpan); a missing or unreadable value counts as one."""
    element = tc.find(f"{qn('w:tcPr')}/{qn('w:gridSpan')}")
    span = whole_number(element.get(_W_VAL)) if element is not None else None
    return span if span and span > 0 else 1


def grid_before(tr: etree._Element) -> int:
    """Empty grid columns before a row's first cell (w:gridBefore)."""
    element = tr.find(f"{qn('w:trPr')}/{qn('w:gridBefore')}")
    return (whole_number(element.get(_W_VAL)) if element is not None else None) or 0


def _depth(element: etree._Element, tags: tuple[str, ...]) -> int:
    return sum(1 for _ in element.iterancestors(*tags))


def _check_nesting(body: etree._Element) -> None:
    for tbl in body.iter(_W_TBL):
        depth = _depth(tbl, (_W_TBL,)) + 1
        if depth > MAX_NESTING:
            raise SectionInputError(
                f"Tệp có bảng lồng trong bảng tới {depth} tầng, vượt giới hạn {MAX_NESTING} "
                "tầng. Hãy đưa các bảng con ra ngoài thành bảng riêng rồi nộp lại.",
                code="too_deep",
            )
    for container in body.iter(*_NESTED_CONTAINERS):
        depth = _depth(container, _NESTED_CONTAINERS) + 1
        if depth > MAX_NESTING:
            raise SectionInputError(
                f"Tệp có vùng nội dung (content control) lồng nhau tới {depth} tầng, vượt giới "
                f"hạn {MAX_NESTING} tầng. Hãy gỡ các vùng nội dung thừa (Developer → Design "
                "Mode) hoặc chép nội dung sang tệp mới, lưu lại rồi nộp lại.",
                code="too_deep",
            )
    for ilvl in body.iter(qn("w:ilvl")):
        level = whole_number(ilvl.get(_W_VAL))
        if level is not None and level >= MAX_LIST_LEVELS:
            raise SectionInputError(
                f"Tệp có mục danh sách ở cấp {n(level + 1)}, vượt giới hạn {MAX_LIST_LEVELS} "
                "cấp của Word. Tệp có thể đã bị chỉnh sửa bằng công cụ khác; hãy mở tệp bằng "
                "Word, chỉnh lại cấp của danh sách, lưu lại rồi nộp lại.",
                code="too_deep",
            )


def _row_too_wide(table_no: int, row_no: int, before: int, spans: list[int]) -> SectionInputError:
    widest = max(spans, default=1)
    if widest > MAX_TABLE_COLUMNS:
        found = f"có một ô gộp {n(widest)} cột (w:gridSpan)"
    elif before > MAX_TABLE_COLUMNS:
        found = f"có {n(before)} cột trống ở đầu dòng (w:gridBefore)"
    else:
        found = f"rộng {n(before + sum(spans))} cột"
    return refuse_table_columns(table_no, row_no, found)


def _table_cells(tbl: etree._Element, table_no: int) -> int:
    """Cells the walk makes of ``tbl`` (rows times the widest row), refusing a table that is
    too long or too wide before any of its cells is read."""
    rows = list(tbl.iterchildren(_W_TR))
    if len(rows) > MAX_TABLE_ROWS:
        raise refuse_table_rows(table_no, len(rows))
    width = 0
    for row_no, tr in enumerate(rows, start=1):
        before = grid_before(tr)
        spans = [grid_span(tc) for tc in tr.iterchildren(_W_TC)]
        columns = before + sum(spans)
        if columns > MAX_TABLE_COLUMNS:
            raise _row_too_wide(table_no, row_no, before, spans)
        width = max(width, columns)
    return len(rows) * width


def check_limits(body: etree._Element) -> None:
    """Refuses a body whose walk would pass a limit of reportflow.document.reading.limits."""
    _check_nesting(body)
    cells = sum(_table_cells(tbl, no) for no, tbl in enumerate(body.iter(_W_TBL), start=1))
    if cells > MAX_SECTION_CELLS:
        raise refuse_section_cells(cells)
    runs = sum(1 for _ in body.iter(_W_R))
    if runs > MAX_SECTION_RUNS:
        raise refuse_too_many_runs(runs)
    chars = sum(len(t.text or "") for t in body.iter(_W_T))
    if chars > MAX_SECTION_CHARS:
        raise refuse_too_long(chars)
