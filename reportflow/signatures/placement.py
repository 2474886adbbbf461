"""Where the fields of a rendered report go, read from the PDF itself: the blank after "Số:",
the blanks after "ngày" and "tháng" on the place and date line, and the space between the
signer's title and his name (Decree 30, Phụ lục I, boxes 3, 4 and 7).

The text's positions come from pypdf; the widths of its letters from Liberation Serif's own
metrics (the report is set in Times New Roman, which LibreOffice draws with that metric twin)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from fontTools.ttLib import TTFont
from pypdf import PdfReader

from reportflow.core.errors import UserError
from reportflow.signatures.issued_pdf import (
    DAY_FIELD,
    FIELD_PADDING,
    FONTS,
    MONTH_FIELD,
    NUMBER_FIELD,
    SERIF,
    SERIF_ITALIC,
    Box,
    Places,
)

SERIF_BOLD = FONTS / "LiberationSerif-Bold.ttf"
SIGNATURE_MARGIN = 4.0
"""Between the signer's image and the lines of text above and below it."""


@dataclass(frozen=True)
class Chunk:
    """A run of text as the PDF draws it."""

    page: int
    x: float
    y: float
    size: float
    text: str
    font: str

    def width(self, text: str) -> float:
        return text_width(text, self.size, font_file(self.font))


def font_file(base_font: str) -> Path:
    name = base_font.lower()
    if "italic" in name:
        return SERIF_ITALIC
    if "bold" in name:
        return SERIF_BOLD
    return SERIF


@lru_cache(maxsize=4)
def _metrics(path: Path) -> tuple[dict[int, str], dict[str, tuple[int, int]], int]:
    font = TTFont(path, lazy=True)
    return font.getBestCmap(), font["hmtx"].metrics, font["head"].unitsPerEm


def text_width(text: str, size: float, path: Path = SERIF) -> float:
    cmap, advances, em = _metrics(path)
    units = sum(advances.get(cmap.get(ord(char), ".notdef"), (0, 0))[0] for char in text)
    return units * size / em


def chunks(pdf: bytes) -> list[Chunk]:
    reader = PdfReader(BytesIO(pdf))
    found: list[Chunk] = []
    for number, page in enumerate(reader.pages):

        def visit(text, cm, tm, font, size, number=number):
            if text.strip():
                base = str((font or {}).get("/BaseFont", ""))
                x = tm[4] * cm[0] + cm[4]
                y = tm[5] * cm[3] + cm[5]
                found.append(Chunk(number, x, y, size * cm[0], text.rstrip("\n"), base))

        page.extract_text(visitor_text=visit)
    return found


def _gap(chunk: Chunk, after: str) -> Box:
    """The blank after the word ``after`` and its space, up to the next letter; at least two
    letters wide."""
    begin = chunk.text.index(after) + len(after)
    end = begin
    while end < len(chunk.text) and chunk.text[end] == " ":
        end += 1
    x1 = chunk.x + chunk.width(chunk.text[: begin + 1])
    x2 = chunk.x + chunk.width(chunk.text[:end])
    bottom = chunk.y - 3
    return (x1, bottom, max(x2, x1 + chunk.size), bottom + chunk.size + FIELD_PADDING)


def _first(found: list[Chunk], predicate, what: str) -> Chunk:
    chunk = next((c for c in found if predicate(c)), None)
    if chunk is None:
        raise UserError(f"Không tìm thấy {what} trong bản PDF để đặt chữ ký số và số văn bản.")
    return chunk


def find_places(
    pdf: bytes, signer_title_last_line: str, signer_name: str, seal_pt: float
) -> Places:
    """The fields of the report rendered for signing (the number and date left blank)."""
    found = chunks(pdf)
    first_page = [c for c in found if c.page == 0]
    number = _first(first_page, lambda c: c.text.lstrip().startswith("Số:"), "dòng “Số:”")
    dated = _first(
        first_page, lambda c: " tháng " in f" {c.text} " and "ngày" in c.text, "dòng ngày tháng"
    )
    names = [c for c in found if c.text.strip() == signer_name.strip()]
    if not names:
        raise UserError(f"Không tìm thấy tên người ký “{signer_name}” trong bản PDF.")
    name = names[-1]
    title = _first(
        list(reversed([c for c in found if c.page == name.page and c.y > name.y])),
        lambda c: c.text.strip() == signer_title_last_line.strip(),
        f"chức vụ “{signer_title_last_line}” phía trên tên người ký",
    )
    left = min(title.x, name.x) - 2 * name.size
    right = max(title.x + title.width(title.text), name.x + name.width(name.text)) + 2 * name.size
    signer_box = (left, name.y + name.size + SIGNATURE_MARGIN, right, title.y - SIGNATURE_MARGIN)
    return Places.around_signature(
        name.page,
        signer_box,
        seal_pt,
        {
            NUMBER_FIELD: _gap(number, "Số:"),
            DAY_FIELD: _gap(dated, "ngày"),
            MONTH_FIELD: _gap(dated, "tháng"),
        },
    )
