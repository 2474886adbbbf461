"""Outline and list labels, generated from position so that nobody types a number by hand.

Level 1 "I.", level 2 "1." (restarting under each level-1 heading), level 3 "2.1." (the
number of its level-2 parent, then its own), level 4 and below "a)". Letters follow the
Vietnamese alphabet as in legal texts: a, b, c, d, đ, e, g, h, i, k, ...
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from reportflow.document.report import OutlineNode

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


@dataclass(frozen=True)
class NumberedNode:
    node: OutlineNode
    label: str | None  # None for an unnumbered node
    depth: int  # 0 for a top-level node


def _label(level: int, index: int, parent_numbers: dict[int, int]) -> str:
    if level <= 1:
        return f"{roman(index)}."
    if level == 2:
        return f"{index}."
    if level == 3:
        parent = parent_numbers.get(2)
        return f"{parent}.{index}." if parent is not None else f"{index}."
    return f"{letter(index)})"


def number_outline(
    nodes: Sequence[OutlineNode], _depth: int = 0, _parents: dict[int, int] | None = None
) -> Iterator[NumberedNode]:
    """Walk the outline in reading order with each node's label.

    Unnumbered nodes get no label and do not advance the count of their siblings.
    """
    parents = _parents or {}
    counters: dict[int, int] = {}
    for node in nodes:
        label = None
        child_parents = parents
        if node.numbered:
            counters[node.level] = counters.get(node.level, 0) + 1
            index = counters[node.level]
            label = _label(node.level, index, parents)
            child_parents = {**parents, node.level: index}
        yield NumberedNode(node, label, _depth)
        yield from number_outline(node.children, _depth + 1, child_parents)
