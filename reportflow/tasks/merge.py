"""Merges the latest version of every section into the report's document model and renders it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlmodel import Session, select

from reportflow.config import get_settings
from reportflow.definition_loader import load_organisation
from reportflow.definition_schema import OutlineItem, ReportDefinition
from reportflow.document.blocks import SectionContent, Table
from reportflow.document.render import render_report
from reportflow.document.report import OutlineNode, ReportDocument
from reportflow.indicators import rate_against_plan, read_indicator, result_cell
from reportflow.models import (
    Cycle,
    IndicatorValue,
    RegisterEntry,
    RenderedDocument,
    SectionAssignment,
    SectionVersion,
)
from reportflow.notifications.messages import render_string
from reportflow.tasks.cycles import assignments, cycle_definition, template_context
from reportflow.tasks.figures import is_figures_key


def latest_versions(session: Session, cycle_id: int) -> dict[str, SectionVersion]:
    rows = session.exec(
        select(SectionAssignment.section_key, SectionVersion)
        .join(SectionVersion, SectionVersion.assignment_id == SectionAssignment.id)
        .where(SectionAssignment.cycle_id == cycle_id)
        .order_by(SectionVersion.version_no)
    )
    return {key: version for key, version in rows}


def latest_indicators(session: Session, cycle_id: int) -> dict[str, IndicatorValue]:
    rows = session.exec(
        select(IndicatorValue)
        .where(IndicatorValue.cycle_id == cycle_id)
        .order_by(IndicatorValue.version_no)
    )
    return {row.indicator_code: row for row in rows}


def indicator_table(
    definition: ReportDefinition, values: dict[str, IndicatorValue], context: dict
) -> Table:
    spec = definition.indicators
    header = [
        "TT",
        "Chỉ tiêu",
        "Đơn vị tính",
        render_string(spec.plan_header, **context),
        render_string(spec.result_header, **context),
    ]
    if spec.rate_header is not None:
        header.append(render_string(spec.rate_header, **context))
    rows = []
    for index, item in enumerate(spec.items, start=1):
        value = values.get(item.code)
        reading = read_indicator(item, value.value_text) if value else None
        row = [str(index), item.name, item.unit, item.plan]
        row.append(result_cell(item, reading, value.note) if reading else "")
        if spec.rate_header is not None:
            row.append(rate_against_plan(item, reading))
        rows.append(row)
    return Table(header=header, rows=rows)


def build_document(
    session: Session, cycle: Cycle, register: RegisterEntry | None = None
) -> ReportDocument:
    definition = cycle_definition(session, cycle)
    organisation = load_organisation()
    context = template_context(cycle)
    versions = latest_versions(session, cycle.id)
    table = indicator_table(definition, latest_indicators(session, cycle.id), context)

    def node(item: OutlineItem, level: int) -> OutlineNode:
        version = versions.get(item.key) if item.key else None
        return OutlineNode(
            title=render_string(item.title, **context),
            level=level,
            numbered=not item.marker,
            marker=item.marker,
            content=SectionContent.from_json(version.blocks) if version else SectionContent(),
            table=table if item.indicators else None,
            children=[node(child, level + 1) for child in item.children],
        )

    recipients = [f"- {r.label};" for r in definition.recipients]
    recipients.append(f"- {definition.archive_line}")
    signer = next(p for p in organisation.people if p.code == definition.signer.person)
    placeholder = definition.number_pattern.replace("{number}", "      ")
    return ReportDocument(
        parent_body=organisation.parent_body,
        issuing_body=organisation.issuing_body,
        number_text=register.number_text if register else placeholder,
        place=organisation.place,
        issued_on=register.issued_on if register else None,
        doc_type_name=definition.doc_type_name,
        summary=render_string(definition.summary, **context),
        intro=[render_string(p, **context) for p in definition.intro],
        outline=[node(item, 1) for item in definition.outline],
        closing=[render_string(p, **context) for p in definition.closing],
        recipients=recipients,
        signer_title=definition.signer.title,
        signer_name=signer.name,
        draft_watermark="" if register else "DỰ THẢO",
    )


def render_cycle_document(session: Session, cycle: Cycle, kind: str) -> RenderedDocument:
    """Renders the draft (kind="draft") or the numbered final document and records it."""
    register = None
    if kind == "final":
        register = session.exec(
            select(RegisterEntry).where(RegisterEntry.cycle_id == cycle.id)
        ).one()
    document = build_document(session, cycle, register)
    folder = get_settings().documents_dir / f"cycle-{cycle.id}"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"du-thao-vong-{cycle.round}.docx" if kind == "draft" else "bao-cao-chinh-thuc.docx"
    path = render_report(document, folder / name)
    record = RenderedDocument(
        cycle_id=cycle.id,
        kind=kind,
        round=cycle.round,
        path=str(Path(path).resolve()),
        sha256=hashlib.sha256(Path(path).read_bytes()).hexdigest(),
    )
    session.add(record)
    session.flush()
    return record


def section_summary(session: Session, cycle: Cycle) -> list[dict]:
    versions = latest_versions(session, cycle.id)
    summary = []
    for assignment in assignments(session, cycle.id):
        if is_figures_key(assignment.section_key):
            continue
        version = versions.get(assignment.section_key)
        text = SectionContent.from_json(version.blocks).plain_text() if version else ""
        summary.append(
            {
                "key": assignment.section_key,
                "title": assignment.title,
                "division": assignment.division_code,
                "version": version.version_no if version else 0,
                "words": len(text.split()),
                "submitted_at": version.submitted_at if version else None,
            }
        )
    return summary
