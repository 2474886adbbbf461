"""Each bad input gets a clear Vietnamese error, and no row is written anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportflow.core.errors import Conflict, Forbidden, UserError
from reportflow.cycle.collecting.submit import submit_section
from reportflow.cycle.cycles import get_cycle, open_cycle
from reportflow.definitions.schema import DefinitionError
from reportflow.models import CycleState, session_scope
from tests.factories import (
    SAMPLE_REQUEST,
    open_sample_cycle,
    row_counts,
    section_md,
    use_definitions,
)


@pytest.fixture
def cycle_id(database) -> int:
    return open_sample_cycle()


def test_section_of_another_division_is_refused(cycle_id, tmp_path):
    before = row_counts()
    with pytest.raises(Forbidden) as error:
        submit_section(cycle_id, "thanh-tra", section_md(tmp_path, "thanh-tra"), by="tp-bcvt")
    assert "Thanh tra Sở" in str(error.value) and "Mỗi phòng chỉ gửi phần của mình" in str(
        error.value
    )
    assert row_counts() == before


def test_closed_cycle_is_refused(cycle_id, tmp_path):
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id)
        # Straight to the state under test; the real path there is covered by the flow tests.
        cycle.state = CycleState.DONE
        session.add(cycle)
    before = row_counts()
    with pytest.raises(Conflict) as error:
        submit_section(cycle_id, "bcvt", section_md(tmp_path, "bcvt"), by="tp-bcvt")
    assert "đã đóng" in str(error.value)
    assert row_counts() == before


@pytest.mark.parametrize("text", ["", "   \n\n  \n", "\ufeff\n"])
def test_empty_section_is_refused(cycle_id, tmp_path, text):
    empty = tmp_path / "empty.md"
    empty.write_text(text, encoding="utf-8")
    before = row_counts()
    with pytest.raises(UserError) as error:
        submit_section(cycle_id, "bcvt", empty, by="tp-bcvt")
    assert "không có nội dung" in str(error.value)
    assert row_counts() == before


def test_file_that_is_not_really_docx_is_refused(cycle_id, tmp_path):
    fake = tmp_path / "bao-cao.docx"
    fake.write_text("Đây là văn bản thường, đổi đuôi thành .docx", encoding="utf-8")
    before = row_counts()
    with pytest.raises(UserError) as error:
        submit_section(cycle_id, "bcvt", fake, by="tp-bcvt")
    assert "không phải tệp Word" in str(error.value)
    assert "bị đổi đuôi thành .docx" in str(error.value)
    assert row_counts() == before


def test_definition_with_unknown_division_is_refused(database, tmp_path):
    folder = tmp_path / "defs"
    folder.mkdir()
    (folder / "bao-cao-loi.yaml").write_text(
        """
code: bao-cao-loi
name: Báo cáo thử
number_pattern: "{number}/BC-STTTT-VP"
summary: Báo cáo thử
signer: {title: GIÁM ĐỐC, person: giamdoc}
outline:
  - {key: mot, owner: phong-khong-ton-tai, title: Phần một}
recipients:
  - {key: a, label: Nơi A, email: a@example.org}
""",
        encoding="utf-8",
    )
    use_definitions(folder)
    before = row_counts()
    with pytest.raises(DefinitionError) as error, session_scope() as session:
        open_cycle(session, "bao-cao-loi", SAMPLE_REQUEST, "chanhvp")
    assert "phong-khong-ton-tai" in str(error.value)
    assert row_counts() == before


def test_unknown_person_and_section_are_refused(cycle_id, tmp_path: Path):
    before = row_counts()
    with pytest.raises(UserError, match="Không có người dùng 'ai-do'"):
        submit_section(cycle_id, "bcvt", section_md(tmp_path, "bcvt"), by="ai-do")
    with pytest.raises(UserError, match="không có phần 'khong-co'"):
        submit_section(cycle_id, "khong-co", section_md(tmp_path, "bcvt"), by="tp-bcvt")
    assert row_counts() == before
