"""Merges the latest version of every section into the report's document model and renders it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from sqlalchemy.orm import defer
from sqlmodel import Session, func, select

from reportflow.core.config import get_settings
from reportflow.cycle.cycles import assignments, cycle_definition, signer_of, template_context
from reportflow.cycle.documents import find_document, store_document
from reportflow.definitions.figure_sections import is_figures_key
from reportflow.definitions.indicators import rate_against_plan, read_indicator, result_cell
from reportflow.definitions.loader import load_organisation
from reportflow.definitions.schema import OutlineItem, ReportDefinition
from reportflow.document.blocks import SectionContent, Table
from reportflow.document.writing.render import render_report
from reportflow.document.writing.report import Appendix, OutlineNode, ReportDocument
from reportflow.models import (
    ApprovalDecision,
    Cycle,
    IndicatorValue,
    RegisterEntry,
    RenderedDocument,
    SectionAssignment,
    SectionVersion,
)
from reportflow.notifications.messages import render_string

WITHOUT_SOURCE = defer(SectionVersion.source_bytes)
"""The file a version was uploaded as (up to 10 MB each) is kept as evidence and never read to
build a document: reads of versions leave it out."""


def latest_versions(session: Session, cycle_id: int) -> dict[str, SectionVersion]:
    """Each section's newest version (one row a section, whatever was sent before it)."""
    newest = (
        select(SectionVersion.assignment_id, func.max(SectionVersion.version_no).label("no"))
        .join(SectionAssignment, SectionVersion.assignment_id == SectionAssignment.id)
        .where(SectionAssignment.cycle_id == cycle_id)
        .group_by(SectionVersion.assignment_id)
        .subquery()
    )
    rows = session.exec(
        select(SectionAssignment.section_key, SectionVersion)
        .join(SectionVersion, SectionVersion.assignment_id == SectionAssignment.id)
        .join(
            newest,
            (newest.c.assignment_id == SectionVersion.assignment_id)
            & (newest.c.no == SectionVersion.version_no),
        )
        .options(WITHOUT_SOURCE)
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
        row.append(
            result_cell(item, reading, value.note, percent_sign=spec.percent_sign)
            if reading
            else ""
        )
        if spec.rate_header is not None:
            row.append(rate_against_plan(item, reading))
        rows.append(row)
    return Table(header=header, rows=rows)


def build_document(
    session: Session,
    cycle: Cycle,
    register: RegisterEntry | None = None,
    versions: dict[str, SectionVersion] | None = None,
    indicators: dict[str, IndicatorValue] | None = None,
) -> ReportDocument:
    """The report from the given versions and figures, the newest ones by default."""
    definition = cycle_definition(session, cycle)
    organisation = load_organisation()
    context = template_context(cycle)
    if versions is None:
        versions = latest_versions(session, cycle.id)
    if indicators is None:
        indicators = latest_indicators(session, cycle.id)
    table = indicator_table(definition, indicators, context)

    addressees = [r for r in definition.recipients if r.addressee]
    recipients = ["- Như trên;"] if addressees else []
    recipients += [f"- {r.label};" for r in definition.recipients if not r.addressee]
    recipients.append(f"- {definition.archive_line}")
    spec = signer_of(session, cycle)
    signer = next(p for p in organisation.people if p.code == spec.person)
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
        outline=outline_nodes(definition.outline, context, versions, table),
        closing=[render_string(p, **context) for p in definition.closing],
        recipients=recipients,
        signer_title=spec.title_lines,
        signer_name=signer.name,
        draft_watermark="" if register else "DỰ THẢO",
        addressees=[r.greeting_name for r in addressees],
        appendices=[
            Appendix(
                title=render_string(appendix.title, **context),
                outline=outline_nodes(appendix.outline, context, versions, table),
                table=table if appendix.indicators else None,
            )
            for appendix in definition.appendices
        ],
        issuing_body_name=organisation.issuing_body_name,
        numbering=tuple(definition.numbering),
    )


def render_draft(session: Session, cycle: Cycle) -> RenderedDocument:
    """The draft of the cycle's current round, rendered once from the newest versions."""
    existing = find_document(session, cycle.id, "draft", cycle.round)
    if existing is not None:
        return existing
    versions = latest_versions(session, cycle.id)
    indicators = latest_indicators(session, cycle.id)
    document = build_document(session, cycle, None, versions, indicators)
    return _render_and_store(session, cycle, "draft", document, versions, indicators)


def _approved_content(
    session: Session, cycle: Cycle
) -> tuple[dict[str, SectionVersion], dict[str, IndicatorValue]]:
    """Exactly what the approved draft held (the newest versions for a cycle approved before
    drafts recorded theirs)."""
    approved = approved_draft(session, cycle.id)
    if approved is not None and approved.section_versions is not None:
        return (
            rows_by_key(session, SectionVersion, approved.section_versions),
            rows_by_key(session, IndicatorValue, approved.indicator_values or {}),
        )
    return latest_versions(session, cycle.id), latest_indicators(session, cycle.id)


def render_final(session: Session, cycle: Cycle) -> RenderedDocument:
    """The numbered document, rendered once from exactly what the approved draft held."""
    existing = find_document(session, cycle.id, "final")
    if existing is not None:
        return existing
    register = session.exec(select(RegisterEntry).where(RegisterEntry.cycle_id == cycle.id)).one()
    versions, indicators = _approved_content(session, cycle)
    document = build_document(session, cycle, register, versions, indicators)
    return _render_and_store(session, cycle, "final", document, versions, indicators)


def signing_copy(session: Session, cycle: Cycle, year: int) -> ReportDocument:
    """The approved report as its signer signs it before it is numbered: the final layout and
    signature block, no draft mark, the number, the day and the month blank (Decree 30, Điều
    13: the signer signs, then the register gives the number and the date)."""
    versions, indicators = _approved_content(session, cycle)
    document = build_document(session, cycle, None, versions, indicators)
    return replace(document, draft_watermark="", signing_year=year)


def outline_nodes(
    items: Sequence[OutlineItem],
    context: dict,
    versions: Mapping[str, SectionVersion] | None = None,
    table: Table | None = None,
    level: int = 1,
) -> list[OutlineNode]:
    """The definition's headings as the document's outline, each with what is filed under it
    (nothing without `versions`: the bare headings, as a division head's page lists them)."""
    versions = versions or {}
    return [
        OutlineNode(
            title=render_string(item.title, **context),
            level=level,
            numbered=not item.marker,
            marker=item.marker,
            content=(
                SectionContent.from_json(versions[item.key].blocks)
                if item.key in versions
                else SectionContent()
            ),
            table=table if item.indicators else None,
            children=outline_nodes(item.children, context, versions, table, level + 1),
        )
        for item in items
    ]


def approved_draft(session: Session, cycle_id: int) -> RenderedDocument | None:
    decision = session.exec(
        select(ApprovalDecision).where(
            ApprovalDecision.cycle_id == cycle_id, ApprovalDecision.decision == "approve"
        )
    ).first()
    if decision is None:
        return None
    if decision.draft_id is not None:
        return session.get(RenderedDocument, decision.draft_id)
    return find_document(session, cycle_id, "draft", decision.round)


def rows_by_key(session: Session, model, ids: dict[str, int]) -> dict:
    """The rows a rendered document recorded (key -> row id), by the same keys."""
    query = select(model).where(model.id.in_(list(ids.values())))
    if model is SectionVersion:
        query = query.options(WITHOUT_SOURCE)
    rows = session.exec(query).all()
    by_id = {row.id: row for row in rows}
    return {key: by_id[row_id] for key, row_id in ids.items()}


def _render_and_store(
    session: Session,
    cycle: Cycle,
    kind: str,
    document: ReportDocument,
    versions: dict[str, SectionVersion],
    indicators: dict[str, IndicatorValue],
) -> RenderedDocument:
    folder = get_settings().documents_dir / f"cycle-{cycle.id}"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"du-thao-vong-{cycle.round}.docx" if kind == "draft" else "bao-cao-chinh-thuc.docx"
    path = render_report(document, folder / name)
    return store_document(
        session,
        cycle_id=cycle.id,
        kind=kind,
        round_no=cycle.round,
        rendered=Path(path),
        section_versions={key: version.id for key, version in versions.items()},
        indicator_values={code: value.id for code, value in indicators.items()},
    )


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
