"""The sample report generated from the demo data matches the real one, and opens in LibreOffice."""

from __future__ import annotations

import difflib
import re
import shutil

import pytest

from reportflow.demo.sample import build_sample_document
from reportflow.document.render import render_report
from reportflow.document.textdump import docx_text_lines
from reportflow.tasks.export import convert_to_pdf, pdf_page_count
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


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is installed by .ci/run")
def test_sample_opens_in_libreoffice(sample_docx, tmp_path):
    pdf = convert_to_pdf(sample_docx, tmp_path)
    assert 7 <= pdf_page_count(pdf) <= 11


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is installed by .ci/run")
def test_export_pdf_command(tmp_path):
    from typer.testing import CliRunner

    from reportflow.cli import app

    result = CliRunner().invoke(app, ["export", "--sample", "--pdf", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    pdf = tmp_path / "859-BC-STTTT-VP.pdf"
    assert pdf.exists() and f"({pdf_page_count(pdf)} trang)" in " ".join(result.output.split())
