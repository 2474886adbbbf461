"""Characters that XML 1.0 (and so a .docx) cannot hold."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Tab, newline and carriage return are allowed; other C0 controls, lone surrogates and the
# two non-characters U+FFFE/U+FFFF are not.
ILLEGAL_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class IllegalChar:
    char: str
    line: int
    column: int

    @property
    def codepoint(self) -> str:
        return f"U+{ord(self.char):04X}"


def find_illegal_char(text: str) -> IllegalChar | None:
    """The first XML-illegal character with its 1-based line and column, or None."""
    match = ILLEGAL_XML_CHARS.search(text)
    if match is None:
        return None
    start = match.start()
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return IllegalChar(match.group(), line, column)
