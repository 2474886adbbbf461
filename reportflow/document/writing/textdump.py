"""The text of a .docx body in reading order, for tests and similarity checks."""

from __future__ import annotations

import os
from collections.abc import Iterator

import docx
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from lxml import etree

_W_P, _W_TBL, _W_TR, _W_TC = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc")
_CONTAINERS = {qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml")}


def _paragraph_text(p: etree._Element) -> str:
    return Paragraph(p, None).text  # type: ignore[arg-type]


def _cell_text(tc: etree._Element) -> str:
    """A cell's non-empty paragraphs joined by a space (nested tables included)."""
    texts = (_paragraph_text(p).strip() for p in tc.iter(_W_P))
    return " ".join(text for text in texts if text)


def _walk(container: etree._Element) -> Iterator[str]:
    for child in container.iterchildren():
        if child.tag == _W_P:
            text = _paragraph_text(child).strip()
            if text:
                yield text
        elif child.tag == _W_TBL:
            for tr in child.iterchildren(_W_TR):
                cells = [_cell_text(tc) for tc in tr.iterchildren(_W_TC)]
                if any(cells):
                    yield "\t".join(cells)
        elif child.tag in _CONTAINERS:
            yield from _walk(child)


def docx_text_lines(path: str | os.PathLike[str]) -> list[str]:
    """Non-empty body paragraphs and table rows (cells joined by a tab), in document order.

    Page headers and footers are not part of the body and are left out.
    """
    document = docx.Document(os.fspath(path))
    return list(_walk(document.element.body))
