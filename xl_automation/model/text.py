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
