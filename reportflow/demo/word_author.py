"""Plays a division head who writes in Word: turns the demo's Markdown text into a real .docx."""

from __future__ import annotations

from pathlib import Path

import docx

from reportflow.document.blocks import Heading, ListItem, Paragraph, Table
from reportflow.document.reading.markdown import parse_markdown


def write_docx_like_a_person(markdown_text: str, target: Path) -> Path:
    """Bullets are typed as "- " / "+ " at the start of a paragraph, as most Word users do."""
    document = docx.Document()
    for block in parse_markdown(markdown_text).blocks:
        if isinstance(block, Table):
            table = document.add_table(rows=1 + len(block.rows), cols=len(block.header))
            for row, values in zip(table.rows, [block.header, *block.rows], strict=True):
                for cell, value in zip(row.cells, values, strict=True):
                    cell.text = value
            continue
        paragraph = document.add_paragraph()
        if isinstance(block, ListItem):
            paragraph.add_run("+ " if block.level else "- ")
        for run in block.runs:
            added = paragraph.add_run(run.text)
            added.bold = run.bold or isinstance(block, Heading) or None
            added.italic = run.italic or None
        if isinstance(block, Heading):
            paragraph.style = document.styles["Heading 3"]
        elif isinstance(block, Paragraph):
            paragraph.style = document.styles["Normal"]
    target.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(target))
    return target
