"""The issued report's two digital signatures, inside the cycle, in the decree's order (Decree
30/2020, Điều 5, 13, 15): whoever approved signs the PDF of the final layout with the number and
date blank; the register gives the number; the agency's key fills them in and signs last; the
file must pass `verify` before it is sent. Each step keeps its file in the database, so a step
done is never done again: a run killed between the two signatures goes on from the first."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from pyhanko.sign.timestamps import HTTPTimeStamper
from sqlmodel import select

from reportflow.core.clock import now, today
from reportflow.core.config import get_settings
from reportflow.core.errors import Forbidden, UserError
from reportflow.core.vi_format import day_text, month_text
from reportflow.cycle.cycles import get_cycle, signer_of
from reportflow.cycle.documents import document_file, find_document, store_document
from reportflow.cycle.drafting.merge import approved_draft, signing_copy
from reportflow.cycle.issuing.numbering import format_number
from reportflow.cycle.issuing.sign_request import mail_sign_request
from reportflow.cycle.issuing.signature_waits import (
    SIGNED_BY_SIGNER,
    SIGNER_SIGNED,
    TO_SIGN,
    AwaitingOwnSignature,
    wake_after_signed_file,
)
from reportflow.cycle.pdf_export import convert_to_pdf
from reportflow.definitions.loader import load_organisation
from reportflow.document.writing.render import render_report
from reportflow.models import Person, RegisterEntry, RenderedDocument, session_scope
from reportflow.models.audit import record_event
from reportflow.signatures.issued_pdf import (
    DAY_FIELD,
    MONTH_FIELD,
    NUMBER_FIELD,
    SEAL_PT,
    fill_number,
    prepare,
    sign_as_agency,
    sign_as_signer,
)
from reportflow.signatures.keys import (
    KeySpec,
    KeyUnavailable,
    check_signer_certificate,
    load_certificate,
    open_signer,
)
from reportflow.signatures.placement import find_places
from reportflow.signatures.signed_upload import check_signed_upload
from reportflow.signatures.verification import verify_pdf

SIGNED = "signed"
TO_SIGN_NAME = "ban-can-ky.pdf"


def _pin_names(prefix: str, person_code: str) -> tuple[str, str]:
    suffix = re.sub(r"[^A-Z0-9]", "_", person_code.upper())
    return f"{prefix}_{suffix}", os.environ.get(f"{prefix}_FILE_{suffix}", "")


def signer_key(person_code: str) -> KeySpec:
    uri = get_settings().signer_keys.get(person_code)
    if not uri:
        raise KeyUnavailable(
            f"Chưa cấu hình khóa ký số của '{person_code}' (REPORTFLOW_SIGNER_KEYS); Văn phòng "
            "hoặc bộ phận CNTT khai báo rồi chạy lại kỳ báo cáo."
        )
    pin_env, pin_file = _pin_names("REPORTFLOW_SIGNER_PIN", person_code)
    return KeySpec.parse(uri, pin_env=pin_env, pin_file=pin_file)


def agency_key() -> KeySpec:
    settings = get_settings()
    return KeySpec.parse(
        settings.agency_key,
        pin_env="REPORTFLOW_AGENCY_KEY_PIN",
        pin_file=settings.agency_key_pin_file,
    )


def timestamper() -> HTTPTimeStamper | None:
    """The configured timestamp authority (RFC 3161), or None: the signer's clock then."""
    url = get_settings().tsa_url
    return HTTPTimeStamper(url, timeout=30) if url else None


def _image(name: str) -> Path | None:
    folder = get_settings().signature_images_dir
    path = folder / f"{name}.png" if folder else None
    return path if path is not None and path.is_file() else None


def _store(session, cycle_id: int, kind: str, data: bytes, name: str) -> RenderedDocument:
    folder = get_settings().documents_dir / f"cycle-{cycle_id}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    approved = approved_draft(session, cycle_id)
    return store_document(
        session,
        cycle_id=cycle_id,
        kind=kind,
        round_no=get_cycle(session, cycle_id).round,
        rendered=path,
        section_versions=dict(approved.section_versions or {}) if approved else {},
        indicator_values=dict(approved.indicator_values or {}) if approved else {},
    )


def _keep_once(
    cycle_id: int, kind: str, data: bytes, name: str, actor: str, action: str, **detail: str
) -> RenderedDocument:
    """Keeps a signed file and audits it, unless another run kept one meanwhile (that one
    stands: a signature is made once)."""
    with session_scope(write_lock=True) as session:
        done = find_document(session, cycle_id, kind)
        if done is not None:
            return done
        record = _store(session, cycle_id, kind, data, name)
        record_event(session, actor, action, cycle_id, sha256=record.sha256, **detail)
        return record


def sign_for_approver(cycle_id: int) -> RenderedDocument:
    """The approver's certification signature on the final layout's PDF, once; for a signer
    who signs on his own PC, the prepared file is kept, he is mailed (once, whatever stops the
    run between the two) and the run waits for his file."""
    with session_scope() as session:
        done = find_document(session, cycle_id, SIGNED_BY_SIGNER)
        if done is not None:
            return done
        cycle = get_cycle(session, cycle_id)
        spec = signer_of(session, cycle)
        person = session.get(Person, spec.person)
        prepared = find_document(session, cycle_id, TO_SIGN)
    key = signer_key(person.code)
    if key.signs_on_own_pc:
        if prepared is None:
            _keep_once(
                cycle_id,
                TO_SIGN,
                _prepared_pdf(cycle_id, spec.title_lines.splitlines()[-1], person.name),
                TO_SIGN_NAME,
                "reportflow",
                "signature.prepared",
                signer=person.name,
            )
        mail_sign_request(cycle_id, person.code)
        raise AwaitingOwnSignature(
            f"Chờ {person.name} ký số trên máy của mình: tải bản cần ký trên trang quyết định "
            f"(hoặc reportflow sign download {cycle_id}), ký bằng phần mềm ký số quen dùng rồi "
            "gửi lại tệp đã ký."
        )
    pdf = _prepared_pdf(cycle_id, spec.title_lines.splitlines()[-1], person.name)
    with open_signer(key) as signer:
        check_signer_certificate(signer.signing_cert, person.name, key.where)
        signed = sign_as_signer(pdf, signer, person.name, _image(person.code), timestamper())
    return _keep_once(
        cycle_id,
        SIGNED_BY_SIGNER,
        signed,
        "ban-da-ky-nguoi-ky.pdf",
        person.code,
        SIGNER_SIGNED,
        signer=person.name,
        key=key.where,
    )


def _prepared_pdf(cycle_id: int, title: str, name: str) -> bytes:
    """The final layout as PDF with the number and date blank and every field in place."""
    with session_scope() as session:
        document = signing_copy(session, get_cycle(session, cycle_id), today().year)
    with tempfile.TemporaryDirectory(prefix="reportflow-sign-") as tmp:
        docx = Path(render_report(document, Path(tmp) / "ban-ky.docx"))
        pdf = convert_to_pdf(docx, Path(tmp)).read_bytes()
    return prepare(pdf, find_places(pdf, title, name, SEAL_PT))


def file_to_sign(cycle_id: int) -> Path:
    """The prepared PDF the signer takes to his own PC."""
    with session_scope() as session:
        prepared = find_document(session, cycle_id, TO_SIGN)
        done = find_document(session, cycle_id, SIGNED_BY_SIGNER)
    if done is not None:
        raise UserError(f"Kỳ báo cáo số {cycle_id} đã có chữ ký của người ký.")
    if prepared is None:
        raise UserError(
            f"Kỳ báo cáo số {cycle_id} chưa có bản cần ký: bản này có sau khi báo cáo được phê "
            "duyệt, khi người ký dùng chữ ký số trên máy của mình."
        )
    return document_file(prepared)


def take_signed_file(
    cycle_id: int, data: bytes, person_code: str | None, path: str
) -> tuple[str, bool]:
    """The signer's file from his own PC, checked against the prepared one and his configured
    certificate, kept once, then the run woken; ``person_code``: whose page sent it (None: the
    CLI, where the certificate alone says who signed). Returns who signed and whether the run
    was woken (if not, the sweep wakes it)."""
    with session_scope() as session:
        spec = signer_of(session, get_cycle(session, cycle_id))
        person = session.get(Person, spec.person)
        if find_document(session, cycle_id, SIGNED_BY_SIGNER) is not None:
            raise UserError(f"Kỳ báo cáo số {cycle_id} đã có chữ ký của người ký; không nhận thêm.")
    if person_code is not None and person_code != person.code:
        raise Forbidden(f"Chỉ {person.name}, người ký báo cáo này, gửi được bản đã ký.")
    key = signer_key(person.code)
    if not key.signs_on_own_pc:
        raise UserError(
            f"{person.name} ký bằng thiết bị ký số ở {key.where}, không tải tệp lên; dùng "
            "reportflow sign retry."
        )
    prepared = file_to_sign(cycle_id).read_bytes()
    taken = check_signed_upload(
        prepared, data, load_certificate(Path(key.path)), list(get_settings().trust_roots)
    )
    _keep_once(
        cycle_id,
        SIGNED_BY_SIGNER,
        data,
        "ban-da-ky-nguoi-ky.pdf",
        person.code,
        SIGNER_SIGNED,
        signer=taken.signer,
        key=key.where,
        path=path,
    )
    return taken.signer, wake_after_signed_file(cycle_id)


def seal_by_agency(cycle_id: int) -> RenderedDocument:
    """The number and date filled in, then the agency's signature over the whole file, checked
    with `verify` before it is kept: a file that fails is refused, and nothing is sent."""
    with session_scope() as session:
        done = find_document(session, cycle_id, SIGNED)
        if done is not None:
            return _registered(cycle_id, done)
        first = find_document(session, cycle_id, SIGNED_BY_SIGNER)
        entry = session.exec(select(RegisterEntry).where(RegisterEntry.cycle_id == cycle_id)).one()
    if first is None:
        raise UserError(f"Kỳ báo cáo số {cycle_id} chưa có chữ ký của người có thẩm quyền.")
    numbered = fill_number(
        document_file(first).read_bytes(),
        {
            NUMBER_FIELD: format_number("{number}", entry.number),
            DAY_FIELD: day_text(entry.issued_on.day),
            MONTH_FIELD: month_text(entry.issued_on.month),
        },
    )
    organisation = load_organisation()
    key = agency_key()
    with open_signer(key) as signer:
        final = sign_as_agency(
            numbered, signer, organisation.issuing_body_name, now(), _image("seal"), timestamper()
        )
    verdict = verify_pdf(final, list(get_settings().trust_roots))
    if not verdict.passes:
        raise UserError(
            "Văn bản đã ký không đạt yêu cầu của Nghị định 30 nên chưa gửi: "
            + " ".join(verdict.problems)
        )
    kept = _keep_once(
        cycle_id,
        SIGNED,
        final,
        "ban-phat-hanh-da-ky.pdf",
        "reportflow",
        "signature.agency",
        number=entry.number_text,
        key=key.where,
    )
    return _registered(cycle_id, kept)


def _registered(cycle_id: int, issued: RenderedDocument) -> RenderedDocument:
    """The register keeps the issued file's SHA-256 (again after a run killed before it did)."""
    with session_scope() as session:
        entry = session.exec(select(RegisterEntry).where(RegisterEntry.cycle_id == cycle_id)).one()
        if entry.signed_sha256 != issued.sha256:
            entry.signed_sha256 = issued.sha256
            session.add(entry)
    return issued
