"""The round's draft as Markdown for the Prefect UI, and what changed since the previous round.

Submitted text is data, never a template and never markup: every character Markdown or HTML
could read is backslash-escaped (CommonMark), so a "<script>", a "|" or a "**" shows as typed.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from sqlmodel import Session, select

from reportflow.core.prefect_address import prefect_ui_url
from reportflow.cycle.cycles import assignments, get_cycle
from reportflow.cycle.documents import find_document
from reportflow.cycle.drafting.merge import build_document, rows_by_key
from reportflow.cycle.tracking.progress import publish_progress
from reportflow.definitions.figure_sections import is_figures_key
from reportflow.document.blocks import Heading, ListItem, Paragraph, SectionContent, Table
from reportflow.document.writing.appendix import appendix_label
from reportflow.document.writing.numbering import number_outline
from reportflow.document.writing.report import OutlineNode
from reportflow.models import AuditEvent, Cycle, IndicatorValue, SectionVersion, session_scope
from reportflow.models.audit import record_event

_ESCAPES = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()#+-.!|<>~&=:"})


def escape(text: str) -> str:
    """Submitted text as Markdown that renders literally, on one line."""
    return " ".join(text.split()).translate(_ESCAPES)


def _table(table: Table) -> list[str]:
    def row(cells: list[str]) -> str:
        return "| " + " | ".join(escape(c) or " " for c in cells) + " |"

    return [row(table.header), "|" + "---|" * len(table.header), *(row(r) for r in table.rows)]


def _content(content: SectionContent) -> list[str]:
    lines: list[str] = []
    for block in content.blocks:
        if isinstance(block, Table):
            lines += ["", *_table(block), ""]
            continue
        text = escape("".join(r.text for r in block.runs))
        if isinstance(block, Heading):
            lines += ["", f"**{text}**", ""]
        elif isinstance(block, ListItem):
            lines.append(f"{'  ' * block.level}- {text}")
        elif isinstance(block, Paragraph):
            lines += ["", text, ""]
    return lines


def _outline(nodes: list[OutlineNode], scheme: Sequence[str], depth: int = 2) -> list[str]:
    """The outline as Markdown headings, labelled as the DOCX labels them."""
    lines: list[str] = []
    for item in number_outline(nodes, scheme):
        node = item.node
        label = item.label if item.label is not None else node.marker
        heading = f"{'#' * min(item.depth + depth, 6)} {label} {escape(node.title)}"
        lines += ["", heading.replace("  ", " ").rstrip()]
        lines += _content(node.content)
        if node.table is not None:
            lines += ["", *_table(node.table), ""]
    return lines


def _draft_rows(session: Session, cycle: Cycle, round_no: int):
    draft = find_document(session, cycle.id, "draft", round_no)
    if draft is None or draft.section_versions is None:
        return None, {}, {}
    versions = rows_by_key(session, SectionVersion, draft.section_versions)
    indicators = rows_by_key(session, IndicatorValue, draft.indicator_values or {})
    return draft, versions, indicators


def draft_markdown(session: Session, cycle: Cycle) -> str:
    """The whole text of this round's draft in the report's order, with the indicator table."""
    draft, versions, indicators = _draft_rows(session, cycle, cycle.round)
    document = build_document(session, cycle, None, versions or None, indicators or None)
    lines = [
        f"# Dự thảo vòng {cycle.round}: {escape(document.summary)}",
        "",
        f"Mã kiểm tra SHA-256 của tệp dự thảo: `{draft.sha256 if draft else '-'}`",
    ]
    lines += _outline(document.outline, document.numbering)
    count = len(document.appendices)
    for position, appendix in enumerate(document.appendices, start=1):
        lines += ["", f"## {appendix_label(position, count)}: {escape(appendix.title)}"]
        if appendix.table is not None:
            lines += ["", *_table(appendix.table), ""]
        lines += _outline(appendix.outline, document.numbering, 3)
    return "\n".join(lines).replace("\n\n\n", "\n\n") + "\n"


def changes_markdown(session: Session, cycle: Cycle) -> str | None:
    """Per section, what changed against the previous round's draft; None in round 1."""
    if cycle.round < 2:
        return None
    _, before, _ = _draft_rows(session, cycle, cycle.round - 1)
    _, after, _ = _draft_rows(session, cycle, cycle.round)
    titles = {
        a.section_key: a.title
        for a in assignments(session, cycle.id)
        if not is_figures_key(a.section_key)
    }
    lines = [f"# Thay đổi của vòng {cycle.round} so với vòng {cycle.round - 1}"]
    changed = 0
    for key, title in titles.items():
        old, new = before.get(key), after.get(key)
        if old is not None and new is not None and old.id == new.id:
            continue
        changed += 1
        old_lines = _plain_lines(old)
        new_lines = _plain_lines(new)
        lines += [
            "",
            f"## {escape(key)} · {escape(title)} "
            f"(phiên bản {old.version_no if old else 0} → {new.version_no if new else 0})",
            "",
        ]
        for line in difflib.ndiff(old_lines, new_lines):
            tag, text = line[:2], escape(line[2:])
            if tag == "- " and text:
                lines.append(f"- ~~Bỏ: {text}~~")
            elif tag == "+ " and text:
                lines.append(f"- **Thêm:** {text}")
    if not changed:
        lines += ["", "Không phần nào thay đổi."]
    return "\n".join(lines) + "\n"


def _plain_lines(version: SectionVersion | None) -> list[str]:
    if version is None:
        return []
    text = SectionContent.from_json(version.blocks).plain_text()
    return [line for line in (" ".join(p.split()) for p in text.splitlines()) if line]


def artifact_url(artifact_id: str) -> str:
    return f"{prefect_ui_url()}/artifacts/artifact/{artifact_id}"


def publish_draft(cycle_id: int) -> dict[str, str]:
    """Publishes the round's draft (and from round 2 its changes) as Markdown artifacts of the
    current run, once per round; records their ids so the director's form can link them. The
    progress table is published again with it, showing the cycle awaiting the decision."""
    from prefect.artifacts import create_markdown_artifact

    with session_scope() as session:
        cycle = get_cycle(session, cycle_id)
        done = published_draft(session, cycle)
        if done:
            return done
        draft = draft_markdown(session, cycle)
        changes = changes_markdown(session, cycle)
        round_no = cycle.round
    published = {
        "draft": str(
            create_markdown_artifact(
                draft,
                key=f"cycle-{cycle_id}-draft",
                description=f"Dự thảo vòng {round_no}, toàn văn",
            )
        )
    }
    if changes is not None:
        published["changes"] = str(
            create_markdown_artifact(
                changes,
                key=f"cycle-{cycle_id}-changes",
                description=f"Thay đổi của vòng {round_no} so với vòng trước",
            )
        )
    with session_scope() as session:
        record_event(
            session, "reportflow", "draft.published", cycle_id, round=round_no, **published
        )
    publish_progress(cycle_id)
    return published


def published_draft(session: Session, cycle: Cycle) -> dict[str, str]:
    """The artifact ids published for this round's draft, the latest ones."""
    events = session.exec(
        select(AuditEvent.detail)
        .where(AuditEvent.cycle_id == cycle.id, AuditEvent.action == "draft.published")
        .order_by(AuditEvent.id)
    ).all()
    found = [d for d in events if d.get("round") == cycle.round]
    return found[-1] if found else {}
