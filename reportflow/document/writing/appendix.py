"""How an appendix is named (Decree 30/2020, Phụ lục I, part III.1), for the document and for
every page that lists a report's parts."""

from __future__ import annotations

from reportflow.document.writing.numbering import roman

APPENDIX_WORD = "Phụ lục"


def appendix_label(position: int, count: int) -> str:
    """The label over an appendix's title: "Phụ lục" alone, or numbered in Roman numerals when the document has several:
    "Phụ lục I", "Phụ lục II"."""
    return f"{APPENDIX_WORD} {roman(position)}" if count > 1 else APPENDIX_WORD
