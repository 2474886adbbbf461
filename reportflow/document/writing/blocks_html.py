"""A section's blocks as HTML. Every submitted text is escaped; none is ever a template."""

from __future__ import annotations

from markupsafe import Markup, escape

from reportflow.document.blocks import Heading, ListItem, Paragraph, Run, SectionContent, Table
from reportflow.document.writing.numbering import ListPrefixes


def _runs(runs: list[Run]) -> str:
    parts = []
    for run in runs:
        text = str(escape(run.text))
        if run.bold:
            text = f"<strong>{text}</strong>"
        if run.italic:
            text = f"<em>{text}</em>"
        parts.append(text)
    return "".join(parts)


def _table(block: Table) -> str:
    head = "".join(f"<th>{escape(cell)}</th>" for cell in block.header)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in block.rows
    )
    return f'<div class="table"><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>'


def section_html(content: SectionContent) -> Markup:
    html = []
    prefixes = ListPrefixes()
    for block in content.blocks:
        if not isinstance(block, ListItem):
            prefixes.reset()
        if isinstance(block, Heading):
            html.append(f"<h4>{_runs(block.runs)}</h4>")
        elif isinstance(block, Paragraph):
            html.append(f"<p>{_runs(block.runs)}</p>")
        elif isinstance(block, ListItem):
            marker = escape(prefixes.prefix(block))
            html.append(f'<p class="li l{min(block.level, 3)}">{marker} {_runs(block.runs)}</p>')
        elif isinstance(block, Table):
            html.append(_table(block))
    return Markup("\n".join(html))


def table_html(block: Table) -> Markup:
    return Markup(_table(block))
