"""A division's figures are owed as one section of the cycle, keyed by the division: the key and
title of that section, and which divisions owe figures under a definition."""

from __future__ import annotations

from reportflow.definitions.schema import ReportDefinition

FIGURES_PREFIX = "so-lieu-"
FIGURES_TITLE = "Số liệu các chỉ tiêu"


def figures_key(division_code: str) -> str:
    return f"{FIGURES_PREFIX}{division_code}"


def is_figures_key(section_key: str) -> bool:
    return section_key.startswith(FIGURES_PREFIX)


def figure_owners(definition: ReportDefinition) -> list[str]:
    """Divisions that owe figures, in the order the table lists their first indicator."""
    return list(dict.fromkeys(item.owner for item in definition.indicators.items))
