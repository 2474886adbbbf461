"""The sample report 859/BC-STTTT-VP built from the demo data through the real merge, without Prefect.

Used by the fidelity test, the bench and `reportflow export --sample`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reportflow.core.config import reload_settings
from reportflow.demo.scenario import SAMPLES_ONLY_ENV
from reportflow.document.writing.report import ReportDocument


@contextmanager
def scratch_project(frozen_now: str) -> Iterator[Path]:
    """A throw-away project database and data folder; the caller's settings come back afterwards."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="reportflow-sample-") as tmp:
        os.environ.pop("REPORTFLOW_DATABASE_URL", None)
        os.environ["REPORTFLOW_DATA_DIR"] = tmp
        os.environ["REPORTFLOW_FROZEN_NOW"] = frozen_now
        os.environ.update(SAMPLES_ONLY_ENV)
        reload_settings()
        try:
            yield Path(tmp)
        finally:
            os.environ.clear()
            os.environ.update(saved)
            reload_settings()


def build_sample_document() -> ReportDocument:
    from sqlmodel import select

    from reportflow.cycle.collecting.submit import submit_indicators, submit_section
    from reportflow.cycle.cycles import get_cycle
    from reportflow.cycle.drafting.merge import build_document
    from reportflow.cycle.issuing.numbering import assign_number
    from reportflow.demo.scenario import (
        DATA_DIR,
        load_scenario,
        open_scenario_cycle,
        section_file,
    )
    from reportflow.models import CycleState, RegisterEntry, session_scope

    scenario = load_scenario()
    with scratch_project(scenario["clock"]) as folder:
        cycle_id, _ = open_scenario_cycle(scenario)
        for entry in [*scenario["submissions"], *scenario["late"]]:
            submit_section(
                cycle_id, entry["section"], section_file(entry, folder / "work"), entry["by"]
            )
        for entry in scenario["indicators"]:
            submit_indicators(cycle_id, DATA_DIR / entry["file"], entry["by"])
        with session_scope() as session:
            cycle = get_cycle(session, cycle_id)
            cycle.state = CycleState.APPROVED
            session.add(cycle)
        assign_number(cycle_id)
        with session_scope() as session:
            cycle = get_cycle(session, cycle_id)
            entry = session.exec(
                select(RegisterEntry).where(RegisterEntry.cycle_id == cycle_id)
            ).one()
            return build_document(session, cycle, entry)
