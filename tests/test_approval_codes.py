"""Approval codes: long enough not to be guessed, stored only as a keyed hash, typed forgivingly."""

from __future__ import annotations

import os
import stat

import pytest
from sqlmodel import select

from reportflow.core.config import reload_settings
from reportflow.core.signing import KEY_FILE, signing_key
from reportflow.cycle.deciding.approval import (
    CODE_ALPHABET,
    DecisionRefused,
    DirectorDecision,
    _hash_code,
    check_decision,
    find_valid_code,
    new_code,
    normalise_code,
)
from reportflow.models import ApprovalCode, Cycle, session_scope
from tests.factories import issue_code_for_draft, open_sample_cycle


def test_codes_are_eight_characters_of_an_unambiguous_alphabet():
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        head, tail = code.split("-")
        assert len(head) == len(tail) == 4
        assert set(head + tail) <= set(CODE_ALPHABET)
        assert not set(code) & set("ILOU")


def test_what_the_director_types_is_read_forgivingly():
    assert normalise_code(" k7qm 4tzp ") == normalise_code("K7QM-4TZP") == "K7QM4TZP"
    assert normalise_code("1O0L-I2A3") == "100112A3"


def test_the_key_is_made_once_private_and_stable(tmp_path, restore_environment):
    os.environ["REPORTFLOW_DATA_DIR"] = str(tmp_path)
    os.environ.pop("REPORTFLOW_SECRET_KEY", None)
    reload_settings()
    first = signing_key()
    assert len(first) == 32 and signing_key() == first
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600
    os.environ["REPORTFLOW_SECRET_KEY"] = "khóa-dùng-chung-cho-mọi-máy-của-sở-thông-tin"
    reload_settings()
    assert signing_key() == "khóa-dùng-chung-cho-mọi-máy-của-sở-thông-tin".encode()
    os.environ["REPORTFLOW_SECRET_KEY"] = "ngắn"
    with pytest.raises(ValueError, match="ít nhất 32 ký tự"):
        reload_settings()  # refused as a setting, before any command uses the key


def test_racing_processes_share_one_whole_key(tmp_path, restore_environment):
    from concurrent.futures import ProcessPoolExecutor

    os.environ["REPORTFLOW_DATA_DIR"] = str(tmp_path)
    os.environ.pop("REPORTFLOW_SECRET_KEY", None)
    reload_settings()
    with ProcessPoolExecutor(4) as pool:
        keys = list(pool.map(_key_in_fresh_process, [str(tmp_path)] * 8))
    assert len(set(keys)) == 1 and len(keys[0]) == 32
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE]


def _key_in_fresh_process(data_dir: str) -> bytes:
    os.environ["REPORTFLOW_DATA_DIR"] = data_dir
    reload_settings()
    return signing_key()


def test_the_stored_hash_needs_the_key(database, restore_environment):
    cycle_id = open_sample_cycle()
    with session_scope() as session:
        code = issue_code_for_draft(session, session.get(Cycle, cycle_id))
    with session_scope() as session:
        stored = session.exec(select(ApprovalCode)).one()
        dump = str(stored.model_dump())
        assert code not in dump and normalise_code(code) not in dump
        cycle = session.get(Cycle, cycle_id)
        assert find_valid_code(session, cycle, code.lower().replace("-", " ")) is not None
        assert find_valid_code(session, cycle, "0000-0000") is None

    os.environ["REPORTFLOW_SECRET_KEY"] = "một khóa khác, đủ dài để được chấp nhận"
    reload_settings()
    assert _hash_code(cycle_id, 1, code) != stored.code_hash
    with session_scope() as session:
        assert find_valid_code(session, session.get(Cycle, cycle_id), code) is None


def test_a_machine_with_another_key_says_so(database, restore_environment):
    cycle_id = open_sample_cycle()
    with session_scope() as session:
        code = issue_code_for_draft(session, session.get(Cycle, cycle_id))
    decision = DirectorDecision(decision="approve", approval_code=code)
    os.environ["REPORTFLOW_SECRET_KEY"] = "khóa của máy khác, cũng đủ dài để dùng"
    reload_settings()
    with (
        pytest.raises(DecisionRefused, match="REPORTFLOW_SECRET_KEY giống nhau"),
        session_scope() as s,
    ):
        check_decision(s, s.get(Cycle, cycle_id), decision)
    os.environ.pop("REPORTFLOW_SECRET_KEY")
    reload_settings()
    with session_scope() as session:
        director, _ = check_decision(session, session.get(Cycle, cycle_id), decision)
    assert director.code == "giamdoc"


def test_the_director_form_offers_vietnamese_choices_and_accepts_the_cli_codes():
    schema = DirectorDecision.model_json_schema()
    assert schema["$defs"]["DecisionChoice"]["enum"] == [
        "Phê duyệt",
        "Trả lại để sửa",
        "Hủy báo cáo",
    ]
    titles = {name: field["title"] for name, field in schema["properties"].items()}
    assert titles["decision"] == "Quyết định"
    assert titles["approval_code"] == "Mã phê duyệt một lần (8 ký tự, trong thư riêng)"
    assert "approver" not in schema["properties"], "the code alone says who decides"
    assert schema["required"] == ["decision", "approval_code"]
    from_cli = DirectorDecision(decision="request_changes", approval_code="x")
    from_form = DirectorDecision.model_validate(
        {"decision": "Trả lại để sửa", "approval_code": "x"}
    )
    assert from_cli.decision is from_form.decision
    assert from_form.decision.code == "request_changes"


def test_a_code_expires_after_its_time(database, restore_environment):
    os.environ["REPORTFLOW_FROZEN_NOW"] = "2020-06-05T09:00:00+07:00"
    reload_settings()
    cycle_id = open_sample_cycle()
    with session_scope() as session:
        code = issue_code_for_draft(session, session.get(Cycle, cycle_id))
    os.environ["REPORTFLOW_FROZEN_NOW"] = "2020-06-08T08:59:00+07:00"  # 72 h less a minute
    reload_settings()
    with session_scope() as session:
        assert find_valid_code(session, session.get(Cycle, cycle_id), code) is not None
    os.environ["REPORTFLOW_FROZEN_NOW"] = "2020-06-08T09:01:00+07:00"
    reload_settings()
    with session_scope() as session:
        assert find_valid_code(session, session.get(Cycle, cycle_id), code) is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--changes", "bcvt"], "'bcvt' không đúng dạng MÃ_PHẦN=ý kiến"),
        (["--changes", "=thiếu mã"], "không đúng dạng MÃ_PHẦN=ý kiến"),
        (["--reject", "--changes", "bcvt=sửa"], "Không thể vừa hủy báo cáo vừa trả lại phần"),
    ],
)
def test_approve_refuses_malformed_arguments(database, extra, message):
    from typer.testing import CliRunner

    from reportflow.cli import app

    cycle_id = open_sample_cycle()
    result = CliRunner().invoke(app, ["approve", str(cycle_id), "--code", "K7QM-4TZP", *extra])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_an_expired_code_says_how_to_renew_and_renewal_mails_a_fresh_one(
    database, smtp, restore_environment
):
    from typer.testing import CliRunner

    from reportflow.cli import app
    from tests.factories import approval_codes

    os.environ["REPORTFLOW_FROZEN_NOW"] = "2020-06-05T09:00:00+07:00"
    reload_settings()
    cycle_id = open_sample_cycle()
    with session_scope() as session:
        old = issue_code_for_draft(session, session.get(Cycle, cycle_id))
    os.environ["REPORTFLOW_FROZEN_NOW"] = "2020-06-12T09:00:00+07:00"  # the director was away
    reload_settings()
    expired = DirectorDecision(decision="approve", approval_code=old)
    with pytest.raises(DecisionRefused) as refused, session_scope() as session:
        check_decision(session, session.get(Cycle, cycle_id), expired)
    assert str(refused.value) == (
        "Mã phê duyệt đã hết hạn. Xin mã mới bằng lệnh: "
        f"reportflow approval renew {cycle_id} (Văn phòng hoặc Giám đốc chạy)."
    )
    result = CliRunner().invoke(app, ["approval", "renew", str(cycle_id)])
    assert result.exit_code == 0, result.output
    assert "Đã gửi 1 thư kèm dự thảo và mã phê duyệt mới" in result.output
    (fresh,) = approval_codes(smtp)
    assert normalise_code(fresh) != normalise_code(old)
    with session_scope() as session:
        cycle = session.get(Cycle, cycle_id)
        director, _ = check_decision(
            session, cycle, DirectorDecision(decision="approve", approval_code=fresh)
        )
        assert director.code == "giamdoc"
        codes = session.exec(select(ApprovalCode).order_by(ApprovalCode.id)).all()
        # The expired one stays as it was (the factory issued it without mailing it).
        assert [(c.delivery, c.revoke_reason) for c in codes] == [("sending", None), ("sent", None)]
    again = CliRunner().invoke(app, ["approval", "renew", str(cycle_id)])
    assert again.exit_code == 0, again.output
    with session_scope() as session:
        codes = session.exec(select(ApprovalCode).order_by(ApprovalCode.id)).all()
        assert [c.revoke_reason for c in codes] == [None, "đã cấp mã mới theo yêu cầu", None]
    assert len(approval_codes(smtp)) == 2
