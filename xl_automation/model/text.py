"""How text from a cell is compared: half-width, trimmed, inner spaces folded; a header's key.

In model because the schema's header lookup needs it; rules.normalize offers the same names."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

# what a character no output can carry (a control character in a .docx run or on the terminal) is shown as
REPLACEMENT = "\ufffd"
_FULLWIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20


def halfwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)


_ASCII_UPPER = {c: c - 32 for c in range(ord("a"), ord("z") + 1)}


def id_key(text: str) -> str:
    """A 受理编号 as requests are told apart: trimmed, its ASCII letters in upper case ('zls01-…' typed in one
    window and 'ZLS01-…' in another are one request). ASCII only, as SQLite's upper(), so that keys folded in
    the archive and here agree; the id is still shown as typed."""
    text = text.strip()
    return text.upper() if text.isascii() else text.translate(_ASCII_UPPER)


def clean_text(value: Any) -> str:
    """Text as the user meant it: half-width, trimmed, inner runs of spaces folded."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    text = halfwidth(str(value)).replace("\u00a0", " ").replace("\r", "")
    return re.sub(r"[ \t]+", " ", text).strip()


def header_key(text: Any) -> str:
    """Header text compared without spaces, line breaks, brackets' width or '*' required marks."""
    t = clean_text(text).replace("\n", "").replace(" ", "").replace("*", "")
    return t.replace("（", "(").replace("）", ")")
