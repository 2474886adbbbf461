"""PDF export through LibreOffice, the same conversion the tests use to prove a document opens."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from reportflow.core.errors import NotFound
from reportflow.cycle.documents import document_file
from reportflow.models import RenderedDocument, session_scope
from reportflow.services import office


def latest_document(cycle_id: int) -> Path:
    """The final document if the cycle has one, else its latest draft."""
    with session_scope() as session:
        rows = session.exec(
            select(RenderedDocument)
            .where(RenderedDocument.cycle_id == cycle_id)
            .order_by(RenderedDocument.id.desc())
        ).all()
    final = next((r for r in rows if r.kind == "final"), None)
    chosen = final or (rows[0] if rows else None)
    if chosen is None:
        raise NotFound(f"Kỳ báo cáo số {cycle_id} chưa có văn bản nào (dự thảo hoặc chính thức).")
    return document_file(chosen)


def convert_to_pdf(document: Path, out_dir: Path, timeout_s: int = 180) -> Path:
    return convert_with_libreoffice(document, out_dir, "pdf", ".pdf", timeout_s)


def convert_with_libreoffice(
    document: Path, out_dir: Path, target: str, suffix: str, timeout_s: int = 180
) -> Path:
    """`soffice --headless --convert-to <target>` (`reportflow.services.office`); the converted file."""
    return office.convert(document, out_dir, target, suffix, timeout_s).path


def pdf_page_count(pdf: Path) -> int:
    import re

    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
