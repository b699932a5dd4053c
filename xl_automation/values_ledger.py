"""A values-only ledger workbook: the submission copy, and filled ledgers for demo and benchmark."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from .labels import INFO_SHEET, LEDGER_SHEET, LEDGER_TITLE, TICK
from .schema import COLUMNS
from .normalize import DateOnly
from .xlsx_safe import DATE_FORMAT, DATETIME_FORMAT, FONT, cell_value, new_workbook, write_text

HEADER_ROW = 3  # 1-based, as in the template


def write_values_ledger(path: Path, rows: Iterable[dict[str, Any]], info: dict[str, str], *,
                        program_values: dict[int, tuple] | None = None, title: str = LEDGER_TITLE,
                        constant_memory: bool = True) -> int:
    """Rows keyed by schema key, written under the standard header; returns the number of rows."""
    wb = new_workbook(path, constant_memory=constant_memory)
    bold = wb.add_format({"bold": True, "font_name": FONT, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    when = wb.add_format({"num_format": DATETIME_FORMAT, "font_name": FONT})
    day = wb.add_format({"num_format": DATE_FORMAT, "font_name": FONT})
    ws = wb.add_worksheet(LEDGER_SHEET)
    ws.write_string(0, 0, title, wb.add_format({"bold": True, "font_size": 14, "font_name": FONT}))
    meta = "  ".join(f"{k}：{v}" for k, v in info.items() if v)
    ws.write_string(1, 0, meta)
    for c, col in enumerate(COLUMNS):
        ws.write_string(HEADER_ROW - 1, c, col.header, bold)
        ws.set_column(c, c, col.width)
    program_values = program_values or {}
    n = 0
    for n, values in enumerate(rows, start=1):
        r = HEADER_ROW - 1 + n
        extra = program_values.get(n - 1, ())
        for c, col in enumerate(COLUMNS):
            if col.program_written:
                i = c - (len(COLUMNS) - len(extra))
                value = extra[i] if 0 <= i < len(extra) else None
            else:
                raw = values.get(col.key)
                if isinstance(raw, DateOnly):       # a date without a time stays one: a date-only cell
                    ws.write_datetime(r, c, raw.value, day)
                    continue
                value = cell_value(raw)
            if value is None or value == "" or value is False:
                continue
            if value is True:
                ws.write_string(r, c, TICK)
            elif hasattr(value, "hour"):
                ws.write_datetime(r, c, value, when)
            elif isinstance(value, (int, float)):
                ws.write_number(r, c, value)
            else:
                write_text(ws, r, c, str(value))
    ws.freeze_panes(HEADER_ROW, 0)
    info_ws = wb.add_worksheet(INFO_SHEET)
    for r, (k, v) in enumerate(info.items()):
        info_ws.write_string(r, 0, k)
        info_ws.write_string(r, 1, str(v or ""))
    info_ws.set_column(0, 1, 24)
    wb.close()
    return n
