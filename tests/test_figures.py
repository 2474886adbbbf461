"""A division's figures are an assignment of the cycle: waited for, reminded about, refused as a
section, sent back by the director and marked in when every indicator of the division has a value."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from reportflow.core.errors import UserError
from reportflow.cycle.collecting.submit import submit_indicators, submit_section
from reportflow.cycle.cycles import all_sections_in, assignments, get_cycle
from reportflow.cycle.deciding.approval import DirectorDecision, record_decision
from reportflow.cycle.steps import request_sections
from reportflow.definitions.schema import ReportDefinition
from reportflow.models import session_scope
from reportflow.runtime.smtp_sink import message_text
from tests.factories import (
    DATA_DIR,
    SECTION_HEADS,
    issue_code_for_draft,
    open_sample_cycle,
    row_counts,
    section_md,
)


def states(cycle_id: int) -> dict[str, str]:
    with session_scope() as session:
        return {a.section_key: a.state for a in assignments(session, cycle_id)}


def complete(cycle_id: int) -> bool:
    with session_scope() as session:
        return all_sections_in(session, cycle_id)


def test_the_cycle_waits_for_every_divisions_figures(database, tmp_path):
    cycle_id = open_sample_cycle()
    assert {k: v for k, v in states(cycle_id).items() if k.startswith("so-lieu-")} == {
        "so-lieu-bcvt": "pending",
        "so-lieu-ttbcxb": "pending",
    }
    for key, person in SECTION_HEADS.items():
        submit_section(cycle_id, key, section_md(tmp_path, key), person)
    assert not complete(cycle_id)

    partial = tmp_path / "mot-chi-tieu.yaml"
    partial.write_text('xa-bdvhx: "82/85 xã có điểm BD-VHX"\n', encoding="utf-8")
    submit_indicators(cycle_id, partial, "tp-bcvt")
    assert states(cycle_id)["so-lieu-bcvt"] == "pending", "one of bcvt's two indicators is missing"

    submit_indicators(cycle_id, DATA_DIR / "indicators-bcvt.yaml", "tp-bcvt")
    assert states(cycle_id)["so-lieu-bcvt"] == "submitted"
    assert not complete(cycle_id)
    submit_indicators(cycle_id, DATA_DIR / "indicators-ttbcxb.yaml", "tp-ttbcxb")
    assert complete(cycle_id)


def test_figures_are_not_a_section_to_upload(database, tmp_path):
    cycle_id = open_sample_cycle()
    before = row_counts()
    with pytest.raises(UserError, match="--indicators"):
        submit_section(cycle_id, "so-lieu-bcvt", section_md(tmp_path, "bcvt"), "tp-bcvt")
    assert row_counts() == before


def test_the_request_mail_gives_both_commands(database, smtp):
    cycle_id = open_sample_cycle()
    request_sections(cycle_id)
    (bcvt,) = [m for m in smtp.messages() if str(m["To"]) == "bcvt@stttt.travinh.example"]
    text = message_text(bcvt)
    assert '" (6 tháng đầu năm 2020) theo Công văn số 850/SKHĐT-THKTKG' in " ".join(text.split())
    assert "  - Bưu chính – Viễn thông (mã phần: bcvt)" in text
    assert "so-lieu-bcvt" not in text
    assert "  - Tỷ lệ xã có bưu điện văn hóa xã (%; mã: ty-le-bdvhx)" in text
    assert f"reportflow submit {cycle_id} <mã phần> <tệp .docx hoặc .md> --by tp-bcvt" in text
    assert f"reportflow submit {cycle_id} --indicators <tệp .yaml" in text


def test_the_director_sends_figures_back_and_the_division_resubmits(database, smtp, tmp_path):
    cycle_id = open_sample_cycle()
    submit_indicators(cycle_id, DATA_DIR / "indicators-bcvt.yaml", "tp-bcvt")
    with session_scope() as session:
        code = issue_code_for_draft(session, get_cycle(session, cycle_id, for_update=True))
    with session_scope() as session:
        record_decision(
            session,
            cycle_id,
            DirectorDecision(
                decision="request_changes",
                approval_code=code,
                changes=[{"section": "so-lieu-bcvt", "comment": "Kiểm tra lại số xã có BĐVHX"}],
            ),
        )
    assert states(cycle_id)["so-lieu-bcvt"] == "returned"

    request_sections(cycle_id)
    # Only the figures were sent back (the sections in this test were never written at all).
    (returned,) = [
        m
        for m in smtp.messages()
        if str(m["Subject"]).endswith("Giám đốc đề nghị chỉnh sửa: Số liệu các chỉ tiêu")
        and str(m["To"]) == "bcvt@stttt.travinh.example"
    ]
    text = message_text(returned)
    assert "Giám đốc đề nghị chỉnh sửa số liệu các chỉ tiêu" in text
    sent_back = [
        (str(m["To"]), str(m["Subject"]))
        for m in smtp.messages()
        if "đề nghị chỉnh sửa" in str(m["Subject"])
    ]
    assert sent_back == [(str(returned["To"]), str(returned["Subject"]))], (
        "sections never written are asked for, not 'sent back'"
    )
    assert "Kiểm tra lại số xã có BĐVHX" in text
    assert f"reportflow submit {cycle_id} --indicators <tệp .yaml> --by tp-bcvt" in text

    submit_indicators(cycle_id, DATA_DIR / "indicators-bcvt.yaml", "tp-bcvt")
    assert states(cycle_id)["so-lieu-bcvt"] == "submitted"


def test_a_definition_may_not_use_the_figures_prefix_for_a_section():
    with pytest.raises(ValidationError, match="so-lieu-"):
        ReportDefinition.model_validate(
            {
                "code": "x",
                "name": "Báo cáo",
                "number_pattern": "{number}/BC-X",
                "summary": "Báo cáo",
                "signer": {"title": "GIÁM ĐỐC", "person": "giamdoc"},
                "outline": [{"key": "so-lieu-vp", "owner": "vp", "title": "Số liệu"}],
                "recipients": [{"key": "a", "label": "Nơi A"}],
            }
        )
