"""The rows below a ledger's header as normalised values: each column converted once per distinct value,
rows with no input dropped, a midnight told from a date by its number format, hidden rows flagged.

Column by column, not cell by cell: the common cases run as C-level passes over a column (map, set,
compress) rather than a Python call per cell, and a month of a large city keeps one object per distinct
value in memory.
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta
from itertools import compress, repeat
from operator import attrgetter, is_, is_not, not_
from typing import Any, Callable, Iterable

from xl_automation.model.ledger import LedgerRow, RowValues, column_letter
from xl_automation.model.schema import BY_KEY, COLUMNS, INPUT_COLUMNS
from xl_automation.rules.normalize import clean_text, parse_datetime, parse_tick

__all__ = ["EMPTY", "TimeCells", "ledger_rows", "is_blank", "converter", "convert_column", "all_clean_strings",
           "text_value"]

EMPTY = {"text": "", "enum": "", "tick": False, "datetime": None, "number": None}
_INPUT_KEYS = tuple(c.key for c in INPUT_COLUMNS)
_ALL_KEYS = tuple(c.key for c in COLUMNS)
_WIDE = re.compile("[\uff01-\uff5e\u3000\u00a0]")    # characters clean_text makes half-width
# full-width forms and every whitespace but space and line feed (str.isspace's list)
_ODD_CHARS = re.compile("[\uff01-\uff5e\t\r\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a"
                        "\u2028\u2029\u202f\u205f\u3000]")

# of (1-based row, column letters) cells, those whose number format shows a time; None when unknown
TimeCells = Callable[[set[tuple[int, str]]], "set[tuple[int, str]] | None"]


def ledger_rows(grid: list[list[Any]], start: int, columns: dict[str, int], hidden: set[int], date1904: bool,
                time_cells: TimeCells | None) -> list[LedgerRow]:
    """LedgerRows for the grid's rows from index start on that hold any input; hidden ones flagged.

    columns: key -> 1-based column; hidden: 1-based hidden row numbers; time_cells: asks the file which
    cells show a time (None: decided by the column, as for a grid without number formats)."""
    body = grid[start:]
    if not body:
        return []
    width = max(map(len, body))
    if min(map(len, body)) != width:
        body = [line + [""] * (width - len(line)) for line in body]
    raw = list(zip(*body))
    converted, empty = _convert(raw, columns, date1904)
    _midnights(raw, converted, columns, start, time_cells)
    numbers: Iterable[int] = range(start + 1, start + 1 + len(body))
    values: Iterable[tuple] = zip(*converted)
    if empty is not None:
        keep = list(map(not_, empty))
        numbers, values = compress(numbers, keep), compress(values, keep)
    numbers = list(numbers)
    # map, not a loop: this runs once per row of every ledger of the month
    flags = map(hidden.__contains__, numbers) if hidden else repeat(False)
    return list(map(LedgerRow, numbers, map(RowValues, values), flags))


def _midnights(raw, converted: list, columns: dict[str, int], start: int, time_cells: TimeCells | None) -> None:
    """A date-time cell at exactly 00:00 is that midnight, not a date only (calamine returns a `date`
    for both): decided by the cell's number format, or for .xls by the column (its other cells hold
    times)."""
    dates: dict[tuple[int, str], tuple[list, int, date]] = {}
    for k, key in enumerate(_ALL_KEYS):
        if key in columns and BY_KEY[key].kind == "datetime":
            letter, values = column_letter(columns[key]), raw[columns[key] - 1]
            if date not in set(map(type, values)):
                continue        # the usual column: one C-level pass, no Python loop per cell
            for i, v in enumerate(values):
                if type(v) is date:
                    dates[(start + 1 + i, letter)] = (converted[k], i, v)
    if not dates:
        return
    timed = time_cells(set(dates)) if time_cells is not None else None
    if timed is None:
        with_times = {letter for (row, letter), (column, i, v) in dates.items()
                      if any(type(x) is datetime and x.time() != time() for x in column)}
        timed = {cell for cell in dates if cell[1] in with_times}
    for cell in timed:
        column, i, day = dates[cell]
        column[i] = datetime.combine(day, time())


def _convert(raw: list[tuple[Any, ...]], columns: dict[str, int], date1904: bool):
    """Normalised columns in schema order, and per-row flags saying whether every input cell of
    the row is blank (None when no row is)."""
    converted: list[Any] = []
    blank_flags: list[list[bool]] = []
    every_row_filled = False
    for key in _ALL_KEYS:
        kind = BY_KEY[key].kind
        if key not in columns:
            converted.append(repeat(EMPTY[kind]))
            continue
        values = raw[columns[key] - 1]
        column, maybe_blank = convert_column(values, kind, date1904)
        converted.append(column)
        if key in _INPUT_KEYS and not every_row_filled:
            blanks = {v for v in maybe_blank if is_blank(v)}
            if blanks:
                blank_flags.append(list(map(blanks.__contains__, values)))
            else:
                every_row_filled = True   # a column filled in every row: no row is empty
    if every_row_filled:
        return converted, None
    return converted, map(all, zip(*blank_flags)) if blank_flags else repeat(True)


def is_blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, str) and not value.strip())


def convert_column(values: tuple[Any, ...], kind: str, date1904: bool) -> tuple[Any, set]:
    """A column's normalised values, and a set holding every value of it that may be blank.

    Each distinct value is converted once, and the common cases run as C-level passes over the
    column (map, set, compress) rather than a Python call per cell.
    """
    if kind == "datetime":
        # nearly every value is a distinct datetime the reader keeps as it is: only the others (blanks,
        # text, dates, serials) and times with milliseconds are converted, through a table
        kinds = list(map(type, values))
        others = set(compress(values, map(is_not, kinds, repeat(datetime))))
        stamps = compress(values, map(is_, kinds, repeat(datetime)))
        convert = converter(kind, date1904)
        if not any(map(attrgetter("microsecond"), stamps)):
            table = {v: EMPTY[kind] if v == "" else convert(v) for v in others}
            return (list(map(table.get, values, values)) if table else values), others
        return [v if type(v) is datetime and not v.microsecond else convert(v) for v in values], others
    # one pass hashes each cell once and keeps one object per distinct value (names, enterprises and
    # choices repeat, and a month of a large city keeps a million rows in memory); what follows touches
    # only the distinct values, which are few and already in the processor's cache
    seen: dict[Any, Any] = {}
    column = list(map(seen.setdefault, values, values))
    if kind == "text" and all_clean_strings(seen):
        return column, seen.keys() & {""}
    convert = converter(kind, date1904)
    table = {v: EMPTY[kind] if v == "" else convert(v) for v in seen}
    if all(map(is_, table, table.values())):    # every value already normalised (choices from a list)
        return column, seen.keys()
    return list(map(table.__getitem__, column)), seen.keys()


def all_clean_strings(values: Iterable[Any]) -> bool:
    """True when every value is a str clean_text would leave as it is, checked in a few C-level
    scans over the joined column instead of once per cell (names, phones, ids are mostly unique)."""
    if set(map(type, values)) != {str}:
        return False
    joined = "\0".join(values)
    if _ODD_CHARS.search(joined) or joined[:1].isspace() or joined[-1:].isspace():
        return False
    # most of these columns hold no space or line break at all: one fast scan each spares five
    return not ((" " in joined or "\n" in joined)
                and ("  " in joined or "\0 " in joined or " \0" in joined or "\0\n" in joined or "\n\0" in joined))


def text_value(value: Any) -> str:
    if (type(value) is str and value == value.strip() and "  " not in value and "\t" not in value
            and "\r" not in value and (value.isascii() or not _WIDE.search(value))):
        return value   # already what clean_text would return: skip its work
    return clean_text(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        number = float(clean_text(value))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def converter(kind: str, date1904: bool) -> Callable[[Any], Any]:
    if kind == "tick":
        return parse_tick
    if kind == "number":
        return _number
    if kind == "datetime":
        def to_datetime(value: Any) -> Any:
            if type(value) is datetime:
                if value.microsecond:
                    # calamine keeps milliseconds; Excel shows 08:29:59.994 as 08:30:00
                    value = (value + timedelta(microseconds=500_000)).replace(microsecond=0)
                return value
            return parse_datetime(value, date1904)
        return to_datetime
    return text_value
