"""A values-only ledger workbook: the submission copy, and filled ledgers for demo and benchmark.

The header, formats and info sheet go through XlsxWriter; the data rows through the XML spool
(xlsx_spool.py), which writes a 20,000-row ledger in a fraction of a second instead of seven.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from xl_automation.model.labels import INFO_SHEET, LEDGER_SHEET, LEDGER_TITLE, TICK
from xl_automation.model.schema import COLUMNS
from xl_automation.rules.normalize import DateOnly
from xl_automation.xlsx.xlsx_safe import DATE_FORMAT, DATETIME_FORMAT, FONT, cell_value, new_workbook, write_text
from xl_automation.xlsx.xlsx_spool import SpoolSheet, splice

HEADER_ROW = 3  # 1-based, as in the template


def write_values_ledger(path: Path, rows: Iterable[dict[str, Any]], info: dict[str, str], *,
                        program_values: dict[int, tuple] | None = None, title: str = LEDGER_TITLE,
                        constant_memory: bool = True) -> int:
    """Rows keyed by schema key, written under the standard header; returns the number of rows."""
    wb, ws, when, day = start_ledger(path, info, title=title, constant_memory=constant_memory)
    spool = SpoolSheet(ws, HEADER_ROW)
    try:
        n = _write_rows(spool, rows, program_values or {}, when, day)
        finish_ledger(wb, info)
        splice(path, [spool])
    finally:
        if not spool.file.closed:   # a failure before the splice: leave no temporary file behind
            spool.file.close()
            spool.path.unlink(missing_ok=True)
    return n


def start_ledger(path: Path, info: dict[str, str], *, title: str = LEDGER_TITLE, constant_memory: bool = True):
    """The workbook with the ledger sheet's title, header and frozen panes; (workbook, sheet, the
    datetime format, the date format)."""
    wb = new_workbook(path, constant_memory=constant_memory)
    bold = wb.add_format({"bold": True, "font_name": FONT, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    when = wb.add_format({"num_format": DATETIME_FORMAT, "font_name": FONT})
    day = wb.add_format({"num_format": DATE_FORMAT, "font_name": FONT})
    ws = wb.add_worksheet(LEDGER_SHEET)
    ws.write_string(0, 0, title, wb.add_format({"bold": True, "font_size": 14, "font_name": FONT}))
    ws.write_string(1, 0, "  ".join(f"{k}：{v}" for k, v in info.items() if v))
    for c, col in enumerate(COLUMNS):
        ws.write_string(HEADER_ROW - 1, c, col.header, bold)
        ws.set_column(c, c, col.width)
    ws.freeze_panes(HEADER_ROW, 0)
    return wb, ws, when, day


def finish_ledger(wb, info: dict[str, str]) -> None:
    """The info sheet, then the workbook closed."""
    info_ws = wb.add_worksheet(INFO_SHEET)
    for r, (k, v) in enumerate(info.items()):
        info_ws.write_string(r, 0, k)
        write_text(info_ws, r, 1, str(v or ""))         # 模板版本 is the ledger's own text
    info_ws.set_column(0, 1, 24)
    wb.close()


def _write_rows(spool: SpoolSheet, rows: Iterable[dict[str, Any]], program_values: dict[int, tuple],
                when, day) -> int:
    keys = [None if col.program_written else col.key for col in COLUMNS]
    program = [c for c, col in enumerate(COLUMNS) if col.program_written]
    n = 0
    for n, values in enumerate(rows, start=1):
        line = [_cell(values.get(key)) if key else None for key in keys]
        extra = program_values.get(n - 1, ())
        for c in program:   # aligned with the last len(extra) columns of the row
            i = c - (len(COLUMNS) - len(extra))
            if 0 <= i < len(extra):
                line[c] = _cell(extra[i])
        spool.write_row(HEADER_ROW - 1 + n, line, when, day)
    return n


def _cell(value: Any) -> Any:
    """A ledger value as write_row takes it: ticked as √, unticked and blank as None, a date without
    time as a date, a value that could not be read as cell_value gives it."""
    kind = type(value)
    if kind is str:
        return value or None
    if kind is datetime or kind is int or kind is float:
        return value
    if kind is bool:
        return TICK if value else None
    if value is None:
        return None
    if isinstance(value, DateOnly):       # a date without a time stays one: a date-only cell
        return value.value.date()
    value = cell_value(value)
    if value is None or value is False or value == "":
        return None
    if value is True:
        return TICK
    if isinstance(value, datetime):
        return datetime(*value.timetuple()[:6], value.microsecond)
    if isinstance(value, (int, float)):
        return float(value)
    return str(value)
