"""A whole cycle that issues a signed PDF (issue 22), with real PKCS#11 tokens (SoftHSM2) for
the director and the agency and real flow runs: the director approves, his key signs the final
layout with the number blank, the register numbers it, the agency's key fills the number and
date in and signs last, `verify` passes, and every recipient gets that PDF, once; also when the
run is killed between the two signatures, when a wrong PIN makes the cycle wait, and when the
director signs on his own PC and sends the file back."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from io import BytesIO
from types import SimpleNamespace

import httpx
import pytest
from docx import Document
from sqlmodel import select
from typer.testing import CliRunner

from reportflow.cli import app
from reportflow.core.config import get_settings, reload_settings
from reportflow.cycle.cycles import get_cycle
from reportflow.cycle.deciding.decide import send_decision
from reportflow.demo.run import start_flow_process, wait_for_pause, wait_until
from reportflow.models import AuditEvent, CycleState, RegisterEntry, session_scope
from reportflow.runtime.smtp_sink import message_text
from reportflow.services.processes import kill_tree
from reportflow.signatures.demo_keys import demo_seal_png, demo_signature_png
from reportflow.signatures.verification import verify_pdf
from tests.browser import CHROMIUM, SCREENSHOTS, launch
from tests.factories import open_sample_cycle, run_to_decision, use_sample_sending_docx
from tests.softhsm import (
    AGENCY,
    MODULE,
    PIN,
    certificate_pem,
    demo_ca,
    key_uri,
    make_token,
    sign_on_own_pc,
    softhsm_environment,
)
from tests.web_server import DRAFT_LINK, serving_web

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not MODULE.exists() or not shutil.which("soffice"), reason="needs softhsm2 and LibreOffice"
    ),
]


@pytest.fixture
def signing_keys(tmp_path, monkeypatch):
    """The director's and the agency's keys on two SoftHSM2 tokens, the CA's certificate as the
    trust root, the demo images; configured as an agency's IT staff would."""
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-05T09:00:00+07:00")
    softhsm_environment(tmp_path / "hsm")
    ca = demo_ca(tmp_path / "pki")
    director = make_token(
        tmp_path, "giamdoc", *ca.issue("Trần Văn Khoản", AGENCY), "REPORTFLOW_SIGNER_PIN_GIAMDOC"
    )
    agency = make_token(tmp_path, "coquan", *ca.issue(AGENCY, AGENCY), "REPORTFLOW_AGENCY_KEY_PIN")
    images = tmp_path / "images"
    demo_signature_png(images / "giamdoc.png", "Trần Văn Khoản")
    demo_seal_png(images / "seal.png", AGENCY)
    monkeypatch.setenv("REPORTFLOW_AGENCY_KEY", key_uri(agency))
    monkeypatch.setenv("REPORTFLOW_SIGNER_KEYS", json.dumps({"giamdoc": key_uri(director)}))
    monkeypatch.setenv("REPORTFLOW_TRUST_ROOTS", json.dumps([str(ca.pem)]))
    monkeypatch.setenv("REPORTFLOW_SIGNATURE_IMAGES_DIR", str(images))
    reload_settings()
    return SimpleNamespace(pem=ca.pem, director=director, agency=agency)


def audit_actions() -> list[str]:
    with session_scope() as session:
        return [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_run_killed_between_the_two_signatures_finishes_with_one_number_and_one_dispatch(
    prefect_server, database, smtp, signing_keys, tmp_path, monkeypatch
):
    """The agency's PIN is read from a named pipe nobody writes to yet: the run has the
    director's signature and the number, and waits for the clerk's PIN; it is killed there
    (SIGKILL), the clerk gives the PIN, and a new run finishes the cycle."""
    fifo = tmp_path / "pin-van-thu.fifo"
    os.mkfifo(fifo)
    monkeypatch.delenv("REPORTFLOW_AGENCY_KEY_PIN")
    monkeypatch.setenv("REPORTFLOW_AGENCY_KEY_PIN_FILE", str(fifo))
    reload_settings()
    cycle_id = open_sample_cycle()
    flow, code = run_to_decision(cycle_id, tmp_path, smtp, "flow-1.log")
    try:
        send_decision(cycle_id, code, [], False, "Đồng ý")
        wait_until(lambda: "register.numbered" in audit_actions(), 120, "the number")
        time.sleep(1)
        assert flow.poll() is None, (tmp_path / "flow-1.log").read_text()
        assert "signature.agency" not in audit_actions()
    finally:
        kill_tree(flow)
    assert flow.wait(timeout=30) == -signal.SIGKILL

    monkeypatch.delenv("REPORTFLOW_AGENCY_KEY_PIN_FILE")
    monkeypatch.setenv("REPORTFLOW_AGENCY_KEY_PIN", PIN)
    reload_settings()
    again = start_flow_process(cycle_id, tmp_path / "flow-2.log")
    assert again.wait(timeout=180) == 0, (tmp_path / "flow-2.log").read_text()

    actions = audit_actions()
    for action in ("signature.signer", "register.numbered", "signature.agency", "cycle.done"):
        assert actions.count(action) == 1, (action, actions.count(action))
    assert actions.index("signature.signer") < actions.index("register.numbered")
    assert actions.index("register.numbered") < actions.index("signature.agency")
    with session_scope() as session:
        assert get_cycle(session, cycle_id).state == CycleState.DONE
        entry = session.exec(select(RegisterEntry)).one()
    name = entry.number_text.replace("/", "-") + ".pdf"
    dispatched = [m for m in smtp.messages() if entry.number_text in str(m["Subject"])]
    assert len(dispatched) == 3 and len({str(m["To"]) for m in dispatched}) == 3
    files = set()
    for message in dispatched:
        [part] = [p for p in message.iter_attachments() if p.get_filename()]
        assert part.get_filename() == name
        files.add(part.get_content())
    [issued] = files
    verdict = verify_pdf(issued, [signing_keys.pem])
    assert verdict.passes, verdict.problems
    assert [f.signer for f in verdict.findings] == ["Trần Văn Khoản", AGENCY]
    path = tmp_path / name
    path.write_bytes(issued)
    first_page = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-layout", str(path), "-"],
        capture_output=True,
        text=True,
    ).stdout
    said = " ".join(first_page.split())
    assert "Số: 01 /BC-STTTT-VP" in said or "Số: 01/BC-STTTT-VP" in said, said[:300]
    assert "ngày 05 tháng 6 năm 2020" in said, said[:300]
    archived, checksum = sorted((get_settings().data_dir / "archive").rglob("*.*"))
    assert archived.name == name and archived.read_bytes() == issued, "the archive keeps the PDF"
    digest = hashlib.sha256(issued).hexdigest()
    assert checksum.read_text("utf-8") == f"{digest}  {name}\n", "and its SHA-256 beside it"
    assert entry.signed_sha256 == digest, "the register keeps the SHA-256"
    shown = CliRunner().invoke(app, ["register", "show", "--year", "2020"], terminal_width=80)
    assert f"{entry.number_text}:\n    {digest}\n" in shown.output, shown.output


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_wrong_pin_waits_with_no_number_until_the_clerk_retries(
    prefect_server, database, smtp, signing_keys, tmp_path, monkeypatch
):
    pin_file = tmp_path / "pin-giam-doc"
    pin_file.write_text("000000")
    monkeypatch.delenv("REPORTFLOW_SIGNER_PIN_GIAMDOC")
    monkeypatch.setenv("REPORTFLOW_SIGNER_PIN_FILE_GIAMDOC", str(pin_file))
    reload_settings()
    cycle_id = open_sample_cycle()
    flow, code = run_to_decision(cycle_id, tmp_path, smtp)
    try:
        send_decision(cycle_id, code, [], False, "Đồng ý")
        wait_for_pause(cycle_id, "signature-", flow)
        with session_scope() as session:
            assert get_cycle(session, cycle_id).state == CycleState.AWAITING_SIGNATURE
            assert session.exec(select(RegisterEntry)).first() is None, "no number used"
            [waiting] = session.exec(
                select(AuditEvent.detail).where(AuditEvent.action == "signature.waiting")
            ).all()
        assert "Sai mã PIN" in waiting["reason"]
        [told] = [m for m in smtp.messages() if "Chờ ký số" in str(m["Subject"])]
        assert str(told["To"]).startswith("vanthu@"), "the clerk is told"
        said = message_text(told)
        assert "Sai mã PIN" in said and f"reportflow sign retry {cycle_id}" in said
        status = CliRunner().invoke(app, ["status", str(cycle_id)], terminal_width=200)
        assert "chờ ký số" in status.output, status.output

        pin_file.write_text(PIN)
        retried = CliRunner().invoke(app, ["sign", "retry", str(cycle_id)], terminal_width=200)
        assert retried.exit_code == 0, retried.output
        assert flow.wait(timeout=180) == 0, (tmp_path / "flow.log").read_text()
    finally:
        if flow.poll() is None:
            flow.kill()
    actions = audit_actions()
    assert actions.count("register.numbered") == 1 and actions.count("signature.signer") == 1
    with session_scope() as session:
        assert get_cycle(session, cycle_id).state == CycleState.DONE
    again = CliRunner().invoke(app, ["sign", "retry", str(cycle_id)], terminal_width=200)
    assert again.exit_code == 2 and "không chờ ký số" in again.output


def register_entries() -> int:
    with session_scope() as session:
        return len(session.exec(select(RegisterEntry)).all())


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_director_signs_on_his_own_pc_and_only_his_signed_file_is_taken(
    prefect_server, database, smtp, signing_keys, tmp_path, monkeypatch, restore_environment
):
    """His key stays at his desk: the approved report waits "chờ ký số" with the prepared PDF.
    He takes it from his page (or `sign download`), signs it with his own software and sends it
    back on his page in Chromium at 390×844 (or `sign upload`). A tampered file or one signed
    with another certificate is refused, said in red, and nothing is numbered; his file is
    numbered, sealed by the agency's token and dispatched once, with the DOCX beside it as the
    definition asks. Screenshots in out/ui/own-pc-signing/."""
    from playwright.sync_api import sync_playwright

    use_sample_sending_docx(tmp_path / "definitions")
    own = certificate_pem(signing_keys.director, tmp_path / "giamdoc.pem")
    monkeypatch.setenv("REPORTFLOW_SIGNER_KEYS", json.dumps({"giamdoc": f"certificate:{own}"}))
    reload_settings()
    shots = SCREENSHOTS / "own-pc-signing"
    shots.mkdir(parents=True, exist_ok=True)
    cycle_id = open_sample_cycle()
    cli = CliRunner()

    def upload(data: bytes, name: str):
        path = tmp_path / name
        path.write_bytes(data)
        return cli.invoke(app, ["sign", "upload", str(cycle_id), str(path)], terminal_width=200)

    with serving_web(), sync_playwright() as playwright:
        flow, code = run_to_decision(cycle_id, tmp_path, smtp)
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        try:
            early = cli.invoke(app, ["sign", "download", str(cycle_id)], terminal_width=200)
            assert early.exit_code == 2 and "chưa có bản cần ký" in early.output, early.output
            send_decision(cycle_id, code, [], False, "Đồng ý")
            wait_for_pause(cycle_id, "signature-", flow)
            with session_scope() as session:
                assert get_cycle(session, cycle_id).state == CycleState.AWAITING_SIGNATURE
                [waiting] = session.exec(
                    select(AuditEvent.detail).where(AuditEvent.action == "signature.waiting")
                ).all()
            assert "ký số trên máy của mình" in waiting["reason"]
            prepared_path = tmp_path / "ban-can-ky.pdf"
            got = cli.invoke(
                app,
                ["sign", "download", str(cycle_id), "--out", str(prepared_path)],
                terminal_width=200,
            )
            assert got.exit_code == 0, got.output
            prepared = prepared_path.read_bytes()

            [asked] = [m for m in smtp.messages() if "ký số văn bản" in str(m["Subject"])]
            assert str(asked["To"]).startswith("giamdoc@")
            [link] = {
                found.removesuffix("/ket-qua") for found in DRAFT_LINK.findall(message_text(asked))
            }
            page.goto(f"{link}/ket-qua")
            page.locator("#own-signing").wait_for()
            page.screenshot(path=str(shots / "01-cho-ky.png"), full_page=True)
            href = page.get_attribute("#to-sign", "href")
            from_page = httpx.get(link.rsplit("/d/", 1)[0] + href, timeout=30)
            assert from_page.status_code == 200 and from_page.content == prepared
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, "the page scrolls sideways on a phone"

            changed = prepared.replace(b"/Producer", b"/Produced", 1)
            tampered = upload(sign_on_own_pc(changed, signing_keys.director), "sua.pdf")
            assert tampered.exit_code == 2, tampered.output
            assert "không bắt đầu bằng đúng bản cần ký" in tampered.output
            foreign = tmp_path / "cua-nguoi-khac.pdf"
            foreign.write_bytes(sign_on_own_pc(prepared, signing_keys.agency))
            page.set_input_files("#signed-file", str(foreign))
            page.click("#send-signed")
            page.locator("#problem").wait_for()
            said = page.inner_text("#problem")
            assert "không phải chứng thư đã khai báo cho Trần Văn Khoản" in said, said
            page.screenshot(path=str(shots / "02-tu-choi.png"), full_page=True)
            assert register_entries() == 0 and "signature.signer" not in audit_actions()

            signed = tmp_path / "da-ky.pdf"
            signed.write_bytes(sign_on_own_pc(prepared, signing_keys.director))
            page.set_input_files("#signed-file", str(signed))
            page.click("#send-signed")
            page.wait_for_url("**/ket-qua")
            assert page.locator("#own-signing").count() == 0
            page.locator("text=Đã phát hành văn bản số").wait_for(timeout=120_000)
            page.screenshot(path=str(shots / "03-da-phat-hanh.png"), full_page=True)
            assert flow.wait(timeout=180) == 0, (tmp_path / "flow.log").read_text()
        finally:
            browser.close()
            if flow.poll() is None:
                flow.kill()
    actions = audit_actions()
    for action in ("signature.signer", "register.numbered", "signature.agency", "cycle.done"):
        assert actions.count(action) == 1, (action, actions.count(action))
    with session_scope() as session:
        [taken] = session.exec(
            select(AuditEvent.detail).where(AuditEvent.action == "signature.signer")
        ).all()
        entry = session.exec(select(RegisterEntry)).one()
    assert taken["path"] == "web" and taken["signer"] == "Trần Văn Khoản"
    asked = [m for m in smtp.messages() if "ký số văn bản" in str(m["Subject"])]
    assert len(asked) == 1, "one request for his signature, whatever the run did after"
    assert not [m for m in smtp.messages() if "Chờ ký số" in str(m["Subject"])], (
        "his own signature is his mail, not the clerk's"
    )
    dispatched = [m for m in smtp.messages() if entry.number_text in str(m["Subject"])]
    assert len(dispatched) == 3
    name = entry.number_text.replace("/", "-")
    issued = set()
    for message in dispatched:
        parts = {p.get_filename(): p.get_content() for p in message.iter_attachments()}
        assert sorted(parts) == [f"{name}.docx", f"{name}.pdf"], sorted(parts)
        assert Document(BytesIO(parts[f"{name}.docx"])).paragraphs, "the DOCX opens"
        assert "không có chữ ký số" in message_text(message)
        issued.add(parts[f"{name}.pdf"])
    [final] = issued
    assert final.startswith(prepared)
    verdict = verify_pdf(final, [signing_keys.pem])
    assert verdict.passes, verdict.problems
    late = upload(sign_on_own_pc(prepared, signing_keys.director), "lan-nua.pdf")
    assert late.exit_code == 2 and "đã có chữ ký của người ký" in late.output
