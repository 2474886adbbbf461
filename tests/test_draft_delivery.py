"""The director must get the draft and the code: a draft nobody could receive fails the step (to
be retried) instead of leaving the run paused for a decision that cannot come."""

from __future__ import annotations

import os

import pytest
from sqlmodel import select

from reportflow.core.config import reload_settings
from reportflow.cycle.cycles import get_cycle
from reportflow.cycle.steps import ApprovalRequestUndelivered, prepare_draft
from reportflow.models import ApprovalCode, CycleState, RenderedDocument, session_scope
from tests.factories import approval_codes, open_sample_cycle


def test_an_undelivered_draft_fails_the_step_and_the_retry_mails_a_new_code(
    database, smtp, refused_port
):
    cycle_id = open_sample_cycle()
    with session_scope() as session:
        # Straight to the state under test (every section in); the flow tests take the real path.
        get_cycle(session, cycle_id, for_update=True).state = CycleState.DRAFTING
    os.environ["REPORTFLOW_SMTP_PORT"] = str(refused_port)
    os.environ["REPORTFLOW_SMTP_PASSWORD"] = "mat-khau-smtp"
    os.environ["REPORTFLOW_SMTP_USER"] = "reportflow"
    reload_settings()
    with pytest.raises(ApprovalRequestUndelivered) as failure:
        prepare_draft(cycle_id)
    assert "Trần Văn Khoản" in str(failure.value)
    assert "mat-khau-smtp" not in str(failure.value)
    with session_scope() as session:
        assert get_cycle(session, cycle_id).state == CycleState.AWAITING_DECISION
        assert len(session.exec(select(RenderedDocument)).all()) == 1
    assert smtp.messages() == []

    os.environ["REPORTFLOW_SMTP_PORT"] = str(smtp.port)
    os.environ["REPORTFLOW_SMTP_USER"] = ""
    reload_settings()
    prepare_draft(cycle_id)
    assert len(approval_codes(smtp)) == 1
    with session_scope() as session:
        codes = session.exec(select(ApprovalCode).order_by(ApprovalCode.id)).all()
        assert [(c.delivery, c.revoke_reason) for c in codes] == [
            ("failed", "thư gửi mã không đến được"),  # it never left, and is no longer valid
            ("sent", None),
        ]
        drafts = session.exec(select(RenderedDocument)).all()
        assert len(drafts) == 1, "the retry mails the same draft, rendered once"
        assert codes[1].draft_sha256 == drafts[0].sha256
