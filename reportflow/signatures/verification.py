"""Whether a PDF carries what Decree 30 asks of an issued electronic document: the signer's
signature first, only the number, the date and the agency's signature after it, the agency's
last and over the whole file, from two different certificates, each intact and trusted."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from asn1crypto import pem, x509
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from reportflow.core.clock import VN_TZ
from reportflow.core.errors import UserError
from reportflow.signatures.issued_pdf import AGENCY_FIELD, SIGNER_FIELD
from reportflow.signatures.keys import holder_name

ROLE_VI = {SIGNER_FIELD: "người ký (người có thẩm quyền)", AGENCY_FIELD: "cơ quan (văn thư)"}
CHANGES_VI = {
    ModificationLevel.NONE: "không có thay đổi nào sau chữ ký",
    ModificationLevel.LTA_UPDATES: "sau chữ ký chỉ thêm dữ liệu kiểm tra dài hạn",
    ModificationLevel.FORM_FILLING: "sau chữ ký chỉ điền trường biểu mẫu và thêm chữ ký",
    ModificationLevel.ANNOTATIONS: "sau chữ ký có thêm chú thích",
    ModificationLevel.OTHER: "sau chữ ký nội dung đã bị sửa",
}
MAX_PDF_BYTES = 50_000_000


@dataclass(frozen=True)
class SignatureFinding:
    field_name: str
    signer: str
    signed_at: dt.datetime | None
    intact: bool
    trusted: bool
    changes: ModificationLevel | None
    whole_file: bool
    certificate_sha256: str
    certifies: bool
    timestamped_at: dt.datetime | None = None
    """The time a timestamp authority put on the signature (RFC 3161), if it has one."""
    timestamp_trusted: bool = False

    def line(self) -> str:
        when = (
            self.signed_at.astimezone(VN_TZ).isoformat(timespec="seconds")
            if self.signed_at
            else "không rõ"
        )
        state = "nguyên vẹn" if self.intact else "BỊ SỬA hoặc hỏng"
        trust = "chứng thư tin cậy" if self.trusted else "chứng thư CHƯA được tin cậy"
        changes = CHANGES_VI.get(self.changes, "không xác định được thay đổi")
        role = ROLE_VI.get(self.field_name, f"trường {self.field_name}")
        stamped = ""
        if self.timestamped_at:
            at = self.timestamped_at.astimezone(VN_TZ).isoformat(timespec="seconds")
            stamped = f"; dấu thời gian của TSA {at}" + (
                "" if self.timestamp_trusted else " (CHƯA được tin cậy)"
            )
        return f"{role}: {self.signer}, ký lúc {when}{stamped}; {state}; {trust}; {changes}."


@dataclass
class Verdict:
    findings: list[SignatureFinding]
    problems: list[str] = field(default_factory=list)

    @property
    def passes(self) -> bool:
        return not self.problems


def trust_context(paths: list[Path]) -> ValidationContext:
    roots = []
    for path in paths:
        data = path.read_bytes()
        for _, _, der in (
            pem.unarmor(data, multiple=True) if pem.detect(data) else [(None, None, data)]
        ):
            roots.append(x509.Certificate.load(der))
    return ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")


def verify_pdf(data: bytes, trust: list[Path]) -> Verdict:
    """Every signature of the file, then the decree's rules on all of them together."""
    if len(data) > MAX_PDF_BYTES:
        raise UserError(f"Tệp PDF lớn quá {MAX_PDF_BYTES // 1_000_000} MB; không kiểm tra.")
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except (PdfReadError, ValueError, KeyError) as exc:
        raise UserError(f"Không đọc được tệp PDF ({exc}); tệp có đúng là PDF không?") from exc
    context = trust_context(trust)
    findings = []
    for signature in embedded:
        status = validate_pdf_signature(signature, context)
        cert = status.signing_cert
        stamp = status.timestamp_validity
        findings.append(
            SignatureFinding(
                field_name=signature.field_name,
                signer=holder_name(cert),
                signed_at=status.signer_reported_dt,
                intact=bool(status.intact and status.valid),
                trusted=bool(status.trusted),
                changes=status.modification_level,
                whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
                certificate_sha256=hashlib.sha256(cert.dump()).hexdigest(),
                certifies=signature.docmdp_level is not None,
                timestamped_at=stamp.timestamp if stamp else None,
                timestamp_trusted=bool(stamp and stamp.intact and stamp.valid and stamp.trusted),
            )
        )
    return Verdict(findings, decree_problems(findings))


def decree_problems(findings: list[SignatureFinding]) -> list[str]:
    """What keeps the file from the force of a paper original (Điều 5, 13, 15). The signer's
    signature may be a certification (reportflow's own) or an approval signature (what most
    signing software makes on the signer's PC); either way only form filling may follow it."""
    if len(findings) < 2:
        return [
            f"Tệp có {len(findings)} chữ ký số; văn bản điện tử cần cả chữ ký của người có "
            "thẩm quyền và chữ ký của cơ quan."
        ]
    problems = []
    first, last = findings[0], findings[-1]
    if first.field_name != SIGNER_FIELD:
        problems.append("Chữ ký đầu tiên không phải chữ ký của người có thẩm quyền.")
    if last.field_name != AGENCY_FIELD:
        problems.append("Chữ ký cuối cùng không phải chữ ký của cơ quan.")
    if not last.whole_file or last.changes != ModificationLevel.NONE:
        problems.append(
            "Chữ ký của cơ quan không bao trùm toàn bộ tệp: tệp đã bị thêm hoặc sửa sau đó."
        )
    if first.changes is None or first.changes > ModificationLevel.FORM_FILLING:
        problems.append(
            "Sau chữ ký của người có thẩm quyền, tệp đã bị sửa ngoài số, ngày và chữ ký của cơ quan."
        )
    if first.certificate_sha256 == last.certificate_sha256:
        problems.append(
            "Hai chữ ký dùng cùng một chứng thư số; cần chứng thư của người ký và của cơ quan."
        )
    for finding in findings:
        if finding.timestamped_at and not finding.timestamp_trusted:
            problems.append(
                f"Dấu thời gian của chữ ký ở trường {finding.field_name} chưa được tin cậy."
            )
        if not finding.intact:
            problems.append(f"Chữ ký ở trường {finding.field_name} không còn nguyên vẹn.")
        if not finding.trusted:
            problems.append(
                f"Chứng thư của {finding.signer} chưa được tin cậy (thiếu --trust với chứng thư gốc "
                "của tổ chức cung cấp dịch vụ chứng thực, hoặc chứng thư đã hết hạn)."
            )
    return problems
