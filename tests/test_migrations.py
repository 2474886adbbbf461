"""Schema migrations on SQLite and PostgreSQL: from an empty database, from one made before
migrations existed (create_all, no alembic_version), through the CLI (`reportflow db`), and by
several real processes at once."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel, select
from typer.testing import CliRunner

from reportflow.cli import app
from reportflow.core.config import get_settings
from reportflow.models import (
    Cycle,
    RenderedDocument,
    SectionVersion,
    get_engine,
    init_db,
    session_scope,
)
from reportflow.models.migrate import (
    BASELINE,
    MigrationError,
    baseline_metadata,
    current_revision,
    head_revision,
    upgrade_db,
)

runner = CliRunner()
UTC = dt.UTC
OPENED = dt.datetime(2020, 5, 13, 8, 30, tzinfo=UTC)


def schema_drift() -> list:
    """What `alembic check` would report: the models against the migrated database."""
    with get_engine().connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)


def table_names() -> set[str]:
    return set(sa.inspect(get_engine()).get_table_names())


def column_names(table: str) -> set[str]:
    return {column["name"] for column in sa.inspect(get_engine()).get_columns(table)}


def all_revisions() -> list[str]:
    from reportflow.models.migrate import _scripts

    return [script.revision for script in reversed(list(_scripts().walk_revisions()))]


def make_pre_migration_database(
    drop_columns: tuple[tuple[str, str], ...] = (), drop_tables: tuple[str, ...] = ()
) -> None:
    """A database as versions before migrations left it: create_all of the 0001 tables (which are
    the models of that time), rows in them, no alembic_version; older ones lacked some parts."""
    tables = baseline_metadata().tables
    baseline_metadata().create_all(get_engine())
    with get_engine().begin() as connection:
        connection.execute(
            tables["division"].insert(), [{"code": "vp", "name": "Văn phòng", "short_name": "VP"}]
        )
        connection.execute(
            tables["person"].insert(),
            [
                {
                    "code": "tpvp",
                    "name": "Nguyễn Văn A",
                    "title": "Chánh Văn phòng",
                    "role": "division_head",
                    "division_code": "vp",
                    "email": "a@example.vn",
                    "apprise_urls": [],
                }
            ],
        )
        connection.execute(
            tables["definitionsnapshot"].insert(),
            [
                {
                    "id": 1,
                    "code": "ktxh",
                    "sha256": "ab" * 32,
                    "body": {"k": "v"},
                    "created_at": OPENED,
                }
            ],
        )
        connection.execute(
            tables["cycle"].insert(),
            [
                {
                    "id": 7,
                    "definition_id": 1,
                    "definition_code": "ktxh",
                    "request_number": "850/SKHĐT-THKTKG",
                    "request_date": dt.date(2020, 5, 13),
                    "request_sender": "Sở Kế hoạch và Đầu tư",
                    "request_subject": "Báo cáo 6 tháng",
                    "period_label": "6 tháng đầu năm",
                    "period_kind": "first_half",
                    "cutoff_start": dt.date(2019, 12, 15),
                    "cutoff_end": dt.date(2020, 6, 14),
                    "year": 2020,
                    "deadline": dt.date(2020, 6, 15),
                    "internal_deadline": dt.date(2020, 6, 10),
                    "state": "collecting",
                    "round": 1,
                    "opened_by": "tpvp",
                    "opened_at": OPENED,
                }
            ],
        )
        connection.execute(
            tables["sectionassignment"].insert(),
            [
                {
                    "id": 3,
                    "cycle_id": 7,
                    "section_key": "tong-quan",
                    "title": "Tổng quan",
                    "division_code": "vp",
                    "due": dt.date(2020, 6, 10),
                    "state": "submitted",
                    "return_comment": "",
                }
            ],
        )
        connection.execute(
            tables["sectionversion"].insert(),
            [
                {
                    "assignment_id": 3,
                    "version_no": 1,
                    "blocks": [{"kind": "p", "text": "Kinh tế tăng trưởng 7,2%."}],
                    "source_name": "tong-quan.docx",
                    "source_format": "docx",
                    "source_bytes": b"PK\x03\x04\x00\xff",
                    "sha256": "cd" * 32,
                    "submitted_by": "tpvp",
                    "submitted_at": OPENED,
                }
            ],
        )
        # Versions before 0002 rendered a draft again on each retry, and the final on each run.
        connection.execute(
            tables["rendereddocument"].insert(),
            [
                {
                    "id": i,
                    "cycle_id": 7,
                    "kind": kind,
                    "round": 1,
                    "path": f"/d/{i}.docx",
                    "sha256": f"{i:064d}",
                    "created_at": OPENED,
                }
                for i, kind in [(1, "draft"), (2, "draft"), (3, "final"), (4, "final")]
            ],
        )
        for table, column in drop_columns:
            connection.execute(sa.text(f'ALTER TABLE "{table}" DROP COLUMN "{column}"'))
        for table in drop_tables:
            connection.execute(sa.text(f'DROP TABLE "{table}"'))


def assert_rows_intact(cutoff_end: dt.date | None) -> None:
    with session_scope() as session:
        cycle = session.get(Cycle, 7)
        assert (cycle.request_number, cycle.request_sender) == (
            "850/SKHĐT-THKTKG",
            "Sở Kế hoạch và Đầu tư",
        )
        assert cycle.opened_at == OPENED
        assert cycle.cutoff_end == cutoff_end
        rendered = session.exec(select(RenderedDocument).order_by(RenderedDocument.id)).all()
        assert [(r.id, r.kind) for r in rendered] == [
            (1, "draft-superseded"),
            (2, "draft"),
            (3, "final-superseded"),
            (4, "final"),
        ], "every render kept; only the newest of each counts"
        version = session.exec(select(SectionVersion)).one()
        assert version.source_bytes == b"PK\x03\x04\x00\xff"
        assert version.blocks == [{"kind": "p", "text": "Kinh tế tăng trưởng 7,2%."}]


def test_an_empty_database_is_upgraded_to_head_and_matches_the_models(empty_database):
    assert table_names() == set()
    result = upgrade_db()
    assert (result.before, result.after, result.adopted) == (None, head_revision(), False)
    assert result.steps == all_revisions()
    assert result.steps[0] == BASELINE
    assert current_revision() == head_revision()
    assert table_names() == set(SQLModel.metadata.tables) | {"alembic_version"}
    # Fails when tables.py changes without a migration: write one with `make migration m=...`.
    assert schema_drift() == []
    again = upgrade_db()
    assert (again.before, again.after, again.steps) == (head_revision(), head_revision(), [])
    if empty_database == "sqlite":
        with get_engine().connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_init_db_reads_the_newest_revision_without_alembic_as_alembic_does(empty_database):
    from reportflow.models.ready import init_db, newest_revision

    assert newest_revision() == head_revision()
    init_db()  # an empty database: upgraded
    assert current_revision() == head_revision()
    probe = (
        "import sys; from reportflow.models.ready import init_db; init_db(); "
        "print(any(m.split('.')[0] == 'alembic' for m in sys.modules))"
    )
    at_head = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=os.environ, check=True
    )
    assert at_head.stdout.strip() == "False"
    with get_engine().begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(MigrationError):  # not the newest: Alembic reads it, and refuses
        init_db()


def test_the_drift_check_names_a_column_the_database_lacks(database):
    assert schema_drift() == []
    with get_engine().begin() as connection:
        connection.execute(sa.text('ALTER TABLE "cycle" DROP COLUMN "flow_run_id"'))
    drift = schema_drift()
    assert [(d[0], d[2], d[3].name) for d in drift] == [("add_column", "cycle", "flow_run_id")]


@pytest.mark.parametrize(
    ("drop_columns", "drop_tables"),
    [
        ((), ()),
        (
            (
                ("cycle", "cutoff_end"),
                ("approvalcode", "key_id"),
                ("dispatchrecord", "delivered_channels"),
            ),
            ("registeropening",),
        ),
    ],
    ids=["previous-version", "older-version"],
)
def test_a_database_made_before_migrations_is_upgraded_in_place(
    empty_database, drop_columns, drop_tables
):
    make_pre_migration_database(drop_columns, drop_tables)
    assert "alembic_version" not in table_names()
    result = upgrade_db()
    assert (result.before, result.after, result.adopted) == (None, head_revision(), True)
    assert result.steps == all_revisions()[1:]
    assert current_revision() == head_revision()
    assert schema_drift() == []
    assert {"cutoff_end"} <= column_names("cycle")
    assert_rows_intact(None if drop_columns else dt.date(2020, 6, 14))
    with session_scope() as session:
        session.get(Cycle, 7).cutoff_end = dt.date(2020, 6, 14)
    assert_rows_intact(dt.date(2020, 6, 14))


def test_a_missing_required_column_is_refused_in_vietnamese_and_nothing_changes(empty_database):
    make_pre_migration_database(
        drop_columns=(("cycle", "cutoff_end"), ("sectionversion", "sha256"))
    )
    with pytest.raises(MigrationError, match="thiếu cột bắt buộc sectionversion.sha256"):
        init_db()
    assert current_revision() is None
    assert "alembic_version" not in table_names()
    assert "cutoff_end" not in column_names("cycle")


def test_a_database_from_a_newer_version_is_refused_and_left_alone(database):
    with get_engine().begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(MigrationError, match="phiên bản lược đồ 9999, mới hơn bản reportflow này"):
        init_db()
    assert current_revision() == "9999"
    result = runner.invoke(app, ["db", "current"])
    assert result.exit_code == 1
    assert "9999, mới hơn bản reportflow này" in result.output


def test_db_upgrade_and_current_print_the_revisions(empty_database):
    head = head_revision()
    result = runner.invoke(app, ["db", "current"])
    assert result.exit_code == 0, result.output
    assert "Chưa ghi phiên bản lược đồ" in result.output
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    for revision in all_revisions():
        assert f"Đã chạy bước {revision}." in result.output
    assert f"Đã nâng cấp lược đồ: trống → {head}." in result.output
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"Lược đồ đã ở phiên bản mới nhất ({head}); không có gì thay đổi." in result.output
    assert "Đã chạy bước" not in result.output
    result = runner.invoke(app, ["db", "current"])
    assert f"Phiên bản lược đồ: {head} (mới nhất)." in result.output


def test_db_upgrade_of_a_database_made_before_migrations_says_so(empty_database):
    make_pre_migration_database(drop_columns=(("approvalcode", "key_id"),))
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (
        f"do bản reportflow trước tạo (chưa ghi phiên bản lược đồ): đã đối chiếu với lược đồ {BASELINE}"
        in " ".join(result.output.split())
    )
    assert f"→ {head_revision()}." in result.output
    assert "key_id" in column_names("approvalcode")


UPGRADER = """
import json, sys, time
from pathlib import Path
from reportflow.models.migrate import upgrade_db
print("ready", flush=True)
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.002)
started = time.monotonic()
result = upgrade_db()
print(json.dumps({"steps": result.steps, "after": result.after, "adopted": result.adopted,
                  "seconds": time.monotonic() - started}), flush=True)
"""


@pytest.mark.parametrize("made_before_migrations", [False, True], ids=["fresh", "pre-migration"])
def test_processes_upgrading_one_database_at_once_all_succeed(
    empty_database, made_before_migrations, tmp_path: Path
):
    if made_before_migrations:
        make_pre_migration_database(drop_columns=(("cycle", "cutoff_end"),))
    env = dict(os.environ, REPORTFLOW_DATABASE_URL=get_settings().resolved_database_url)
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADER, str(go)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        for process in processes:
            assert process.stdout.readline().strip() == "ready"
        go.touch()
        outputs = [process.communicate(timeout=120) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for process, (_out, errors) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, errors
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    ran = [r for r in results if r["steps"] or r["adopted"]]
    assert len(ran) == 1, results
    expected = all_revisions()[1:] if made_before_migrations else all_revisions()
    assert ran[0]["steps"] == expected
    assert ran[0]["adopted"] is made_before_migrations
    assert all(r["after"] == head_revision() for r in results)
    assert current_revision() == head_revision()
    assert schema_drift() == []
    if made_before_migrations:
        assert_rows_intact(None)
