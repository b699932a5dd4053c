"""Read a ledger workbook into a Ledger: sheet and header found by content, values normalised."""
from __future__ import annotations

import math
import re
import threading
from datetime import date, datetime, time, timedelta
from itertools import compress, repeat
from operator import attrgetter, is_, is_not, not_
from pathlib import Path
from typing import Any, Callable, Iterable

import python_calamine as calamine

from xl_automation.model import labels
from xl_automation.model.findings import Finding, make
from xl_automation.model.ledger import Ledger, LedgerError, LedgerRow, column_letter, gc_paused, RowValues
from xl_automation.rules.normalize import clean_text, header_key, parse_datetime, parse_tick
from xl_automation.model.schema import BY_KEY, COLUMNS, INPUT_COLUMNS, header_lookup
from xl_automation.xlsx.xlsx_probe import Probe, detect_format, probe

__all__ = ["read_ledger", "ledger_from_grid", "info_from_lines", "detect_format", "HEADER_SCAN_ROWS",
           "MIN_HEADER_MATCHES"]

HEADER_SCAN_ROWS = 30
MIN_HEADER_MATCHES = 5
MAX_LISTED_RANGES = 8
# (sheet, {(row, column letters)}) -> the cells whose number format shows a time, or None when unknown
TimeCells = Callable[[str, set[tuple[int, str]]], "set[tuple[int, str]] | None"]
_AUX_SHEETS = frozenset({labels.INFO_SHEET, labels.LOOKUP_SHEET, labels.ANNOTATION_SHEET, labels.FORM_SHEET})
_LOOKUP = header_lookup()
_EMPTY = {"text": "", "enum": "", "tick": False, "datetime": None, "number": None}
_INPUT_KEYS = tuple(c.key for c in INPUT_COLUMNS)
_ALL_KEYS = tuple(c.key for c in COLUMNS)
_WIDE = re.compile("[\uff01-\uff5e\u3000\u00a0]")    # characters clean_text makes half-width
# full-width forms and every whitespace but space and line feed (str.isspace's list)
_ODD_CHARS = re.compile("[\uff01-\uff5e\t\r\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a"
                        "\u2028\u2029\u202f\u205f\u3000]")


def read_ledger(path: str | Path, *, config: Any = None) -> Ledger:
    """The ledger in a workbook; problems in it are findings, an unusable file is a LedgerError.

    config is accepted for symmetry with the other steps; reading needs nothing from it yet.
    """
    path = Path(path)
    facts = probe(path)
    try:
        with calamine.CalamineWorkbook.from_path(str(path)) as wb, gc_paused():
            return _Reader(path, facts, wb).read()
    except calamine.PasswordError:
        raise LedgerError("file-encrypted", path) from None
    except calamine.CalamineError as e:
        raise LedgerError("file-corrupt", path, detail=_detail(e)) from None
    except BaseException as e:
        # a Rust panic inside calamine on a damaged file; its class (pyo3) is not importable
        if type(e).__name__ != "PanicException":
            raise
        raise LedgerError("file-corrupt", path, detail=_detail(e)) from None


def ledger_from_grid(grid: list[list[Any]], *, sheet: str, path: str | Path, info: dict[str, str],
                     date1904: bool = False, hidden: Iterable[int] = (), merged: Iterable = (),
                     format: str = "xlsx", time_cells: TimeCells | None = None) -> Ledger:
    """The ledger in cell values already read (a live workbook's used range, from A1), as read_ledger makes it.

    grid: rows of values, None or "" for empty cells, a whole day as a `date` (as calamine gives it);
    hidden: 1-based hidden row numbers; merged: ((first row, first col), (last row, last col)) 0-based, as
    calamine gives them; time_cells: of (row, column letters) cells, those whose number format shows a time
    (what the file's styles tell read_ledger), or None when unknown.
    """
    grid = [["" if v is None else v for v in line] for line in grid]
    header = _find_header(grid)
    if header is None:
        raise LedgerError("header-missing", path, sheet=sheet, rows=HEADER_SCAN_ROWS, minimum=MIN_HEADER_MATCHES)
    reader = _Reader(Path(path), None, None, date1904=date1904, format=format, time_cells=time_cells)
    with gc_paused():
        return reader.build(sheet, grid, list(merged), header, set(hidden), info)


def info_from_lines(lines: Iterable[Iterable[Any]]) -> dict[str, str]:
    """The info sheet's column A label -> column B value, as text."""
    info: dict[str, str] = {}
    for line in lines:
        line = list(line)
        key = clean_text(line[0]).rstrip("：:") if line else ""
        if key:
            info.setdefault(key, clean_text(line[1]) if len(line) > 1 else "")
    return info


def _in_background(func: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    """Start func(*args) in a thread; the returned callable waits for its result or raises its error
    (a plain thread: concurrent.futures costs a button click 7 ms to import)."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append((True, func(*args)))
        except BaseException as e:  # handed to the caller, who decides
            outcome.append((False, e))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def result() -> Any:
        thread.join()
        ok, value = outcome[0]
        if not ok:
            raise value
        return value
    return result


def _detail(error: BaseException) -> str:
    """A short Chinese cause, with calamine's own words in brackets for whoever supports the user."""
    what = {calamine.ZipError: "压缩数据损坏", calamine.XmlError: "工作表内容损坏"}.get(type(error), "读取出错")
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"{what}（{text if len(text) <= 60 else text[:57] + '…'}）"


class _Reader:
    def __init__(self, path: Path, facts: Probe | None, wb: calamine.CalamineWorkbook | None, *,
                 date1904: bool = False, format: str = "xlsx", time_cells: TimeCells | None = None):
        self.path, self.facts, self.wb = path, facts, wb
        self.time_cells = time_cells if facts is None else facts.time_cells
        self.date1904 = facts.date1904 if facts is not None else date1904
        self.format = facts.format if facts is not None else format
        self.findings: list[Finding] = []

    def read(self) -> Ledger:
        names = self.wb.sheet_names
        if labels.LEDGER_SHEET in names:
            sheet = labels.LEDGER_SHEET
            # calamine parses without the GIL, so the <row hidden> scan costs no wall time
            hidden_rows = _in_background(self.facts.hidden_rows, sheet)
            grid, merged = self._load(sheet)
            hidden = hidden_rows()
            header = _find_header(grid)
            if header is None:
                raise LedgerError("header-missing", self.path, sheet=sheet, rows=HEADER_SCAN_ROWS,
                                  minimum=MIN_HEADER_MATCHES)
        else:
            sheet, grid, merged, header = self._fallback_sheet()
            hidden = self.facts.hidden_rows(sheet)
        return self.build(sheet, grid, merged, header, hidden, self._info(names))

    def build(self, sheet: str, grid, merged, header, hidden: set[int], info: dict[str, str]) -> Ledger:
        self.sheet = sheet
        columns, header_names, data_start = self._columns(grid, merged, header)
        rows = self._rows(grid, data_start, columns, hidden)
        return Ledger(path=self.path, sheet=sheet, header_row=header[0] + 1, columns=columns, rows=rows,
                      findings=self.findings, info=info, date1904=self.date1904,
                      header_names=header_names, format=self.format)

    def _load(self, name: str) -> tuple[list[list[Any]], list]:
        sheet = self.wb.get_sheet_by_name(name)
        return sheet.to_python(skip_empty_area=False), sheet.merged_cell_ranges or []

    def _fallback_sheet(self):
        """The first worksheet (visible ones first) with a header row in its top rows."""
        meta = [m for m in self.wb.sheets_metadata
                if m.typ == calamine.SheetTypeEnum.WorkSheet and m.name not in _AUX_SHEETS
                and m.visible != calamine.SheetVisibleEnum.VeryHidden]
        meta.sort(key=lambda m: m.visible != calamine.SheetVisibleEnum.Visible)
        for m in meta:
            grid, merged = self._load(m.name)
            header = _find_header(grid)
            if header is not None:
                self.findings.append(make("sheet-fallback", sheet=m.name, expected=labels.LEDGER_SHEET))
                return m.name, grid, merged, header
        raise LedgerError("sheet-missing", self.path, sheet=labels.LEDGER_SHEET)

    def _columns(self, grid, merged, header) -> tuple[dict[str, int], dict[str, str], int]:
        """Map keys to columns, reporting aliases, duplicates, missing columns and merged header cells."""
        head, cells = header
        last = head
        below = grid[head + 1] if head + 1 < len(grid) else []
        under = [(c, key, text) for c, key, text in _matches(below) if all(c != x for x, _, _ in cells)]
        if under and all(_is_blank(below[c]) for c, _, _ in cells):
            # two-level header: group titles such as 办事需求 above, 用水/用电/… in the row below
            last = head + 1
            cells = sorted([(c, k, t, head) for c, k, t in cells] + [(c, k, t, last) for c, k, t in under])
        else:
            cells = [(c, k, t, head) for c, k, t in cells]
        columns: dict[str, int] = {}
        names: dict[str, str] = {}
        seen: dict[str, list[str]] = {}
        for c, key, text, r in cells:
            ref = f"{column_letter(c + 1)}{r + 1}"
            seen.setdefault(key, []).append(ref)
            if key in columns:
                continue
            columns[key], names[key] = c + 1, text
            standard = BY_KEY[key].header
            if header_key(text) != header_key(standard):
                self._add("column-alias", row=r + 1, column=standard, cell=ref, value=text, alias=text)
        for key, refs in seen.items():
            if len(refs) > 1:
                self._add("column-duplicate", row=head + 1, column=BY_KEY[key].header, cell=refs[1],
                          cells="、".join(refs))
        required = [c.header for c in COLUMNS if c.column_required and c.key not in columns]
        optional = [c.header for c in INPUT_COLUMNS if not c.column_required and c.key not in columns]
        if required:
            self._add("column-missing", row=head + 1, columns="、".join(required))
        if optional:
            self._add("column-optional-missing", row=head + 1, columns="、".join(optional))
        # ranges spanning columns (办事需求 over the services) say most, so they are listed first
        touching = sorted((m for m in merged if m[0][0] <= last and m[1][0] >= head),
                          key=lambda m: (m[0][1] == m[1][1], m[0][0], m[0][1]))
        spans = [_range_ref(m) for m in touching]
        if spans:
            listed = "、".join(spans[:MAX_LISTED_RANGES])
            more = f" 等共 {len(spans)} 处" if len(spans) > MAX_LISTED_RANGES else ""
            self._add("header-merged", row=head + 1, cell=spans[0].split(":")[0], ranges=listed + more)
        return columns, names, last + 1

    def _rows(self, grid, start: int, columns: dict[str, int], hidden: set[int]) -> list[LedgerRow]:
        """LedgerRows for the rows below the header that hold any input; hidden ones are flagged."""
        body = grid[start:]
        if not body:
            return []
        width = max(map(len, body))
        if min(map(len, body)) != width:
            body = [line + [""] * (width - len(line)) for line in body]
        raw = list(zip(*body))
        converted, empty = self._convert(raw, columns)
        self._midnights(raw, converted, columns, start)
        numbers: Iterable[int] = range(start + 1, start + 1 + len(body))
        values: Iterable[tuple] = zip(*converted)
        if empty is not None:
            keep = list(map(not_, empty))
            numbers, values = compress(numbers, keep), compress(values, keep)
        numbers = list(numbers)
        # map, not a loop: this runs once per row of every ledger of the month
        flags = map(hidden.__contains__, numbers) if hidden else repeat(False)
        out = list(map(LedgerRow, numbers, map(RowValues, values), flags))
        if hidden:
            self._hidden_findings([r.excel_row for r in out if r.hidden])
        return out

    def _midnights(self, raw, converted: list, columns: dict[str, int], start: int) -> None:
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
        timed = self.time_cells(self.sheet, set(dates)) if self.time_cells is not None else None
        if timed is None:
            with_times = {letter for (row, letter), (column, i, v) in dates.items()
                          if any(type(x) is datetime and x.time() != time() for x in column)}
            timed = {cell for cell in dates if cell[1] in with_times}
        for cell in timed:
            column, i, day = dates[cell]
            column[i] = datetime.combine(day, time())

    def _hidden_findings(self, rows: list[int]) -> None:
        """One warning per run of consecutive hidden data rows: a filtered ledger hides thousands."""
        runs: list[list[int]] = []
        for r in rows:
            if runs and r == runs[-1][-1] + 1:
                runs[-1].append(r)
            else:
                runs.append([r])
        for run in runs:
            span = str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}（共 {len(run)} 行）"
            self._add("row-hidden", row=run[0], rows=span)

    def _convert(self, raw: list[tuple[Any, ...]], columns: dict[str, int]):
        """Normalised columns in schema order, and per-row flags saying whether every input cell of
        the row is blank (None when no row is)."""
        converted: list[Any] = []
        blank_flags: list[list[bool]] = []
        every_row_filled = False
        for key in _ALL_KEYS:
            kind = BY_KEY[key].kind
            if key not in columns:
                converted.append(repeat(_EMPTY[kind]))
                continue
            values = raw[columns[key] - 1]
            column, maybe_blank = _convert_column(values, kind, self.date1904)
            converted.append(column)
            if key in _INPUT_KEYS and not every_row_filled:
                blanks = {v for v in maybe_blank if _is_blank(v)}
                if blanks:
                    blank_flags.append(list(map(blanks.__contains__, values)))
                else:
                    every_row_filled = True   # a column filled in every row: no row is empty
        if every_row_filled:
            return converted, None
        return converted, map(all, zip(*blank_flags)) if blank_flags else repeat(True)

    def _info(self, names: list[str]) -> dict[str, str]:
        """The info sheet's column A label -> column B value, as text."""
        if labels.INFO_SHEET not in names:
            return {}
        return info_from_lines(self.wb.get_sheet_by_name(labels.INFO_SHEET).to_python(skip_empty_area=False))

    def _add(self, code: str, **fields: Any) -> None:
        self.findings.append(make(code, sheet=self.sheet, **fields))


def _matches(line: list[Any]) -> list[tuple[int, str, str]]:
    """(column index, key, header text as written) for every cell that names a schema column."""
    out = []
    for c, v in enumerate(line):
        if isinstance(v, str) and v:
            key = _LOOKUP.get(header_key(v))
            if key:
                out.append((c, key, clean_text(v).replace("\n", "")))
    return out


def _find_header(grid: list[list[Any]]) -> tuple[int, list[tuple[int, str, str]]] | None:
    """(0-based row, matches) of the top row naming the most distinct columns, if it names enough."""
    best = None
    for r, line in enumerate(grid[:HEADER_SCAN_ROWS]):
        found = _matches(line)
        distinct = len({key for _, key, _ in found})
        if distinct >= MIN_HEADER_MATCHES and (best is None or distinct > best[0]):
            best = (distinct, r, found)
    return None if best is None else (best[1], best[2])


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, str) and not value.strip())


def _convert_column(values: tuple[Any, ...], kind: str, date1904: bool) -> tuple[Any, set]:
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
        convert = _converter(kind, date1904)
        if not any(map(attrgetter("microsecond"), stamps)):
            table = {v: _EMPTY[kind] if v == "" else convert(v) for v in others}
            return (list(map(table.get, values, values)) if table else values), others
        return [v if type(v) is datetime and not v.microsecond else convert(v) for v in values], others
    # one pass hashes each cell once and keeps one object per distinct value (names, enterprises and
    # choices repeat, and a month of a large city keeps a million rows in memory); what follows touches
    # only the distinct values, which are few and already in the processor's cache
    seen: dict[Any, Any] = {}
    column = list(map(seen.setdefault, values, values))
    if kind == "text" and _all_clean_strings(seen):
        return column, seen.keys() & {""}
    convert = _converter(kind, date1904)
    table = {v: _EMPTY[kind] if v == "" else convert(v) for v in seen}
    if all(map(is_, table, table.values())):    # every value already normalised (choices from a list)
        return column, seen.keys()
    return list(map(table.__getitem__, column)), seen.keys()


def _range_ref(merged) -> str:
    (r1, c1), (r2, c2) = merged
    return f"{column_letter(c1 + 1)}{r1 + 1}:{column_letter(c2 + 1)}{r2 + 1}"


def _all_clean_strings(values: Iterable[Any]) -> bool:
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


def _text(value: Any) -> str:
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


def _converter(kind: str, date1904: bool) -> Callable[[Any], Any]:
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
    return _text
