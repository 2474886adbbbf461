"""The register of outgoing documents: numbers after approval only, once per cycle, zero-padded."""

from __future__ import annotations

import pytest
from sqlmodel import select

from reportflow.core.errors import Conflict
from reportflow.cycle.cycles import get_cycle
from reportflow.cycle.issuing.numbering import assign_number, format_number, open_register
from reportflow.models import CycleState, RegisterEntry, session_scope
from tests.factories import open_sample_cycle


def approve_in_db(cycle_id: int) -> None:
    with session_scope() as session:
        cycle = get_cycle(session, cycle_id)
        # Straight to the state under test; the real path there is covered by the flow tests.
        cycle.state = CycleState.APPROVED
        session.add(cycle)


@pytest.mark.parametrize(
    ("number", "expected"),
    [(5, "05/BC-STTTT-VP"), (859, "859/BC-STTTT-VP"), (10, "10/BC-STTTT-VP")],
)
def test_number_format_pads_below_ten(number, expected):
    assert format_number("{number}/BC-STTTT-VP", number) == expected


def test_numbers_only_after_approval(database):
    cycle_id = open_sample_cycle()
    with pytest.raises(Conflict, match="chưa được phê duyệt"):
        assign_number(cycle_id)
    with session_scope() as session:
        assert session.exec(select(RegisterEntry)).all() == []


def test_first_number_of_the_year_is_01_and_numbers_follow(database, monkeypatch):
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-05T09:00:00+07:00")
    from reportflow.core.config import reload_settings

    reload_settings()
    first, second = open_sample_cycle(), open_sample_cycle()
    approve_in_db(first)
    approve_in_db(second)
    assert assign_number(first).number_text == "01/BC-STTTT-VP"
    assert assign_number(second).number_text == "02/BC-STTTT-VP"


def test_a_cycle_keeps_its_number_when_asked_again(database):
    open_register("SỞ THÔNG TIN VÀ TRUYỀN THÔNG", 2020, 858)
    cycle_id = open_sample_cycle()
    approve_in_db(cycle_id)
    import os

    os.environ["REPORTFLOW_FROZEN_NOW"] = "2020-06-05T09:00:00+07:00"
    from reportflow.core.config import reload_settings

    reload_settings()
    first = assign_number(cycle_id)
    again = assign_number(cycle_id)
    assert (first.number, again.number) == (859, 859)
    assert first.number_text == "859/BC-STTTT-VP"
    with session_scope() as session:
        assert len(session.exec(select(RegisterEntry)).all()) == 1
        assert get_cycle(session, cycle_id).state == CycleState.NUMBERED


def test_numbering_starts_again_at_01_in_a_new_year_and_register_open_is_a_command(
    database, monkeypatch
):
    from typer.testing import CliRunner

    from reportflow.cli import app
    from reportflow.core.config import reload_settings

    opened = CliRunner().invoke(app, ["register", "open", "--year", "2020", "--last-number", "858"])
    assert opened.exit_code == 0 and "số tiếp theo là 859" in opened.output
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-12-30T09:00:00+07:00")
    reload_settings()
    december = open_sample_cycle()
    approve_in_db(december)
    assert assign_number(december).number_text == "859/BC-STTTT-VP"
    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2021-01-04T09:00:00+07:00")
    reload_settings()
    january = open_sample_cycle()
    approve_in_db(january)
    entry = assign_number(january)
    assert (entry.year, entry.number_text) == (2021, "01/BC-STTTT-VP")


def test_two_cycles_racing_for_a_number_get_two_numbers(database, monkeypatch):
    import threading

    from reportflow.core.config import reload_settings

    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-05T09:00:00+07:00")
    reload_settings()
    cycles = [open_sample_cycle() for _ in range(4)]
    for cycle_id in cycles:
        approve_in_db(cycle_id)
    start = threading.Barrier(len(cycles))
    numbers: dict[int, str] = {}

    def take(cycle_id: int) -> None:
        start.wait()
        numbers[cycle_id] = assign_number(cycle_id).number_text

    threads = [threading.Thread(target=take, args=(c,)) for c in cycles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert sorted(numbers.values()) == [f"0{n}/BC-STTTT-VP" for n in range(1, 5)]
    with session_scope() as session:
        assert len(session.exec(select(RegisterEntry)).all()) == 4


def test_the_archive_copy_is_kept_apart_from_the_recipients(database, monkeypatch):
    """Decree 30's register has a column of its own for the archive copy ("Lưu: VT."): the
    archive is not a recipient (issue 21, part 7)."""
    from typer.testing import CliRunner

    from reportflow.cli import app
    from reportflow.core.config import reload_settings

    monkeypatch.setenv("REPORTFLOW_FROZEN_NOW", "2020-06-05T09:00:00+07:00")
    monkeypatch.setenv("COLUMNS", "200")
    reload_settings()
    cycle_id = open_sample_cycle()
    approve_in_db(cycle_id)
    entry = assign_number(cycle_id)
    assert entry.archive == "Lưu: VT."
    assert entry.recipients and not any("Lưu" in r for r in entry.recipients)
    shown = CliRunner().invoke(app, ["register", "show", "--year", "2020"])
    assert shown.exit_code == 0, shown.output
    assert "Bản lưu" in shown.output and "VT" in shown.output


def test_an_entry_numbered_before_the_archive_column_gets_its_archive_moved(empty_database):
    import sqlalchemy as sa
    from alembic import command

    from reportflow.models import get_engine
    from reportflow.models.migrate import _config, head_revision, upgrade_db

    with get_engine().begin() as connection:
        command.upgrade(_config(connection), "0005")
    cycle_id = open_sample_cycle()
    with get_engine().begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO registerentry (issuing_body, year, number, number_text, doc_type, "
                "summary, signer, issued_on, recipients, copies, cycle_id, registered_at) VALUES "
                "('SỞ', 2020, 859, '859/BC-STTTT-VP', 'BC', 'Báo cáo', 'Giám đốc', '2020-06-05', "
                ":recipients, 1, :cycle_id, '2020-06-05 02:00:00')"
            ),
            {
                "recipients": '["- Sở Kế hoạch và Đầu tư;", "- Lưu: VT, VP."]',
                "cycle_id": cycle_id,
            },
        )
    assert upgrade_db().after == head_revision()
    with session_scope() as session:
        entry = session.exec(select(RegisterEntry)).one()
    assert entry.recipients == ["- Sở Kế hoạch và Đầu tư;"]
    assert entry.archive == "Lưu: VT, VP."
