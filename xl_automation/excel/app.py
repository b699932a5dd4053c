"""The Excel buttons: RunPython entry points and the SheetPort on a workbook open in Excel (xlwings).

The only module that imports xlwings. Every entry point takes the workbook with xw.Book.caller() inside
the function, runs the same flow as the CLI (buttons.py) and ends with one Chinese message box; a
failure is a message, never a traceback. Per-cell work is left to macros/LedgerMarks.bas (see
live_marks.py), so a button makes the same number of Excel calls for 10 rows as for 5,000.
"""
from __future__ import annotations

import sys
import tempfile
import traceback
import datetime as dt
from datetime import datetime
from pathlib import Path
from typing import Any

import xlwings as xw

from xl_automation.model import config as cfg
from xl_automation.model import labels
from xl_automation.excel import live_marks, live_plan
from xl_automation.xlsx.annotate import AnnotateResult
from xl_automation.excel.buttons import FLOWS, TITLES
from xl_automation.model.findings import make
from xl_automation.model.ledger import Ledger, LedgerError, column_letter
from xl_automation.rules.periods import PeriodError
from xl_automation.xlsx.reader import HEADER_SCAN_ROWS, info_from_lines, ledger_from_grid
from xl_automation.excel.sheetport import ERROR, INFO
from xl_automation.xlsx.number_formats import format_shows_time
from xl_automation.xlsx.xlsx_probe import EXCEL_ERRORS

CALLER, ACTIVE = "caller", "active"
ERROR_LOG = "xl-automation-错误记录.txt"
_AUX = {labels.INFO_SHEET, labels.LOOKUP_SHEET, labels.ANNOTATION_SHEET, labels.FORM_SHEET}
# Midnight cells whose number format is asked one by one (a column of mixed formats): beyond this, a midnight
# stays a midnight, so a click costs a bounded number of Excel calls however long the ledger
FORMAT_LOOKUPS = 40


class ButtonError(Exception):
    """A button cannot go on; the message says what to do."""


def validate(book: str = CALLER) -> None:
    """校验: check the ledger, mark findings in the cells, fill the program columns."""
    _run("validate", book)


def flag_overdue(book: str = CALLER) -> None:
    """标记超时: the 2-hour status of every row, marked in the workbook."""
    _run("flag", book)


def register_from_form(book: str = CALLER) -> None:
    """登记联系单: the filled 联系单 sheet becomes a new ledger row; the form is cleared."""
    _run("register", book)


def submit(book: str = CALLER) -> None:
    """提交: save, then write the month's submission into the folder set on the info sheet."""
    _run("submit", book)


def consolidate(book: str = CALLER) -> None:
    """汇总 (group workbook): consolidate the submissions folder into the monthly report."""
    _run("consolidate", book)


def doctor(book: str = CALLER) -> None:
    """环境检查: the doctor's checks for this workbook, in a message box (the round trip is this call)."""
    from xl_automation.deploy.doctor import marks_for, run_checks
    from xl_automation.deploy.winenv import SystemMachine
    caller = xw.Book.caller()
    target = caller.app.books.active if book == ACTIVE else caller
    try:
        checks = run_checks(SystemMachine(), [Path(target.fullname)], from_button=True)
        failed = [c for c in checks if c.ok is False]
        text = "\n".join([c.line(marks_for("gbk")) for c in checks] +
                         [f"{len(failed)} 项未通过，请按提示处理。" if failed else "全部通过。"])
        caller.app.alert(text, title="环境检查", buttons="ok", mode="critical" if failed else "info")
    except Exception as exc:   # one Chinese line, never a traceback
        caller.app.alert(failure_message(exc), title="环境检查", buttons="ok", mode="critical")


def ping(token: str) -> None:
    """doctor's RunPython round trip: Excel started this Python, which proves it by writing the token file."""
    Path(token).write_text(f"{xw.__version__} {sys.executable}", encoding="utf-8")


def _run(flow: str, which: str) -> None:
    caller = port = None
    try:
        caller = xw.Book.caller()
        # ribbon buttons live in the add-in: they act on the workbook the user is looking at
        target = caller.app.books.active if which == ACTIVE else caller
        port = XlwingsPort(target)
        FLOWS[flow](port, cfg.load(), datetime.now().replace(microsecond=0))
    except Exception as exc:   # the user gets one line in a message box, never a traceback
        message = failure_message(exc)
        try:
            if port is not None:
                port.report(TITLES[flow], message, ERROR)
            elif caller is not None:
                caller.app.alert(message, title=TITLES[flow], buttons="ok", mode="critical")
            else:
                print(message, file=sys.stderr)
        except Exception:      # Excel itself is unreachable: stderr is all that is left
            print(message, file=sys.stderr)
    finally:
        if port is not None:
            try:
                port.status(None)
            except Exception:
                pass


def failure_message(exc: BaseException) -> str:
    """What went wrong in one Chinese paragraph; unexpected errors are logged for the maintainers."""
    from xl_automation.model.exits import UsageError, path_shape_message
    from xl_automation.month_end.submission import SubmitError
    known = (ButtonError, LedgerError, cfg.ConfigError, PeriodError, UsageError, SubmitError)
    if isinstance(exc, known) or type(exc).__name__ in ("ReportError", "ArchiveError"):
        return str(exc)
    if isinstance(exc, PermissionError):
        return f"无法读写 {exc.filename}：没有权限，或文件正被其他程序打开。请关闭占用它的程序后再试。"
    if isinstance(exc, OSError) and path_shape_message(exc):
        return path_shape_message(exc)
    if type(exc).__name__ == "com_error":
        return "Excel 暂时不能响应（可能正在编辑单元格或有对话框未关闭）。请按 Enter 或 Esc 结束编辑后再点按钮。"
    log = Path(tempfile.gettempdir()) / ERROR_LOG
    try:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"--- {datetime.now():%Y-%m-%d %H:%M:%S}\n{traceback.format_exc()}\n")
        where = f"详细信息已记录在 {log}"
    except OSError:
        where = "请截图"
    return f"程序内部错误（{type(exc).__name__}: {exc}）。{where}，请发给维护人员。"


def whole_days(grid: list[list[Any]]) -> list[list[Any]]:
    """Midnight date-times as the `date` calamine gives for a whole-day cell: Excel hands both a date-only cell
    and a date-time cell at 00:00 to Python as a midnight datetime; the reader then asks the number formats."""
    midnight = dt.time()
    return [[v.date() if type(v) is dt.datetime and v.time() == midnight else v for v in line] for line in grid]


def _matrix(value: Any) -> list[list[Any]]:
    """A range's value or formula as rows, whatever its shape."""
    if isinstance(value, (list, tuple)):
        if value and not isinstance(value[0], (list, tuple)):
            return [list(value)]
        return [list(row) for row in value]
    return [[value]]


# Excel's error values: the seven xlwings gives as text (err_to_str), and COM's codes of all (CVErr: the BIFF
# code + 2000 - 2146828288), which xlwings hands over as plain ints for the newer ones (#SPILL!, #CALC! …)
_COM_ERRORS = {code + 2000 - 2146828288: text for code, text in EXCEL_ERRORS.items()}
_ERROR_TEXTS = frozenset(EXCEL_ERRORS.values())


def error_cells(grid: list[list[Any]]) -> tuple[list[list[Any]], list[tuple[int, str, str]]]:
    """The grid with error values blanked, as the file reader gets them, and the cells that held one as
    (Excel row, column letters, error text), which read_ledger names as findings: a #DIV/0! in 回复对接时间
    read as blank would make a contacted request overdue, a #SPILL! code read as a number a date in 1800."""
    found: list[tuple[int, str, str]] = []
    for r, line in enumerate(grid):
        for c, v in enumerate(line):
            kind = type(v)
            if (kind is str and v in _ERROR_TEXTS) or (kind is int and v in _COM_ERRORS):
                found.append((r + 1, column_letter(c + 1), v if kind is str else _COM_ERRORS[v]))
                line[c] = None
    return grid, found


class XlwingsPort:
    """SheetPort on a workbook open in Excel: whole ranges in, whole ranges out, per-cell work in VBA."""

    def __init__(self, book: Any):
        self.book = book
        self.app = book.app
        self.name = book.name
        self.fullname = Path(book.fullname)
        self._names: list[str] | None = None
        self._captured: live_marks.Captured | None = None
        self._record: list[list[Any]] = []
        self._grid: list[list[Any]] = []
        self._pending = False         # operations written: ApplyMarks shows the message

    # -- talking to the user ---------------------------------------------------------------
    def folder(self) -> Path:
        if not self.fullname.is_absolute():
            raise ButtonError(f"“{self.name}”还没有保存过：请先把它保存到一个文件夹中，再点按钮。")
        return self.fullname.parent

    def status(self, text: str | None) -> None:
        self.app.status_bar = text if text else False

    def report(self, title: str, text: str, level: str = INFO) -> None:
        if self._pending:
            rs = self.book.sheets[labels.ANNOTATION_SHEET]
            # a leading apostrophe: Excel parses text assigned to a cell as if typed, and a message that starts
            # with a file name such as "-副本.xlsm" or "=台账.xlsm" would become a broken formula
            rs.range((2, live_marks.SCRATCH_COL)).value = [[live_marks.MESSAGE_OP, "'" + title, "'" + text[:900],
                                                            level]]
        else:
            self.app.alert(text, title=title, buttons="ok", mode="info" if level == INFO else "critical")

    # -- reading ------------------------------------------------------------------------
    def _sheet_names(self) -> list[str]:
        if self._names is None:
            self._names = [sheet.name for sheet in self.book.sheets]
        return self._names

    def _used(self, name: str, formulas: bool = False) -> list[list[Any]]:
        """The values (or formulas) of a sheet from A1 to the last used cell, in one read; a cell showing an
        error value (#N/A …) as its text, or as COM's error code for the newer ones (#SPILL! …).

        From A1, not from the used range's first cell: row and column numbers then mean what they say.
        """
        sheet = self.book.sheets[name]
        last = sheet.used_range.last_cell
        whole = sheet.range((1, 1), (last.row, last.column))
        return _matrix(whole.formula if formulas else whole.options(ndim=2, err_to_str=True).value)

    def read_ledger(self) -> Ledger:
        names = self._sheet_names()
        if labels.ANNOTATION_SHEET in names:
            self._record = self._used(labels.ANNOTATION_SHEET, formulas=True)
            self._captured = live_marks.parse_capture(self._record)
        fallback = None
        if labels.LEDGER_SHEET in names:
            sheet, grid = labels.LEDGER_SHEET, self._used(labels.LEDGER_SHEET)
        else:
            sheet, grid = self._fallback(names)
            fallback = make("sheet-fallback", sheet=sheet, expected=labels.LEDGER_SHEET)
        grid, errors = error_cells(grid)
        info = info_from_lines(self._used(labels.INFO_SHEET)) if labels.INFO_SHEET in names else {}
        captured = self._captured or live_marks.Captured()
        suffix = self.fullname.suffix.lower().lstrip(".")
        grid = whole_days(grid)
        ledger = ledger_from_grid(grid, sheet=sheet, path=self.fullname, info=info, date1904=captured.date1904,
                                  hidden=captured.hidden.get(sheet, ()), merged=captured.merged.get(sheet, ()),
                                  format=suffix if suffix in ("xlsm", "xls") else "xlsx", time_cells=self._time_cells,
                                  error_cells=errors)
        if fallback is not None:
            ledger.findings.insert(0, fallback)
        self._grid = grid
        return ledger

    def _time_cells(self, sheet: str, cells: set[tuple[int, str]]) -> set[tuple[int, str]]:
        """Of whole-day cells, those whose number format shows a time (a midnight, not a date only), as the
        file reader decides from the styles: one NumberFormat read per column when its cells share a format,
        then one per cell up to FORMAT_LOOKUPS; a cell beyond that stays a midnight, as Excel hands it over."""
        ws = self.book.sheets[sheet]
        by_column: dict[str, list[int]] = {}
        for row, letters in cells:
            by_column.setdefault(letters, []).append(row)
        timed, budget = set(), FORMAT_LOOKUPS
        for letters, rows in by_column.items():
            shared = ws.range(f"{letters}{min(rows)}:{letters}{max(rows)}").number_format
            if isinstance(shared, str):
                if format_shows_time(shared):
                    timed.update((r, letters) for r in rows)
                continue
            for r in sorted(rows):
                budget -= 1
                own = ws.range(f"{letters}{r}").number_format if budget >= 0 else None
                if not isinstance(own, str) or format_shows_time(own):
                    timed.add((r, letters))
        return timed

    def _fallback(self, names: list[str]) -> tuple[str, list[list[Any]]]:
        """Like the reader: the first other sheet (visible ones first) whose top rows hold a header."""
        from xl_automation.xlsx.ledger_layout import find_header
        candidates = [n for n in names if n not in _AUX]
        candidates.sort(key=lambda n: not self.book.sheets[n].visible)
        for name in candidates:
            grid = self._used(name)
            if find_header([["" if v is None else v for v in line] for line in grid[:HEADER_SCAN_ROWS]]):
                return name, grid
        raise LedgerError("sheet-missing", self.fullname, sheet=labels.LEDGER_SHEET)

    # -- writing ------------------------------------------------------------------------
    def annotate(self, ledger, findings, clocks, now: datetime) -> AnnotateResult:
        if self._captured is None:
            failed = live_marks.capture_failure(self._record)
            if failed is not None:
                raise ButtonError(f"标注前的准备没有完成（Excel：{failed}）。工作簿结构受保护时，请先“审阅 › 保护工作簿”"
                                  "撤销保护，再点按钮。")
            raise ButtonError("标注需要工作簿中的 LedgerMarks 宏先做准备：请用台账中的按钮或“综合受理”选项卡运行，"
                              "不要直接调用 Python 函数。")
        plan = live_plan.plan(ledger, findings, clocks, grid=self._grid, record_rows=self._record,
                               captured=self._captured)
        ws = self.book.sheets[ledger.sheet]
        for col, top, body in plan.program:
            ws.range((top, col)).value = body
        rs = self.book.sheets[labels.ANNOTATION_SHEET]
        rs.clear_contents()
        rs.range((1, 1)).value = live_marks.record_sheet_block(plan, None)
        self._pending = True
        return AnnotateResult(self.fullname, False, [], plan.cells_marked, plan.error_cells, plan.warning_cells,
                              plan.rows_written, plan.columns_added)

    def save(self) -> Path:
        self.folder()
        self.book.save()
        return self.fullname

    def read_values(self, sheet: str, ref: str) -> list[list[Any]]:
        if sheet not in self._sheet_names():
            raise LedgerError("sheet-missing", self.fullname, sheet=sheet)
        return _matrix(self.book.sheets[sheet].range(ref).options(ndim=2).value)

    def write_values(self, sheet: str, top_left: str, rows: list[list[Any]]) -> None:
        # a leading apostrophe keeps text as typed: Excel would turn "13800000000" or "=..." into something else
        body = [["'" + v if isinstance(v, str) and v else v for v in line] for line in rows]
        self.book.sheets[sheet].range(top_left).value = body

    def clear_cells(self, sheet: str, refs: list[str]) -> None:
        self.book.sheets[sheet].range(",".join(refs)).clear_contents()
