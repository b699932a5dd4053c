"""XlsxWriter workbooks that never turn untrusted text into formulas, links or numbers."""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter

from xl_automation.rules.normalize import DateOnly, Invalid

FONT = "等线"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
FIXED_CREATED = datetime(2026, 1, 1)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")
# the underscore that starts an escape-shaped run, its closing one left free to start the next ("_x005F_x0041_")
_ESCAPE_LIKE = re.compile(r"_(?=x[0-9a-fA-F]{4}_)")


def new_workbook(path: Path | str, *, constant_memory: bool = False, created: datetime | None = None):
    """A workbook whose write() keeps '=…', 'http…' and '0123' as the text they are."""
    wb = xlsxwriter.Workbook(str(path), {
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
        "constant_memory": constant_memory, "default_date_format": DATETIME_FORMAT,
        "remove_timezone": True})
    wb.formats[0].set_font_name(FONT)
    wb.set_properties({"created": created or FIXED_CREATED})
    return wb


def write_text(ws, row: int, col: int, value: str, fmt=None) -> None:
    """Untrusted text stays text: XlsxWriter copies a string shaped '<r>…</r>' into the XML raw,
    so such a string goes in as a rich string of the same characters."""
    if value.startswith("<r>") and value.endswith("</r>"):
        if fmt is None:
            ws.write_rich_string(row, col, value[:1], value[1:2], value[2:])
        else:
            ws.write_rich_string(row, col, fmt, value[:1], fmt, value[1:2], fmt, value[2:], fmt)
    else:
        ws.write_string(row, col, value, fmt)


def cell_value(value: Any) -> Any:
    """What a normalised ledger value becomes in a values-only copy."""
    if isinstance(value, DateOnly):
        return value.value
    if isinstance(value, Invalid):
        return "" if value.raw is None else str(value.raw)
    return value


def stored_text(value: str) -> str:
    """Text as a cell stores it, for writers that copy a string raw (openpyxl): a control character as
    _xHHHH_ (openpyxl refuses the character itself) and a literal "_x0041_" as _x005F_x0041_, so that
    Excel and calamine read back the very text (xlsx_spool escapes its XML the same way)."""
    if "_x" in value:
        value = _ESCAPE_LIKE.sub("_x005F_", value)
    return value if value.isprintable() else _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", value)
