"""The director's decision page in the web app (issue 21, part 3), on a real uvicorn: the page
behind his own draft link sends through the same decision function as the Prefect form, with its
checks, binding, lockout and audit, and says "Đã ghi nhận" only once the decision is stored."""

from __future__ import annotations

import json
import os

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from sqlmodel import select
from typer.testing import CliRunner

from reportflow.cli import app
from reportflow.core.config import reload_settings
from reportflow.cycle.cycles import get_cycle
from reportflow.cycle.deciding.approval import MAX_WRONG_CODES
from reportflow.cycle.deciding.decision_page import MAX_COMMENT_CHARS
from reportflow.cycle.issuing.signing import AwaitingOwnSignature, sign_for_approver
from reportflow.cycle.links import verify
from reportflow.cycle.steps import prepare_draft, wait_for_signing
from reportflow.models import (
    ApprovalDecision,
    AuditEvent,
    CycleState,
    RenderedDocument,
    SectionAssignment,
    session_scope,
)
from reportflow.runtime.smtp_sink import message_text
from reportflow.signatures.demo_keys import DemoCa
from reportflow.web.site import csrf_token
from tests.factories import (
    APPROVAL_CODE,
    open_sample_cycle,
    row_counts,
    submit_everything,
    use_sample_with_deputy,
)
from tests.softhsm import AGENCY
from tests.web_server import CSRF, DRAFT_LINK, serving_web


@pytest.fixture
def director_page(database, smtp, tmp_path, restore_environment):
    """A draft awaiting the decision, mailed to the director and to his deputy (a listed
    approver), each with a code and a link of his own; no flow run (the page records the
    decision, and the run reads it when it runs)."""
    use_sample_with_deputy(tmp_path / "definitions")
    cycle_id = open_sample_cycle()
    submit_everything(cycle_id, tmp_path)
    with serving_web() as base:
        with session_scope() as session:
            get_cycle(session, cycle_id, for_update=True).state = CycleState.DRAFTING
        prepare_draft(cycle_id)
        mails = {
            str(m["To"]): message_text(m)
            for m in smtp.messages()
            if "phê duyệt (vòng 1)" in str(m["Subject"])
        }
        found = {}
        for to, text in mails.items():
            (link,) = DRAFT_LINK.findall(text)
            (code,) = APPROVAL_CODE.findall(text)
            found["deputy" if "phogiamdoc" in to else "director"] = (link, code, text)
        yield {"cycle": cycle_id, "base": base, **found, "smtp": smtp}


def open_form(link: str) -> tuple[httpx.Response, str]:
    page = httpx.get(link, timeout=30)
    assert page.status_code == 200, page.text
    (csrf,) = CSRF.findall(page.text)
    return page, csrf


def send(link: str, csrf: str, fields: list[tuple[str, str]]) -> httpx.Response:
    """POSTs the form as a browser does, a name given more than once keeping every value."""
    data: dict[str, list[str]] = {"csrf": [csrf]}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return httpx.post(f"{link}/quyet-dinh", data=data, timeout=60, follow_redirects=False)


def decisions(cycle_id: int) -> list[ApprovalDecision]:
    with session_scope() as session:
        return list(
            session.exec(select(ApprovalDecision).where(ApprovalDecision.cycle_id == cycle_id))
        )


def refused(cycle_id: int) -> list[dict]:
    with session_scope() as session:
        rows = session.exec(
            select(AuditEvent.detail)
            .where(AuditEvent.cycle_id == cycle_id, AuditEvent.action == "decision.refused")
            .order_by(AuditEvent.id)
        ).all()
    return list(rows)


def wrong(code: str) -> str:
    return "0000-0000" if code != "0000-0000" else "1111-1111"


def test_the_mail_gives_the_prefect_page_first_and_this_page_on_a_phone(director_page):
    link, _, text = director_page["director"]
    assert "Trên điện thoại: mở trang dưới đây, đọc dự thảo và quyết định ngay trên trang" in text
    assert text.index("Để quyết định trên máy tính") < text.index(link)
    assert "/v2/runs/" not in text, "the phone gets the page that decides, not Prefect's V2"


def test_a_wrong_code_is_said_at_once_then_a_send_back_is_recorded_once(director_page):
    cycle_id = director_page["cycle"]
    link, code, _ = director_page["director"]
    page, csrf = open_form(link)
    for shown in (
        "Quyết định",
        "Phê duyệt",
        "Trả lại để sửa",
        "Hủy báo cáo",
        "Dự thảo vòng 1",
        "08/6/2020",
    ):
        assert shown in page.text
    assert 'name="note:bcvt"' in page.text

    no = send(link, csrf, [("decision", "approve"), ("code", wrong(code))])
    assert no.status_code == 422
    assert 'class="card problem" id="problem"' in no.text
    assert "Mã phê duyệt không đúng" in no.text
    assert decisions(cycle_id) == []
    [audited] = refused(cycle_id)
    assert audited["path"] == "web" and audited["wrong_code"] is True
    assert wrong(code) not in str(audited), "the tried code is never stored in clear"

    comment = "Bổ sung số liệu bưu chính quý II"
    sent = send(
        link,
        csrf,
        [("decision", "request_changes"), ("code", code), ("note:bcvt", comment), ("due", "")],
    )
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"].endswith("/ket-qua")
    again = send(
        link,
        csrf,
        [("decision", "request_changes"), ("code", code), ("note:bcvt", comment), ("due", "")],
    )
    assert again.status_code == 303, "a second press shows the first decision again"
    [decision] = decisions(cycle_id)
    assert decision.decision == "request_changes" and decision.sections == {"bcvt": comment}
    assert decision.approver_code == "giamdoc"
    with session_scope() as session:
        assert get_cycle(session, cycle_id).state == CycleState.COLLECTING
        bcvt = session.exec(
            select(SectionAssignment).where(
                SectionAssignment.cycle_id == cycle_id, SectionAssignment.section_key == "bcvt"
            )
        ).one()
    result = httpx.get(f"{director_page['base']}{sent.headers['location']}", timeout=30)
    assert result.status_code == 200
    assert "Đã ghi nhận" in result.text and "trả lại để sửa" in result.text
    assert comment in result.text
    assert f"{bcvt.due.day:02d}/{bcvt.due.month}/{bcvt.due.year}" in result.text
    assert 'http-equiv="refresh"' not in result.text, "the run has nothing more to show"
    trail = CliRunner().invoke(app, ["audit", str(cycle_id)], terminal_width=250)
    said = " ".join(trail.output.split())
    assert "gửi qua trang quyết định trên web bị từ chối: Mã phê duyệt không đúng" in said
    assert "Quyết định: trả lại để sửa (vòng 1); phần trả lại: bcvt" in said
    assert "(qua trang quyết định trên web)" in said


def test_an_approval_is_recorded_and_the_page_follows_the_run(director_page):
    cycle_id = director_page["cycle"]
    link, code, _ = director_page["director"]
    before = httpx.get(f"{link}/ket-qua", timeout=30)
    assert "Chưa có quyết định" in before.text and "Đã ghi nhận" not in before.text
    _, csrf = open_form(link)
    sent = send(link, csrf, [("decision", "approve"), ("code", code), ("comment", "Đồng ý")])
    assert sent.status_code == 303, sent.text
    [decision] = decisions(cycle_id)
    assert decision.decision == "approve" and decision.comment == "Đồng ý"
    result = httpx.get(f"{link}/ket-qua", timeout=30)
    assert "Đã ghi nhận" in result.text and "phê duyệt" in result.text
    assert "Đang cấp số" in result.text, "approved, the next step is the number"
    assert 'http-equiv="refresh"' in result.text, "the page follows the run"
    assert 'id="unreachable"' in result.text, "no run answers: the page says the decision is kept"
    reopened = httpx.get(link, timeout=30)
    assert 'id="decision"' not in reopened.text and "đã có quyết định" in reopened.text


def test_only_his_own_code_works_on_his_page_and_wrong_codes_lock_the_round(director_page):
    cycle_id = director_page["cycle"]
    link, code, _ = director_page["director"]
    _, deputy_code, _ = director_page["deputy"]
    _, csrf = open_form(link)
    other = send(link, csrf, [("decision", "approve"), ("code", deputy_code)])
    assert other.status_code == 422 and "được gửi cho người khác" in other.text
    assert decisions(cycle_id) == []
    for n in range(MAX_WRONG_CODES):
        answer = send(link, csrf, [("decision", "reject"), ("code", f"{n:04d}-{n:04d}")])
        assert answer.status_code == 422
    assert "Đã nhập sai mã" in answer.text
    late = send(link, csrf, [("decision", "approve"), ("code", code)])
    assert late.status_code == 422 and "đã bị thu hồi" in late.text
    assert decisions(cycle_id) == []
    assert [r["path"] for r in refused(cycle_id)] == ["web"] * (MAX_WRONG_CODES + 2)


def test_the_page_takes_only_what_it_should(director_page):
    cycle_id = director_page["cycle"]
    link, code, _ = director_page["director"]
    _, csrf = open_form(link)
    before = row_counts()
    cases = [
        (
            [("decision", "approve"), ("code", code), ("comment", "x" * (MAX_COMMENT_CHARS + 1))],
            "dài quá 2.000 ký tự",
        ),
        ([("decision", "request_changes"), ("code", code)], "đánh dấu ít nhất một phần"),
        (
            [("decision", "request_changes"), ("code", code), ("send_back", "bcvt")],
            "Hãy ghi ý kiến cho phần bcvt",
        ),
        ([("code", code)], "Hãy chọn một quyết định"),
        ([("decision", "approve")], "Hãy nhập mã phê duyệt"),
        ([("decision", "approve"), ("code", code), ("code", "x" * 40)], "Mã phê duyệt dài quá"),
    ]
    for fields, said in cases:
        answer = send(link, csrf, fields)
        assert answer.status_code == 422, fields
        assert said in answer.text, (said, answer.text[:2000])
    assert row_counts() == before, "nothing written for a form refused before the code is tried"
    forged = send(link, "0" * 64, [("decision", "approve"), ("code", code)])
    assert forged.status_code == 403 and "Biểu mẫu không hợp lệ" in forged.text
    flood = send(link, csrf, [("decision", "approve"), ("code", code)] + [("x", "y")] * 100)
    assert flood.status_code in (400, 413, 422) and "<html" in flood.text
    unknown = send(
        link, csrf, [("decision", "request_changes"), ("code", code), ("note:khong-co", "sửa")]
    )
    assert unknown.status_code == 422 and "Không có phần: khong-co" in unknown.text
    mixed = send(link, csrf, [("decision", "approve"), ("code", code), ("note:bcvt", "sửa")])
    assert mixed.status_code == 422 and "Đã nêu các phần trả lại nhưng quyết định" in mixed.text
    assert decisions(cycle_id) == []


def test_only_the_signer_takes_and_sends_back_the_file_to_sign(director_page, tmp_path):
    """With his key on his own PC, the approved report waits for his signed file: only his
    page gives the prepared PDF and takes a file back; the deputy's page does neither, and a
    missing or non-PDF file is said in Vietnamese with nothing kept."""
    ca = DemoCa.create(tmp_path / "pki", AGENCY)
    _key, certificate = ca.issue("Trần Văn Khoản", AGENCY)
    own = tmp_path / "giamdoc.pem"
    own.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    os.environ["REPORTFLOW_SIGNER_KEYS"] = json.dumps({"giamdoc": f"certificate:{own}"})
    os.environ["REPORTFLOW_TRUST_ROOTS"] = json.dumps([str(ca.pem)])
    reload_settings()
    cycle_id = director_page["cycle"]
    link, code, _ = director_page["director"]
    _, csrf = open_form(link)
    sent = send(link, csrf, [("decision", "approve"), ("code", code), ("comment", "Đồng ý")])
    assert sent.status_code == 303, sent.text
    with pytest.raises(AwaitingOwnSignature) as waiting:
        sign_for_approver(cycle_id)
    wait_for_signing(cycle_id, str(waiting.value), tell_clerks=False)

    deputy, _, _ = director_page["deputy"]
    assert httpx.get(f"{deputy}/ban-can-ky.pdf", timeout=30).status_code == 404
    result = httpx.get(f"{link}/ket-qua", timeout=30)
    assert 'id="own-signing"' in result.text
    assert 'id="own-signing"' not in httpx.get(f"{deputy}/ket-qua", timeout=30).text
    prepared = httpx.get(f"{link}/ban-can-ky.pdf", timeout=30)
    assert prepared.status_code == 200 and prepared.content.startswith(b"%PDF-")

    def post(page_link: str, files: dict) -> httpx.Response:
        """As his browser posts it, with his own link's CSRF token (the deputy has one too)."""
        token = csrf_token(verify(page_link.rsplit("/d/", 1)[1]))
        return httpx.post(f"{page_link}/ky-so", data={"csrf": token}, files=files, timeout=60)

    pdf = {"file": ("da-ky.pdf", prepared.content, "application/pdf")}
    by_deputy = post(deputy, pdf)
    assert by_deputy.status_code == 422 and "Chỉ Trần Văn Khoản" in by_deputy.text
    empty = post(link, {"file": ("", b"", "application/octet-stream")})
    assert empty.status_code == 422 and "Chọn tệp PDF đã ký" in empty.text
    word = post(link, {"file": ("da-ky.pdf", b"PK\x03\x04 not a pdf", "application/pdf")})
    assert word.status_code == 422 and "không phải tệp PDF" in word.text
    unsigned = post(link, pdf)
    assert unsigned.status_code == 422 and "chưa có chữ ký số" in unsigned.text
    no_csrf = httpx.post(f"{link}/ky-so", files=pdf, timeout=60)
    assert no_csrf.status_code == 403
    with session_scope() as session:
        kinds = session.exec(
            select(RenderedDocument.kind).where(RenderedDocument.cycle_id == cycle_id)
        ).all()
    assert "signed-by-signer" not in kinds and kinds.count("to-sign") == 1
