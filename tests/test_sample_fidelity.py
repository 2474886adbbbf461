"""The sample report generated from the demo data matches the real one, and opens in LibreOffice."""

from __future__ import annotations

import difflib
import re
import shutil

import pytest
from pypdf import PdfReader

from reportflow.cycle.pdf_export import convert_to_pdf, pdf_page_count
from reportflow.demo.sample import build_sample_document
from reportflow.document.writing.render import render_report
from reportflow.document.writing.textdump import docx_text_lines
from tests.factories import SAMPLE_TEXT

MARKUP = re.compile(r"(^#+\s*)|(\*\*)|(\\\*)|(^\s*\*\s)", re.MULTILINE)


def seed_words(text: str) -> list[str]:
    """The seed is OCR'd Markdown: drop its heading marks and bold markers, keep escaped stars."""
    return MARKUP.sub(lambda m: "* " if m.group(3) else "", text).split()


@pytest.fixture(scope="module")
def sample_docx(tmp_path_factory):
    return render_report(build_sample_document(), tmp_path_factory.mktemp("sample") / "859.docx")


def test_generated_sample_matches_the_real_report(sample_docx):
    """Compared word by word after normalising whitespace and the seed's Markdown markup."""
    expected = seed_words(SAMPLE_TEXT.read_text(encoding="utf-8"))
    actual = "\n".join(docx_text_lines(sample_docx)).split()
    matcher = difflib.SequenceMatcher(a=expected, b=actual, autojunk=False)
    ratio = matcher.ratio()
    differences = [
        f"{tag}: {' '.join(expected[i1:i2])!r} -> {' '.join(actual[j1:j2])!r}"
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]
    print(f"\nsimilarity {ratio:.4f} over {len(expected)} words; differences:")
    print("\n".join(differences))
    assert ratio >= 0.98, "\n".join(differences)


needs_libreoffice = pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice is installed by .ci/run"
)


@pytest.fixture(scope="module")
def sample_pdf_lines(sample_docx, tmp_path_factory) -> list[list[str]]:
    """The text of each page as LibreOffice laid it out, line by line."""
    pdf = convert_to_pdf(sample_docx, tmp_path_factory.mktemp("pdf"))
    assert len(PdfReader(pdf).pages) == pdf_page_count(pdf)
    return [
        [" ".join(line.split()) for line in page.extract_text().splitlines() if line.strip()]
        for page in PdfReader(pdf).pages
    ]


@needs_libreoffice
def test_sample_opens_in_libreoffice(sample_pdf_lines):
    assert 7 <= len(sample_pdf_lines) <= 11


@needs_libreoffice
def test_libreoffice_lays_out_the_letterhead_page_numbers_and_signature(sample_pdf_lines):
    first, *rest = sample_pdf_lines
    # Each body name and the Quốc hiệu fit on one line of their column.
    assert first[:4] == [
        "UBND TỈNH TRÀ VINH",
        "SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
    ]
    assert first[4] == "Số: 859/BC-STTTT-VP Trà Vinh, ngày 05 tháng 6 năm 2020"
    assert first[5] == "BÁO CÁO"
    # No page number on page 1; from page 2 on it is the first thing in the top margin.
    assert not first[0].isdigit()
    assert [page[0] for page in rest] == [str(n) for n in range(2, len(sample_pdf_lines) + 1)]
    # The signature block stays together on the last page, recipients first, name last.
    assert sample_pdf_lines[-1][-7:] == [
        "Nơi nhận:",
        "- Sở KH&ĐT (b/c);",
        "- BGD Sở;",
        "- Lãnh đạo các phòng, TT;",
        "- Lưu: VT.",
        "GIÁM ĐỐC",
        "Trần Văn Khoản",
    ]


@needs_libreoffice
def test_export_pdf_command(tmp_path):
    from typer.testing import CliRunner

    from reportflow.cli import app

    result = CliRunner().invoke(app, ["export", "--sample", "--pdf", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    pdf = tmp_path / "859-BC-STTTT-VP.pdf"
    pages = len(PdfReader(pdf).pages)
    assert 7 <= pages <= 11 and f"({pages} trang)" in " ".join(result.output.split())
