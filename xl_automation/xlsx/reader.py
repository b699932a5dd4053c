"""Read a ledger workbook into a Ledger: the cells read with calamine, then laid out (ledger_layout: header,
columns, structural findings) and normalised (row_values)."""
from __future__ import annotations

import gc
import threading
from itertools import chain, islice
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import python_calamine as calamine

from xl_automation.model import labels
from xl_automation.model.findings import Finding, make
from xl_automation.model.ledger import Ledger, LedgerError, gc_paused
from xl_automation.rules.normalize import clean_text
from xl_automation.xlsx.ledger_layout import HEADER_SCAN_ROWS, MIN_HEADER_MATCHES, error_cell_findings, find_header, \
    hidden_row_findings, layout_of
from xl_automation.xlsx.row_values import ledger_rows
from xl_automation.xlsx.xlsx_probe import Probe, detect_format, probe

__all__ = ["read_ledger", "ledger_from_grid", "info_from_lines", "detect_format", "HEADER_SCAN_ROWS",
           "MIN_HEADER_MATCHES"]

# (sheet, {(row, column letters)}) -> the cells whose number format shows a time, or None when unknown
TimeCells = Callable[[str, set[tuple[int, str]]], "set[tuple[int, str]] | None"]
_AUX_SHEETS = frozenset({labels.INFO_SHEET, labels.LOOKUP_SHEET, labels.ANNOTATION_SHEET, labels.FORM_SHEET})


def read_ledger(path: str | Path, *, config: Any = None) -> Ledger:
    """The ledger in a workbook; problems in it are findings, an unusable file is a LedgerError.

    config is accepted for symmetry with the other steps; reading needs nothing from it yet.
    """
    path = Path(path)
    facts = probe(path)
    try:
        reader = _Reader(path, facts, None, collect=gc.isenabled())
        with _open_workbook(path, facts.format) as reader.wb, gc_paused():
            return reader.read()
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
                     format: str = "xlsx", time_cells: TimeCells | None = None,
                     error_cells: Iterable[tuple[int, str, str]] = ()) -> Ledger:
    """The ledger in cell values already read (a live workbook's used range, from A1), as read_ledger makes it.

    grid: rows of values, None or "" for empty cells, a whole day as a `date` (as calamine gives it);
    hidden: 1-based hidden row numbers; merged: ((first row, first col), (last row, last col)) 0-based, as
    calamine gives them; time_cells: of (row, column letters) cells, those whose number format shows a time
    (what the file's styles tell read_ledger), or None when unknown; error_cells: (row, column letters, text)
    of cells showing an error value, blank in the grid (each becomes a cell-error finding, as in read_ledger).
    """
    grid = [["" if v is None else v for v in line] for line in grid]
    header = find_header(grid)
    if header is None:
        raise LedgerError("header-missing", path, sheet=sheet, rows=HEADER_SCAN_ROWS, minimum=MIN_HEADER_MATCHES)
    reader = _Reader(Path(path), None, None, date1904=date1904, format=format, time_cells=time_cells,
                     collect=gc.isenabled())
    reader.error_cells = list(error_cells)
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


# the extensions calamine's from_path reads as each format (it chooses the parser by the name)
_SUFFIXES = {"xls": (".xls", ".xla"), "xlsx": (".xlsx", ".xlsm", ".xlam"), "xlsm": (".xlsx", ".xlsm", ".xlam")}


def _open_workbook(path: Path, format: str) -> calamine.CalamineWorkbook:
    """calamine's workbook for path. from_path picks the parser by the extension, so an .xls saved or renamed
    as .xlsx (or the reverse; Excel opens both) would be refused as damaged: such a file is opened from its
    bytes, which calamine reads by their content (the probe has checked what they are)."""
    if path.suffix.lower() in _SUFFIXES.get(format, ()):
        return calamine.CalamineWorkbook.from_path(str(path))
    with path.open("rb") as f:
        return calamine.CalamineWorkbook.from_filelike(f)


def _detail(error: BaseException) -> str:
    """A short Chinese cause, with calamine's own words in brackets for whoever supports the user."""
    what = {calamine.ZipError: "压缩数据损坏", calamine.XmlError: "工作表内容损坏"}.get(type(error), "读取出错")
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"{what}（{text if len(text) <= 60 else text[:57] + '…'}）"


class _Reader:
    """Reads the cells of one workbook: the ledger sheet (or the first with a header), its hidden rows and
    merged ranges, the info sheet; building the Ledger from them is ledger_layout's and row_values' work."""

    def __init__(self, path: Path, facts: Probe | None, wb: calamine.CalamineWorkbook | None, *,
                 date1904: bool = False, format: str = "xlsx", time_cells: TimeCells | None = None,
                 collect: bool = False):
        self.path, self.facts, self.wb = path, facts, wb
        self.collect = collect                  # the caller's cyclic GC was on: see ledger_rows
        self.time_cells = time_cells            # for a grid: the live workbook's number formats
        self.date1904 = facts.date1904 if facts is not None else date1904
        self.format = facts.format if facts is not None else format
        self.findings: list[Finding] = []
        self.sheet_xml: list[bytes] | None = None      # the sheet's XML, kept by the hidden-row scan
        self.error_cells: list[tuple[int, str, str]] = []   # cells holding #N/A etc., which calamine reads as ""

    def read(self) -> Ledger:
        names = self.wb.sheet_names
        if labels.LEDGER_SHEET in names:
            sheet = labels.LEDGER_SHEET
            # calamine parses without the GIL, so the <row hidden> scan costs no wall time; it keeps the
            # XML it inflated, which spares inflating it again to tell a midnight from a date
            self.sheet_xml = []
            hidden_rows = _in_background(self.facts.hidden_rows, sheet, self.sheet_xml, self.error_cells)
            grid, rest, merged = self._open(sheet)
            hidden = hidden_rows()
            header = find_header(grid)
            if header is None:
                raise LedgerError("header-missing", self.path, sheet=sheet, rows=HEADER_SCAN_ROWS,
                                  minimum=MIN_HEADER_MATCHES)
        else:
            sheet, grid, merged, header = self._fallback_sheet()
            rest: Iterable[list[Any]] = ()
            hidden = self.facts.hidden_rows(sheet, None, self.error_cells)
        return self.build(sheet, grid, merged, header, hidden, self._info(names), rest)

    def build(self, sheet: str, grid, merged, header, hidden: set[int], info: dict[str, str],
              rest: Iterable[list[Any]] = ()) -> Ledger:
        """rest: the sheet's rows below those in grid, not yet read."""
        layout = layout_of(grid, merged, header, sheet)
        self.findings += layout.findings
        lines = chain(grid[layout.data_start:], rest)
        rows = ledger_rows(lines, layout.data_start, layout.columns, hidden, self.date1904, self._time_cells(sheet),
                           self.collect, self.format == "xls")
        if hidden:
            self.findings += hidden_row_findings([r.excel_row for r in rows if r.hidden], sheet)
        if self.error_cells:
            self.findings += error_cell_findings(self.error_cells, sheet, layout)
        return Ledger(path=self.path, sheet=sheet, header_row=header[0] + 1, columns=layout.columns, rows=rows,
                      findings=self.findings, info=info, date1904=self.date1904,
                      header_names=layout.names, format=self.format)

    def _time_cells(self, sheet: str) -> Callable[[set[tuple[int, str]]], set[tuple[int, str]] | None] | None:
        """Which cells show a time, from the file's number formats, or the live workbook's (None for a grid
        without them: decided by the column)."""
        if self.facts is None:
            given = self.time_cells
            return None if given is None else lambda cells: given(sheet, cells)
        facts, xml = self.facts, self.sheet_xml
        return lambda cells: facts.time_cells(sheet, cells, xml)

    def _open(self, name: str) -> tuple[list[list[Any]], Iterator[list[Any]], list]:
        """The sheet's top rows (those a header may be in, and the row below), the rows after them as an
        iterator, and its merged ranges. Read row by row, the cells are converted while still in the
        processor's cache, instead of after calamine has made every cell of the sheet."""
        sheet = self.wb.get_sheet_by_name(name)
        if sheet.start is None or sheet.start[1] != 0:
            # an empty sheet (iter_rows needs a first cell), or one whose cells begin right of column A
            # (iter_rows would not fill the columns before them)
            return sheet.to_python(skip_empty_area=False), iter(()), sheet.merged_cell_ranges or []
        rows = sheet.iter_rows()
        return list(islice(rows, HEADER_SCAN_ROWS + 1)), rows, sheet.merged_cell_ranges or []

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
            header = find_header(grid)
            if header is not None:
                self.findings.append(make("sheet-fallback", sheet=m.name, expected=labels.LEDGER_SHEET))
                return m.name, grid, merged, header
        raise LedgerError("sheet-missing", self.path, sheet=labels.LEDGER_SHEET)

    def _info(self, names: list[str]) -> dict[str, str]:
        """The info sheet's column A label -> column B value, as text."""
        if labels.INFO_SHEET not in names:
            return {}
        return info_from_lines(self.wb.get_sheet_by_name(labels.INFO_SHEET).to_python(skip_empty_area=False))
