"""A division's figures for the indicator table, tracked as one assignment of the cycle.

So the figures are waited for, reminded about, shown in the progress table and sent back by the
director exactly like a section, with no second mechanism.
"""

from __future__ import annotations

from sqlmodel import Session, select

from reportflow.definitions.figure_sections import figures_key
from reportflow.definitions.schema import ReportDefinition
from reportflow.models import IndicatorValue, SectionAssignment


def mark_figures_in(
    session: Session, definition: ReportDefinition, cycle_id: int, division_code: str
) -> bool:
    """Marks the division's figures assignment submitted once all its indicators have a value."""
    assignment = session.exec(
        select(SectionAssignment).where(
            SectionAssignment.cycle_id == cycle_id,
            SectionAssignment.section_key == figures_key(division_code),
        )
    ).first()
    if assignment is None:
        return False
    owed = {item.code for item in definition.indicators.items if item.owner == division_code}
    given = set(
        session.exec(
            select(IndicatorValue.indicator_code).where(IndicatorValue.cycle_id == cycle_id)
        )
    )
    if not owed <= given:
        return False
    assignment.state = "submitted"
    assignment.return_comment = ""
    session.add(assignment)
    return True
