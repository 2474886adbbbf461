"""A signer's signature made on his own PC with his usual signing software: he takes the
prepared PDF away, signs it, and sends it back. The file is taken only if it is the prepared
file byte for byte with his one signature added after it, in his field, intact, trusted and
made with the certificate configured for him."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from asn1crypto import x509
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import (
    DEFAULT_DIFF_POLICY,
    ModificationLevel,
    SuspiciousModification,
)
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel

from reportflow.core.errors import UserError
from reportflow.signatures.issued_pdf import SIGNER_FIELD
from reportflow.signatures.keys import holder_name
from reportflow.signatures.verification import MAX_PDF_BYTES, trust_context


class UploadRefused(UserError):
    """The signed file sent back is not taken; nothing was kept or numbered."""


@dataclass(frozen=True)
class SignedUpload:
    signer: str
    certificate_sha256: str


AGAIN = " Tải lại bản cần ký, ký đúng ô chữ ký của người có thẩm quyền rồi gửi lại."


def check_signed_upload(
    prepared: bytes, upload: bytes, certificate: x509.Certificate, trust: list[Path]
) -> SignedUpload:
    """Raises UploadRefused with the reason, in the order a person would look for it."""
    if len(upload) > MAX_PDF_BYTES:
        raise UploadRefused(f"Tệp lớn quá {MAX_PDF_BYTES // 1_000_000} MB.")
    if not upload.startswith(b"%PDF-"):
        raise UploadRefused("Tệp gửi lên không phải tệp PDF." + AGAIN)
    if not upload.startswith(prepared):
        raise UploadRefused(
            "Tệp gửi lên không bắt đầu bằng đúng bản cần ký của kỳ báo cáo này: đây là bản của "
            "dự thảo khác, hoặc nội dung đã bị sửa trước khi ký." + AGAIN
        )
    if len(upload) == len(prepared):
        raise UploadRefused("Tệp gửi lên chưa có chữ ký số." + AGAIN)
    try:
        reader = PdfFileReader(BytesIO(upload), strict=False)
        signatures = list(reader.embedded_signatures)
        base = PdfFileReader(BytesIO(prepared), strict=False).xrefs.total_revisions - 1
    except (PdfReadError, ValueError, KeyError) as exc:
        raise UploadRefused(f"Không đọc được tệp PDF gửi lên ({exc}).") from exc
    if len(signatures) != 1:
        raise UploadRefused(f"Tệp có {len(signatures)} chữ ký số; cần đúng một." + AGAIN)
    signature = signatures[0]
    if signature.field_name != SIGNER_FIELD:
        raise UploadRefused(f"Chữ ký nằm ở ô '{signature.field_name}', không phải ô của người ký.")
    changes = DEFAULT_DIFF_POLICY.review_file(reader, base)
    if (
        isinstance(changes, SuspiciousModification)
        or changes.modification_level > ModificationLevel.FORM_FILLING
    ):
        raise UploadRefused(
            "Khi ký, tệp đã bị thêm trang hoặc sửa nội dung ngoài ô chữ ký; không nhận." + AGAIN
        )
    status = validate_pdf_signature(signature, trust_context(trust))
    if not (status.intact and status.valid):
        raise UploadRefused("Chữ ký số trong tệp không còn nguyên vẹn: tệp đã bị sửa sau khi ký.")
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        raise UploadRefused("Sau chữ ký, tệp còn bị thêm hoặc sửa; gửi đúng tệp vừa ký.")
    signed_with = status.signing_cert
    if signed_with.dump() != certificate.dump():
        raise UploadRefused(
            f"Tệp được ký bằng chứng thư của {holder_name(signed_with)}, không phải chứng thư đã "
            f"khai báo cho {holder_name(certificate)}; ký bằng đúng thiết bị ký số của mình."
        )
    if not status.trusted:
        raise UploadRefused(
            f"Chứng thư của {holder_name(signed_with)} chưa được tin cậy hoặc đã hết hạn; liên hệ "
            "bộ phận CNTT."
        )
    return SignedUpload(holder_name(signed_with), signed_with.sha256.hex())
