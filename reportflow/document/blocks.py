"""The structured content of a section, independent of its source format.

Markdown and Word submissions are both parsed into these blocks; the renderer
maps them onto the report's own styles. Blocks are plain data so that a section
version can be stored as JSON and rendered again later without the source file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False
    italic: bool = False


@dataclass(frozen=True)
class Heading:
    """A heading inside a section (e.g. "* Bưu chính – Viễn thông"), below the outline levels."""

    runs: list[Run]
    kind: Literal["heading"] = "heading"


@dataclass(frozen=True)
class Paragraph:
    runs: list[Run]
    kind: Literal["paragraph"] = "paragraph"


@dataclass(frozen=True)
class ListItem:
    """A list item; level 0 is rendered with "-", level 1 with "+".

    ``marker`` is an ordered item's label as its author wrote it ("1.", "2)", "b)"); it is
    printed as written. Ordered items stored without one get "a)", "b)" from their position
    (``numbering.ListPrefixes``).
    """

    runs: list[Run]
    level: int = 0
    ordered: bool = False
    kind: Literal["list_item"] = "list_item"
    marker: str = ""


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    kind: Literal["table"] = "table"


Block = Heading | Paragraph | ListItem | Table


@dataclass
class SectionContent:
    blocks: list[Block] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not any(block_text(b).strip() for b in self.blocks)

    def plain_text(self) -> str:
        return "\n".join(block_text(b) for b in self.blocks)

    def to_json(self) -> list[dict[str, Any]]:
        return [asdict(b) for b in self.blocks]

    @classmethod
    def from_json(cls, data: list[dict[str, Any]]) -> SectionContent:
        return cls(blocks=[block_from_json(item) for item in data])


def runs_text(runs: list[Run]) -> str:
    return "".join(r.text for r in runs)


def block_text(block: Block) -> str:
    if isinstance(block, Table):
        return "\n".join("\t".join(row) for row in [block.header, *block.rows])
    return runs_text(block.runs)


def block_from_json(item: dict[str, Any]) -> Block:
    kind = item.get("kind")
    if kind == "table":
        return Table(header=list(item["header"]), rows=[list(r) for r in item["rows"]])
    runs = [Run(**r) for r in item["runs"]]
    if kind == "heading":
        return Heading(runs=runs)
    if kind == "paragraph":
        return Paragraph(runs=runs)
    if kind == "list_item":
        return ListItem(
            runs=runs,
            level=int(item.get("level", 0)),
            ordered=bool(item.get("ordered")),
            marker=str(item.get("marker") or ""),
        )
    raise ValueError(f"unknown block kind: {kind!r}")
