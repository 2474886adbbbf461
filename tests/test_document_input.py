"""Markdown and .docx submissions into blocks, and the refusals of hostile or unusable files."""

import io
import shutil
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from docx.shared import Pt

from reportflow.document.blocks import ListItem, Paragraph, Run, SectionContent, Table
from reportflow.document.reading.errors import SectionInputError
from reportflow.document.reading.markdown import parse_markdown
from reportflow.document.reading.word import parse_docx
from reportflow.document.reading.word_file import opening

# --------------------------------------------------------------------------- markdown


def test_markdown_paragraphs_join_wrapped_lines_and_keep_emphasis():
    content = parse_markdown(
        "Sở Thông tin và Truyền thông **nhận được**\nCông văn *số 850* và _khẩn_.\n\nĐoạn hai."
    )
    assert content.blocks == [
        Paragraph(
            runs=[
                Run("Sở Thông tin và Truyền thông "),
                Run("nhận được", bold=True),
                Run(" Công văn "),
                Run("số 850", italic=True),
                Run(" và "),
                Run("khẩn", italic=True),
                Run("."),
            ]
        ),
        Paragraph(runs=[Run("Đoạn hai.")]),
    ]


def test_markdown_lists_and_levels():
    content = parse_markdown(
        "- Kết quả xử lý:\n+ Sở kiến nghị: 03 đơn vị\n  - thụt vào\n- tiếp\n  nối dòng\n"
        "a) thứ nhất\n1. thứ hai\n2) thứ ba"
    )
    got = [(b.level, b.ordered, "".join(r.text for r in b.runs)) for b in content.blocks]
    assert got == [
        (0, False, "Kết quả xử lý:"),
        (1, False, "Sở kiến nghị: 03 đơn vị"),
        (1, False, "thụt vào"),
        (0, False, "tiếp nối dòng"),
        (0, True, "thứ nhất"),
        (0, True, "thứ hai"),
        (0, True, "thứ ba"),
    ]
    assert all(isinstance(b, ListItem) for b in content.blocks)


def test_markdown_headings():
    content = parse_markdown(
        "# Tiêu đề\n\n#### **\\* Bưu chính – Viễn thông**\n\n* Về Công nghệ thông tin:\n\n"
        "**Về ứng dụng công nghệ thông tin**\n\nVăn bản thường."
    )
    kinds = [type(b).__name__ for b in content.blocks]
    assert kinds == ["Heading", "Heading", "Heading", "Heading", "Paragraph"]
    texts = [content.blocks[i].runs for i in range(4)]
    assert "".join(r.text for r in texts[0]) == "Tiêu đề"
    assert "".join(r.text for r in texts[1]) == "* Bưu chính – Viễn thông"
    assert "".join(r.text for r in texts[2]) == "* Về Công nghệ thông tin:"
    assert "".join(r.text for r in texts[3]) == "Về ứng dụng công nghệ thông tin"


def test_markdown_inline_bold_in_a_sentence_is_not_a_heading():
    content = parse_markdown("**Chú ý**: đây là đoạn văn.")
    assert isinstance(content.blocks[0], Paragraph)
    assert content.blocks[0].runs[0] == Run("Chú ý", bold=True)


def test_markdown_pipe_table():
    content = parse_markdown(
        "Trước bảng\n\n| TT | Chỉ tiêu | Kế hoạch |\n|---|:---|---:|\n"
        "| 1 | **Số xã** có bưu điện \\| VHX | 84 |\n| 2 | Tỷ lệ | 98,82 |\n\nSau bảng"
    )
    assert isinstance(content.blocks[0], Paragraph)
    table = content.blocks[1]
    assert table == Table(
        header=["TT", "Chỉ tiêu", "Kế hoạch"],
        rows=[["1", "Số xã có bưu điện | VHX", "84"], ["2", "Tỷ lệ", "98,82"]],
    )
    assert isinstance(content.blocks[2], Paragraph)


def test_markdown_tab_separated_table_as_pasted_from_word():
    content = parse_markdown(
        "TT\tChỉ tiêu\tĐơn vị tính\n1\t- Số xã có bưu điện văn hóa xã\tXã\n2\t- Tỷ lệ\t%"
    )
    assert content.blocks == [
        Table(
            header=["TT", "Chỉ tiêu", "Đơn vị tính"],
            rows=[["1", "- Số xã có bưu điện văn hóa xã", "Xã"], ["2", "- Tỷ lệ", "%"]],
        )
    ]


@pytest.mark.parametrize(
    "text", ["{{ 7*7 }}", "{% for x in y %}{{ x }}{% endfor %}", "${7*7} #{7*7} <%= 7*7 %>"]
)
def test_markdown_text_is_never_evaluated(text):
    content = parse_markdown(f"Giá trị {text} giữ nguyên.")
    assert content.plain_text() == f"Giá trị {text} giữ nguyên."


def test_markdown_unmatched_markers_stay_literal():
    content = parse_markdown("2*3 = 6, snake_case_name và **chưa đóng")
    assert content.plain_text() == "2*3 = 6, snake_case_name và **chưa đóng"


def test_markdown_rejects_control_characters_with_position():
    with pytest.raises(SectionInputError) as info:
        parse_markdown("Dòng một\nDòng\x07 hai")
    err = info.value
    assert err.code == "illegal_character"
    assert "U+0007" in str(err) and "dòng 2" in str(err) and "cột 5" in str(err)
    assert "xóa" in str(err)


def test_markdown_rejects_oversized_input():
    with pytest.raises(SectionInputError) as info:
        parse_markdown("a" * 2_001, max_bytes=2_000)
    assert info.value.code == "too_large"
    assert "quá lớn" in str(info.value)
    assert parse_markdown("a" * 2_000, max_bytes=2_000).plain_text() == "a" * 2_000


def test_markdown_blocks_survive_json_round_trip():
    content = parse_markdown(
        "# H\n\n- **a** b\n+ c\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\nĐoạn *n*."
    )
    assert SectionContent.from_json(content.to_json()).blocks == content.blocks


def test_markdown_ordered_items_keep_their_authors_markers():
    content = parse_markdown("1. Một\n2. Hai\n3) Ba\n\na) thứ nhất\nb) thứ hai\n- gạch")
    assert [(b.ordered, b.marker) for b in content.blocks] == [
        (True, "1."),
        (True, "2."),
        (True, "3)"),
        (True, "a)"),
        (True, "b)"),
        (False, ""),
    ]
    assert SectionContent.from_json(content.to_json()).blocks == content.blocks


def test_markdown_items_all_written_with_one_marker_are_counted_on():
    content = parse_markdown(
        "1. Một\n1. Hai\n   a) con\n   a) con nữa\n1. Ba\n\nĐoạn.\n\n5. Năm\n5. Sáu\n7. Bảy"
    )
    got = [(b.level, b.marker) for b in content.blocks if isinstance(b, ListItem)]
    assert got == [
        (0, "1."),
        (0, "2."),
        (1, "a)"),
        (1, "b)"),
        (0, "3."),
        (0, "5."),
        (0, "6."),
        (0, "7."),
    ]


def test_markdown_on_commonmark_keeps_the_products_reading():
    content = parse_markdown(
        "Đoạn mở đầu\n    - thụt bốn cách\nb) sau đoạn\n\n> trích dẫn <b>đậm</b>\n\n"
        "    thụt như mã\n\n```\nrào\n```\n\n[a]: http://x\n\n" + "- " * 5_000 + "sâu"
    )
    got = [(type(b).__name__, getattr(b, "marker", None), _text(b)) for b in content.blocks]
    assert got == [
        ("Paragraph", None, "Đoạn mở đầu"),
        ("ListItem", "", "thụt bốn cách"),
        ("ListItem", "b)", "sau đoạn"),
        ("Paragraph", None, "> trích dẫn <b>đậm</b>"),
        ("Paragraph", None, "thụt như mã"),
        ("Paragraph", None, "``` rào ```"),
        ("Paragraph", None, "[a]: http://x"),
        ("ListItem", "", ("- " * 4_999 + "sâu")),  # one item, not 5,000 nested lists
    ]
    assert content.blocks[1].level == 1


def test_a_list_item_stored_before_markers_were_recorded_still_loads():
    stored = [{"kind": "list_item", "runs": [{"text": "cũ"}], "level": 0, "ordered": True}]
    (item,) = SectionContent.from_json(stored).blocks
    assert item == ListItem([Run("cũ")], level=0, ordered=True, marker="")


# --------------------------------------------------------------------------- docx helpers


def _save(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _rewrite(
    data: bytes,
    edits: dict[str, Callable[[bytes], bytes]] | None = None,
    add: dict[str, bytes] | None = None,
) -> bytes:
    """Copy a .docx zip, changing some parts and adding others."""
    edits, add = edits or {}, add or {}
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            payload = source.read(info.filename)
            if info.filename in edits:
                changed = edits[info.filename](payload)
                assert changed != payload, f"edit of {info.filename} changed nothing"
                payload = changed
            target.writestr(info.filename, payload)
        for name, payload in add.items():
            target.writestr(name, payload)
    return out.getvalue()


def _replace(old: str, new: str) -> Callable[[bytes], bytes]:
    return lambda payload: payload.replace(old.encode(), new.encode(), 1)


def _tiny_png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _simple_docx(text: str = "MARKER") -> bytes:
    document = docx.Document()
    document.add_paragraph("Đoạn mở đầu.")
    document.add_paragraph(text)
    return _save(document)


def _text(block) -> str:
    return "".join(r.text for r in block.runs)


# --------------------------------------------------------------------------- docx parsing


@pytest.fixture
def rich_docx(tmp_path: Path) -> bytes:
    document = docx.Document()
    document.add_heading("Về Bưu chính - Viễn thông", level=2)
    p = document.add_paragraph("Tiếp nhận ")
    run = p.add_run("79 hồ sơ")
    run.bold = True
    run.font.size = Pt(20)
    run.font.name = "Arial"
    p.add_run(" thủ tục ").italic = False
    p.add_run("hành chính").italic = True
    document.add_paragraph("")  # empty paragraphs are dropped
    document.add_paragraph("Mục gạch đầu dòng", style="List Bullet")
    document.add_paragraph("Mục cấp hai", style="List Bullet 2")
    document.add_paragraph("Mục đánh số", style="List Number")
    document.add_paragraph("- Gạch gõ tay")
    document.add_paragraph("+ Cộng gõ tay")
    document.add_paragraph("* Về Công nghệ thông tin:")
    table = document.add_table(rows=3, cols=3)
    values = [["TT", "Chỉ tiêu", "Kết quả"], ["1", "Số xã", "82/85"], ["2", "Tỷ lệ", "96,47%"]]
    for row, texts in zip(table.rows, values, strict=True):
        for cell, value in zip(row.cells, texts, strict=True):
            cell.text = value
    document.add_paragraph("Sau bảng.")
    hidden = document.add_paragraph("Hiện ").add_run("ẩn")
    hidden.font.hidden = True
    data = _save(document)
    (tmp_path / "rich.docx").write_bytes(data)
    return data


def test_docx_walks_paragraphs_lists_tables_in_order(rich_docx):
    blocks = parse_docx(rich_docx, "rich.docx").blocks
    summary = [
        (type(b).__name__, getattr(b, "level", None), getattr(b, "ordered", None)) for b in blocks
    ]
    assert summary == [
        ("Heading", None, None),
        ("Paragraph", None, None),
        ("ListItem", 0, False),
        ("ListItem", 1, False),
        ("ListItem", 0, True),
        ("ListItem", 0, False),
        ("ListItem", 1, False),
        ("Heading", None, None),
        ("Table", None, None),
        ("Paragraph", None, None),
        ("Paragraph", None, None),
    ]
    assert _text(blocks[0]) == "Về Bưu chính - Viễn thông"
    assert _text(blocks[5]) == "Gạch gõ tay"
    assert _text(blocks[6]) == "Cộng gõ tay"
    assert _text(blocks[7]) == "* Về Công nghệ thông tin:"
    assert blocks[8] == Table(
        header=["TT", "Chỉ tiêu", "Kết quả"],
        rows=[["1", "Số xã", "82/85"], ["2", "Tỷ lệ", "96,47%"]],
    )
    assert _text(blocks[10]) == "Hiện", "hidden text must not leak into the report"


def test_docx_keeps_bold_and_italic_but_no_fonts(rich_docx):
    paragraph = parse_docx(rich_docx).blocks[1]
    assert paragraph.runs == [
        Run("Tiếp nhận "),
        Run("79 hồ sơ", bold=True),
        Run(" thủ tục "),
        Run("hành chính", italic=True),
    ]
    assert "Arial" not in str(SectionContent([paragraph]).to_json())


def test_docx_bold_from_character_style_and_numbering_part():
    document = docx.Document()
    document.add_paragraph().add_run("Nhấn mạnh").style = "Strong"
    numbered = document.add_paragraph("Mục có numPr")
    num_pr = numbered._p.get_or_add_pPr().get_or_add_numPr()
    num_pr.get_or_add_ilvl().val = 1
    list_number_num_id = document.styles["List Number"].element.pPr.numPr.numId.val
    num_pr.get_or_add_numId().val = list_number_num_id
    blocks = parse_docx(_save(document)).blocks
    assert blocks[0] == Paragraph(runs=[Run("Nhấn mạnh", bold=True)])
    assert blocks[1] == ListItem(runs=[Run("Mục có numPr")], level=1, ordered=True, marker="1.")


def test_docx_merged_cells_do_not_duplicate_text():
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 1))
    merged.text = "Gộp"
    table.cell(0, 2).text = "C"
    for cell, value in zip(table.rows[1].cells, ["1", "2", "3"], strict=True):
        cell.text = value
    (block,) = parse_docx(_save(document)).blocks
    assert block == Table(header=["Gộp", "", "C"], rows=[["1", "2", "3"]])


# --------------------------------------------------------------------------- docx refusals


def _refusal(data: bytes, filename: str = "phan.docx", **kwargs) -> SectionInputError:
    with pytest.raises(SectionInputError) as info:
        parse_docx(data, filename, **kwargs)
    assert str(info.value).strip(), "the message must not be empty"
    assert "Traceback" not in str(info.value)
    return info.value


def test_refuses_renamed_text_file():
    err = _refusal("Đây là văn bản thuần\n".encode(), "bao-cao.docx")
    assert err.code == "not_docx"
    assert "văn bản thuần" in str(err) and ".docx" in str(err)


def test_refuses_old_doc_and_pdf():
    assert "Word cũ (.doc)" in str(_refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600))
    assert "PDF" in str(_refusal(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"))


def test_refuses_zip_without_word_document():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("notes.txt", "xin chào")
    err = _refusal(buffer.getvalue())
    assert err.code == "not_docx" and "word/document.xml" in str(err)


def test_refuses_wrong_main_content_type():
    data = _rewrite(
        _simple_docx(),
        edits={
            "[Content_Types].xml": _replace(
                "wordprocessingml.document.main+xml", "spreadsheetml.sheet.main+xml"
            )
        },
    )
    err = _refusal(data)
    assert err.code == "not_docx" and "spreadsheetml" in str(err)


def test_refuses_file_over_max_bytes():
    data = _simple_docx()
    err = _refusal(data, max_bytes=len(data) - 1)
    assert err.code == "too_large" and "vượt giới hạn" in str(err)
    assert parse_docx(data, max_bytes=len(data)).blocks  # the limit itself is allowed


def test_refuses_zip_bomb_by_ratio_before_decompressing(monkeypatch):
    buffer = io.BytesIO(_simple_docx())
    with (
        zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as zf,
        zf.open("word/media/bomb.bin", "w") as f,
    ):
        chunk = b"\0" * 1_000_000
        for _ in range(20):
            f.write(chunk)

    def no_decompression(*args, **kwargs):
        raise AssertionError("an entry was opened before the bomb check")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_decompression)
    err = _refusal(buffer.getvalue())
    assert err.code == "zip_bomb"
    assert "word/media/bomb.bin" in str(err) and "nén bất thường" in str(err)


def test_refuses_zip_bomb_by_total_size(monkeypatch):
    # The real limit is 50 MB; a package just over it would make every test run write and
    # read that much. The check is the same code with a lower bound.
    monkeypatch.setattr(opening, "MAX_UNCOMPRESSED_BYTES", 20_000)
    data = _rewrite(_simple_docx(), add={"word/media/big.bin": bytes(range(256)) * 100})
    err = _refusal(data)
    assert err.code == "zip_bomb" and "giải nén" in str(err)


def test_refuses_docm_by_name_and_by_vba_part():
    data = _simple_docx()
    assert _refusal(data, "bao-cao.docm").code == "macro_enabled"
    with_vba = _rewrite(data, add={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0 not really"})
    err = _refusal(with_vba, "bao-cao.docx")
    assert err.code == "macro_enabled" and "macro" in str(err)


def test_refuses_macro_enabled_content_type():
    data = _rewrite(
        _simple_docx(),
        edits={
            "[Content_Types].xml": _replace(
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
                "application/vnd.ms-word.document.macroEnabled.main+xml",
            )
        },
    )
    assert _refusal(data).code == "macro_enabled"


@pytest.mark.parametrize(
    ("wrapper", "named"),
    [
        ('<w:ins w:id="9" w:author="A" w:date="2020-06-01T00:00:00Z">{run}</w:ins>', "w:ins"),
        (
            '<w:del w:id="9" w:author="A" w:date="2020-06-01T00:00:00Z">'
            "<w:r><w:delText>cũ</w:delText></w:r></w:del>{run}",
            "w:del",
        ),
        ('<w:moveTo w:id="9" w:author="A">{run}</w:moveTo>', "w:moveTo"),
    ],
)
def test_refuses_tracked_changes(wrapper, named):
    run = "<w:r><w:t>MARKER</w:t></w:r>"
    data = _rewrite(
        _simple_docx(), edits={"word/document.xml": _replace(run, wrapper.format(run=run))}
    )
    err = _refusal(data)
    assert err.code == "tracked_changes"
    assert named in str(err) and "Chấp nhận" in str(err)


def test_refuses_comments():
    document = docx.Document()
    paragraph = document.add_paragraph("Cần sửa")
    document.add_comment(paragraph.runs, text="Sửa lại số liệu", author="Lãnh đạo")
    err = _refusal(_save(document))
    assert err.code == "comments" and "ghi chú" in str(err) and "1 ghi chú" in str(err)


def test_refuses_comment_anchor_without_comments_part():
    run = "<w:r><w:t>MARKER</w:t></w:r>"
    anchored = f'<w:commentRangeStart w:id="0"/>{run}<w:commentRangeEnd w:id="0"/>'
    data = _rewrite(_simple_docx(), edits={"word/document.xml": _replace(run, anchored)})
    assert _refusal(data).code == "comments"


def test_refuses_embedded_image():
    document = docx.Document()
    document.add_paragraph("Ảnh minh họa:")
    document.add_picture(io.BytesIO(_tiny_png()))
    err = _refusal(_save(document))
    assert err.code == "unsupported_content"
    assert "1 hình ảnh" in str(err)


def test_refuses_chart_and_ole_object_naming_each():
    chart = (
        '<w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/'
        'wordprocessingDrawing"><a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/'
        '2006/main"><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart"/>'
        "</a:graphic></wp:inline></w:drawing></w:r>"
    )
    ole = '<w:r><w:object><o:OLEObject xmlns:o="urn:schemas-microsoft-com:office:office" ProgID="Excel.Sheet.12"/></w:object></w:r>'
    run = "<w:r><w:t>MARKER</w:t></w:r>"
    data = _rewrite(_simple_docx(), edits={"word/document.xml": _replace(run, run + chart + ole)})
    message = str(_refusal(data))
    assert "1 biểu đồ" in message and "OLE" in message


def test_refuses_footnotes():
    run = "<w:r><w:t>MARKER</w:t></w:r>"
    note = '<w:r><w:footnoteReference w:id="1"/></w:r>'
    data = _rewrite(_simple_docx(), edits={"word/document.xml": _replace(run, run + note)})
    assert "chú thích" in str(_refusal(data))


@pytest.mark.parametrize(
    "bad",
    ["MAR\x01KER", "MAR&#1;KER", "MARKER</w:t></w:r></w:p>"],
    ids=["raw", "charref", "broken"],
)
def test_refuses_malformed_or_illegal_xml_cleanly(bad):
    data = _rewrite(_simple_docx(), edits={"word/document.xml": _replace("MARKER", bad)})
    err = _refusal(data)
    assert err.code == "malformed_xml"
    assert "word/document.xml" in str(err) and "dòng" in str(err)


def test_refuses_empty_file():
    assert _refusal(b"").code == "empty"


def test_accepts_what_it_refuses_once_cleaned():
    """The hostile fixtures are refused for their hostile part only: the base file parses."""
    blocks = parse_docx(_simple_docx()).blocks
    assert [_text(b) for b in blocks] == ["Đoạn mở đầu.", "MARKER"]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is installed by .ci/run")
def test_docx_saved_by_libreoffice_comes_in_whole(tmp_path):
    """Not every division uses Word: LibreOffice writes its own dialect of .docx."""
    from reportflow.cycle.pdf_export import convert_with_libreoffice
    from reportflow.document.blocks import Heading

    source = tmp_path / "muc.html"
    source.write_text(
        '<html><head><meta charset="utf-8"></head><body>'
        "<h2>Kết quả nổi bật</h2>"
        "<p>Trong 6 tháng, Phòng đã <b>hoàn thành</b> các nhiệm vụ <i>trọng tâm</i>.</p>"
        "<ul><li>Cấp 12 giấy phép bưu chính;</li>"
        "<li>Kiểm tra 5 doanh nghiệp:<ul><li>3 doanh nghiệp viễn thông;</li></ul></li></ul>"
        "<ol><li>Tổ chức hội nghị;</li></ol>"
        '<table border="1"><tr><th>Chỉ tiêu</th><th>Kết quả</th></tr>'
        "<tr><td>Số điểm BĐVHX</td><td>82</td></tr></table></body></html>",
        encoding="utf-8",
    )
    saved = convert_with_libreoffice(source, tmp_path / "out", "docx:MS Word 2007 XML", ".docx")
    blocks = parse_docx(saved.read_bytes(), saved.name).blocks
    assert blocks == [
        Heading([Run("Kết quả nổi bật")]),
        Paragraph(
            [
                Run("Trong 6 tháng, Phòng đã "),
                Run("hoàn thành", bold=True),
                Run(" các nhiệm vụ "),
                Run("trọng tâm", italic=True),
                Run("."),
            ]
        ),
        ListItem([Run("Cấp 12 giấy phép bưu chính;")], level=0),
        ListItem([Run("Kiểm tra 5 doanh nghiệp:")], level=0),
        ListItem([Run("3 doanh nghiệp viễn thông;")], level=1),
        ListItem([Run("Tổ chức hội nghị;")], level=0, ordered=True, marker="1."),
        Table(header=["Chỉ tiêu", "Kết quả"], rows=[["Số điểm BĐVHX", "82"]]),
    ]


def _numbered_docx(levels: list[int]) -> bytes:
    """A Word file whose list has "a)" at level 0 and "b.1." (legal style) at level 1, as
    numbering.xml declares them; one paragraph per entry of ``levels``."""
    from docx.oxml import parse_xml

    document = docx.Document()
    numbering = document.part.numbering_part.element
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    numbering.insert(
        0,
        parse_xml(
            f'<w:abstractNum {w} w:abstractNumId="90">'
            '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/>'
            '<w:lvlText w:val="%1)"/></w:lvl>'
            '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
            '<w:lvlText w:val="%1.%2."/></w:lvl></w:abstractNum>'
        ),
    )
    numbering.append(parse_xml(f'<w:num {w} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    for no, level in enumerate(levels, start=1):
        num_pr = document.add_paragraph(f"Mục {no}")._p.get_or_add_pPr().get_or_add_numPr()
        num_pr.get_or_add_ilvl().val = level
        num_pr.get_or_add_numId().val = 90
    return _save(document)


def test_word_lists_keep_the_labels_word_shows():
    blocks = parse_docx(_numbered_docx([0, 0, 1, 1, 0, 1])).blocks
    assert [(b.level, b.marker, _text(b)) for b in blocks] == [
        (0, "a)", "Mục 1"),
        (0, "b)", "Mục 2"),
        (1, "b.1.", "Mục 3"),
        (1, "b.2.", "Mục 4"),
        (0, "c)", "Mục 5"),
        (1, "c.1.", "Mục 6"),  # a deeper level starts again under each item above it
    ]


def test_word_decimal_list_is_numbered_1_2_3():
    document = docx.Document()
    for text in ("Một", "Hai", "Ba"):
        document.add_paragraph(text, style="List Number")
    blocks = parse_docx(_save(document)).blocks
    assert [(b.ordered, b.marker) for b in blocks] == [(True, "1."), (True, "2."), (True, "3.")]


def test_a_word_upload_is_decompressed_once(monkeypatch):
    """One read of the package: each part is decompressed one time, for the checks and for
    python-docx alike (issue 20: the zip used to be read by our checks and then again by
    `docx.Document`)."""
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def counting_open(self, name, *args, **kwargs):
        opened.append(name.filename if isinstance(name, zipfile.ZipInfo) else name)
        return real_open(self, name, *args, **kwargs)

    data = _simple_docx("MỘT LẦN")
    parts = zipfile.ZipFile(io.BytesIO(data)).namelist()
    monkeypatch.setattr(zipfile.ZipFile, "open", counting_open)
    content = parse_docx(data, "phan.docx")
    assert "MỘT LẦN" in content.plain_text()
    assert sorted(opened) == sorted(parts)


def test_refuses_a_doctype_in_the_body():
    doctype = b'<!DOCTYPE w:document [<!ENTITY x "MARKER">]>'
    data = _rewrite(
        _simple_docx(),
        edits={"word/document.xml": lambda xml: xml.replace(b"?>", b"?>" + doctype, 1)},
    )
    err = _refusal(data)
    assert err.code == "malformed_xml"
    assert "DOCTYPE" in str(err) and "word/document.xml" in str(err)
