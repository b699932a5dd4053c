"""The rows below a ledger's header as normalised values: each column converted once per distinct value,
rows with no input dropped, a midnight told from a date by its number format, hidden rows flagged.

Column by column, not cell by cell: the common cases run as C-level passes over a column (map, set,
compress) rather than a Python call per cell, and a month of a large city keeps one object per distinct
value in memory (of the columns whose values repeat: ids, phones and addresses are only checked). The
rows come BLOCK at a time, so that a block's cells are converted while still in the processor's cache;
each column keeps what it has seen from block to block.
"""
from __future__ import annotations

import gc
import math
import re
from bisect import bisect_left
from datetime import date, datetime, time, timedelta
from itertools import compress, islice, repeat
from operator import attrgetter, is_, is_not, not_
from typing import Any, Callable, Iterable

from xl_automation.model.ledger import LedgerRow, RowValues, column_letter
from xl_automation.model.schema import BY_KEY, COLUMNS, INPUT_COLUMNS
from xl_automation.rules.normalize import clean_text, parse_datetime, parse_tick

__all__ = ["EMPTY", "TimeCells", "ledger_rows", "is_blank", "converter", "all_clean_strings",
           "text_value"]

EMPTY = {"text": "", "enum": "", "tick": False, "datetime": None, "number": None}
_INPUT_KEYS = tuple(c.key for c in INPUT_COLUMNS)
_ALL_KEYS = tuple(c.key for c in COLUMNS)
_WIDE = re.compile("[\uff01-\uff5e\u3000\u00a0]")    # characters clean_text makes half-width
# full-width forms and every whitespace but space and line feed (str.isspace's list)
_ODD_CHARS = re.compile("[\uff01-\uff5e\t\r\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a"
                        "\u2028\u2029\u202f\u205f\u3000]")

# every byte but those that begin an _ODD_CHARS character in UTF-8: ASCII controls, C2 (U+0085, U+00A0),
# E1 (U+1680), E2 (U+2000-U+205F), E3 (U+3000), EF (full-width forms)
_NOT_ODD_LEADS = bytes(sorted(set(range(256)) - {0x09, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F,
                                                 0xC2, 0xE1, 0xE2, 0xE3, 0xEF}))

# of (1-based row, column letters) cells, those whose number format shows a time; None when unknown
TimeCells = Callable[[set[tuple[int, str]]], "set[tuple[int, str]] | None"]


def ledger_rows(lines: Iterable[list[Any]], start: int, columns: dict[str, int], hidden: set[int], date1904: bool,
                time_cells: TimeCells | None, collect: bool = False, integers: bool = False) -> list[LedgerRow]:
    """LedgerRows for the lines (the grid's rows from index start on) that hold any input; hidden ones flagged.

    columns: key -> 1-based column; hidden: 1-based hidden row numbers; time_cells: asks the file which
    cells show a time (None: decided by the column, as for a grid without number formats). lines may be
    an iterator: it is read BLOCK rows at a time. collect: with the cyclic GC paused by the caller, look
    at each block's new objects while they are in the processor's cache (a young-generation pass; the
    rows hold no cycles) instead of at all of them, cold, in one pass when the caller resumes it.
    integers: the cells may hold integers beside floats (a .xls: see _equal_across_types)."""
    table = [_Column(BY_KEY[key].kind, columns[key] - 1, key in _INPUT_KEYS, date1904, integers) if key in columns
             else None for key in _ALL_KEYS]
    need = max(columns.values(), default=0)
    # a ledger in the template's layout: its rows already hold the values in schema order
    in_order = all(c is not None and c.index == k for k, c in enumerate(table))
    rows: list[LedgerRow] = []
    dates: list[tuple[int, int, date]] = []       # (Excel row, key index, day) of each date-time cell holding a date
    lines = iter(lines)
    first = start + 1
    while True:
        block = list(islice(lines, BLOCK))
        if not block:
            break
        _block_rows(block, first, table, need, in_order, hidden, rows, dates)
        first += len(block)
        if collect:
            del block
            gc.collect(0)
    if dates:
        _midnights(rows, dates, columns, time_cells)
    return rows


def _block_rows(block: list[list[Any]], first: int, table: list["_Column | None"], need: int, in_order: bool,
                hidden: set[int], rows: list[LedgerRow], dates: list[tuple[int, int, date]]) -> None:
    """Append the block's rows that hold any input (block: grid rows, the first being Excel row `first`)."""
    n = len(block)
    width = max(map(len, block))
    if width < need or min(map(len, block)) != width:
        width = max(width, need)
        block = [line + [""] * (width - len(line)) for line in block]
    flat: list[Any] = []
    extend = flat.extend
    for line in block:
        extend(line)
    del block
    k_all = len(table)
    out = flat if in_order and width == k_all else [None] * (n * k_all)
    blank_flags: list[list[bool]] = []
    every_row_filled = False
    for k, column in enumerate(table):
        if column is None:
            out[k::k_all] = [EMPTY[BY_KEY[_ALL_KEYS[k]].kind]] * n
            continue
        values = flat[column.index::width]
        converted = column(values)
        if converted is not values or out is not flat:
            out[k::k_all] = converted
        if column.kind == "datetime" and column.days:
            dates += [(first + i, k, v) for i, v in enumerate(values) if type(v) is date]
        if column.is_input and not every_row_filled:
            blanks = column.blanks
            flags = list(map(blanks.__contains__, values)) if blanks else None
            if flags is None or not any(flags):
                every_row_filled = True   # a column filled in every row: no row is empty
            else:
                blank_flags.append(flags)
    numbers: Iterable[int] = range(first, first + n)
    values_rows: Iterable[tuple] = zip(*[iter(out)] * k_all)
    if not every_row_filled:
        keep = list(map(not_, map(all, zip(*blank_flags)))) if blank_flags else [False] * n
        numbers, values_rows = compress(numbers, keep), compress(values_rows, keep)
    numbers = list(numbers)
    # map, not a loop: this runs once per row of every ledger of the month
    flags_hidden = map(hidden.__contains__, numbers) if hidden else repeat(False)
    rows += map(LedgerRow, numbers, map(RowValues, values_rows), flags_hidden)


def _midnights(rows: list[LedgerRow], dates: list[tuple[int, int, date]], columns: dict[str, int],
               time_cells: TimeCells | None) -> None:
    """A date-time cell at exactly 00:00 is that midnight, not a date only (calamine returns a `date`
    for both): decided by the cell's number format, or for .xls by the column (its other cells hold
    times)."""
    cells = {(row, column_letter(columns[_ALL_KEYS[k]])): (row, k, day) for row, k, day in dates}
    timed = time_cells(set(cells)) if time_cells is not None else None
    if timed is None:
        keys = {k for _, k, _ in dates}
        with_times = {column_letter(columns[_ALL_KEYS[k]]) for k in keys
                      if any(type(x) is datetime and x.time() != time()
                             for x in map(tuple.__getitem__, map(attrgetter("values"), rows), repeat(k)))}
        timed = {cell for cell in cells if cell[1] in with_times}
    for cell in timed:
        row, k, day = cells[cell]
        at = bisect_left(rows, row, key=_EXCEL_ROW)
        if at < len(rows) and rows[at].excel_row == row:
            line = rows[at]
            values = list(tuple.__getitem__(line.values, slice(None)))
            values[k] = datetime.combine(day, time())
            line.values = RowValues(values)


_EXCEL_ROW = attrgetter("excel_row")
BLOCK = 512     # rows converted together: their cells are still in the processor's cache


class _Column:
    """One schema column of the file, converted block by block: each distinct value converted once."""
    __slots__ = ("kind", "index", "is_input", "convert", "seen", "table", "same", "blanks", "shared", "mark",
                 "days", "by_cell", "integers")

    def __init__(self, kind: str, index: int, is_input: bool, date1904: bool, integers: bool = False):
        self.kind, self.index, self.is_input = kind, index, is_input
        self.convert = converter(kind, date1904)
        self.seen: dict[Any, Any] = {}     # each distinct value -> the one object kept for it
        self.table: dict[Any, Any] = {}    # distinct value -> normalised value (while `same`: only those that differ)
        self.same = True                   # every value so far is already normalised
        self.blanks: set[Any] = set()      # the distinct values that are blank
        self.shared = True                 # equal values share one object (off for a column of distinct values)
        self.mark: str | None = None       # a tick column's one mark when its values so far are it or blank
        self.days = False                  # the last block of a date-time column held a date
        self.by_cell = False               # a value equal across types seen (True == 1): no tables from now on
        self.integers = integers           # the cells may hold integers beside floats (a .xls)

    def __call__(self, values: list[Any]) -> list[Any]:
        """The block's values normalised (the same list when every value already is)."""
        if self.kind == "datetime":
            return self._datetimes(values)
        if self.by_cell:
            return self._each(values)
        if not self.shared:
            return self._distinct(values)
        mark = self.mark
        if mark is not None:
            blank = values.count("")
            if blank + values.count(mark) == len(values):
                if blank:
                    self.blanks.add("")
                return list(map(bool, values))      # the usual tick column: no table lookup per cell
        # one pass hashes each cell once and keeps one object per distinct value (names, enterprises and
        # choices repeat, and a month of a large city keeps a million rows in memory); what follows touches
        # only the new distinct values, which are few and already in the processor's cache
        seen = self.seen
        known = len(seen)
        column = list(map(seen.setdefault, values, values))
        if len(seen) > known:
            new = list(islice(seen, known, None))
            if _equal_across_types(new, self.integers):
                return self._each(values)
            self._learn(new)
            if not known and len(values) == BLOCK and len(seen) > BLOCK // 2:
                # ids, phones, addresses: sharing saves next to nothing, and the table of them would cost
                # more than the rest of the column's work
                self.shared = False
                if self.same:
                    self.table = dict(zip(seen, seen))
            elif self.kind == "tick" and not self.same:
                marks = [v for v in seen if v != ""]
                if len(marks) == 1 and type(marks[0]) is str and self.table[marks[0]] is True:
                    self.mark = marks[0]
        return column if self.same else list(map(self.table.__getitem__, column))

    def _distinct(self, values: list[Any]) -> list[Any]:
        """A block of a column whose values seldom repeat: kept as they are when already clean text."""
        if self.kind == "text" and all_clean_strings(values):
            if "" in values:
                self.blanks.add("")
            return values
        table = self.table
        new = set(values).difference(table)
        if new and _equal_across_types(new, self.integers):
            return self._each(values)
        if new:
            empty, convert = EMPTY[self.kind], self.convert
            table.update({v: empty if v == "" else convert(v) for v in new})
            self.blanks.update(v for v in new if is_blank(v))
        return list(map(table.__getitem__, values))

    def _learn(self, new: list[Any]) -> None:
        if self.kind == "text" and all_clean_strings(new):
            if "" in new:
                self.blanks.add("")
            if not self.same:
                self.table.update(zip(new, new))
            return
        empty, convert = EMPTY[self.kind], self.convert
        converted = [empty if v == "" else convert(v) for v in new]
        self.blanks.update(v for v in new if is_blank(v))
        if self.same and not all(map(is_, new, converted)):
            # from now on every value goes through the table: those seen before normalise to themselves
            self.same = False
            self.table = dict(zip(self.seen, self.seen))
        if not self.same:
            self.table.update(zip(new, converted))

    def _each(self, values: list[Any]) -> list[Any]:
        """Every cell converted on its own, for good: the column holds a value equal to one of another type
        (True == 1 == 1.0, False == 0 == 0.0), which a table keyed by value would convert as the other."""
        self.by_cell = True
        self.blanks.update(v for v in set(values) if is_blank(v))
        empty, convert = EMPTY[self.kind], self.convert
        return [empty if v == "" else convert(v) for v in values]

    def _datetimes(self, values: list[Any]) -> list[Any]:
        # nearly every value is a distinct datetime the reader keeps as it is: only the others (blanks,
        # text, dates, serials) and times with milliseconds are converted, through a table
        kinds = list(map(type, values))
        if kinds.count(datetime) == len(kinds):
            others: set[Any] = set()
            self.days = False
        else:
            others = set(compress(values, map(is_not, kinds, repeat(datetime))))
            self.days = date in kinds
        if self.by_cell:
            return self._each(values)
        if others:
            new = [v for v in others if v not in self.table]
            if _equal_across_types(new, self.integers):
                return self._each(values)
            self.table.update({v: EMPTY["datetime"] if v == "" else self.convert(v) for v in new})
            self.blanks.update(v for v in new if is_blank(v))
        if any(map(attrgetter("microsecond"), compress(values, map(is_, kinds, repeat(datetime))) if others
                   else values)):
            convert = self.convert
            return [v if type(v) is datetime and not v.microsecond else convert(v) for v in values]
        return list(map(self.table.get, values, values)) if others else values


_NUMBER_TYPES = (bool, int, float)


def _equal_across_types(keys: Iterable[Any], integers: bool = False) -> bool:
    """Some key a value of another type equals (a Boolean cell's True and a number 1): only 0 and 1 can be,
    unless the cells may hold integers (a .xls: an RK record gives 2, a formula's result 2.0): then any whole
    number. The key of the first of two equal cells would stand for both, and the two convert alike but for
    an invalid tick, whose finding quotes the cell as written ("2" or "2.0")."""
    if integers:
        return any(type(k) in _NUMBER_TYPES and (type(k) is not float or k.is_integer()) for k in keys)
    return any(type(k) in _NUMBER_TYPES and (k == 0 or k == 1) for k in keys)


def is_blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, str) and not value.strip())


def all_clean_strings(values: Iterable[Any]) -> bool:
    """True when every value is a str clean_text would leave as it is, checked in a few C-level
    scans over the joined column instead of once per cell (names, phones, ids are mostly unique)."""
    if set(map(type, values)) != {str}:
        return False
    joined = "\0".join(values)
    if _maybe_odd(joined) and _ODD_CHARS.search(joined) or joined[:1].isspace() or joined[-1:].isspace():
        return False
    # most of these columns hold no space or line break at all: one fast scan each spares five
    return not ((" " in joined or "\n" in joined)
                and ("  " in joined or "\0 " in joined or " \0" in joined or "\0\n" in joined or "\n\0" in joined))


def _maybe_odd(text: str) -> bool:
    """False when text surely holds none of _ODD_CHARS: its UTF-8 form holds none of their first bytes (one
    C-level pass, several times faster than the regular expression, which then decides the rest)."""
    return bool(text.encode("utf-8", "surrogatepass").translate(None, _NOT_ODD_LEADS))


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
