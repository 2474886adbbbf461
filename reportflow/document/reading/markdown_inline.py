"""Inline Markdown emphasis (``**bold**``, ``*italic*``, ``_italic_``) into runs.

Only emphasis is recognised; everything else, including template syntax such as
``{{ 7*7 }}``, is literal text. Delimiters follow CommonMark's flanking idea in a reduced
form: an opener is followed by a non-space, a closer preceded by one, and ``_`` or a single
``*`` does not open or close inside a word (so ``snake_case_name`` and ``7*7`` stay as typed).
"""

from __future__ import annotations

from dataclasses import dataclass

from reportflow.document.blocks import Run

_ESCAPABLE = set("\\`*_{}[]()#+-.!|~<>")


@dataclass
class _Delim:
    marker: str  # "*", "**", "_" or "__"
    can_open: bool
    can_close: bool
    matched: bool = False
    opens: bool = False


def _delim_flags(run: str, prev: str, nxt: str) -> tuple[bool, bool]:
    left_flanking = bool(nxt) and not nxt.isspace()
    right_flanking = bool(prev) and not prev.isspace()
    if run[0] == "_" or len(run) == 1:
        # Single "*" and any "_" never work inside a word, so "7*7" or "a_b_c" stay literal.
        return (
            left_flanking and not (prev and prev.isalnum()),
            right_flanking and not (nxt and nxt.isalnum()),
        )
    return left_flanking, right_flanking


def _tokenize(text: str) -> list[str | _Delim]:
    tokens: list[str | _Delim] = []
    buffer: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in _ESCAPABLE:
            buffer.append(text[i + 1])
            i += 2
            continue
        if ch not in "*_":
            buffer.append(ch)
            i += 1
            continue
        j = i
        while j < n and text[j] == ch:
            j += 1
        count = j - i
        prev = text[i - 1] if i > 0 else ""
        nxt = text[j] if j < n else ""
        can_open, can_close = _delim_flags(text[i:j], prev, nxt)
        if count > 3 or not (can_open or can_close):
            buffer.append(text[i:j])
            i = j
            continue
        if buffer:
            tokens.append("".join(buffer))
            buffer = []
        if count == 3:
            # "***x***": bold outside, italic inside, so a closer closes the italic first.
            parts = [ch, ch * 2] if can_close and not can_open else [ch * 2, ch]
        else:
            parts = [ch * count]
        tokens.extend(_Delim(part, can_open, can_close) for part in parts)
        i = j
    if buffer:
        tokens.append("".join(buffer))
    return tokens


def _pair(tokens: list[str | _Delim]) -> None:
    """Matches each closer with the nearest open opener of its marker; openers in between
    stay unmatched. Each marker's openers are indexed, so this is linear: a scan of the
    whole stack per closer took minutes on a paragraph of many unmatched markers."""
    stack: list[_Delim] = []
    open_at: dict[str, list[int]] = {}  # marker -> its openers' positions in stack
    for token in tokens:
        if isinstance(token, str):
            continue
        positions = open_at.get(token.marker)
        if token.can_close and positions:
            depth = positions[-1]
            opener = stack[depth]
            opener.matched = token.matched = True
            opener.opens = True
            del stack[depth:]
            for kept in open_at.values():
                while kept and kept[-1] >= depth:
                    kept.pop()
            continue
        if token.can_open:
            open_at.setdefault(token.marker, []).append(len(stack))
            stack.append(token)


def parse_inline(text: str) -> list[Run]:
    """Runs of ``text`` with bold/italic from its emphasis markers, adjacent runs merged."""
    tokens = _tokenize(text)
    _pair(tokens)
    pieces: list[tuple[list[str], bool, bool]] = []  # joined once at the end: linear time
    bold = italic = 0
    for token in tokens:
        if isinstance(token, str):
            piece, is_bold, is_italic = token, bold > 0, italic > 0
        elif not token.matched:
            piece, is_bold, is_italic = token.marker, bold > 0, italic > 0
        else:
            step = 1 if token.opens else -1
            if len(token.marker) == 2:
                bold += step
            else:
                italic += step
            continue
        if not piece:
            continue
        if pieces and pieces[-1][1:] == (is_bold, is_italic):
            pieces[-1][0].append(piece)
        else:
            pieces.append(([piece], is_bold, is_italic))
    return [Run("".join(texts), is_bold, is_italic) for texts, is_bold, is_italic in pieces]


def strip_inline(text: str) -> str:
    """The text of ``text`` without its emphasis markers."""
    return "".join(run.text for run in parse_inline(text))
