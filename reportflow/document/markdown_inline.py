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
    stack: list[_Delim] = []
    for token in tokens:
        if isinstance(token, str):
            continue
        if token.can_close:
            for depth in range(len(stack) - 1, -1, -1):
                if stack[depth].marker == token.marker:
                    opener = stack[depth]
                    opener.matched = token.matched = True
                    opener.opens = True
                    del stack[depth:]  # openers in between stay unmatched
                    break
            if token.matched:
                continue
        if token.can_open:
            stack.append(token)


def parse_inline(text: str) -> list[Run]:
    """Runs of ``text`` with bold/italic from its emphasis markers, adjacent runs merged."""
    tokens = _tokenize(text)
    _pair(tokens)
    runs: list[Run] = []
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
        if runs and runs[-1].bold == is_bold and runs[-1].italic == is_italic:
            runs[-1] = Run(runs[-1].text + piece, is_bold, is_italic)
        else:
            runs.append(Run(piece, is_bold, is_italic))
    return runs


def strip_inline(text: str) -> str:
    """The text of ``text`` without its emphasis markers."""
    return "".join(run.text for run in parse_inline(text))
