"""The demo scenario (`data/scenario.yaml`): its data files and the cycle it opens."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from reportflow.core.config import PACKAGE_DIR
from reportflow.demo.word_author import write_docx_like_a_person

DATA_DIR = PACKAGE_DIR / "demo" / "data"
SAMPLES_ONLY_ENV = {"REPORTFLOW_SAMPLES": "true", "REPORTFLOW_DEFINITIONS_DIRS": "[]"}
"""The demo runs the sample with its own organisation, whatever definitions this machine uses."""


def load_scenario() -> dict:
    return yaml.safe_load((DATA_DIR / "scenario.yaml").read_text(encoding="utf-8"))


def section_file(entry: dict, work: Path) -> Path:
    """The section as its division head hands it in: a Word file or a Markdown file."""
    text = (DATA_DIR / "sections" / f"{entry['section']}.md").read_text(encoding="utf-8")
    if entry["format"] == "docx":
        return write_docx_like_a_person(text, work / f"{entry['section']}.docx")
    target = work / f"{entry['section']}.md"
    target.write_text(text, encoding="utf-8")
    return target


def open_scenario_cycle(scenario: dict) -> tuple[int, dt.date]:
    """Opens the register where the scenario says and the cycle for its request.

    Returns the cycle's id and the divisions' internal deadline.
    """
    from reportflow.cycle.cycles import CycleRequest, open_cycle
    from reportflow.cycle.issuing.numbering import open_register
    from reportflow.definitions.loader import load_organisation
    from reportflow.models import init_db, session_scope

    init_db()
    request = scenario["request"]
    open_register(
        load_organisation().issuing_body,
        dt.date.fromisoformat(scenario["clock"][:10]).year,
        scenario["register_last_number"],
    )
    with session_scope() as session:
        cycle = open_cycle(
            session,
            scenario["definition"],
            CycleRequest(
                number=request["number"],
                date=request["date"],
                sender=request["sender"],
                subject=request["subject"],
                deadline=request["deadline"],
            ),
            scenario["opened_by"],
        )
        return cycle.id, cycle.internal_deadline
