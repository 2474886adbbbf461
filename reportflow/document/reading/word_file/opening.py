"""Checks on a submitted .docx as a zip package, before anything is decompressed or parsed.

Every refusal is a SectionInputError whose Vietnamese message says what was found and what
the submitter should do. Sizes come from the zip's central directory; the reads that follow
are bounded by those sizes, so a lying directory cannot make us inflate more.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib
from dataclasses import dataclass, field

from lxml import etree

from reportflow.core.vi_format import format_number
from reportflow.document.reading.errors import SectionInputError

MAX_UNCOMPRESSED_BYTES = 50_000_000
MAX_COMPRESSION_RATIO = 100
# Small XML parts compress very well without being a threat; the ratio is judged only
# for entries above this size.
RATIO_MIN_BYTES = 1_000_000
MAX_ENTRIES = 5_000
# Parts reach each other by relationships (package, document, header, image); Word's chains
# are a few links long, and python-docx follows them by recursion.
MAX_RELATIONSHIP_DEPTH = 32

WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
WORD_MACRO_MAIN = "application/vnd.ms-word.document.macroenabled.main+xml"
WORD_TEMPLATE_MAIN = (
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"
)
WORD_MACRO_TEMPLATE_MAIN = "application/vnd.ms-word.template.macroenabledtemplate.main+xml"
OFFICE_DOCUMENT_REL = "/officeDocument"

_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_LOCAL_HEADER = b"PK\x03\x04"
# What zipfile and zlib raise on a damaged member: bad CRC, cut data, bad headers.
_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError)

_RESUBMIT = (
    "Hãy mở tệp bằng Word, chọn Lưu thành (Save As) định dạng Word Document (.docx) rồi nộp lại."
)
_DAMAGED = (
    "Thường do tệp bị ngắt giữa chừng khi tải xuống, sao chép hoặc gửi qua thư. Hãy lấy lại "
    "tệp gốc, mở thử bằng Word, lưu lại thành .docx rồi nộp lại."
)


def _mb(size: int) -> str:
    return f"{format_number(size / 1e6, 1)} MB"


def safe_xml_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_part_xml(name: str, data: bytes) -> etree._Element:
    """Parse one XML part; malformed XML or an XML-illegal character becomes a clean refusal."""
    try:
        root = etree.fromstring(data, safe_xml_parser())
    except etree.XMLSyntaxError as exc:
        where = f"dòng {exc.lineno}, cột {exc.offset}" if exc.lineno else "không rõ vị trí"
        raise SectionInputError(
            f"Tệp Word bị hỏng: phần {name} không phải XML hợp lệ ({where}: {exc.msg}). "
            "Thường do có ký tự điều khiển không hợp lệ hoặc tệp bị cắt cụt khi sao chép. "
            "Hãy mở tệp bằng Word, xóa ký tự lạ (nếu có), lưu lại thành .docx rồi nộp lại.",
            code="malformed_xml",
        ) from exc
    if root.getroottree().docinfo.doctype:
        raise SectionInputError(
            f"Tệp Word có phần {name} chứa khai báo DOCTYPE, điều mà Word không bao giờ tạo ra. "
            f"Tệp có thể đã bị chỉnh sửa bằng công cụ khác. {_RESUBMIT}",
            code="malformed_xml",
        )
    return root


def _describe_non_zip(data: bytes) -> str:
    if data.startswith(_ZIP_LOCAL_HEADER):
        return (
            "Tệp .docx bị hỏng hoặc bị cắt cụt: đây là gói zip nhưng không đọc được mục lục "
            f"của gói (thường nằm ở cuối tệp). {_DAMAGED}"
        )
    if data.startswith(_OLE_MAGIC):
        return (
            "Tệp là định dạng Word cũ (.doc) hoặc tệp Word có đặt mật khẩu, không phải .docx. "
            "Hãy gỡ mật khẩu (nếu có), mở tệp bằng Word, chọn Lưu thành (Save As) định dạng "
            "Word Document (.docx) rồi nộp lại."
        )
    if data.startswith(b"%PDF"):
        return (
            "Tệp là PDF, không phải tệp Word .docx. Hãy nộp tệp Word (.docx) gốc của phần báo cáo."
        )
    if data.lstrip().startswith((b"{\\rtf", b"{\\RTF")):
        return f"Tệp là định dạng RTF, không phải .docx. {_RESUBMIT}"
    sample = data[:4096]
    try:
        sample.decode("utf-8")
        looks_textual = b"\x00" not in sample
    except UnicodeDecodeError:
        looks_textual = False
    if looks_textual:
        return (
            "Tệp là văn bản thuần (có thể là tệp .txt hoặc .md bị đổi đuôi thành .docx), "
            "không phải tệp Word. Hãy nộp nội dung dưới dạng Markdown/văn bản, "
            "hoặc tạo tệp bằng Word và lưu thành .docx."
        )
    return f"Tệp không phải là tệp Word .docx hợp lệ (không đọc được như một gói zip). {_RESUBMIT}"


@dataclass
class DocxPackage:
    """An opened package that passed the size, bomb, macro and content-type checks, with every
    part already decompressed once (bounded by MAX_UNCOMPRESSED_BYTES): nothing reads the zip
    again, python-docx included."""

    main_part: str  # e.g. "word/document.xml"
    parts: dict[str, bytes] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.parts

    def read(self, name: str) -> bytes:
        return self.parts[name]

    def read_xml(self, name: str) -> etree._Element:
        return parse_part_xml(name, self.read(name))


def _check_entries(zf: zipfile.ZipFile) -> None:
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise SectionInputError(
            f"Tệp .docx chứa {len(infos)} tệp con, nhiều bất thường (tối đa {MAX_ENTRIES}). "
            f"Tệp có thể bị hỏng hoặc bị tạo bằng công cụ lạ. {_RESUBMIT}",
            code="zip_bomb",
        )
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise SectionInputError(
                f"Tệp .docx có phần {info.filename} được mã hóa. Hãy gỡ mật khẩu rồi nộp lại.",
                code="encrypted",
            )
        total += info.file_size
        if info.file_size >= RATIO_MIN_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > MAX_COMPRESSION_RATIO:
                raise SectionInputError(
                    f"Tệp .docx có phần {info.filename} nén bất thường: {_mb(info.compress_size)} "
                    f"giải nén thành {_mb(info.file_size)} (gấp {format_number(ratio, 0)} lần, "
                    f"tối đa {MAX_COMPRESSION_RATIO} lần). Tệp bị từ chối để bảo vệ hệ thống; "
                    f"{_RESUBMIT}",
                    code="zip_bomb",
                )
    if total > MAX_UNCOMPRESSED_BYTES:
        raise SectionInputError(
            f"Tệp .docx khi giải nén lên tới {_mb(total)}, vượt giới hạn "
            f"{_mb(MAX_UNCOMPRESSED_BYTES)}. Hãy xóa hình ảnh hoặc nội dung nhúng không cần "
            "thiết, hoặc tách phần báo cáo thành nhiều tệp nhỏ hơn.",
            code="zip_bomb",
        )


def _read_parts(zf: zipfile.ZipFile) -> dict[str, bytes]:
    """Every part decompressed once, so that a bad CRC or cut data is refused by name here and
    not met later inside python-docx. The total was bounded by _check_entries, and each read by
    the size the directory gives."""
    parts = {}
    for info in zf.infolist():
        try:
            with zf.open(info) as handle:
                data = handle.read(info.file_size)
                if handle.read(1):
                    raise zipfile.BadZipFile("more data than the directory says")
        except _DAMAGE as exc:
            reason = "sai mã kiểm tra CRC" if "CRC" in str(exc) else "dữ liệu nén bị hỏng"
            raise SectionInputError(
                f"Tệp .docx bị hỏng: phần {info.filename} không giải nén được ({reason}). "
                + _DAMAGED,
                code="damaged",
            ) from exc
        parts[info.filename] = data
    return parts


def _relationships(package: DocxPackage, source: str) -> list[str]:
    """The parts ``source`` points to ("" for the package itself), as names in the zip."""
    folder, name = posixpath.split(source)
    rels_name = posixpath.join(folder, "_rels", f"{name}.rels")
    if not package.has(rels_name):
        return []
    targets = []
    for rel in package.read_xml(rels_name).iter(f"{{{_REL_NS}}}Relationship"):
        if rel.get("TargetMode", "").lower() == "external":
            continue
        target = rel.get("Target", "")
        joined = target if target.startswith("/") else posixpath.join("/", folder, target)
        targets.append(posixpath.normpath(joined).lstrip("/"))
    return targets


def _check_parts_present(package: DocxPackage) -> None:
    """Every part a relationship points to must be in the zip, as python-docx reads them all."""
    seen: set[str] = set()
    level, depth = [""], 0
    while level:
        depth += 1
        following = []
        for source in level:
            for target in _relationships(package, source):
                if target in seen:
                    continue
                if not package.has(target):
                    raise SectionInputError(
                        f"Tệp .docx bị hỏng: thiếu phần {target} mà {source or 'gói'} tham chiếu "
                        f"tới. Tệp có thể đã bị cắt bớt hoặc sửa bằng công cụ khác. {_RESUBMIT}",
                        code="damaged",
                    )
                seen.add(target)
                following.append(target)
        if following and depth >= MAX_RELATIONSHIP_DEPTH:
            raise SectionInputError(
                f"Tệp .docx có chuỗi tham chiếu giữa các phần dài hơn {MAX_RELATIONSHIP_DEPTH} "
                f"mắt xích, điều mà Word không tạo ra. {_RESUBMIT}",
                code="damaged",
            )
        level = following


def _check_macros(zf: zipfile.ZipFile, filename: str) -> None:
    lowered = filename.lower()
    vba = [n for n in zf.namelist() if posixpath.basename(n).lower() == "vbaproject.bin"]
    if lowered.endswith((".docm", ".dotm")) or vba:
        raise SectionInputError(
            "Tệp có chứa macro (tệp .docm hoặc có vbaProject.bin). Hệ thống không nhận tệp có "
            "macro vì lý do an toàn. Hãy mở tệp bằng Word, chọn Lưu thành (Save As) định dạng "
            "Word Document (.docx, không có macro) rồi nộp lại.",
            code="macro_enabled",
        )


def _main_part_name(package: DocxPackage) -> str:
    if package.has("_rels/.rels"):
        rels = package.read_xml("_rels/.rels")
        for rel in rels.iter(f"{{{_REL_NS}}}Relationship"):
            if rel.get("Type", "").endswith(OFFICE_DOCUMENT_REL):
                target = rel.get("Target", "").lstrip("/")
                return posixpath.normpath(target)
    return "word/document.xml"


def _content_type_of(types: etree._Element, part: str) -> str | None:
    for override in types.iter(f"{{{_CT_NS}}}Override"):
        if override.get("PartName", "").lstrip("/").lower() == part.lower():
            return override.get("ContentType", "").strip().lower()
    return None


def _check_main_part(package: DocxPackage) -> None:
    names = set(package.parts)
    if "xl/workbook.xml" in names:
        raise SectionInputError(
            "Tệp là bảng tính Excel, không phải tệp Word .docx. Hãy chép số liệu vào một "
            "bảng trong tệp Word (hoặc Markdown) rồi nộp lại.",
            code="not_docx",
        )
    if "ppt/presentation.xml" in names:
        raise SectionInputError(
            "Tệp là bản trình chiếu PowerPoint, không phải tệp Word .docx. "
            "Hãy chép nội dung vào tệp Word (.docx) rồi nộp lại.",
            code="not_docx",
        )
    if "[Content_Types].xml" not in names or not package.has(package.main_part):
        raise SectionInputError(
            f"Tệp là một gói zip nhưng không có nội dung Word ({package.main_part}), nên không "
            f"phải tệp .docx. {_RESUBMIT}",
            code="not_docx",
        )
    content_type = _content_type_of(package.read_xml("[Content_Types].xml"), package.main_part)
    if content_type in (WORD_MACRO_MAIN, WORD_MACRO_TEMPLATE_MAIN):
        raise SectionInputError(
            "Tệp là tài liệu Word có macro (macro-enabled). Hệ thống không nhận tệp có macro vì "
            "lý do an toàn. Hãy lưu lại thành Word Document (.docx) rồi nộp lại.",
            code="macro_enabled",
        )
    if content_type == WORD_TEMPLATE_MAIN:
        raise SectionInputError(
            f"Tệp là mẫu Word (.dotx), không phải tài liệu .docx. {_RESUBMIT}",
            code="not_docx",
        )
    if content_type != WORD_MAIN:
        raise SectionInputError(
            f"Phần nội dung chính của tệp có kiểu {content_type or '(không khai báo)'}, không phải "
            f"tài liệu Word. {_RESUBMIT}",
            code="not_docx",
        )


def open_package(data: bytes, filename: str = "", max_bytes: int = 10_000_000) -> DocxPackage:
    """Open ``data`` as a .docx package, refusing anything that is not a plain Word document."""
    if len(data) > max_bytes:
        raise SectionInputError(
            f"Tệp {filename or '.docx'} dung lượng {_mb(len(data))}, vượt giới hạn {_mb(max_bytes)}. "
            "Hãy nén hoặc xóa bớt hình ảnh, hoặc tách phần báo cáo thành nhiều tệp nhỏ hơn.",
            code="too_large",
        )
    if not data:
        raise SectionInputError("Tệp rỗng (0 byte). Hãy nộp lại tệp .docx có nội dung.", "empty")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        code = "damaged" if data.startswith(_ZIP_LOCAL_HEADER) else "not_docx"
        raise SectionInputError(_describe_non_zip(data), code=code) from exc
    _check_entries(zf)
    _check_macros(zf, filename)
    package = DocxPackage(main_part="word/document.xml", parts=_read_parts(zf))
    package.main_part = _main_part_name(package)
    _check_main_part(package)
    _check_parts_present(package)
    return package
