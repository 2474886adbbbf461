"""Outline and list labels, generated from position so that nobody types a number by hand.

A report definition gives one pattern per outline level (deeper levels reuse the last):
"I." Roman, "1." Arabic restarting under its parent, "1.1." its parent's number then its own
("2.1."), "a)" letters, "-" a dash without a number. Letters follow the Vietnamese alphabet
as in legal texts: a, b, c, d, đ, e, g, h, i, k, ...
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from reportflow.document.blocks import ListItem

NUMBERING_PATTERNS = ("I.", "1.", "1.1.", "a)", "-")
DEFAULT_NUMBERING = ("I.", "1.", "a)", "-")
"""As most reports number their outline (Decree 30/2020): I., 1., a), then a dash."""

# The Vietnamese alphabet without f, j, w, z and the letters with marks, as legal texts
# number their points: a), b), c), d), đ), e), g), ...
VIETNAMESE_LETTERS = (
    "a", "b", "c", "d", "đ", "e", "g", "h", "i", "k", "l", "m",
    "n", "o", "p", "q", "r", "s", "t", "u", "v", "x", "y",
)  # fmt: skip

_ROMAN = (
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
)  # fmt: skip


def roman(number: int) -> str:
    if number < 1:
        raise ValueError(f"no Roman numeral for {number}")
    out = []
    for value, symbol in _ROMAN:
        count, number = divmod(number, value)
        out.append(symbol * count)
    return "".join(out)


def letter(number: int) -> str:
    """1 -> "a", 5 -> "đ", 24 -> "aa" (past "y" the letters double, as spreadsheets do)."""
    if number < 1:
        raise ValueError(f"no letter for {number}")
    base = len(VIETNAMESE_LETTERS)
    out = []
    while number:
        number, rest = divmod(number - 1, base)
        out.append(VIETNAMESE_LETTERS[rest])
    return "".join(reversed(out))


class OutlinePlace(Protocol):
    """What numbering reads of a heading of the outline (`report.OutlineNode` is one)."""

    level: int
    numbered: bool
    children: Sequence[OutlinePlace]


@dataclass(frozen=True)
class NumberedNode:
    node: OutlinePlace
    label: str | None  # None for an unnumbered node
    depth: int  # 0 for a top-level node


def pattern_for(level: int, scheme: Sequence[str]) -> str:
    """The pattern of outline ``level`` (1-based); deeper levels than given reuse the last."""
    return scheme[min(max(level, 1), len(scheme)) - 1]


def _label(pattern: str, index: int, parent: str | None) -> str:
    """``parent`` is the label of the nearest numbered ancestor, None when there is none."""
    if pattern == "I.":
        return f"{roman(index)}."
    if pattern == "a)":
        return f"{letter(index)})"
    if pattern == "-":
        return "-"
    if pattern == "1.1." and parent and re.fullmatch(r"\d+(?:\.\d+)*\.", parent):
        return f"{parent}{index}."
    return f"{index}."


def number_outline(
    nodes: Sequence[OutlinePlace],
    scheme: Sequence[str] = DEFAULT_NUMBERING,
    _depth: int = 0,
    _parent: str | None = None,
) -> Iterator[NumberedNode]:
    """Walk the outline in reading order with each node's label from ``scheme``.

    Unnumbered nodes get no label and do not advance the count of their siblings.
    """
    counters: dict[int, int] = {}
    for node in nodes:
        label = None
        child_parent = _parent
        if node.numbered:
            counters[node.level] = counters.get(node.level, 0) + 1
            label = _label(pattern_for(node.level, scheme), counters[node.level], _parent)
            child_parent = label
        yield NumberedNode(node, label, _depth)
        yield from number_outline(node.children, scheme, _depth + 1, child_parent)


BULLETS = ("-", "+")
"""Unordered list levels 0 and 1; deeper levels reuse the last."""


def following_marker(marker: str) -> str:
    """The ordered-list marker after ``marker`` in the same style: "1." -> "2.", "b)" -> "c)"."""
    body, delimiter = marker[:-1], marker[-1:]
    if body.isdigit():
        return f"{int(body) + 1}{delimiter}"
    if body in VIETNAMESE_LETTERS:
        return f"{letter(VIETNAMESE_LETTERS.index(body) + 2)}{delimiter}"
    return marker


class ListPrefixes:
    """The printed prefix of each list item of a section, in reading order; the DOCX and the
    HTML both print it. An author's marker is printed as written; an ordered item stored
    without one (before markers were recorded) is lettered "a)", "b)" by position, restarting
    after anything that is not a list item (``reset``)."""

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}

    def reset(self) -> None:
        self._counts.clear()

    def prefix(self, item: ListItem) -> str:
        level = max(item.level, 0)
        for deeper in [k for k in self._counts if k > level]:
            del self._counts[deeper]
        if item.ordered and not item.marker:
            self._counts[level] = self._counts.get(level, 0) + 1
            return f"{letter(self._counts[level])})"
        self._counts.pop(level, None)
        return item.marker or BULLETS[min(level, len(BULLETS) - 1)]
