"""Rendering a ReportDocument into the Decree 30/2020 layout, checked by reopening the file."""

import dataclasses
import datetime as dt
import subprocess
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph as DocxParagraph

from reportflow.document.blocks import Heading, ListItem, Paragraph, Run, SectionContent, Table
from reportflow.document.reading.markdown import parse_markdown
from reportflow.document.reading.word import parse_docx
from reportflow.document.writing.numbering import DEFAULT_NUMBERING
from reportflow.document.writing.render import render_report
from reportflow.document.writing.report import Appendix, OutlineNode, ReportDocument
from reportflow.document.writing.textdump import docx_text_lines

SUMMARY = (
    "Tình hình thực hiện nhiệm vụ phát triển kinh tế - xã hội ngành thông tin và truyền thông "
    "6 tháng đầu năm và định hướng 6 tháng cuối năm 2020"
)
INDICATORS = Table(
    header=["TT", "Chỉ tiêu", "Đơn vị tính", "Kế hoạch năm 2020", "Kết quả 6 tháng đầu năm"],
    rows=[
        ["1", "- Số xã có bưu điện văn hóa xã", "Xã", "84", "82/85 xã có điểm BD-VHX"],
        ["2", "- Tỷ lệ xã có bưu điện văn hóa xã", "%", "98,82", "96,47%"],
        ["3", "- Thời lượng phát thanh bằng tiếng dân tộc", "Giờ/năm", "547,5", "228"],
    ],
)


def _content(*blocks) -> SectionContent:
    return SectionContent(blocks=list(blocks))


def _outline() -> list[OutlineNode]:
    inspection = parse_markdown(
        "Tổ chức thanh tra, kiểm tra 08 cuộc đối với 32 đơn vị.\n\n"
        "- Số cá nhân, tổ chức được kiểm tra: 32 đơn vị.\n"
        "- Kết quả xử lý:\n"
        "+ Số tiền xử phạt vi phạm hành chính: 26.250.000đ\n"
        "a) thứ nhất\n"
        "b) thứ hai\n\n"
        "Đoạn sau danh sách.\n\n"
        "c) lại từ đầu"
    )
    return [
        OutlineNode(
            "Kết quả triển khai thực hiện nhiệm vụ",
            1,
            children=[
                OutlineNode(
                    "Công tác tham mưu",
                    2,
                    content=_content(
                        Paragraph(runs=[Run("Trình UBND tỉnh "), Run("ban hành", bold=True)])
                    ),
                ),
                OutlineNode(
                    "Công tác thực hiện nhiệm vụ chuyên môn",
                    2,
                    children=[
                        OutlineNode("Về Thông tin - Báo chí - Xuất bản", 3),
                        OutlineNode(
                            "Về Bưu chính - Viễn thông, Công nghệ thông tin",
                            3,
                            children=[
                                OutlineNode(
                                    "Bưu chính – Viễn thông", 4, numbered=False, marker="*"
                                ),
                                OutlineNode("Mạng lưới", 4),
                                OutlineNode("Dịch vụ", 4),
                            ],
                        ),
                        OutlineNode("Về công tác thanh tra", 3, content=inspection),
                    ],
                ),
            ],
        ),
        OutlineNode("Kết quả thực hiện các chỉ tiêu", 1, table=INDICATORS),
        OutlineNode("Đánh giá kết quả đạt được", 1, children=[OutlineNode("Ưu điểm", 2)]),
    ]


def _report(**changes) -> ReportDocument:
    report = ReportDocument(
        parent_body="UBND TỈNH TRÀ VINH",
        issuing_body="SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
        number_text="859/BC-STTTT-VP",
        place="Trà Vinh",
        issued_on=dt.date(2020, 6, 5),
        doc_type_name="BÁO CÁO",
        summary=SUMMARY,
        intro=[
            "Sở Thông tin và Truyền thông nhận được Công văn số 850/SKHĐT-THKTKG ngày 13/5/2020."
        ],
        outline=_outline(),
        closing=["Trên đây là báo cáo tình hình thực hiện nhiệm vụ./."],
        recipients=["- Sở KH&ĐT (b/c);", "- BGD Sở;", "- Lãnh đạo các phòng, TT;", "- Lưu: VT."],
        signer_title="Giám đốc",
        signer_name="Trần Văn Khoản",
        numbering=("I.", "1.", "1.1.", "a)"),  # as the sample report numbers its outline
    )
    return dataclasses.replace(report, **changes)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    return render_report(_report(), tmp_path_factory.mktemp("render") / "bao-cao.docx")


@pytest.fixture(scope="module")
def document(rendered):
    return docx.Document(str(rendered))


def _body_items(document):
    return list(document.iter_inner_content())


def _paragraph_by_text(document, startswith: str) -> DocxParagraph:
    matches = [p for p in document.paragraphs if p.text.startswith(startswith)]
    assert matches, f"no paragraph starts with {startswith!r}"
    return matches[0]


def _effective(paragraph: DocxParagraph, getter):
    """A paragraph-format value, from the paragraph or else its style chain."""
    value = getter(paragraph.paragraph_format)
    style = paragraph.style
    while value is None and style is not None:
        value = getter(style.paragraph_format)
        style = style.base_style
    return value


def _font_flag(paragraph: DocxParagraph, run, name: str):
    value = getattr(run.font, name)
    style = paragraph.style
    while value is None and style is not None:
        value = getattr(style.font, name)
        style = style.base_style
    return bool(value)


# --------------------------------------------------------------------------- page and fonts


def test_page_is_a4_portrait_with_decree_margins(document):
    section = document.sections[0]
    assert section.page_width.mm == pytest.approx(210, abs=0.2)
    assert section.page_height.mm == pytest.approx(297, abs=0.2)
    assert section.top_margin.mm == pytest.approx(20, abs=0.2)
    assert section.bottom_margin.mm == pytest.approx(20, abs=0.2)
    assert section.left_margin.mm == pytest.approx(30, abs=0.2)
    assert section.right_margin.mm == pytest.approx(15, abs=0.2)


def test_times_new_roman_14_in_normal_and_document_defaults(document):
    normal = document.styles["Normal"]
    assert normal.font.name == "Times New Roman"
    assert normal.font.size == Pt(14)
    rfonts = normal.element.rPr.rFonts
    for slot in ("ascii", "hAnsi", "cs", "eastAsia"):
        assert rfonts.get(qn(f"w:{slot}")) == "Times New Roman", slot
    defaults = document.styles.element.find(qn("w:docDefaults"))
    default_fonts = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:rFonts')}")
    assert default_fonts.get(qn("w:asciiTheme")) is None, "a theme font would override TNR"
    assert default_fonts.get(qn("w:ascii")) == "Times New Roman"


def test_no_other_font_is_named_anywhere(rendered):
    import zipfile

    with zipfile.ZipFile(rendered) as zf:
        xml = zf.read("word/document.xml").decode() + zf.read("word/styles.xml").decode()
    assert "Calibri" not in xml and "Arial" not in xml


# --------------------------------------------------------------------------- header block


def test_header_block_is_a_borderless_two_column_table(document):
    first = _body_items(document)[0]
    assert isinstance(first, DocxTable)
    assert len(first.columns) == 2 and len(first.rows) == 2
    borders = first._tbl.tblPr.find(qn("w:tblBorders"))
    assert borders is not None
    assert {b.get(qn("w:val")) for b in borders} == {"nil"}


def test_header_block_texts_sizes_and_bold(document):
    table = _body_items(document)[0]
    left, right = table.rows[0].cells
    texts = [p.text for p in left.paragraphs if p.text]
    assert texts == ["UBND TỈNH TRÀ VINH", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"]
    parent, issuing = (p for p in left.paragraphs if p.text)
    assert parent.runs[0].bold is not True and parent.runs[0].font.size == Pt(13)
    assert issuing.runs[0].bold is True and issuing.runs[0].font.size == Pt(13)

    title, motto = right.paragraphs
    assert title.text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert title.runs[0].bold is True and title.runs[0].font.size == Pt(12)
    assert motto.text == "Độc lập - Tự do - Hạnh phúc"
    assert motto.runs[0].bold is True and motto.runs[0].font.size == Pt(13)
    assert motto.runs[0].underline is True

    number, dated = table.rows[1].cells
    assert number.text == "Số: 859/BC-STTTT-VP"
    assert number.paragraphs[0].runs[0].font.size == Pt(13)
    assert dated.text == "Trà Vinh, ngày 05 tháng 6 năm 2020"
    assert dated.paragraphs[0].runs[0].italic is True
    for paragraph in [*left.paragraphs, *right.paragraphs, *number.paragraphs, *dated.paragraphs]:
        assert paragraph.alignment == WD_ALIGN_PARAGRAPH.CENTER


def test_short_rule_under_issuing_body_is_centred_and_shorter_than_the_column(document):
    table = _body_items(document)[0]
    left = table.rows[0].cells[0]
    rule = left.paragraphs[-1]
    assert rule.text == ""
    border = rule._p.pPr.find(f"{qn('w:pBdr')}/{qn('w:bottom')}")
    assert border is not None and border.get(qn("w:val")) == "single"
    fmt = rule.paragraph_format
    assert fmt.left_indent == fmt.right_indent
    column = table.columns[0].width
    line = column - fmt.left_indent - fmt.right_indent
    assert column / 5 < line < column / 2


def test_draft_without_date_leaves_blanks(tmp_path):
    path = render_report(_report(issued_on=None, number_text=""), tmp_path / "draft.docx")
    table = docx.Document(str(path)).tables[0]
    assert table.rows[1].cells[1].text == "Trà Vinh, ngày … tháng … năm …"
    assert table.rows[1].cells[0].text.strip() == "Số:"


# --------------------------------------------------------------------------- title and body


def test_title_and_summary_bold_centred_with_rule(document):
    title = _paragraph_by_text(document, "BÁO CÁO")
    summary = _paragraph_by_text(document, "Tình hình thực hiện")
    for paragraph in (title, summary):
        assert paragraph.alignment == WD_ALIGN_PARAGRAPH.CENTER
        assert all(run.bold for run in paragraph.runs)
        assert paragraph.runs[0].font.size == Pt(14)
    paragraphs = document.paragraphs
    index = [p._p for p in paragraphs].index(summary._p)
    after = paragraphs[index + 1]
    assert after.text == "" and after._p.pPr.find(f"{qn('w:pBdr')}/{qn('w:bottom')}") is not None


def test_body_paragraph_format(document):
    intro = _paragraph_by_text(document, "Sở Thông tin và Truyền thông nhận được")
    assert _effective(intro, lambda f: f.alignment) == WD_ALIGN_PARAGRAPH.JUSTIFY
    assert _effective(intro, lambda f: f.first_line_indent) == Cm(1.27)
    assert _effective(intro, lambda f: f.space_after) == Pt(6)
    spacing = _effective(intro, lambda f: f.line_spacing)
    assert 1.0 <= spacing <= 1.5
    assert intro.runs[0].font.size is None  # 14 pt comes from Normal
    assert document.styles["Normal"].font.size == Pt(14)


def test_runs_keep_bold_from_blocks(document):
    paragraph = _paragraph_by_text(document, "Trình UBND tỉnh")
    assert [(r.text, bool(r.bold)) for r in paragraph.runs] == [
        ("Trình UBND tỉnh ", False),
        ("ban hành", True),
    ]


# --------------------------------------------------------------------------- outline numbering


def _headings(document) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name.startswith("RF Heading")]


def test_outline_numbering_is_generated(document):
    assert _headings(document) == [
        "I. KẾT QUẢ TRIỂN KHAI THỰC HIỆN NHIỆM VỤ",
        "1. Công tác tham mưu",
        "2. Công tác thực hiện nhiệm vụ chuyên môn",
        "2.1. Về Thông tin - Báo chí - Xuất bản",
        "2.2. Về Bưu chính - Viễn thông, Công nghệ thông tin",
        "* Bưu chính – Viễn thông",
        "a) Mạng lưới",
        "b) Dịch vụ",
        "2.3. Về công tác thanh tra",
        "II. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU",
        "III. ĐÁNH GIÁ KẾT QUẢ ĐẠT ĐƯỢC",
        "1. Ưu điểm",
    ]


def _heading_styles(path: Path) -> list[tuple[str, str, bool, bool]]:
    """(text, style, bold, italic) of each outline heading, as Word shows them."""
    document = docx.Document(str(path))
    return [
        (
            p.text,
            p.style.name,
            bool(_font_flag(p, p.runs[0], "bold")),
            bool(_font_flag(p, p.runs[0], "italic")),
        )
        for p in document.paragraphs
        if p.style.name.startswith("RF Heading")
    ]


def test_default_scheme_numbers_roman_arabic_letters_dashes(tmp_path):
    path = render_report(_report(numbering=DEFAULT_NUMBERING), tmp_path / "default.docx")
    assert _heading_styles(path) == [
        ("I. KẾT QUẢ TRIỂN KHAI THỰC HIỆN NHIỆM VỤ", "RF Heading 1", True, False),
        ("1. Công tác tham mưu", "RF Heading 2", True, False),
        ("2. Công tác thực hiện nhiệm vụ chuyên môn", "RF Heading 2", True, False),
        ("a) Về Thông tin - Báo chí - Xuất bản", "RF Heading 3", True, True),
        ("b) Về Bưu chính - Viễn thông, Công nghệ thông tin", "RF Heading 3", True, True),
        ("* Bưu chính – Viễn thông", "RF Heading Marker", True, False),
        ("- Mạng lưới", "RF Heading 4", False, False),
        ("- Dịch vụ", "RF Heading 4", False, False),
        ("c) Về công tác thanh tra", "RF Heading 3", True, True),
        ("II. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU", "RF Heading 1", True, False),
        ("III. ĐÁNH GIÁ KẾT QUẢ ĐẠT ĐƯỢC", "RF Heading 1", True, False),
        ("1. Ưu điểm", "RF Heading 2", True, False),
    ]


def test_dotted_scheme_chains_its_parents_and_deeper_levels_reuse_the_last(tmp_path):
    path = render_report(_report(numbering=("I.", "1.", "1.1.")), tmp_path / "dotted.docx")
    assert [text for text, *_ in _heading_styles(path)][3:9] == [
        "2.1. Về Thông tin - Báo chí - Xuất bản",
        "2.2. Về Bưu chính - Viễn thông, Công nghệ thông tin",
        "* Bưu chính – Viễn thông",
        "2.2.1. Mạng lưới",  # level 4 reuses "1.1." and the marker consumed no number
        "2.2.2. Dịch vụ",
        "2.3. Về công tác thanh tra",
    ]


def test_removing_a_node_renumbers_the_rest(tmp_path):
    outline = _outline()
    del outline[0].children[0]  # "1. Công tác tham mưu"
    del outline[0].children[0].children[0]  # "2.1. Về Thông tin ..."
    path = render_report(_report(outline=outline), tmp_path / "renumbered.docx")
    headings = _headings(docx.Document(str(path)))
    assert headings[:3] == [
        "I. KẾT QUẢ TRIỂN KHAI THỰC HIỆN NHIỆM VỤ",
        "1. Công tác thực hiện nhiệm vụ chuyên môn",
        "1.1. Về Bưu chính - Viễn thông, Công nghệ thông tin",
    ]
    assert "1.2. Về công tác thanh tra" in headings


def test_heading_styles(document):
    def flags(text):
        paragraph = _paragraph_by_text(document, text)
        run = paragraph.runs[0]
        return _font_flag(paragraph, run, "bold"), _font_flag(paragraph, run, "italic")

    assert flags("I. ") == (True, False)
    assert flags("1. Công tác") == (True, False)
    assert flags("2.1. ") == (True, True)
    assert flags("* Bưu chính") == (True, False)
    level1 = _paragraph_by_text(document, "I. ")
    assert level1.text == level1.text.upper()
    outline_level = level1.style.element.pPr.find(qn("w:outlineLvl"))
    assert outline_level is not None and outline_level.get(qn("w:val")) == "0"


def test_list_items_get_literal_prefixes(document):
    texts = [p.text for p in document.paragraphs if p.style.name == "RF List"]
    assert texts == [
        "- Số cá nhân, tổ chức được kiểm tra: 32 đơn vị.",
        "- Kết quả xử lý:",
        "+ Số tiền xử phạt vi phạm hành chính: 26.250.000đ",
        "a) thứ nhất",
        "b) thứ hai",
        "c) lại từ đầu",  # as its author wrote it, after a paragraph in between
    ]
    item = _paragraph_by_text(document, "- Số cá nhân")
    assert _effective(item, lambda f: f.alignment) == WD_ALIGN_PARAGRAPH.JUSTIFY
    assert _effective(item, lambda f: f.first_line_indent) == Cm(1.27)


def _list_texts(blocks: list, tmp_path: Path) -> tuple[list[str], list[str]]:
    """The list items of a section as the DOCX prints them and as the web page shows them."""
    import re

    from reportflow.document.writing.blocks_html import section_html

    content = _content(*blocks)
    path = render_report(
        _report(outline=[OutlineNode("Mục", 1, content=content)]), tmp_path / "l.docx"
    )
    in_docx = [p.text for p in docx.Document(str(path)).paragraphs if p.style.name == "RF List"]
    html = str(section_html(content))
    in_html = [re.sub(r"<[^>]+>", "", m) for m in re.findall(r'<p class="li[^"]*">(.*?)</p>', html)]
    return in_docx, in_html


def test_authors_lists_print_as_written_in_docx_and_html(tmp_path):
    from tests.test_document_input import _numbered_docx

    markdown = parse_markdown("1. Một\n2. Hai\n3. Ba\n\nĐoạn.\n\na) thứ nhất\nb) thứ hai").blocks
    word = parse_docx(_numbered_docx([0, 1, 0])).blocks
    expected = ["1. Một", "2. Hai", "3. Ba", "a) thứ nhất", "b) thứ hai"]
    assert _list_texts(markdown, tmp_path) == (expected, expected)
    assert _list_texts(word, tmp_path) == (["a) Mục 1", "a.1. Mục 2", "b) Mục 3"],) * 2


def test_word_decimal_list_prints_1_2_3_in_docx_and_html(tmp_path):
    document = docx.Document()
    for text in ("Một", "Hai", "Ba"):
        document.add_paragraph(text, style="List Number")
    path = tmp_path / "word.docx"
    document.save(str(path))
    blocks = parse_docx(path.read_bytes()).blocks
    assert _list_texts(blocks, tmp_path) == (["1. Một", "2. Hai", "3. Ba"],) * 2


def test_ordered_items_stored_without_markers_keep_todays_letters(tmp_path):
    stored = [
        {"kind": "list_item", "runs": [{"text": "một"}], "ordered": True},
        {"kind": "list_item", "runs": [{"text": "hai"}], "ordered": True},
        {"kind": "paragraph", "runs": [{"text": "Đoạn."}]},
        {"kind": "list_item", "runs": [{"text": "ba"}], "ordered": True},
        {"kind": "list_item", "runs": [{"text": "gạch"}], "level": 1},
    ]
    blocks = SectionContent.from_json(stored).blocks
    expected = ["a) một", "b) hai", "a) ba", "+ gạch"]  # a paragraph restarts the letters
    assert _list_texts(blocks, tmp_path) == (expected, expected)


def test_in_section_heading_is_bold(tmp_path):
    outline = [
        OutlineNode("Mục", 1, content=_content(Heading(runs=[Run("* Về Công nghệ thông tin:")])))
    ]
    path = render_report(_report(outline=outline), tmp_path / "h.docx")
    paragraph = _paragraph_by_text(docx.Document(str(path)), "* Về Công nghệ")
    assert _font_flag(paragraph, paragraph.runs[0], "bold")


# --------------------------------------------------------------------------- tables


def _data_table(document) -> DocxTable:
    tables = [t for t in document.tables if t.style is not None and t.style.name == "Table Grid"]
    assert len(tables) == 1
    return tables[0]


def test_data_table_has_grid_repeating_bold_header(document):
    table = _data_table(document)
    assert [c.text for c in table.rows[0].cells] == INDICATORS.header
    assert [[c.text for c in row.cells] for row in table.rows[1:]] == INDICATORS.rows
    first_tr = table.rows[0]._tr
    assert first_tr.trPr is not None and first_tr.trPr.find(qn("w:tblHeader")) is not None
    assert table.rows[1]._tr.trPr.find(qn("w:tblHeader")) is None
    for cell in table.rows[0].cells:
        paragraph = cell.paragraphs[0]
        assert _font_flag(paragraph, paragraph.runs[0], "bold")


def test_numeric_columns_right_aligned_and_13pt(document):
    """A figures column is right-aligned as a whole, its text note too (issue 21, part 7)."""
    table = _data_table(document)

    def align(row, col):
        return _effective(table.rows[row].cells[col].paragraphs[0], lambda f: f.alignment)

    assert align(1, 3) == WD_ALIGN_PARAGRAPH.RIGHT  # "84"
    assert align(2, 3) == WD_ALIGN_PARAGRAPH.RIGHT  # "98,82"
    assert align(2, 4) == WD_ALIGN_PARAGRAPH.RIGHT  # "96,47%"
    assert align(3, 3) == WD_ALIGN_PARAGRAPH.RIGHT  # "547,5"
    assert align(1, 1) != WD_ALIGN_PARAGRAPH.RIGHT  # text
    assert align(1, 2) != WD_ALIGN_PARAGRAPH.RIGHT  # "Xã": a column of units
    assert align(1, 4) == WD_ALIGN_PARAGRAPH.RIGHT  # "82/85 xã ...", among "228" and "96,47%"
    paragraph = table.rows[1].cells[1].paragraphs[0]
    assert paragraph.style.font.size == Pt(13)


def test_table_block_inside_section_content(tmp_path):
    inner = Table(header=["Tên", "Số"], rows=[["Tin bài", "1.626"], ["Ngắn"]])
    outline = [OutlineNode("Mục", 1, content=_content(Paragraph(runs=[Run("Trước")]), inner))]
    path = render_report(_report(outline=outline), tmp_path / "t.docx")
    table = _data_table(docx.Document(str(path)))
    assert [[c.text for c in r.cells] for r in table.rows] == [
        ["Tên", "Số"],
        ["Tin bài", "1.626"],
        ["Ngắn", ""],
    ]


# --------------------------------------------------------------------------- page header


def test_page_number_field_in_header_not_on_first_page(document):
    section = document.sections[0]
    assert section.different_first_page_header_footer is True
    header = section.header
    assert not header.is_linked_to_previous
    xml = header._element
    instructions = [el.text for el in xml.iter(qn("w:instrText"))]
    assert [i.strip() for i in instructions] == ["PAGE"]
    assert {el.get(qn("w:fldCharType")) for el in xml.iter(qn("w:fldChar"))} == {
        "begin",
        "separate",
        "end",
    }
    sizes = {el.get(qn("w:val")) for el in xml.iter(qn("w:sz"))}
    assert sizes == {"28"}  # 14 pt
    assert header.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.CENTER
    first = section.first_page_header
    assert not first.is_linked_to_previous
    assert not list(first._element.iter(qn("w:instrText")))
    assert first._element.xpath("string(.)").strip() == ""


def test_draft_mark_on_first_page_only_when_asked(tmp_path):
    path = render_report(_report(draft_watermark="DỰ THẢO"), tmp_path / "draft.docx")
    section = docx.Document(str(path)).sections[0]
    first = section.first_page_header.paragraphs[0]
    assert first.text == "DỰ THẢO" and first.runs[0].bold
    assert "DỰ THẢO" not in section.header._element.xpath("string(.)")


# --------------------------------------------------------------------------- signature


def test_signature_block(document):
    table = document.tables[-1]
    left, right = table.rows[0].cells
    label, *recipients = left.paragraphs
    assert label.text == "Nơi nhận:"
    run = label.runs[0]
    assert run.bold is True and run.italic is True and run.font.size == Pt(12)
    assert [p.text for p in recipients] == _report().recipients
    for paragraph in recipients:
        assert paragraph.runs[0].font.size == Pt(11)
        assert not paragraph.runs[0].bold and not paragraph.runs[0].italic
    texts = [p.text for p in right.paragraphs]
    assert texts[0] == "GIÁM ĐỐC" and texts[-1] == "Trần Văn Khoản"
    assert texts[1:-1] == [""] * 4
    for paragraph in (right.paragraphs[0], right.paragraphs[-1]):
        assert paragraph.runs[0].bold is True and paragraph.runs[0].font.size == Pt(14)
        assert paragraph.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert {b.get(qn("w:val")) for b in table._tbl.tblPr.find(qn("w:tblBorders"))} == {"nil"}


def test_two_line_signer_title(tmp_path):
    path = render_report(_report(signer_title="KT. Giám đốc\nPhó Giám đốc"), tmp_path / "kt.docx")
    right = docx.Document(str(path)).tables[-1].rows[0].cells[1]
    assert [p.text for p in right.paragraphs][:2] == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"]


@pytest.mark.parametrize(
    ("signer", "lines"),
    [
        ({"title": "GIÁM ĐỐC"}, ["GIÁM ĐỐC"]),
        (
            {"authority": "TM.", "on_behalf_of": "ỦY BAN NHÂN DÂN", "title": "CHỦ TỊCH"},
            ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"],
        ),
        (
            {"authority": "KT.", "on_behalf_of": "GIÁM ĐỐC", "title": "PHÓ GIÁM ĐỐC"},
            ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"],
        ),
        (
            {"authority": "TL.", "on_behalf_of": "GIÁM ĐỐC", "title": "CHÁNH VĂN PHÒNG"},
            ["TL. GIÁM ĐỐC", "CHÁNH VĂN PHÒNG"],
        ),
        (
            {"authority": "TUQ.", "on_behalf_of": "CHỦ TỊCH", "title": "GIÁM ĐỐC SỞ NỘI VỤ"},
            ["TUQ. CHỦ TỊCH", "GIÁM ĐỐC SỞ NỘI VỤ"],
        ),
        (
            {"authority": "Q.", "on_behalf_of": "GIÁM ĐỐC", "title": "PHÓ GIÁM ĐỐC"},
            ["Q. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"],
        ),
    ],
    ids=["own-name", "TM", "KT", "TL", "TUQ", "Q"],
)
def test_each_signing_authority_prints_its_lines_over_the_name(tmp_path, signer, lines):
    from reportflow.definitions.schema import SignerSpec

    spec = SignerSpec(person="x", **signer)
    path = render_report(_report(signer_title=spec.title_lines), tmp_path / "signer.docx")
    right = docx.Document(str(path)).tables[-1].rows[0].cells[1]
    texts = [p.text for p in right.paragraphs]
    assert texts[: len(lines)] == lines
    assert texts[len(lines) :] == ["", "", "", "", "Trần Văn Khoản"]


def test_an_authority_without_whose_place_is_refused():
    from pydantic import ValidationError

    from reportflow.definitions.schema import SignerSpec

    with pytest.raises(ValidationError, match="'authority'.*'on_behalf_of'"):
        SignerSpec(person="x", title="PHÓ GIÁM ĐỐC", authority="KT.")
    with pytest.raises(ValidationError):
        SignerSpec(person="x", title="PHÓ GIÁM ĐỐC", authority="K.T.", on_behalf_of="GIÁM ĐỐC")


# --------------------------------------------------------------------------- appendices

APPENDICES = [
    Appendix("Kết quả thực hiện các chỉ tiêu năm {{ year }}", table=INDICATORS),
    Appendix(
        "Danh mục dự án",
        outline=[OutlineNode("Dự án hạ tầng", 1, children=[OutlineNode("Trục liên thông", 2)])],
    ),
]


def _section_of(paragraph: DocxParagraph, document) -> int:
    """The index of the section a body paragraph belongs to."""
    index = 0
    for element in document.element.body.iterchildren():
        if element is paragraph._p:
            return index
        if element.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") is not None:
            index += 1
    raise AssertionError("paragraph not in the body")


@pytest.mark.parametrize("final", [True, False], ids=["final", "draft"])
def test_appendices_follow_the_signature_each_in_a_section_of_its_own(tmp_path, final):
    changes = {"appendices": APPENDICES, "issuing_body_name": "Sở Thông tin và Truyền thông"}
    if not final:
        changes |= {"number_text": "      /BC-STTTT-VP", "issued_on": None}
    path = render_report(_report(**changes), tmp_path / "phu-luc.docx")
    lines = docx_text_lines(path)
    signature = next(i for i, line in enumerate(lines) if line.startswith("Nơi nhận:"))
    reference = (
        "(Kèm theo Báo cáo số 859/BC-STTTT-VP ngày 05 tháng 6 năm 2020 "
        "của Sở Thông tin và Truyền thông)"
        if final
        else "(Kèm theo Báo cáo số       /BC-STTTT-VP ngày … tháng … năm … "
        "của Sở Thông tin và Truyền thông)"
    )
    assert lines[signature + 1 : signature + 4] == [
        "Phụ lục I",
        "KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU NĂM {{ YEAR }}",  # already rendered by the merge
        reference,
    ]
    assert lines[signature + 4] == "\t".join(INDICATORS.header)
    second = lines.index("Phụ lục II")
    assert lines[second : second + 5] == [
        "Phụ lục II",
        "DANH MỤC DỰ ÁN",
        reference,
        "I. DỰ ÁN HẠ TẦNG",
        "1. Trục liên thông",
    ]
    document = docx.Document(str(path))
    assert len(document.sections) == 3
    label = _paragraph_by_text(document, "Phụ lục II")
    assert label.alignment == WD_ALIGN_PARAGRAPH.CENTER and label.runs[0].bold
    assert label.runs[0].font.size == Pt(14)
    line = _paragraph_by_text(document, "(Kèm theo")
    assert line.runs[0].italic and not line.runs[0].bold
    assert _section_of(_paragraph_by_text(document, "Phụ lục I"), document) == 1
    assert _section_of(label, document) == 2
    # The body numbers its pages from 1 on; each appendix starts again at 1.
    starts = [s._sectPr.find(qn("w:pgNumType")) for s in document.sections]
    assert starts[0] is None
    assert [s.get(qn("w:start")) for s in starts[1:]] == ["1", "1"]
    # Only the document's own first page goes without a number; an appendix's first shows "1".
    assert [s.different_first_page_header_footer for s in document.sections] == [
        True,
        False,
        False,
    ]
    for section in document.sections:
        assert section.start_type == 2  # WD_SECTION.NEW_PAGE
        assert section.page_width == document.sections[0].page_width


def test_a_single_appendix_is_not_numbered(tmp_path):
    path = render_report(_report(appendices=APPENDICES[1:]), tmp_path / "mot.docx")
    lines = docx_text_lines(path)
    assert "Phụ lục" in lines and "Phụ lục I" not in lines
    assert len(docx.Document(str(path)).sections) == 2


def test_no_appendix_no_extra_section(document):
    assert len(document.sections) == 1
    assert document.sections[0]._sectPr.find(qn("w:pgNumType")) is None


# --------------------------------------------------------------------------- text and safety


def test_text_lines_in_reading_order(rendered):
    lines = docx_text_lines(rendered)
    assert (
        lines[0]
        == "UBND TỈNH TRÀ VINH SỞ THÔNG TIN VÀ TRUYỀN THÔNG\tCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh phúc"
    )
    assert lines[1] == "Số: 859/BC-STTTT-VP\tTrà Vinh, ngày 05 tháng 6 năm 2020"
    assert lines[2:4] == ["BÁO CÁO", SUMMARY]
    order = [
        "Sở Thông tin và Truyền thông nhận được",
        "I. KẾT QUẢ",
        "II. KẾT QUẢ",
        "TT\tChỉ tiêu\tĐơn vị tính",
        "2\t- Tỷ lệ xã có bưu điện văn hóa xã\t%\t98,82\t96,47%",
        "III. ĐÁNH GIÁ",
        "Trên đây là báo cáo",
        "Nơi nhận: - Sở KH&ĐT (b/c);",
    ]
    positions = [
        next(i for i, line in enumerate(lines) if line.startswith(prefix)) for prefix in order
    ]
    assert positions == sorted(positions)
    assert lines[-1].endswith("GIÁM ĐỐC Trần Văn Khoản")


def test_template_syntax_and_control_characters_are_plain_text(tmp_path):
    outline = [
        OutlineNode(
            "Mục {{ 7*7 }}",
            1,
            content=_content(
                Paragraph(runs=[Run("{% if x %}{{ 7*7 }}{% endif %}")]),
                ListItem(runs=[Run("a\x0bb")]),
            ),
        )
    ]
    path = render_report(_report(outline=outline, summary="Tóm tắt {{ 7*7 }}"), tmp_path / "t.docx")
    lines = docx_text_lines(path)
    assert "I. MỤC {{ 7*7 }}" in lines
    assert "{% if x %}{{ 7*7 }}{% endif %}" in lines
    assert "Tóm tắt {{ 7*7 }}" in lines
    assert "- ab" in lines  # the vertical tab is dropped, not a crash
    assert not any("49" in line for line in lines)


def test_markdown_section_round_trip_through_render(tmp_path):
    source = (
        "Tổ chức thanh tra, kiểm tra 08 cuộc đối với 32 đơn vị (tổ chức, cá nhân). Kết quả\n"
        "thanh, kiểm tra:\n\n"
        "- Số cá nhân, tổ chức được kiểm tra: 32 đơn vị.\n\n"
        "- Kết quả xử lý:\n\n"
        "+ Sở kiến nghị Thanh tra Bộ Thông tin và Truyền thông xử lý đối với: 03 đơn vị\n\n"
        "+ Số tiền xử phạt vi phạm hành chính: 26.250.000đ\n"
    )
    node = OutlineNode("Về công tác thanh tra", 2, content=parse_markdown(source))
    path = render_report(
        _report(outline=[OutlineNode("Kết quả", 1, children=[node])]), tmp_path / "r.docx"
    )
    lines = docx_text_lines(path)
    start = lines.index("1. Về công tác thanh tra")
    assert lines[start + 1 : start + 6] == [
        "Tổ chức thanh tra, kiểm tra 08 cuộc đối với 32 đơn vị (tổ chức, cá nhân). Kết quả thanh, kiểm tra:",
        "- Số cá nhân, tổ chức được kiểm tra: 32 đơn vị.",
        "- Kết quả xử lý:",
        "+ Sở kiến nghị Thanh tra Bộ Thông tin và Truyền thông xử lý đối với: 03 đơn vị",
        "+ Số tiền xử phạt vi phạm hành chính: 26.250.000đ",
    ]


def test_rendered_report_is_acceptable_input(rendered):
    blocks = parse_docx(rendered.read_bytes(), rendered.name).blocks
    tables = [b for b in blocks if isinstance(b, Table)]
    assert INDICATORS in tables


def test_render_writes_atomically_and_returns_the_path(tmp_path):
    target = tmp_path / "out.docx"
    target.write_bytes(b"old")
    assert render_report(_report(), target) == target
    assert target.read_bytes()[:2] == b"PK"
    assert [p.name for p in tmp_path.iterdir()] == ["out.docx"]


def test_large_report_keeps_every_paragraph_and_row(tmp_path):
    """Size, not speed: the timing lives in `make bench`."""
    paragraphs = [
        Paragraph(runs=[Run(f"Đoạn {i} "), Run("đậm", bold=True), Run(" và nội dung dài " * 5)])
        for i in range(3000)
    ]
    big_table = Table(
        header=["TT", "Chỉ tiêu", "Kết quả"],
        rows=[[str(i), f"Chỉ tiêu {i}", "96,47%"] for i in range(500)],
    )
    outline = [
        OutlineNode(f"Phần {n}", 1, content=_content(*paragraphs[n * 300 : (n + 1) * 300]))
        for n in range(10)
    ]
    outline[-1].table = big_table
    path = render_report(_report(outline=outline), tmp_path / "big.docx")
    lines = docx_text_lines(path)
    assert [int(line.split()[1]) for line in lines if line.startswith("Đoạn ")] == list(range(3000))
    reopened = docx.Document(str(path))
    (table,) = [t for t in reopened.tables if t.rows[0].cells[0].text == "TT"]
    assert len(table.rows) == 501
    assert table.rows[500].cells[1].text == "Chỉ tiêu 499"


def test_every_appendix_page_shows_its_number_in_libreoffice(tmp_path):
    """The page after the signature is an appendix's page 1 and says so at its top; the
    document's own first page stays without a number (Decree 30, Phụ lục I)."""
    from tests.factories import pdf_pages

    path = render_report(_report(appendices=APPENDICES), tmp_path / "phu-luc.docx")
    pdf, pages = pdf_pages(path)
    first_appendix = next(i for i, text in enumerate(pages) if "Phụ lục I " in text + " ")
    second_appendix = next(i for i, text in enumerate(pages) if text.startswith(("1 Phụ lục II",)))
    assert not pages[0].startswith("1 "), pages[0][:80]
    assert pages[first_appendix].startswith("1 Phụ lục I"), pages[first_appendix][:80]
    assert pages[second_appendix].startswith("1 Phụ lục II"), pages[second_appendix][:80]
    out = Path("out/document/appendix-page-numbers")
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", str(pdf), str(out / "page")], check=True, timeout=120
    )
