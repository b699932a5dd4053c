"""The 明细 sheet: every consolidated request, one row each, in the column order the 汇总 formulas use."""
from __future__ import annotations

from datetime import datetime

from xl_automation.model.config import Config, Window
from xl_automation.rules.consolidate import Detail
from xl_automation.model.labels import TICK, INFO_COMPANY, INFO_WINDOW_CODE, INFO_WINDOW_NAME
from xl_automation.model.ledger import SCHEMA_POSITION, RowValues, column_letter
from xl_automation.report.report_book import PERSONAL, Book
from xl_automation.model.schema import BY_KEY, COLUMNS, INPUT_COLUMNS


DETAIL_SHEET = "明细"
CARRIED, HANDLED_BY, MERGED_ROWS, DUPLICATES = "结转", "办理窗口", "合并行", "疑似重复"
SOURCE_FILE, SOURCE_SHA256, SOURCE_ROW = "来源文件", "来源sha256", "来源行"
LATE_REPORTED = "补报"
YES = "是"

# (key, header, width); input keys are schema keys, the rest are the report's own columns
DETAIL_COLUMNS: tuple[tuple[str, str, float], ...] = (
    ("window", INFO_WINDOW_CODE, 9), ("window_name", INFO_WINDOW_NAME, 14), ("company", INFO_COMPANY, 18),
    *((c.key, c.header, c.width) for c in INPUT_COLUMNS),
    ("response_minutes", BY_KEY["response_minutes"].header, 10), ("sla_status", BY_KEY["sla_status"].header, 10),
    ("carried", CARRIED, 6), ("handled_by", HANDLED_BY, 12), ("merged_rows", MERGED_ROWS, 30),
    ("duplicates", DUPLICATES, 24), ("file", SOURCE_FILE, 28), ("sha256", SOURCE_SHA256, 18),
    ("source_row", SOURCE_ROW, 7),
    ("late_reported", LATE_REPORTED, 6),      # issue 9: an earlier period's request first reported now
)
DETAIL_INDEX = {key: i for i, (key, _, _) in enumerate(DETAIL_COLUMNS)}


def detail_letter(key: str) -> str:
    return column_letter(DETAIL_INDEX[key] + 1)


def write_detail(book: Book, details: list[Detail], config: Config) -> None:
    """Header on row 1, a request per row from row 2; raw ledger text is written as text, never parsed."""
    # printed at 60 %, several pages across in reading order, with the window and 受理编号 on every page
    ws = book.sheet(DETAIL_SHEET, [w for _, _, w in DETAIL_COLUMNS], header_row=0, fit_width=False, scale=60,
                    repeat_columns=DETAIL_INDEX["request_id"] + 1)
    book.headers(ws, 0, [h for _, h, _ in DETAIL_COLUMNS])
    last_col = len(DETAIL_COLUMNS) - 1
    ws.freeze_panes(1, 3)
    ws.autofilter(0, 0, max(1, len(details)), last_col)
    windows: dict[str, Window] = {w.code: w for w in config.windows}
    inputs = [(DETAIL_INDEX[c.key], c.key, c.key in PERSONAL) for c in INPUT_COLUMNS]
    positions = [SCHEMA_POSITION[c.key] for c in INPUT_COLUMNS]
    ws = book.spool(ws, 1)
    # the usual row goes to the spool whole (one call, not ~20); a row holding anything else (a date
    # without time, an unreadable cell, text shaped '<r>…') takes the cell-by-cell path that knows it
    number_fmts = {DETAIL_INDEX["response_minutes"]: book.dec1}
    heads = {code: [code, w.name, w.company_name] for code, w in windows.items()}
    for r, d in enumerate(details, start=1):
        w = windows.get(d.window)
        values = d.values
        # a reader row is a tuple in schema order: its input columns are one slice (a million rows × 24 columns)
        row_values = values if type(values) is RowValues else [values.get(c.key) for c in COLUMNS]
        line = _plain_line(d, heads.get(d.window) if w is not None else [d.window, None, None], row_values, book)
        if line is None:
            _write_cells(book, ws, r, d, w, row_values, inputs, positions)
        else:
            ws.write_row(r, line, book.datetime, None, number_fmts)


_TAIL = DETAIL_INDEX["response_minutes"]
_PLAIN = (str, datetime, int, float)
_PLAIN_TYPES = frozenset({str, datetime, int, float, type(None)})
_INPUTS = len(INPUT_COLUMNS)
# the input columns come first in a reader row, in the 明细's order from its fourth column on
assert [SCHEMA_POSITION[c.key] for c in INPUT_COLUMNS] == list(range(_INPUTS))
assert [DETAIL_INDEX[c.key] for c in INPUT_COLUMNS] == list(range(3, 3 + _INPUTS))
_TICKS = tuple(3 + SCHEMA_POSITION[c.key] for c in INPUT_COLUMNS if c.kind == "tick")
_PERSONAL_AT = tuple((3 + SCHEMA_POSITION[c.key], c.key) for c in INPUT_COLUMNS if c.key in PERSONAL)


def _plain_line(d: Detail, head: list, row_values, book: Book) -> list | None:
    """The row's cells as write_row takes them, or None when one needs the cell-by-cell path."""
    line = head + list(row_values[:_INPUTS] if type(row_values) is list else tuple.__getitem__(row_values, _SLICE))
    for col in _TICKS:
        v = line[col]
        if v is True:
            line[col] = TICK
        elif v is False:
            line[col] = None
    masked = book.masked
    for col, key in _PERSONAL_AT:
        v = line[col]
        if v is not None and v != "" and v is not False:
            v = line[col] = masked(key, v)
            if v == "":
                return None         # the cell path writes an empty text cell here
    if _PLAIN_TYPES.issuperset(map(type, line)) is False:
        if bool in set(map(type, line)):     # a tick outside the tick columns: as the cell path writes it
            line = [TICK if v is True else None if v is False else v for v in line]
        if not _PLAIN_TYPES.issuperset(map(type, line)):
            return None
    clock = d.clock
    minutes = clock.minutes
    if minutes is not None and type(minutes) not in _PLAIN[2:]:
        return None
    tail = [minutes, clock.status or None, YES if d.carried else None,
            "、".join(d.handled_by) if d.handled_by else None, "；".join(d.merged_rows) if d.merged_rows else None,
            "；".join(d.duplicates) if d.duplicates else None, d.file, d.sha256, d.source_row,
            YES if d.late_reported else None]
    # text the cell path writes differently: an empty string it would write, text shaped '<r>…'
    if "" in tail or "" in head:
        return None
    line += tail
    texts = "\0".join([v for v in line if type(v) is str])
    if "<r>" in texts and any(type(v) is str and v.startswith("<r>") for v in line):
        return None
    return line


_SLICE = slice(0, _INPUTS)


def _write_cells(book: Book, ws, r: int, d: Detail, w: Window | None, row_values, inputs, positions) -> None:
    value, text, masked = book.value, book.text, book.masked
    tail = _TAIL
    text(ws, r, 0, d.window)
    if w is not None:
        ws.write_string(r, 1, w.name)
        ws.write_string(r, 2, w.company_name)
    for (col, key, personal), pos in zip(inputs, positions):
        v = row_values[pos] if type(row_values) is list else tuple.__getitem__(row_values, pos)
        if v is None or v == "" or v is False:
            continue
        if personal:
            v = masked(key, v)
        if type(v) is str:
            ws.write_string(r, col, v)
        else:
            value(ws, r, col, v)
    clock = d.clock
    if clock.minutes is not None:
        ws.write_number(r, tail, clock.minutes, book.dec1)
    if clock.status:
        ws.write_string(r, tail + 1, clock.status)
    if d.carried:
        ws.write_string(r, tail + 2, YES)
    if d.handled_by:
        text(ws, r, tail + 3, "、".join(d.handled_by))
    if d.merged_rows:
        text(ws, r, tail + 4, "；".join(d.merged_rows))
    if d.duplicates:
        text(ws, r, tail + 5, "；".join(d.duplicates))
    text(ws, r, tail + 6, d.file)
    ws.write_string(r, tail + 7, d.sha256)
    ws.write_number(r, tail + 8, d.source_row)
    if d.late_reported:
        ws.write_string(r, tail + 9, YES)
