"""The director's loop through the real resume API: a refused code, sections sent back, approval."""

from __future__ import annotations

import pytest
from sqlmodel import select

from reportflow.core.errors import UserError
from reportflow.cycle.collecting.submit import submit_section
from reportflow.cycle.cycles import get_cycle
from reportflow.cycle.deciding.decide import send_decision
from reportflow.demo.run import start_flow_process, wait_for_pause, wait_until
from reportflow.document.writing.textdump import docx_text_lines
from reportflow.models import (
    ApprovalDecision,
    AuditEvent,
    CycleState,
    RenderedDocument,
    SectionAssignment,
    session_scope,
)
from reportflow.runtime.smtp_sink import message_text
from tests.factories import approval_codes, open_sample_cycle, submit_everything

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_changes_requested_then_approved(prefect_server, database, smtp, tmp_path, monkeypatch):
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
        first_code = wait_until(lambda: approval_codes(smtp), 30, "approval mail")[0]

        with pytest.raises(UserError, match="Mã phê duyệt không đúng"):
            send_decision(
                cycle_id,
                "0000-0000" if first_code != "0000-0000" else "1111-1111",
                [],
                False,
                "",
            )
        with session_scope() as session:
            assert session.exec(select(ApprovalDecision)).all() == []

        recorded = send_decision(
            cycle_id,
            first_code,
            ["bcvt=Bổ sung số liệu bưu chính quý II"],
            False,
            "",
        )
        assert recorded.startswith("Đã ghi quyết định của Trần Văn Khoản (vòng 1)"), recorded
        with session_scope() as session:
            cycle = get_cycle(session, cycle_id)
            returned = session.exec(
                select(SectionAssignment).where(SectionAssignment.state == "returned")
            ).all()
            assert (cycle.state, cycle.round) == (CycleState.COLLECTING, 2)
            assert [(a.section_key, a.return_comment, str(a.due)) for a in returned] == [
                # Sent back on Friday 05/6 for a report due on Monday 08/6: due the same day.
                ("bcvt", "Bổ sung số liệu bưu chính quý II", "2020-06-05")
            ]
        wait_for_pause(cycle_id, "sections-", flow)
        returned_mail = [m for m in smtp.messages() if "đề nghị chỉnh sửa" in str(m["Subject"])]
        assert [str(m["To"]) for m in returned_mail] == ["bcvt@stttt.travinh.example"]
        returned_text = message_text(returned_mail[0])
        assert "Bổ sung số liệu bưu chính quý II" in returned_text
        assert "Hạn gửi lại: ngày 05/6/2020" in returned_text
        assert "Không còn ngày làm việc nào trước hạn nộp báo cáo (08/6/2020)" in returned_text

        revised = tmp_path / "bcvt-v2.md"
        revised.write_text("- Bổ sung: sản lượng bưu chính quý II tăng 12,5%.\n", encoding="utf-8")
        submit_section(cycle_id, "bcvt", revised, "tp-bcvt")
        wait_for_pause(cycle_id, "decision-", flow)
        codes = wait_until(
            lambda: (c := approval_codes(smtp)) and len(c) >= 2 and c, 30, "second mail"
        )
        with pytest.raises(UserError):
            send_decision(cycle_id, first_code, [], False, "")  # used in round 1
        approved = send_decision(cycle_id, codes[-1], [], False, "Đồng ý")
        assert approved == "Đã ghi quyết định của Trần Văn Khoản (vòng 2): phê duyệt.", approved
        assert flow.wait(timeout=120) == 0
    finally:
        if flow.poll() is None:
            flow.kill()
    with session_scope() as session:
        decisions = session.exec(select(ApprovalDecision).order_by(ApprovalDecision.id)).all()
        assert [(d.round, d.decision, d.approver_code) for d in decisions] == [
            (1, "request_changes", "giamdoc"),
            (2, "approve", "giamdoc"),
        ]
        assert get_cycle(session, cycle_id).state == CycleState.DONE
        refused = session.exec(
            select(AuditEvent).where(AuditEvent.action == "decision.refused")
        ).all()
        # The CLI path refuses before resuming (the run never saw them) and audits each refusal.
        assert [(e.detail["round"], e.detail["path"], e.detail["wrong_code"]) for e in refused] == [
            (1, "cli", True),
            (2, "cli", True),
        ]
        assert not any(e.detail["code_burnt"] for e in refused)
        assert first_code not in str([e.detail for e in refused]), "no tried code in clear"
        final = session.exec(select(RenderedDocument).where(RenderedDocument.kind == "final")).one()
    dispatched = [m for m in smtp.messages() if "01/BC-STTTT-VP" in str(m["Subject"])]
    assert len(dispatched) == 3
    text = "\n".join(docx_text_lines(final.path))
    assert "sản lượng bưu chính quý II tăng 12,5%" in text
    assert "Chỉ đạo các Doanh nghiệp Bưu chính" not in text


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_wrong_form_is_asked_again_then_the_director_cancels_the_report(
    prefect_server, database, smtp, tmp_path, monkeypatch
):
    """The Prefect UI's Resume carries the form as run input; this sends it the same way."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.flow_runs import resume_flow_run

    from reportflow.models import RegisterEntry

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
        code = wait_until(lambda: approval_codes(smtp), 30, "approval mail")[0]
        with session_scope() as session:
            run_id = UUID(get_cycle(session, cycle_id).flow_run_id)
        with get_client(sync_client=True) as client:
            first_key = client.read_flow_run(run_id).state.state_details.pause_key

        wrong = "0000-0000" if code != "0000-0000" else "1111-1111"
        resume_flow_run(
            run_id,
            run_input={"decision": "Phê duyệt", "approval_code": wrong},
        )

        def asked_again() -> bool:
            with get_client(sync_client=True) as client:
                state = client.read_flow_run(run_id).state
            key = state.state_details.pause_key or ""
            return state.is_paused() and key.startswith("decision-") and key != first_key

        wait_until(asked_again, 60, "the form asked again", flow)
        with session_scope() as session:
            refused = session.exec(
                select(AuditEvent).where(AuditEvent.action == "decision.refused")
            ).all()
            assert [(e.actor, e.cycle_id, e.detail["code_burnt"]) for e in refused] == [
                ("prefect-ui", cycle_id, False)
            ]
            assert get_cycle(session, cycle_id).state == CycleState.AWAITING_DECISION

        cancelled = send_decision(cycle_id, code, [], True, "Không cần báo cáo nữa")
        assert cancelled.endswith("không phê duyệt (hủy báo cáo)."), cancelled
        assert flow.wait(timeout=120) == 0
    finally:
        if flow.poll() is None:
            flow.kill()
    with session_scope() as session:
        assert get_cycle(session, cycle_id).state == CycleState.REJECTED
        assert session.exec(select(RegisterEntry)).all() == [], "a cancelled report gets no number"
    assert "Kỳ báo cáo số 1: không phê duyệt." in (tmp_path / "flow.log").read_text(
        encoding="utf-8"
    )
    assert not [m for m in smtp.messages() if "/BC-STTTT-VP" in str(m["Subject"])]
