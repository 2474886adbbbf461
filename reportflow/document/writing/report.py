"""What the renderer needs to lay out one report: already resolved, no database, no templates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from reportflow.document.blocks import SectionContent, Table
from reportflow.document.writing.numbering import DEFAULT_NUMBERING


@dataclass
class OutlineNode:
    """One heading of the report's outline with the content filed under it.

    `numbered` headings get their number from their position ("I.", "1.", "1.1.");
    unnumbered ones are rendered with `marker` (e.g. "*") and do not consume a number.
    """

    title: str
    level: int
    numbered: bool = True
    marker: str = ""
    content: SectionContent = field(default_factory=SectionContent)
    table: Table | None = None
    children: list[OutlineNode] = field(default_factory=list)


@dataclass
class Appendix:
    """A Phụ lục after the signature block: its title, the indicator table when it holds it,
    then its own numbered outline."""

    title: str
    outline: list[OutlineNode] = field(default_factory=list)
    table: Table | None = None


@dataclass
class ReportDocument:
    parent_body: str
    issuing_body: str
    number_text: str
    place: str
    issued_on: dt.date | None
    doc_type_name: str
    summary: str
    intro: list[str]
    outline: list[OutlineNode]
    closing: list[str]
    recipients: list[str]
    signer_title: str
    signer_name: str
    draft_watermark: str = ""
    addressees: list[str] = field(default_factory=list)
    """The "Kính gửi:" line under the title, one addressee per line when several."""
    appendices: list[Appendix] = field(default_factory=list)
    issuing_body_name: str = ""
    """The body in running text ("Sở Thông tin và Truyền thông"), for the appendices' line
    "(Kèm theo Báo cáo số … của …)"."""
    numbering: tuple[str, ...] = DEFAULT_NUMBERING
    """One pattern per outline level (``numbering.NUMBERING_PATTERNS``); deeper levels reuse the last."""
    signing_year: int | None = None
    """Set on the copy signed before it is numbered: the day and the month stay blank (spaces),
    the year is given, as on the paper a signer signs."""
