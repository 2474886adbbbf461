"""The name a submitted file is kept and shown under.

A name comes from the sender's machine (an upload's filename, a hidden form field, a path on
the command line), so it may carry anything: a path, a NUL or CR LF that would end up raw in a
page or a mail header, a right-to-left override that shows ``cod.exe`` as ``exe.doc``, or
thousands of characters. Every path that takes a name passes it through `clean_file_name`.
"""

from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath

MAX_FILE_NAME_CHARS = 120
"""Longer names are cut, keeping the extension; Windows itself stops at 255."""
MAX_SUFFIX_CHARS = 10

_DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
"""Control, format (bidi overrides and isolates, zero-width marks), surrogate, private-use and
unassigned characters, and line and paragraph separators: none belongs in a file name."""


def _kept(char: str) -> bool:
    return unicodedata.category(char) not in _DROPPED_CATEGORIES


def clean_file_name(name: str) -> str:
    """The last part of ``name``, NFC, without control or bidi characters, at most
    `MAX_FILE_NAME_CHARS` long with its extension kept; "" when nothing is left."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(c if _kept(c) else "" for c in unicodedata.normalize("NFC", base))
    text = " ".join(text.split()).rstrip(".")
    if len(text) <= MAX_FILE_NAME_CHARS:
        return text
    suffix = PurePosixPath(text).suffix
    if len(suffix) > MAX_SUFFIX_CHARS:
        suffix = ""
    stem = text[: len(text) - len(suffix)] if suffix else text
    return stem[: MAX_FILE_NAME_CHARS - len(suffix)].rstrip(" .") + suffix
