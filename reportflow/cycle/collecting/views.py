"""What a division head's pages show: the section with its outline and versions, the figures
owed, the person's open work, a receipt. Each is read in one transaction, behind a live link."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlmodel import select

from reportflow.calendar.working_days import default_calendar
from reportflow.core.clock import today
from reportflow.core.errors import NotFound
from reportflow.cycle.cycles import cycle_definition, period_with_year, template_context
from reportflow.cycle.drafting.merge import WITHOUT_SOURCE, outline_nodes
from reportflow.cycle.links import Link, check_live, make_token
from reportflow.definitions.figure_sections import is_figures_key
from reportflow.definitions.schema import OutlineItem, ReportDefinition
from reportflow.document.blocks import SectionContent
from reportflow.document.writing.appendix import appendix_label
from reportflow.document.writing.blocks_html import section_html
from reportflow.document.writing.numbering import number_outline
from reportflow.models import (
    Cycle,
    CycleState,
    IndicatorValue,
    Person,
    SectionAssignment,
    SectionVersion,
    session_scope,
)
from reportflow.notifications.messages import render_string


def _headings(items: list[OutlineItem]) -> Iterator[OutlineItem]:
    for item in items:
        yield item
        yield from _headings(item.children)


def _outline(
    items: list[OutlineItem],
    key: str,
    context: dict[str, Any],
    scheme: Sequence[str],
    depth: int = 0,
) -> list[dict[str, Any]]:
    """The report's headings (the definition's own, trusted text) numbered as the document
    numbers them, the section's own marked."""
    numbered = number_outline(outline_nodes(items, context), scheme)
    rows = []
    for item, heading in zip(_headings(items), numbered, strict=True):
        rows.append(
            {
                "label": heading.label if heading.label is not None else heading.node.marker,
                "title": heading.node.title,
                "depth": heading.depth + depth,
                "current": item.key == key or (is_figures_key(key) and item.indicators),
            }
        )
    return rows


def _parts(definition: ReportDefinition, key: str, context: dict[str, Any]) -> list[dict[str, Any]]:
    """The body's headings, then each appendix and its headings."""
    scheme = definition.numbering
    rows = _outline(definition.outline, key, context, scheme)
    count = len(definition.appendices)
    for position, appendix in enumerate(definition.appendices, start=1):
        title = render_string(appendix.title, **context)
        current = is_figures_key(key) and appendix.indicators
        label = appendix_label(position, count) + ":"
        rows.append({"label": label, "title": title, "depth": 0, "current": current})
        rows += _outline(appendix.outline, key, context, scheme, 1)
    return rows


def _closed_text(state: CycleState, round_no: int) -> str:
    if state == CycleState.COLLECTING:
        return ""
    if state in {CycleState.DRAFTING, CycleState.AWAITING_DECISION}:
        return (
            f"Các phần đã đủ và đã được tổng hợp thành dự thảo vòng {round_no}, đang chờ Giám đốc "
            "quyết định, nên các phần tạm khóa. Nếu cần sửa phần này, hãy báo Văn phòng: Giám đốc "
            "có thể trả lại phần để sửa, hoặc Văn phòng rút dự thảo để mở vòng mới; khi đó anh/chị "
            "nhận thư mới."
        )
    return f"Kỳ báo cáo đã đóng ({state.label_vi}); không nhận thêm bài."


def link_is_live(link: Link) -> None:
    """Refuses an ended, revoked or foreign link before a confirm is read (the page's whole
    context is built only when it must be shown again)."""
    with session_scope() as session:
        check_live(session, link)


def section_context(link: Link) -> dict[str, Any]:
    """Everything the section page shows, read in one transaction."""
    with session_scope() as session:
        cycle, assignment, person = check_live(session, link)
        definition = cycle_definition(session, cycle)
        versions = list(
            session.exec(
                select(SectionVersion)
                .where(SectionVersion.assignment_id == assignment.id)
                .order_by(SectionVersion.version_no)
                .options(WITHOUT_SOURCE)
            )
        )
        authors = {v.submitted_by for v in versions}
        names = {
            p.code: p.name for p in session.exec(select(Person).where(Person.code.in_(authors)))
        }
        days_left = default_calendar().working_days_between(today(), assignment.due)
        closed = _closed_text(CycleState(cycle.state), cycle.round)
        current = versions[-1] if versions else None
        return {
            "report_name": definition.name,
            "period_label": period_with_year(cycle.period_label, cycle.year),
            "request_number": cycle.request_number,
            "cycle_id": cycle.id,
            "person": {"name": person.name, "title": person.title},
            "section": {"key": assignment.section_key, "title": assignment.title},
            "is_figures": is_figures_key(assignment.section_key),
            "state": assignment.state,
            "comment": assignment.return_comment if assignment.state == "returned" else "",
            "due": assignment.due,
            "days_left": days_left,
            "outline": _parts(definition, assignment.section_key, template_context(cycle)),
            "closed": closed,
            "cycle_state": CycleState(cycle.state).label_vi,
            "current_html": section_html(SectionContent.from_json(current.blocks))
            if current
            else None,
            "current_no": current.version_no if current else None,
            "versions": [
                {
                    "no": v.version_no,
                    "at": v.submitted_at,
                    "by": names.get(v.submitted_by, v.submitted_by),
                    "name": v.source_name,
                    "format": "Word" if v.source_format == "docx" else "Markdown",
                }
                for v in reversed(versions)
            ],
        }


def _latest_values(session, cycle_ids: list[int], codes: list[str]) -> dict[str, IndicatorValue]:
    """The newest value of each code among the given cycles (the first cycle listed wins)."""
    if not cycle_ids or not codes:
        return {}
    rows = session.exec(
        select(IndicatorValue)
        .where(IndicatorValue.cycle_id.in_(cycle_ids), IndicatorValue.indicator_code.in_(codes))
        .order_by(IndicatorValue.version_no)
    ).all()
    rank = {cycle_id: position for position, cycle_id in enumerate(cycle_ids)}
    latest: dict[str, IndicatorValue] = {}
    for row in sorted(rows, key=lambda r: (-rank[r.cycle_id], r.version_no)):
        latest[row.indicator_code] = row
    return latest


def figures_context(link: Link) -> dict[str, Any]:
    """The indicators the link's division owes, with plan, previous cycle's and current values."""
    with session_scope() as session:
        cycle, assignment, _person = check_live(session, link)
        definition = cycle_definition(session, cycle)
        owed = [i for i in definition.indicators.items if i.owner == assignment.division_code]
        codes = [i.code for i in owed]
        current = _latest_values(session, [cycle.id], codes)
        earlier = session.exec(
            select(Cycle.id)
            .where(Cycle.definition_code == cycle.definition_code, Cycle.id < cycle.id)
            .order_by(Cycle.id.desc())
        ).all()
        previous = _latest_values(session, list(earlier), codes)
        return {
            "indicators": [
                {
                    "code": i.code,
                    "name": i.name.strip("- "),
                    "unit": i.unit,
                    "plan": i.plan,
                    "previous": previous[i.code].value_text if i.code in previous else "",
                    "current": current[i.code].value_text if i.code in current else "",
                }
                for i in owed
            ]
        }


def my_work_context(link: Link) -> dict[str, Any]:
    """The person's assignments in every cycle still collecting, each with its own link."""
    with session_scope() as session:
        _cycle, _assignment, person = check_live(session, link)
        rows = session.exec(
            select(SectionAssignment, Cycle)
            .join(Cycle, Cycle.id == SectionAssignment.cycle_id)
            .where(
                SectionAssignment.division_code == person.division_code,
                Cycle.state == CycleState.COLLECTING,
            )
            .order_by(SectionAssignment.due, Cycle.id, SectionAssignment.id)
        ).all()
        calendar, day = default_calendar(), today()
        items = []
        for assignment, cycle in rows:
            items.append(
                {
                    "report_name": cycle_definition(session, cycle).name,
                    "period_label": period_with_year(cycle.period_label, cycle.year),
                    "title": assignment.title,
                    "due": assignment.due,
                    "days_left": calendar.working_days_between(day, assignment.due),
                    "state": assignment.state,
                    "token": make_token(session, cycle.id, assignment.section_key, person.code),
                }
            )
        return {
            "person": {"name": person.name, "title": person.title},
            "open": [i for i in items if i["state"] != "submitted"],
            "done": [i for i in items if i["state"] == "submitted"],
        }


def receipt_context(link: Link, version_no: int) -> dict[str, Any]:
    with session_scope() as session:
        cycle, assignment, person = check_live(session, link)
        version = session.exec(
            select(SectionVersion)
            .where(
                SectionVersion.assignment_id == assignment.id,
                SectionVersion.version_no == version_no,
                SectionVersion.submitted_by == person.code,
            )
            .options(WITHOUT_SOURCE)
        ).first()
        if version is None:
            raise NotFound("Không có bản gửi này.")
        return {
            "report_name": cycle_definition(session, cycle).name,
            "section": {"title": assignment.title},
            "version_no": version.version_no,
            "at": version.submitted_at,
            "name": version.source_name,
            "sha256": version.sha256[:12],
            "cycle_moved_on": cycle.state != CycleState.COLLECTING,
        }
