"""python-docx's Document made from a package's parts already read and checked, so the zip is
never opened a second time.

python-docx reads a package through a physical reader (`docx.opc.phys_pkg`); this is one over
the parts in memory, handed to the same `PackageReader` and `Unmarshaller` its
`Package.open` uses (python-docx 1.1-1.2: these names are its internals, checked by
`tests/test_document_input.py` on every run).
"""

from __future__ import annotations

from collections.abc import Iterator

import docx.document
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.package import PartFactory, Unmarshaller
from docx.opc.packuri import CONTENT_TYPES_URI, PACKAGE_URI, PackURI
from docx.opc.part import XmlPart
from docx.opc.pkgreader import PackageReader, _ContentTypeMap
from docx.package import Package
from lxml import etree

from reportflow.document.reading.errors import SectionInputError
from reportflow.document.reading.word_file.opening import DocxPackage


class _PartsReader:
    """`docx.opc.phys_pkg.PhysPkgReader`'s interface over parts already decompressed."""

    def __init__(self, parts: dict[str, bytes]):
        self._parts = parts

    def blob_for(self, pack_uri: PackURI) -> bytes:
        return self._parts[pack_uri.membername]

    @property
    def content_types_xml(self) -> bytes:
        return self.blob_for(CONTENT_TYPES_URI)

    def rels_xml_for(self, source_uri: PackURI) -> bytes | None:
        return self._parts.get(source_uri.rels_uri.membername)

    def close(self) -> None:
        pass


def document_of(package: DocxPackage) -> docx.document.Document:
    reader = _PartsReader(package.parts)
    content_types = _ContentTypeMap.from_xml(reader.content_types_xml)
    package_rels = PackageReader._srels_for(reader, PACKAGE_URI)
    parts = PackageReader._load_serialized_parts(reader, package_rels, content_types)
    opened = Package()
    Unmarshaller.unmarshal(PackageReader(content_types, package_rels, parts), opened, PartFactory)
    main = opened.main_document_part
    if main.content_type != CT.WML_DOCUMENT_MAIN:
        raise SectionInputError(
            f"Phần nội dung chính của tệp có kiểu {main.content_type}, không phải tài liệu Word.",
            code="not_docx",
        )
    return main.document


def xml_trees(document: docx.document.Document) -> Iterator[tuple[str, etree._ElementTree]]:
    """Each XML part python-docx parsed, by its name in the zip."""
    for part in document.part.package.iter_parts():
        if isinstance(part, XmlPart):
            yield part.partname.membername, part.element.getroottree()
