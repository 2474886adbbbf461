"""Refusals based on what a Word body contains: tracked changes, comments and content the
report layout cannot carry (images, charts, OLE objects, text boxes, footnotes, equations)."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from lxml import etree

from reportflow.document.reading.errors import SectionInputError
from reportflow.document.reading.word_file.opening import DocxPackage

NS = {
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006",
    "v": "urn:schemas-microsoft-com:vml",
    "o": "urn:schemas-microsoft-com:office:office",
    "m": "http://schemas.openxmlformats.org/officeDocument/2006/math",
}

_TRACKED = {
    "ins": "chỗ chèn",
    "del": "chỗ xóa",
    "moveFrom": "chỗ di chuyển đi",
    "moveTo": "chỗ di chuyển đến",
}

_GRAPHIC_KINDS = {
    "http://schemas.openxmlformats.org/drawingml/2006/picture": "hình ảnh",
    "http://schemas.openxmlformats.org/drawingml/2006/chart": "biểu đồ",
    "http://schemas.microsoft.com/office/drawing/2014/chartex": "biểu đồ",
    "http://schemas.openxmlformats.org/drawingml/2006/diagram": "sơ đồ SmartArt",
    "http://schemas.microsoft.com/office/word/2010/wordprocessingShape": "hình vẽ hoặc hộp văn bản",
    "http://schemas.microsoft.com/office/word/2010/wordprocessingGroup": "nhóm hình vẽ",
    "http://schemas.microsoft.com/office/word/2010/wordprocessingCanvas": "khung vẽ",
}

# An mc:Fallback repeats its mc:Choice for older readers; count each thing once.
_NOT_FALLBACK = "[not(ancestor::mc:Fallback)]"


@lru_cache(maxsize=64)
def _compiled(path: str) -> etree.XPath:
    return etree.XPath(path, namespaces=NS)


def xpath(element: etree._Element, path: str) -> list:
    """XPath with our prefixes; python-docx's own ``xpath`` takes no namespace argument."""
    return _compiled(path)(element)


def check_tracked_changes(body: etree._Element) -> None:
    counts = {tag: len(xpath(body, f".//w:{tag}")) for tag in _TRACKED}
    found = [f"{n} {_TRACKED[tag]} (w:{tag})" for tag, n in counts.items() if n]
    if found:
        raise SectionInputError(
            "Tệp còn thay đổi đang được theo dõi (Track Changes) chưa xử lý: "
            f"{', '.join(found)}. Hãy mở tệp bằng Word, vào Xem lại (Review) → Chấp nhận "
            "(Accept) hoặc Từ chối (Reject) tất cả thay đổi, tắt Theo dõi thay đổi, "
            "lưu lại rồi nộp lại.",
            code="tracked_changes",
        )


def check_comments(package: DocxPackage, body: etree._Element) -> None:
    anchors = len(set(xpath(body, ".//w:commentReference/@w:id | .//w:commentRangeStart/@w:id")))
    comments = 0
    if package.has("word/comments.xml"):
        comments = len(xpath(package.read_xml("word/comments.xml"), "//w:comment"))
    if anchors or comments:
        count = max(comments, anchors)
        raise SectionInputError(
            f"Tệp còn {count} ghi chú (comment) của người xem xét. Hãy mở tệp bằng Word, vào "
            "Xem lại (Review) → Xóa (Delete) → Xóa tất cả ghi chú trong tài liệu, lưu lại "
            "rồi nộp lại.",
            code="comments",
        )


def _unsupported_content(body: etree._Element) -> Counter[str]:
    found: Counter[str] = Counter()
    for drawing in xpath(body, f".//w:drawing{_NOT_FALLBACK}"):
        uris = xpath(drawing, ".//a:graphicData/@uri")
        kind = _GRAPHIC_KINDS.get(str(uris[0]) if uris else "", "đối tượng đồ họa")
        found[kind] += 1
    for pict in xpath(body, f".//w:pict{_NOT_FALLBACK}"):
        if xpath(pict, ".//o:OLEObject"):
            continue  # counted with its w:object below
        if xpath(pict, ".//v:imagedata"):
            found["hình ảnh"] += 1
        elif xpath(pict, ".//v:textbox"):
            found["hộp văn bản"] += 1
        else:
            found["hình vẽ"] += 1
    ole = len(xpath(body, f".//w:object{_NOT_FALLBACK} | .//o:OLEObject[not(ancestor::w:object)]"))
    if ole:
        found["đối tượng nhúng OLE (w:object, ví dụ bảng Excel nhúng)"] += ole
    if n := len(xpath(body, ".//w:altChunk")):
        found["nội dung chèn từ tệp khác (altChunk)"] += n
    if n := len(xpath(body, ".//w:footnoteReference | .//w:endnoteReference")):
        found["chú thích cuối trang/cuối tài liệu"] += n
    if n := len(xpath(body, f".//m:oMath[not(ancestor::m:oMathPara)]{_NOT_FALLBACK}")) + len(
        xpath(body, f".//m:oMathPara{_NOT_FALLBACK}")
    ):
        found["công thức toán học"] += n
    return found


def check_unsupported_content(body: etree._Element) -> None:
    found = _unsupported_content(body)
    if found:
        listed = ", ".join(f"{n} {kind}" for kind, n in found.most_common())
        raise SectionInputError(
            f"Tệp có nội dung mà mẫu báo cáo không thể giữ lại: {listed}. Báo cáo chỉ nhận "
            "văn bản, danh sách và bảng. Hãy xóa các nội dung này hoặc chuyển chúng thành văn "
            "bản hay bảng (ví dụ số liệu của biểu đồ thành bảng), lưu lại rồi nộp lại.",
            code="unsupported_content",
        )


def check_body(package: DocxPackage, body: etree._Element) -> None:
    check_tracked_changes(body)
    check_comments(package, body)
    check_unsupported_content(body)
