"""The issued PDF's two digital signatures with real PKCS#11 tokens (SoftHSM2): the signer's
certification, the number filled after it, the agency's over the whole file; `verify` passes
that file and refuses a tampered one, one with a field added after the certification, one with
a single signature or twice the same certificate. A wrong PIN or a missing token is said in
Vietnamese, and nothing is signed."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from docx import Document
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields
from pyhanko.sign.fields import SigFieldSpec
from typer.testing import CliRunner

from reportflow.cli import app
from reportflow.core.clock import VN_TZ
from reportflow.cycle.pdf_export import convert_to_pdf
from reportflow.signatures import issued_pdf
from reportflow.signatures.issued_pdf import (
    Places,
    field_values,
    fill_number,
    prepare,
    sign_as_agency,
    sign_as_signer,
)
from reportflow.signatures.keys import KeySpec, KeyUnavailable, open_signer
from reportflow.signatures.verification import verify_pdf
from tests.softhsm import AGENCY, MODULE, demo_ca, key_uri, make_token, softhsm_environment

pytestmark = pytest.mark.skipif(
    not MODULE.exists() or not shutil.which("soffice"),
    reason="needs softhsm2 and LibreOffice (apt-get install softhsm2 libreoffice-writer-nogui)",
)

PLACES = Places(
    signature_page=0,
    signer_box=(340, 300, 520, 370),
    agency_box=(300, 300, 420, 370),
    number_box=(95, 742, 200, 758),
    date_box=(330, 742, 560, 758),
)
SIGNED_AT = dt.datetime(2020, 6, 5, 14, 5, 9, tzinfo=VN_TZ)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("signing")
    softhsm_environment(folder)
    pki = demo_ca(folder / "pki")
    signer = make_token(folder, "giamdoc", *pki.issue("Trần Văn Khoản", AGENCY), "TEST_SIGNER_PIN")
    agency = make_token(folder, "coquan", *pki.issue(AGENCY, AGENCY), "TEST_AGENCY_PIN")
    document = Document()
    document.add_paragraph("Số:      /BC-STTTT-VP")
    document.add_paragraph("Trà Vinh, ngày    tháng    năm 2020")
    document.add_paragraph("BÁO CÁO tình hình thực hiện nhiệm vụ 6 tháng đầu năm 2020")
    document.add_paragraph("GIÁM ĐỐC")
    document.add_paragraph("Trần Văn Khoản")
    docx = folder / "bao-cao.docx"
    document.save(docx)
    pdf = convert_to_pdf(docx, folder).read_bytes()
    return {"folder": folder, "pki": pki, "signer": signer, "agency": agency, "pdf": pdf}


def spec(token) -> KeySpec:
    return KeySpec.parse(key_uri(token), pin_env=token.pin_env)


def issued(setup) -> bytes:
    prepared = prepare(setup["pdf"], PLACES)
    with open_signer(spec(setup["signer"]), setup["signer"].certificate) as signer:
        signed = sign_as_signer(prepared, signer, "Trần Văn Khoản")
    numbered = fill_number(signed, "01/BC-STTTT-VP", "Trà Vinh, ngày 05 tháng 6 năm 2020")
    with open_signer(spec(setup["agency"]), setup["agency"].certificate) as signer:
        return sign_as_agency(numbered, signer, AGENCY, SIGNED_AT)


def test_the_whole_path_passes_verify_and_shows_the_stamp(setup):
    final = issued(setup)
    verdict = verify_pdf(final, [setup["pki"].pem])
    assert verdict.passes, verdict.problems
    signer_sig, agency_sig = verdict.findings
    assert signer_sig.signer == "Trần Văn Khoản" and signer_sig.certifies
    assert agency_sig.signer == AGENCY and agency_sig.whole_file
    assert field_values(final) == {
        "SoVanBan": "01/BC-STTTT-VP",
        "NgayBanHanh": "Trà Vinh, ngày 05 tháng 6 năm 2020",
    }
    path = setup["folder"] / "issued.pdf"
    path.write_bytes(final)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert AGENCY in " ".join(text.split()), "the stamp's Vietnamese text reads back"
    assert "2020-06-05T14:05:09+07:00" in text

    result = CliRunner().invoke(
        app, ["verify", str(path), "--trust", str(setup["pki"].pem)], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "người ký (người có thẩm quyền): Trần Văn Khoản" in said
    assert f"cơ quan (văn thư): {AGENCY}" in said
    assert "Đạt" in said
    untrusted = CliRunner().invoke(app, ["verify", str(path)], terminal_width=200)
    assert untrusted.exit_code == 1 and "chưa được tin cậy" in untrusted.output


def test_a_changed_content_stream_fails_verify(setup):
    final = bytearray(issued(setup))
    spot = final.index(b"stream\n") + 20  # inside the first content stream, covered by both
    final[spot] = (final[spot] + 1) % 256
    verdict = verify_pdf(bytes(final), [setup["pki"].pem])
    assert not verdict.passes
    assert any("không còn nguyên vẹn" in p for p in verdict.problems), verdict.problems


def test_a_field_added_after_the_certification_fails(setup):
    prepared = prepare(setup["pdf"], PLACES)
    with open_signer(spec(setup["signer"]), setup["signer"].certificate) as signer:
        signed = sign_as_signer(prepared, signer, "Trần Văn Khoản")
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    fields.append_signature_field(writer, SigFieldSpec("ThemSau", on_page=0, box=(10, 10, 90, 60)))
    out = BytesIO()
    writer.write(out)
    with open_signer(spec(setup["agency"]), setup["agency"].certificate) as signer:
        from reportflow.signatures import issued_pdf

        meta_field = issued_pdf.AGENCY_FIELD
        final = sign_as_agency(out.getvalue(), signer, AGENCY, SIGNED_AT)
    verdict = verify_pdf(final, [setup["pki"].pem])
    assert meta_field and not verdict.passes
    assert any("đã bị sửa ngoài số, ngày" in p for p in verdict.problems), verdict.problems


def test_one_signature_or_one_certificate_twice_is_not_enough(setup):
    prepared = prepare(setup["pdf"], PLACES)
    with open_signer(spec(setup["signer"]), setup["signer"].certificate) as signer:
        signed = sign_as_signer(prepared, signer, "Trần Văn Khoản")
        numbered = fill_number(signed, "01/BC-STTTT-VP", "ngày 05 tháng 6 năm 2020")
        twice = sign_as_agency(numbered, signer, AGENCY, SIGNED_AT)
    alone = verify_pdf(signed, [setup["pki"].pem])
    assert not alone.passes and "cần cả chữ ký" in alone.problems[0]
    same = verify_pdf(twice, [setup["pki"].pem])
    assert any("cùng một chứng thư" in p for p in same.problems), same.problems


def test_a_wrong_pin_or_a_missing_token_is_said_and_nothing_signed(setup, monkeypatch):
    monkeypatch.setenv("TEST_SIGNER_PIN", "000000")
    wrong_pin = open_signer(spec(setup["signer"]), setup["signer"].certificate)
    with pytest.raises(KeyUnavailable, match="Sai mã PIN"), wrong_pin:
        pass
    missing = KeySpec.parse(f"pkcs11:module={MODULE};token=khong-co", pin_env="TEST_AGENCY_PIN")
    with pytest.raises(KeyUnavailable, match="cắm thiết bị ký số"), open_signer(missing):
        pass
    no_module = open_signer(KeySpec.parse("pkcs11:module=/khong/co.so;token=x", pin_env="X"))
    with pytest.raises(KeyUnavailable, match="Không có thư viện PKCS#11"), no_module:
        pass
    with pytest.raises(Exception, match="không đúng dạng"):
        KeySpec.parse("token=giamdoc")


def test_verify_refuses_what_is_not_a_pdf(tmp_path):
    bogus = tmp_path / "khong-phai.pdf"
    bogus.write_bytes(b"<html>not a pdf</html>")
    result = CliRunner().invoke(app, ["verify", str(bogus)], terminal_width=200)
    assert result.exit_code == 2, result.output
    assert "Không đọc được tệp PDF" in result.output
    assert re.search(r"Traceback", result.output) is None


def test_a_pkcs12_file_signs_as_the_demo_does(setup, tmp_path, monkeypatch):
    p12 = tmp_path / "co-quan.p12"
    setup["pki"].pkcs12_file(p12, "Sở TTTT Trà Vinh (THỬ NGHIỆM)", AGENCY, "mat-khau")
    prepared = prepare(setup["pdf"], PLACES)
    with open_signer(spec(setup["signer"]), setup["signer"].certificate) as signer:
        numbered = fill_number(sign_as_signer(prepared, signer, "Trần Văn Khoản"), "02/BC", "ngày")
    monkeypatch.setenv("TEST_P12_PASSWORD", "sai")
    demo = KeySpec.parse(f"pkcs12:{p12}", pin_env="TEST_P12_PASSWORD")
    with pytest.raises(KeyUnavailable, match="sai mật khẩu"), open_signer(demo):
        pass
    monkeypatch.setenv("TEST_P12_PASSWORD", "mat-khau")
    with open_signer(demo) as signer:
        final = sign_as_agency(numbered, signer, AGENCY, SIGNED_AT)
    verdict = verify_pdf(final, [setup["pki"].pem])
    assert verdict.passes, verdict.problems
    assert "THỬ NGHIỆM" in verdict.findings[-1].signer


def test_an_expired_certificate_is_not_trusted(setup, tmp_path, monkeypatch):
    p12 = tmp_path / "het-han.p12"
    key, cert = setup["pki"].issue("Trần Văn Khoản", AGENCY, valid_days=30, begins_days_ago=400)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"x", key, cert, None, serialization.BestAvailableEncryption(b"mk")
        )
    )
    monkeypatch.setenv("TEST_P12_PASSWORD", "mk")
    with open_signer(KeySpec.parse(f"pkcs12:{p12}", pin_env="TEST_P12_PASSWORD")) as signer:
        signed = sign_as_signer(prepare(setup["pdf"], PLACES), signer, "Trần Văn Khoản")
    verdict = verify_pdf(signed, [setup["pki"].pem])
    assert verdict.findings[0].intact and not verdict.findings[0].trusted


def text_positions(pdf: bytes) -> dict[str, tuple[float, float]]:
    """Where each line of the first page starts, in PDF points (pypdf)."""
    from pypdf import PdfReader

    found: dict[str, tuple[float, float]] = {}

    def visit(text, cm, tm, font, size):
        if text.strip():
            found.setdefault(text.strip(), (tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]))

    PdfReader(BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return found


def test_the_signed_page_shows_the_signature_under_the_seal(setup):
    """The page as a person sees it (out/signatures/trang-ky.png): the blue signature between
    the title and the name, the red seal over its left third, the number and the date filled."""
    from reportflow.signatures.demo_keys import MM, SEAL_MM, demo_seal_png, demo_signature_png

    folder = setup["folder"]
    document = Document()
    document.add_paragraph("SỞ THÔNG TIN VÀ TRUYỀN THÔNG")
    document.add_paragraph("Số:          /BC-STTTT-VP")
    document.add_paragraph("Trà Vinh, ngày     tháng     năm 2020")
    document.add_paragraph("BÁO CÁO").alignment = 1
    document.add_paragraph("Tình hình thực hiện nhiệm vụ 6 tháng đầu năm 2020").alignment = 1
    for line in ["GIÁM ĐỐC", "", "", "", "", "Trần Văn Khoản"]:
        document.add_paragraph(line).alignment = 2
    docx = folder / "trang-ky.docx"
    document.save(docx)
    pdf = convert_to_pdf(docx, folder).read_bytes()
    at = text_positions(pdf)
    (_, title_y), (_, name_y) = at["GIÁM ĐỐC"], at["Trần Văn Khoản"]
    number_x, number_y = at["Số:          /BC-STTTT-VP"]
    date_x, date_y = at["Trà Vinh, ngày     tháng     năm 2020"]
    places = issued_pdf.Places.around_signature(
        0,
        (400, name_y + 16, 540, title_y - 4),
        SEAL_MM * MM,
        (number_x + 24, number_y - 3, number_x + 70, number_y + 14),
        (date_x, date_y - 3, date_x + 260, date_y + 14),
    )
    signature = demo_signature_png(folder / "chu-ky.png", "Trần Văn Khoản")
    seal = demo_seal_png(folder / "con-dau.png", AGENCY)
    prepared = issued_pdf.prepare(pdf, places)
    with open_signer(spec(setup["signer"]), setup["signer"].certificate) as signer:
        signed = sign_as_signer(prepared, signer, "Trần Văn Khoản", image=signature)
    numbered = fill_number(signed, "01", "Trà Vinh, ngày 05 tháng 6 năm 2020")
    with open_signer(spec(setup["agency"]), setup["agency"].certificate) as signer:
        final = sign_as_agency(numbered, signer, AGENCY, SIGNED_AT, seal=seal)
    assert verify_pdf(final, [setup["pki"].pem]).passes
    out = Path(__file__).resolve().parent.parent / "out" / "signatures"
    out.mkdir(parents=True, exist_ok=True)
    (out / "trang-ky.pdf").write_bytes(final)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "80",
            "-png",
            "-singlefile",
            str(out / "trang-ky.pdf"),
            str(out / "trang-ky"),
        ],
        check=True,
    )
    assert (out / "trang-ky.png").stat().st_size > 10_000
