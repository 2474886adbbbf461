"""Small files built to cost a parser minutes or gigabytes, or to end it in a traceback: the
findings of issue 8, rebuilt from scratch for the regression tests."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import docx

from reportflow.document.reading.limits import MAX_TABLE_ROWS


def docx_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def small_docx(text: str = "Nội dung phần báo cáo.") -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    return docx_bytes(document)


def table_docx(rows: int = 2, cols: int = 2) -> bytes:
    document = docx.Document()
    document.add_paragraph("Bảng số liệu:")
    table = document.add_table(rows=rows, cols=cols)
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            cell.text = f"{r}.{c}"
    return docx_bytes(document)


def rezip(
    data: bytes,
    edit: dict[str, Callable[[bytes], bytes]] | None = None,
    drop: set[str] | None = None,
    stored: bool = False,
) -> bytes:
    """Copy a .docx zip, changing or dropping parts; ``stored`` leaves every part uncompressed."""
    edit, drop = edit or {}, drop or set()
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(out, "w", method) as target:
        for info in source.infolist():
            if info.filename in drop:
                continue
            payload = source.read(info.filename)
            if info.filename in edit:
                changed = edit[info.filename](payload)
                assert changed != payload, f"the edit of {info.filename} changed nothing"
                payload = changed
            target.writestr(info.filename, payload)
    return out.getvalue()


def gridspan_bomb_docx(span: int = 100_000_000) -> bytes:
    """The 36 KB file of the finding: one cell claims to span 100,000,000 columns."""
    return rezip(
        table_docx(),
        edit={
            "word/document.xml": lambda xml: xml.replace(
                b"<w:tcPr>", f'<w:tcPr><w:gridSpan w:val="{span}"/>'.encode(), 1
            )
        },
    )


def many_rows_docx(rows: int = MAX_TABLE_ROWS + 1, span: int = 1) -> bytes:
    """A table of ``rows`` rows of two cells, made by repeating the XML of one row; the first
    cell of each row spans ``span`` columns."""

    def repeat_rows(xml: bytes) -> bytes:
        start = xml.index(b"<w:tr>")
        end = xml.index(b"</w:tr>", start) + len(b"</w:tr>")
        row = xml[start:end]
        if span > 1:
            row = row.replace(b"<w:tcPr>", f'<w:tcPr><w:gridSpan w:val="{span}"/>'.encode(), 1)
        body_end = xml.index(b"</w:tbl>")
        return xml[:start] + row * rows + xml[body_end:]

    return rezip(table_docx(), edit={"word/document.xml": repeat_rows})


def _member_data_offset(data: bytes, name: str) -> int:
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    name_len = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    return info.header_offset + 30 + name_len + extra_len


def bad_crc_docx(compressed: bool = False) -> bytes:
    """A byte of word/document.xml flipped in the zip: stored, the data reads and its CRC-32
    is wrong; compressed, the deflate stream itself is broken."""
    data = small_docx() if compressed else rezip(small_docx(), stored=True)
    damaged = bytearray(data)
    offset = _member_data_offset(data, "word/document.xml") + 40
    damaged[offset] ^= 0x55
    return bytes(damaged)


def truncated_docx() -> bytes:
    data = small_docx()
    return data[: len(data) * 2 // 3]


def missing_part_docx() -> bytes:
    """The document's relationships still point to word/styles.xml, which is gone."""
    return rezip(small_docx(), drop={"word/styles.xml"})


ALIAS_BOMB_YAML = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
phat-thanh-dan-toc: [*e,*e,*e,*e,*e,*e,*e,*e,*e]
"""
"""250 bytes; 9^6 = 531,441 strings once the aliases are expanded."""

THIRTY_DIGITS_YAML = "phat-thanh-dan-toc: 123456789012345678901234567890\n"


def deep_list_markdown(levels: int) -> str:
    """A list whose items each sit one level deeper (two more spaces) than the one before."""
    return "\n".join(f"{'  ' * level}- cấp {level + 1}" for level in range(levels)) + "\n"


def long_table_markdown(rows: int) -> str:
    """A pipe table of ``rows`` rows, the header included."""
    body = "".join(f"| {n} | giá trị {n} |\n" for n in range(1, rows))
    return "| TT | Nội dung |\n|---|---|\n" + body
