"""The approval is bound to what the director saw: sections freeze once a draft is merged, a
refused form never ends the run, and a valid code typed into a refused form is replaced."""

from __future__ import annotations

import json
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.flow_runs import resume_flow_run
from sqlmodel import select
from typer.testing import CliRunner

from reportflow.cli import app
from reportflow.core.errors import Conflict
from reportflow.cycle.collecting.submit import submit_section
from reportflow.cycle.cycles import assignments, get_cycle
from reportflow.cycle.deciding.decide import send_decision
from reportflow.cycle.documents import document_file, find_document
from reportflow.demo.run import start_flow_process, wait_for_pause, wait_until
from reportflow.document.blocks import Paragraph, Run, SectionContent
from reportflow.document.writing.textdump import docx_text_lines
from reportflow.models import (
    ApprovalCode,
    ApprovalDecision,
    AuditEvent,
    CycleState,
    SectionVersion,
    session_scope,
)
from tests.factories import approval_codes, open_sample_cycle, row_counts, submit_everything

pytestmark = pytest.mark.e2e


def _pause_key(run_id: UUID) -> str:
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run_id).state
    return state.state_details.pause_key if state.is_paused() else ""


def _run_id(cycle_id: int) -> UUID:
    with session_scope() as session:
        return UUID(get_cycle(session, cycle_id).flow_run_id)


def _stored_form(run_id: UUID, part: str):
    """What the UI reads to draw the form: the description or the schema stored with the
    paused run."""
    with get_client(sync_client=True) as client:
        keyset = client.read_flow_run(run_id).state.state_details.run_input_keyset
        return json.loads(client.read_flow_run_input(run_id, keyset[part]))


@pytest.fixture
def waiting_for_decision(prefect_server, database, smtp, tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTFLOW_PAUSE_POLL_S", "1")
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-05T09:00:00+07:00")
    from reportflow.core.config import reload_settings

    reload_settings()
    cycle_id = open_sample_cycle()
    flow = start_flow_process(cycle_id, tmp_path / "flow.log")
    try:
        wait_for_pause(cycle_id, "sections-", flow)
        submit_everything(cycle_id, tmp_path)
        wait_for_pause(cycle_id, "decision-", flow)
        wait_until(lambda: approval_codes(smtp), 30, "approval mail")
        yield cycle_id, flow
    finally:
        if flow.poll() is None:
            flow.kill()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_refused_form_burns_its_valid_code_mails_a_new_one_and_asks_again(
    waiting_for_decision, smtp
):
    cycle_id, flow = waiting_for_decision
    (code,) = approval_codes(smtp)
    run_id = _run_id(cycle_id)
    first_key = _pause_key(run_id)
    # The sections to send back are a list of the draft's own, not typed.
    schema = _stored_form(run_id, "schema")
    change = schema["$defs"]["SectionChange"]["properties"]["section"]
    choices = schema["$defs"][change["$ref"].rsplit("/", 1)[1]]["enum"]
    with session_scope() as session:
        drafted = [(a.section_key, a.title) for a in assignments(session, cycle_id)]
    assert [c.split(" · ")[0] for c in choices] == [key for key, _ in drafted]
    assert "bcvt · Bưu chính – Viễn thông" in choices
    assert change["title"] == "Phần cần sửa"
    with pytest.raises(Exception, match="(?i)validat|cannot resume"):
        resume_flow_run(
            run_id,
            run_input={
                "decision": "Trả lại để sửa",
                "approval_code": code,
                "changes": [{"section": "khong-co", "comment": "sửa"}],
            },
        )
    assert _pause_key(run_id) == first_key
    # A valid code, but sent back with no section named: refused, and the code was seen.
    resume_flow_run(run_id, run_input={"decision": "Trả lại để sửa", "approval_code": code})
    wait_until(lambda: _pause_key(run_id) not in ("", first_key), 60, "asked again", flow)
    assert flow.poll() is None, "a refused form must not end the run"
    description = _stored_form(run_id, "description")
    schema = _stored_form(run_id, "schema")
    titles = {name: field.get("title") for name, field in schema["properties"].items()}
    assert titles == {
        "decision": "Quyết định",
        "approval_code": "Mã phê duyệt một lần (8 ký tự, trong thư riêng)",
        "comment": "Ý kiến chung",
        "changes": "Các phần trả lại",
        "resubmission_due": "Hạn gửi lại (ngày/tháng/năm)",
    }
    assert schema["required"] == ["decision", "approval_code"]
    assert "default" not in schema["properties"]["decision"], "nothing is chosen for him"
    assert "description" not in schema["$defs"]["DecisionChoice"]
    assert description.startswith(
        "**Lần trước chưa được chấp nhận:** Trả lại để sửa cần nêu ít nhất một phần"
    )
    assert "Mã đã nhập ở lần đó bị hủy; mã mới đã được gửi qua thư riêng." in description
    codes = wait_until(lambda: (c := approval_codes(smtp)) and len(c) == 2 and c, 30, "new code")
    with session_scope() as session:
        stored = session.exec(select(ApprovalCode).order_by(ApprovalCode.id)).all()
        assert [(c.revoke_reason, c.used_at is None) for c in stored] == [
            ("đã nhập trong một mẫu quyết định bị từ chối", True),
            (None, True),
        ]
        refused = session.exec(
            select(AuditEvent).where(AuditEvent.action == "decision.refused")
        ).one()
        assert (refused.actor, refused.detail["code_burnt"]) == ("giamdoc", True)

    # A blank approver or a division head's name cannot fail the run any more: the form has no
    # such field, and the burnt code is refused with its reason.
    with pytest.raises(Exception, match="đã bị thu hồi"):
        send_decision(cycle_id, code, [], False, "")
    approved = send_decision(cycle_id, codes[1], [], False, "Đồng ý")
    assert approved == "Đã ghi quyết định của Trần Văn Khoản (vòng 1): phê duyệt."
    assert flow.wait(timeout=120) == 0
    with session_scope() as session:
        decision = session.exec(select(ApprovalDecision)).one()
        draft = find_document(session, cycle_id, "draft", 1)
        assert (decision.draft_id, decision.draft_sha256) == (draft.id, draft.sha256)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_late_submission_is_refused_until_the_office_withdraws_the_draft(
    waiting_for_decision, smtp, tmp_path
):
    cycle_id, flow = waiting_for_decision
    late = tmp_path / "bcvt-muon.md"
    late.write_text("- Bổ sung muộn: sản lượng bưu chính tháng 6 tăng 3,1%.\n", encoding="utf-8")
    before = row_counts()
    with pytest.raises(Conflict) as refused:
        submit_section(cycle_id, "bcvt", late, "tp-bcvt")
    message = " ".join(str(refused.value).split())
    assert "các phần đã khóa; bài gửi này chưa được lưu" in message
    assert f"reportflow cycle withdraw {cycle_id}" in message
    assert row_counts() == before

    cli = CliRunner()
    not_office = cli.invoke(
        app, ["cycle", "withdraw", str(cycle_id), "--reopen", "bcvt", "--by", "tp-cntt"]
    )
    assert not_office.exit_code == 2 and "chỉ Văn phòng" in " ".join(not_office.output.split())
    withdrawn = cli.invoke(
        app, ["cycle", "withdraw", str(cycle_id), "--reopen", "bcvt", "--by", "chanhvp"]
    )
    assert withdrawn.exit_code == 0, withdrawn.output
    assert "vòng 2 chờ các phần: bcvt" in " ".join(withdrawn.output.split())
    wait_for_pause(cycle_id, "sections-r2", flow)
    submit_section(cycle_id, "bcvt", late, "tp-bcvt")
    wait_for_pause(cycle_id, "decision-r2", flow)
    codes = wait_until(lambda: (c := approval_codes(smtp)) and len(c) == 2 and c, 30, "new draft")
    with pytest.raises(Exception, match="không đúng"):
        send_decision(cycle_id, codes[0], [], False, "")  # a code of the withdrawn round
    send_decision(cycle_id, codes[1], [], False, "Đồng ý")
    assert flow.wait(timeout=120) == 0
    with session_scope() as session:
        assert get_cycle(session, cycle_id).state == CycleState.DONE
        final = find_document(session, cycle_id, "final")
        draft = find_document(session, cycle_id, "draft", 2)
        assert final.section_versions == draft.section_versions
        withdrawn_event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "draft.withdrawn")
        ).one()
        assert (withdrawn_event.actor, withdrawn_event.detail["sections"]) == ("chanhvp", ["bcvt"])
    text = "\n".join(docx_text_lines(document_file(final)))
    assert "sản lượng bưu chính tháng 6 tăng 3,1%" in text


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_final_is_built_from_the_approved_drafts_versions_and_rendered_once(database, tmp_path):
    from reportflow.cycle.deciding.approval import DirectorDecision, record_decision
    from reportflow.cycle.drafting.merge import render_final
    from reportflow.cycle.issuing.numbering import assign_number
    from tests.factories import issue_code_for_draft

    cycle_id = open_sample_cycle()
    submit_everything(cycle_id, tmp_path)
    with session_scope() as session:
        code = issue_code_for_draft(session, get_cycle(session, cycle_id, for_update=True))
    with session_scope() as session:
        record_decision(session, cycle_id, DirectorDecision(decision="approve", approval_code=code))
    with session_scope() as session:
        # A version no draft held, written behind the product's back.
        approved = find_document(session, cycle_id, "draft", 1)
        held = session.get(SectionVersion, approved.section_versions["bcvt"])
        session.add(
            SectionVersion(
                assignment_id=held.assignment_id,
                version_no=held.version_no + 1,
                blocks=SectionContent([Paragraph([Run("Không được duyệt.")])]).to_json(),
                source_name="x.md",
                source_format="markdown",
                source_bytes=b"x",
                sha256="0" * 64,
                submitted_by="tp-bcvt",
            )
        )
    assign_number(cycle_id)
    with session_scope() as session:
        first = render_final(session, get_cycle(session, cycle_id))
    with session_scope() as session:
        again = render_final(session, get_cycle(session, cycle_id))
    assert (again.id, again.sha256) == (first.id, first.sha256)
    assert first.section_versions == approved.section_versions
    text = "\n".join(docx_text_lines(document_file(first)))
    assert "Không được duyệt." not in text
    document_file(first).write_bytes(b"altered")
    assert document_file(first).read_bytes()[:2] == b"PK", "the stored bytes are written back"
