"""Typing rows into an existing ledger the way a clerk would (demo, tests): after the last filled row."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import openpyxl

from xl_automation.model.labels import LEDGER_SHEET, TICK
from xl_automation.rules.normalize import header_key
from xl_automation.model.schema import COLUMNS, header_lookup
from xl_automation.xlsx.xlsx_safe import DATETIME_FORMAT, cell_value, stored_text


def fill_ledger(path: Path, rows: Iterable[dict[str, Any]], header_row: int = 3) -> int:
    """Append rows keyed by schema key below the existing ones; returns the first row written."""
    wb = openpyxl.load_workbook(path, keep_vba=Path(path).suffix.lower() == ".xlsm")
    ws = wb[LEDGER_SHEET]
    lookup = header_lookup()
    columns = {}
    for cell in ws[header_row]:
        key = lookup.get(header_key(cell.value)) if cell.value else None
        if key:
            columns.setdefault(key, cell.column)
    input_cols = [columns[c.key] for c in COLUMNS if c.key in columns and not c.program_written]
    last = header_row
    for r in range(ws.max_row, header_row, -1):
        if any(ws.cell(r, c).value not in (None, "") for c in input_cols):
            last = r
            break
    first = last + 1
    for r, values in enumerate(rows, start=first):
        for key, col in columns.items():
            value = cell_value(values.get(key))
            if value is None or value == "" or value is False:
                continue
            cell = ws.cell(r, col)
            if value is True:
                cell.value = TICK
            elif hasattr(value, "hour"):
                cell.value = value
                cell.number_format = DATETIME_FORMAT
            else:
                cell.value = stored_text(value) if isinstance(value, str) else value
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"   # text, never a formula
    tmp = Path(str(path) + ".part")
    wb.save(tmp)
    tmp.replace(path)
    return first
