"""Rendered documents: stored once under their SHA-256, read back as exactly those bytes."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from sqlmodel import Session, select

from reportflow.core.config import get_settings
from reportflow.core.errors import UserError
from reportflow.models import DocumentBlob, RenderedDocument, session_scope


def find_document(
    session: Session, cycle_id: int, kind: str, round_no: int | None = None
) -> RenderedDocument | None:
    query = select(RenderedDocument).where(
        RenderedDocument.cycle_id == cycle_id, RenderedDocument.kind == kind
    )
    if round_no is not None:
        query = query.where(RenderedDocument.round == round_no)
    return session.exec(query.order_by(RenderedDocument.id.desc())).first()


def store_document(
    session: Session,
    *,
    cycle_id: int,
    kind: str,
    round_no: int,
    rendered: Path,
    section_versions: dict[str, int],
    indicator_values: dict[str, int],
) -> RenderedDocument:
    """Records a freshly rendered file and its bytes; the caller has checked none exists yet."""
    data = rendered.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if session.get(DocumentBlob, digest) is None:
        session.add(DocumentBlob(sha256=digest, data=data))
    record = RenderedDocument(
        cycle_id=cycle_id,
        kind=kind,
        round=round_no,
        path=str(rendered.resolve()),
        sha256=digest,
        section_versions=section_versions,
        indicator_values=indicator_values,
    )
    session.add(record)
    session.flush()
    return record


def blob_path(sha256: str) -> Path:
    return get_settings().documents_dir / "blobs" / f"{sha256}.docx"


def document_file(record: RenderedDocument) -> Path:
    """The document's file on this machine, written from the database when missing or altered."""
    target = blob_path(record.sha256)
    if target.is_file() and _sha256(target) == record.sha256:
        return target
    with session_scope() as session:
        blob = session.get(DocumentBlob, record.sha256)
    if blob is None:
        legacy = Path(record.path)
        if legacy.is_file() and _sha256(legacy) == record.sha256:
            return legacy
        raise UserError(
            f"Không tìm thấy nội dung văn bản (SHA-256 {record.sha256[:12]}…) trong cơ sở dữ liệu."
        )
    _write_whole(target, blob.data)
    return target


def named_copy(record: RenderedDocument, folder: Path, name: str) -> Path:
    """A copy under the name a reader sees (the attachment's name), checked byte for byte."""
    source = document_file(record)
    target = folder / name
    if not (target.is_file() and _sha256(target) == record.sha256):
        _write_whole(target, source.read_bytes())
    return target


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_whole(target: Path, data: bytes) -> None:
    """Written beside, then renamed: a reader never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temporary, target)
