"""Approval codes cannot be guessed (issue 19, part 2): the fifth wrong code of a round, from any
path, revokes the round's code and mails the director a new one; every refusal is audited with
its path and time, never with the tried code in clear."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from reportflow.cli import app
from reportflow.core.errors import UserError
from reportflow.cycle.cycles import get_cycle
from reportflow.cycle.deciding.approval import MAX_WRONG_CODES, DirectorDecision
from reportflow.cycle.deciding.decide import send_decision
from reportflow.cycle.steps import refuse_form, send_approval_codes
from reportflow.demo.run import wait_until
from reportflow.models import ApprovalCode, AuditEvent, session_scope
from reportflow.runtime.smtp_sink import message_text
from tests.factories import issue_code_for_draft, open_sample_cycle, submit_everything

CODE = re.compile(r"\b([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})\b")


def mailed_codes(smtp) -> list[str]:
    return [m.group(1) for msg in smtp.messages() if (m := CODE.search(message_text(msg)))]


def wrong(code: str, n: int) -> str:
    guess = f"{n:04d}-{n:04d}"
    return guess if guess != code else "ZZZZ-ZZZZ"


@pytest.fixture
def awaiting(database, smtp, tmp_path):
    """A cycle awaiting the director, its code mailed the real way (`send_approval_codes`)."""
    cycle_id = open_sample_cycle()
    submit_everything(cycle_id, tmp_path)
    with session_scope() as session:
        issue_code_for_draft(session, get_cycle(session, cycle_id))
    send_approval_codes(cycle_id, renew=True)
    [code] = wait_until(lambda: mailed_codes(smtp), 20, "the director's code")
    return {"cycle": cycle_id, "code": code, "smtp": smtp}


def refusals(cycle_id: int) -> list[AuditEvent]:
    with session_scope() as session:
        return list(
            session.exec(
                select(AuditEvent)
                .where(AuditEvent.cycle_id == cycle_id, AuditEvent.action == "decision.refused")
                .order_by(AuditEvent.id)
            )
        )


def test_five_wrong_codes_on_the_cli_lock_the_round_and_mail_a_new_code(awaiting):
    cycle_id, code, smtp = awaiting["cycle"], awaiting["code"], awaiting["smtp"]
    messages = []
    for n in range(MAX_WRONG_CODES):
        with pytest.raises(UserError) as refused:
            send_decision(cycle_id, wrong(code, n), [], False, "")
        messages.append(str(refused.value))
    assert all("Mã phê duyệt không đúng" in m for m in messages)
    assert not any("sai mã" in m for m in messages[:-1])
    assert f"Đã nhập sai mã {MAX_WRONG_CODES} lần" in messages[-1]

    with pytest.raises(UserError, match="đã bị thu hồi"):
        send_decision(cycle_id, code, [], False, "")
    codes = wait_until(lambda: (c := mailed_codes(smtp)) and len(c) == 2 and c, 20, "new code")
    fresh = codes[1]
    assert fresh != code

    audited = refusals(cycle_id)
    assert len(audited) == MAX_WRONG_CODES + 1
    assert {e.detail["path"] for e in audited} == {"cli"}
    assert all(e.at is not None and e.detail["reason"] for e in audited)
    shown = str([e.detail for e in audited])
    for tried in [wrong(code, n) for n in range(MAX_WRONG_CODES)] + [code]:
        assert tried not in shown and tried.replace("-", "") not in shown
    assert len({e.detail["tried"] for e in audited}) == MAX_WRONG_CODES + 1

    audit = CliRunner().invoke(app, ["audit", str(cycle_id)], env={"COLUMNS": "200"})
    assert audit.exit_code == 0, audit.output
    assert audit.output.count("lệnh reportflow approve") == MAX_WRONG_CODES + 1
    assert f"Khóa mã phê duyệt vòng 1 sau {MAX_WRONG_CODES} lần nhập sai" in audit.output


def test_wrong_codes_count_across_the_cli_and_the_prefect_form(awaiting):
    cycle_id, code, smtp = awaiting["cycle"], awaiting["code"], awaiting["smtp"]
    for n in range(3):
        with pytest.raises(UserError):
            send_decision(cycle_id, wrong(code, n), [], False, "")
    ui = [
        refuse_form(
            cycle_id,
            DirectorDecision(decision="approve", approval_code=wrong(code, 10 + n)),
            "Mã phê duyệt không đúng (không phải mã của vòng này).",
        )
        for n in range(2)
    ]
    assert "sai mã" not in ui[0] and f"Đã nhập sai mã {MAX_WRONG_CODES} lần" in ui[1]
    with session_scope() as session:
        held = session.exec(select(ApprovalCode).where(ApprovalCode.cycle_id == cycle_id)).all()
        assert [c.revoke_reason for c in held if c.revoked_at][-1] == "đã nhập sai mã 5 lần"
    codes = wait_until(lambda: (c := mailed_codes(smtp)) and len(c) == 2 and c, 20, "new code")
    assert [e.detail["path"] for e in refusals(cycle_id)] == ["cli"] * 3 + ["prefect-ui"] * 2
    # The new code works: the count starts again after a lockout.
    with pytest.raises(UserError):
        send_decision(cycle_id, wrong(code, 20), [], False, "")
    with session_scope() as session:
        assert get_cycle(session, cycle_id).state == "awaiting_decision"
    recorded = send_decision(cycle_id, codes[1], [], False, "Đồng ý", wait_s=0)
    assert recorded.startswith("Đã ghi quyết định của Trần Văn Khoản (vòng 1): phê duyệt.")
