"""The director's read-only page of the draft awaiting his decision, behind a signed link.

The link names the cycle, the director and the draft's round; it shows the draft of the round
he was mailed, exactly as merged (the versions the draft recorded), with the DOCX and a PDF.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import Session

from reportflow.core.config import get_settings
from reportflow.core.errors import UserError
from reportflow.cycle.cycles import cycle_definition
from reportflow.cycle.documents import document_file, find_document
from reportflow.cycle.drafting.draft import draft_attachments, draft_copy
from reportflow.cycle.drafting.merge import build_document, rows_by_key
from reportflow.cycle.links import (
    ENDED_STATES,
    Link,
    LinkRefused,
    current_generation,
    expiry_for,
    sign,
)
from reportflow.cycle.organisation import deciders
from reportflow.document.writing.appendix import appendix_label
from reportflow.document.writing.blocks_html import section_html, table_html
from reportflow.document.writing.numbering import number_outline
from reportflow.document.writing.report import OutlineNode
from reportflow.models import (
    Cycle,
    IndicatorValue,
    Person,
    RenderedDocument,
    SectionVersion,
    session_scope,
)

DRAFT_KEY = "du-thao"
"""The link's section field for a draft page: never a section key (those are the definition's)."""


def make_draft_link(session: Session, cycle: Cycle, person_code: str) -> str:
    """The director's link to the draft of the cycle's current round."""
    if not get_settings().web_url:
        return ""
    generation = current_generation(session, cycle.id, DRAFT_KEY, person_code)
    token = sign(
        cycle.id, f"{DRAFT_KEY}-r{cycle.round}", person_code, generation, expiry_for(cycle)
    )
    return f"{get_settings().web_url.rstrip('/')}/d/{token}"


def draft_of(
    session: Session, link: Link, ended_too: bool = False
) -> tuple[Cycle, RenderedDocument]:
    """The cycle and the draft a director's link names; ``ended_too``: also once the cycle has
    ended (the page that follows his decision to the dispatch)."""
    kind, _, round_part = link.section_key.rpartition("-r")
    cycle = session.get(Cycle, link.cycle_id)
    person = session.get(Person, link.person_code)
    if kind != DRAFT_KEY or not round_part.isdigit() or cycle is None or person is None:
        raise LinkRefused("tampered")
    allowed = deciders(session, cycle_definition(session, cycle))
    if person.code not in {p.code for p in allowed}:
        raise LinkRefused("not_director")
    if cycle.state in ENDED_STATES and not ended_too:
        raise LinkRefused("ended")
    if current_generation(session, cycle.id, DRAFT_KEY, person.code) != link.generation:
        raise LinkRefused("revoked")
    draft = find_document(session, cycle.id, "draft", int(round_part))
    if draft is None:
        raise LinkRefused("tampered")
    return cycle, draft


def _rows(nodes: list[OutlineNode], scheme: tuple[str, ...], depth: int = 0) -> list[dict]:
    return [
        {
            "label": item.label if item.label is not None else item.node.marker,
            "title": item.node.title,
            "depth": item.depth + depth,
            "html": section_html(item.node.content) if item.node.content.blocks else None,
            "table": table_html(item.node.table) if item.node.table is not None else None,
        }
        for item in number_outline(nodes, scheme)
    ]


def draft_context(link: Link) -> dict[str, Any]:
    with session_scope() as session:
        cycle, draft = draft_of(session, link)
        definition = cycle_definition(session, cycle)
        versions = rows_by_key(session, SectionVersion, draft.section_versions or {})
        figures = rows_by_key(session, IndicatorValue, draft.indicator_values or {})
        document = build_document(session, cycle, None, versions, figures)
        rows = _rows(document.outline, document.numbering)
        count = len(document.appendices)
        for position, appendix in enumerate(document.appendices, start=1):
            rows.append(
                {
                    "label": appendix_label(position, count) + ":",
                    "title": appendix.title,
                    "depth": 0,
                    "html": None,
                    "table": table_html(appendix.table) if appendix.table is not None else None,
                }
            )
            rows += _rows(appendix.outline, document.numbering, 1)
        return {
            "report_name": definition.name,
            "summary": document.summary,
            "round": draft.round,
            "current": draft.round == cycle.round,
            "sha256": draft.sha256,
            "rows": rows,
        }


def draft_file(link: Link, suffix: str) -> Path:
    """The draft's DOCX (its stored bytes) or its PDF: the one the director's mail attaches,
    made once per machine (the completing submission may have made it already)."""
    with session_scope() as session:
        _, draft = draft_of(session, link)
    if suffix == ".docx":
        return document_file(draft)
    files, why_not = draft_attachments(draft_copy(draft))
    if why_not:
        raise UserError(f"Chưa tạo được bản PDF của dự thảo ({why_not}).")
    return files[1]
