"""What the merge reads of the stored versions: the newest of each section, without the files
they were uploaded as (each up to 10 MB, kept as evidence only)."""

from __future__ import annotations

from sqlalchemy import inspect

from reportflow.cycle.collecting.submit import submit_section
from reportflow.cycle.drafting.merge import latest_versions, rows_by_key
from reportflow.models import SectionVersion, session_scope
from tests.factories import open_sample_cycle, section_md


def test_the_merge_reads_each_sections_newest_version_without_its_uploaded_file(database, tmp_path):
    cycle_id = open_sample_cycle()
    for key, person in (("bcvt", "tp-bcvt"), ("cntt", "tp-cntt"), ("bcvt", "tp-bcvt")):
        submit_section(cycle_id, key, section_md(tmp_path, key), person)
    again = tmp_path / "bcvt-3.md"
    again.write_text("Doanh thu bưu chính tăng 12%.\n", encoding="utf-8")
    submit_section(cycle_id, "bcvt", again, "tp-bcvt")

    with session_scope() as session:
        newest = latest_versions(session, cycle_id)
        assert {k: v.version_no for k, v in newest.items()} == {"bcvt": 3, "cntt": 1}
        assert "Doanh thu bưu chính tăng 12%." in str(newest["bcvt"].blocks)
        assert all("source_bytes" in inspect(v).unloaded for v in newest.values())
        recorded = rows_by_key(session, SectionVersion, {k: v.id for k, v in newest.items()})
        assert all("source_bytes" in inspect(v).unloaded for v in recorded.values())
        # Still there, as evidence, for whoever asks for it.
        assert recorded["bcvt"].source_bytes == again.read_bytes()
