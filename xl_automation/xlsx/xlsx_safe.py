"""XlsxWriter workbooks that never turn untrusted text into formulas, links or numbers."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter

from xl_automation.rules.normalize import DateOnly, Invalid

FONT = "等线"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
FIXED_CREATED = datetime(2026, 1, 1)


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
