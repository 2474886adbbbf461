"""The issued PDF's two digital signatures with real PKCS#11 tokens (SoftHSM2): the signer's
certification, the number filled after it, the agency's over the whole file; `verify` passes
that file and refuses a tampered one, one with a field added after the certification, one with
a single signature or twice the same certificate. A wrong PIN or a missing token is said in
Vietnamese, and nothing is signed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
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
from reportflow.signatures.keys import (
    KeySpec,
    KeyUnavailable,
    check_signer_certificate,
    holder_name,
    is_holder,
    open_signer,
)
from reportflow.signatures.verification import verify_pdf
from tests.softhsm import (
    AGENCY,
    MODULE,
    demo_ca,
    key_uri,
    make_token,
    sign_on_own_pc,
    sign_with_the_token_pulled_out,
    softhsm_environment,
)

pytestmark = pytest.mark.skipif(
    not MODULE.exists() or not shutil.which("soffice"),
    reason="needs softhsm2 and LibreOffice (apt-get install softhsm2 libreoffice-writer-nogui)",
)

PLACES = Places(
    signature_page=0,
    signer_box=(340, 300, 520, 370),
    agency_box=(300, 300, 420, 370),
    text_boxes={
        issued_pdf.NUMBER_FIELD: (95, 742, 200, 759),
        issued_pdf.DAY_FIELD: (330, 742, 380, 760),
    },
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
    numbered = fill_number(
        signed, {issued_pdf.NUMBER_FIELD: "01/BC-STTTT-VP", issued_pdf.DAY_FIELD: "05"}
    )
    with open_signer(spec(setup["agency"]), setup["agency"].certificate) as signer:
        return sign_as_agency(numbered, signer, AGENCY, SIGNED_AT)


def test_the_whole_path_passes_verify_and_shows_the_stamp(setup):
    final = issued(setup)
    verdict = verify_pdf(final, [setup["pki"].pem])
    assert verdict.passes, verdict.problems
    signer_sig, agency_sig = verdict.findings
    assert signer_sig.signer == "Trần Văn Khoản" and signer_sig.certifies
    assert agency_sig.signer == AGENCY and agency_sig.whole_file
    assert field_values(final) == {"SoVanBan": "01/BC-STTTT-VP", "Ngay": "05"}
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
        numbered = fill_number(signed, {issued_pdf.NUMBER_FIELD: "01/BC-STTTT-VP"})
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
        numbered = fill_number(
            sign_as_signer(prepared, signer, "Trần Văn Khoản"), {issued_pdf.NUMBER_FIELD: "02"}
        )
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


def test_the_report_signed_in_its_own_layout_shows_the_seal_over_the_signature(setup):
    """The sample report rendered for signing (the number, the day and the month blank), its
    fields found in the PDF, signed twice with the images and numbered: the pages as a person
    sees them go to out/signatures/ (the first page's number and date, the signature page)."""
    from bench.documents import sample_report
    from reportflow.document.writing.render import render_report_bytes
    from reportflow.signatures.demo_keys import demo_seal_png, demo_signature_png
    from reportflow.signatures.issued_pdf import SEAL_PT
    from reportflow.signatures.placement import chunks, find_places

    folder = setup["folder"]
    report = dataclasses.replace(
        sample_report(), number_text="      /BC-STTTT-VP", issued_on=None, signing_year=2020
    )
    docx = folder / "ban-ky.docx"
    docx.write_bytes(render_report_bytes(report))
    pdf = convert_to_pdf(docx, folder).read_bytes()
    places = find_places(pdf, "GIÁM ĐỐC", "Trần Văn Khoản", SEAL_PT)
    x1, y1, x2, y2 = places.signer_box
    assert places.signature_page > 0 and x2 - x1 > 100 and y2 - y1 > 40
    sx1, sy1, sx2, sy2 = places.agency_box
    assert sx2 == pytest.approx(x1 + (x2 - x1) / 3) and sx2 - sx1 == pytest.approx(SEAL_PT)
    signature = demo_signature_png(folder / "chu-ky.png", "Trần Văn Khoản")
    seal = demo_seal_png(folder / "con-dau.png", AGENCY)
    with open_signer(spec(setup["signer"]), setup["signer"].certificate) as signer:
        signed = sign_as_signer(prepare(pdf, places), signer, "Trần Văn Khoản", image=signature)
    numbered = fill_number(
        signed,
        {issued_pdf.NUMBER_FIELD: "01", issued_pdf.DAY_FIELD: "05", issued_pdf.MONTH_FIELD: "6"},
    )
    with open_signer(spec(setup["agency"]), setup["agency"].certificate) as signer:
        final = sign_as_agency(numbered, signer, AGENCY, SIGNED_AT, seal=seal)
    assert verify_pdf(final, [setup["pki"].pem]).passes
    first_page = " ".join(c.text for c in chunks(final) if c.page == 0)
    assert "Số:" in first_page and "năm 2020" in first_page
    out = Path(__file__).resolve().parent.parent / "out" / "signatures"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bao-cao-da-ky.pdf").write_bytes(final)
    for name, page in (("trang-dau", 1), ("trang-ky", places.signature_page + 1)):
        subprocess.run(
            ["pdftoppm", "-r", "80", "-png", "-singlefile", "-f", str(page), "-l", str(page)]
            + [str(out / "bao-cao-da-ky.pdf"), str(out / name)],
            check=True,
        )
    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(out / "bao-cao-da-ky.pdf"), "-"],
        capture_output=True,
        text=True,
    ).stdout
    said = " ".join(text.split())
    assert "01" in said and "05" in said, said[:400]


def test_a_signature_made_on_the_signers_own_pc_is_taken_and_issued(setup):
    """The director signs the prepared file with his usual software (an approval signature);
    the file is checked against the prepared bytes and his certificate, then numbered and
    sealed as usual, and the issued file passes `verify`."""
    from reportflow.signatures.signed_upload import check_signed_upload

    prepared = prepare(setup["pdf"], PLACES)
    upload = sign_on_own_pc(prepared, setup["signer"])
    taken = check_signed_upload(prepared, upload, setup["signer"].certificate, [setup["pki"].pem])
    assert taken.signer == "Trần Văn Khoản"
    numbered = fill_number(upload, {issued_pdf.NUMBER_FIELD: "03/BC-STTTT-VP"})
    with open_signer(spec(setup["agency"]), setup["agency"].certificate) as signer:
        final = sign_as_agency(numbered, signer, AGENCY, SIGNED_AT)
    verdict = verify_pdf(final, [setup["pki"].pem])
    assert verdict.passes, verdict.problems
    assert not verdict.findings[0].certifies


def test_a_signed_upload_that_is_not_the_prepared_file_with_his_signature_is_refused(setup):
    from reportflow.signatures.signed_upload import UploadRefused, check_signed_upload

    prepared = prepare(setup["pdf"], PLACES)
    trust = [setup["pki"].pem]
    director = setup["signer"].certificate

    def refused(upload: bytes, certificate=director) -> str:
        with pytest.raises(UploadRefused) as caught:
            check_signed_upload(prepared, upload, certificate, trust)
        return str(caught.value)

    good = sign_on_own_pc(prepared, setup["signer"])
    tampered = bytearray(good)
    spot = tampered.index(b"stream\n") + 20
    tampered[spot] = (tampered[spot] + 1) % 256
    assert "không bắt đầu bằng đúng bản cần ký" in refused(bytes(tampered))

    other_draft = prepare(setup["pdf"].replace(b"/Producer", b"/Produced", 1), PLACES)
    assert "không bắt đầu bằng đúng bản cần ký" in refused(
        sign_on_own_pc(other_draft, setup["signer"])
    )
    assert "chưa có chữ ký số" in refused(prepared)
    assert "không phải tệp PDF" in refused(b"PK\x03\x04 a Word file")
    assert "thêm trang hoặc sửa nội dung" in refused(
        sign_on_own_pc(prepared, setup["signer"], add_page=True)
    )
    assert "không phải chứng thư đã khai báo cho Trần Văn Khoản" in refused(
        sign_on_own_pc(prepared, setup["agency"])
    )
    with open_signer(spec(setup["agency"]), setup["agency"].certificate) as signer:
        twice = sign_as_agency(good, signer, AGENCY, SIGNED_AT)
    assert "2 chữ ký số" in refused(twice)
    changed_after = fill_number(good, {issued_pdf.NUMBER_FIELD: "99"})
    assert "Sau chữ ký, tệp còn bị thêm hoặc sửa" in refused(changed_after)


def test_a_certificate_is_his_only_when_issued_to_his_name_and_valid_now(setup):
    director = setup["signer"].certificate
    assert holder_name(director) == "Trần Văn Khoản"
    assert is_holder(director, "Trần Văn Khoản") and is_holder(director, "trần  văn KHOẢN")
    assert not is_holder(director, "Lâm Văn Mẫn")
    assert not is_holder(setup["agency"].certificate, "Trần Văn Khoản")
    check_signer_certificate(director, "Trần Văn Khoản", "token 'giamdoc'")
    with pytest.raises(KeyUnavailable, match="không phải Lâm Văn Mẫn"):
        check_signer_certificate(director, "Lâm Văn Mẫn", "token 'giamdoc'")
    _key, expired = setup["pki"].issue("Trần Văn Khoản", AGENCY, valid_days=30, begins_days_ago=400)
    der = expired.public_bytes(serialization.Encoding.DER)
    with pytest.raises(KeyUnavailable, match="chỉ có hiệu lực từ .* gia hạn"):
        check_signer_certificate(asn1_x509.Certificate.load(der), "Trần Văn Khoản", "tệp x.p12")


def test_a_configured_timestamp_authority_times_both_signatures(setup, monkeypatch):
    """With REPORTFLOW_TSA_URL set, both signatures carry a timestamp from the local TSA (a
    real RFC 3161 exchange over HTTP); `verify` shows it and holds it trusted."""
    from reportflow.core.config import reload_settings
    from reportflow.cycle.issuing.signing import timestamper
    from tests.local_tsa import local_tsa

    with local_tsa(setup["pki"], AGENCY) as (url, answered):
        monkeypatch.setenv("REPORTFLOW_TSA_URL", url)
        reload_settings()
        stamps = timestamper()
        assert stamps is not None
        prepared = prepare(setup["pdf"], PLACES)
        with open_signer(spec(setup["signer"]), setup["signer"].certificate) as signer:
            signed = sign_as_signer(prepared, signer, "Trần Văn Khoản", timestamper=stamps)
        numbered = fill_number(signed, {issued_pdf.NUMBER_FIELD: "04/BC-STTTT-VP"})
        with open_signer(spec(setup["agency"]), setup["agency"].certificate) as signer:
            final = sign_as_agency(numbered, signer, AGENCY, SIGNED_AT, timestamper=stamps)
        # pyHanko asks once more, first, to learn how much room a reply takes.
        assert len(answered) == 3, "a timestamp for each signature"
    monkeypatch.delenv("REPORTFLOW_TSA_URL")
    reload_settings()
    assert timestamper() is None
    verdict = verify_pdf(final, [setup["pki"].pem])
    assert verdict.passes, verdict.problems
    assert all(f.timestamped_at and f.timestamp_trusted for f in verdict.findings)
    assert "dấu thời gian của TSA" in verdict.findings[0].line()
    unstamped = verify_pdf(issued(setup), [setup["pki"].pem])
    assert all(f.timestamped_at is None for f in unstamped.findings)


def test_a_token_pulled_out_while_signing_is_said_and_nothing_signed(tmp_path):
    said = sign_with_the_token_pulled_out(tmp_path)
    assert said.startswith("Thiết bị ký số (token 'rutra') không trả lời khi đang ký"), said
    assert "Cắm lại thiết bị" in said
