"""A recording stand-in for xlwings, backed by an openpyxl workbook, and a model of macros/LedgerMarks.bas.

Every xlwings attribute or method that costs a COM round trip in real Excel is one recorded call, so a
test can count what a button costs. Values behave as Excel's COM gives them: numbers as floats,
formulas as their cached results (None in a file openpyxl wrote), text prefixed with ' stays text.
The LedgerMarks model does in Python what the VBA does in-process (it records nothing); the
LibreOffice test in test_macros.py checks the VBA against the same expectations.
"""
from __future__ import annotations

import re
import warnings
from copy import copy
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.utils.cell import range_boundaries

from xl_automation.xlsx import fileio

from xl_automation.model import labels

from xl_automation.excel import live_marks
from xl_automation.xlsx.annotate import _carry_comment_boxes

EXCEL_USER = "Excel 用户"           # Application.UserName: the author Excel gives notes VBA adds
SCRATCH = range(live_marks.SCRATCH_COL, live_marks.SCRATCH_COL + live_marks.SCRATCH_WIDTH)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def hit(self, what: str) -> None:
        self.calls.append(what)


def _load(path: Path, data_only: bool = False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(path, keep_vba=path.suffix.lower() == ".xlsm", data_only=data_only)
    _carry_comment_boxes(wb, fileio.read_parts(path))    # Excel knows each note's real size
    return wb


class FakeApp:
    def __init__(self, rec: Recorder):
        self.rec = rec
        self.alerts: list[tuple[str, str, str]] = []
        self.status: list[Any] = []
        self.books = FakeBooks(self)

    @property
    def status_bar(self):
        self.rec.hit("App.status_bar")
        return self.status[-1] if self.status else False

    @status_bar.setter
    def status_bar(self, value):
        self.rec.hit("App.status_bar=")
        self.status.append(value)

    def alert(self, prompt, title=None, buttons="ok", mode=None, callback=None):
        self.rec.hit("App.alert")
        self.alerts.append((title, prompt, mode))
        return "ok"


class FakeBooks:
    def __init__(self, app: FakeApp):
        self.app = app
        self.items: list[FakeBook] = []

    @property
    def active(self):
        self.app.rec.hit("Books.active")
        return self.items[-1]


class FakeBook:
    """A workbook as Excel holds it; save() writes the openpyxl workbook back to its file."""

    def __init__(self, path: Path, app: FakeApp | None = None, *, saved: bool = True):
        self.path = Path(path)
        self.saved = saved
        self.app_ = app or FakeApp(Recorder())
        self.app_.books.items.append(self)
        self.rec = self.app_.rec
        self.wb = _load(self.path)
        self.cached = _load(self.path, data_only=True)

    @property
    def app(self):
        self.rec.hit("Book.app")
        return self.app_

    @property
    def name(self):
        self.rec.hit("Book.name")
        return self.path.name if self.saved else "工作簿1"

    @property
    def fullname(self):
        self.rec.hit("Book.fullname")
        return str(self.path) if self.saved else "工作簿1"

    @property
    def sheets(self):
        self.rec.hit("Book.sheets")
        return FakeSheets(self)

    def save(self, path=None):
        self.rec.hit("Book.save")
        self.write()

    def write(self) -> None:
        """The workbook as it is now, into its file (tests look at it with openpyxl)."""
        self.wb.save(self.path)


class FakeSheets:
    def __init__(self, book: FakeBook):
        self.book = book

    def __iter__(self):
        for ws in self.book.wb.worksheets:
            self.book.rec.hit("Sheets.item")
            yield FakeSheet(self.book, ws.title)

    def __getitem__(self, name: str):
        self.book.rec.hit("Sheets[]")
        if name not in self.book.wb.sheetnames:
            raise KeyError(name)
        return FakeSheet(self.book, name)


class FakeSheet:
    def __init__(self, book: FakeBook, title: str):
        self.book, self.title = book, title
        self.ws = book.wb[title]

    @property
    def name(self):
        self.book.rec.hit("Sheet.name")
        return self.title

    @property
    def visible(self):
        self.book.rec.hit("Sheet.visible")
        return self.ws.sheet_state == "visible"

    @property
    def used_range(self):
        self.book.rec.hit("Sheet.used_range")
        ws = self.ws
        return FakeRange(self, [(ws.min_row, ws.min_column, max(ws.max_row, 1), max(ws.max_column, 1))])

    def range(self, first, second=None):
        self.book.rec.hit("Sheet.range")
        if second is not None:
            (r1, c1), (r2, c2) = first, second
            return FakeRange(self, [(r1, c1, r2, c2)])
        if isinstance(first, tuple):
            return FakeRange(self, [(first[0], first[1], first[0], first[1])], anchor=True)
        areas = []
        for part in first.replace("$", "").split(","):
            c1, r1, c2, r2 = range_boundaries(part if ":" in part else f"{part}:{part}")
            areas.append((r1, c1, r2, c2))
        return FakeRange(self, areas, anchor=":" not in first and "," not in first)

    def clear_contents(self):
        self.book.rec.hit("Sheet.clear_contents")
        for row in self.ws.iter_rows():
            for cell in row:
                if not isinstance(cell, openpyxl.cell.cell.MergedCell):
                    cell.value = None


CLASSIC_ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")
COM_ERRORS = {text: number - 2146828288 for number, text in (
    (2000, "#NULL!"), (2007, "#DIV/0!"), (2015, "#VALUE!"), (2023, "#REF!"), (2029, "#NAME?"), (2036, "#NUM!"),
    (2042, "#N/A"), (2045, "#SPILL!"), (2050, "#CALC!"))}


class FakeRange:
    def __init__(self, sheet: FakeSheet, areas: list[tuple[int, int, int, int]], anchor: bool = False):
        self.sheet, self.areas, self.anchor = sheet, areas, anchor
        self.rec = sheet.book.rec

    err_to_str = False

    def options(self, err_to_str: bool = False, **_):
        # xlwings keeps options on the Python side: no COM call
        copy_ = FakeRange(self.sheet, self.areas, self.anchor)
        copy_.err_to_str = err_to_str
        return copy_

    @property
    def last_cell(self):
        self.rec.hit("Range.last_cell")
        r1, c1, r2, c2 = self.areas[0]
        return FakeRange(self.sheet, [(r2, c2, r2, c2)])

    @property
    def row(self):
        self.rec.hit("Range.row")
        return self.areas[0][0]

    @property
    def column(self):
        self.rec.hit("Range.column")
        return self.areas[0][1]

    def _cells(self):
        r1, c1, r2, c2 = self.areas[0]
        return [[self.sheet.ws.cell(r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]

    @property
    def value(self):
        self.rec.hit("Range.value")
        cached = self.sheet.book.cached
        out = []
        for line in self._cells():
            row = []
            for cell in line:
                v, kind = cell.value, cell.data_type
                if cell.data_type == "f":
                    have = cached[self.sheet.title] if self.sheet.title in cached.sheetnames else None
                    v, kind = (have[cell.coordinate].value, have[cell.coordinate].data_type) if have is not None \
                        else (None, "n")
                if kind == "e" or (isinstance(v, str) and v in COM_ERRORS):
                    # as xlwings on Windows: the seven classic errors None (or their text with err_to_str),
                    # the newer ones (#SPILL! …) COM's error code as a plain int
                    v = (v if self.err_to_str else None) if v in CLASSIC_ERRORS else COM_ERRORS.get(v, COM_ERRORS["#N/A"])
                elif isinstance(v, bool):
                    pass
                elif isinstance(v, int):
                    v = float(v)              # COM gives every number as a double
                elif v == "":
                    v = None
                row.append(v)
            out.append(row)
        return out

    @value.setter
    def value(self, rows):
        self.rec.hit("Range.value=")
        if not isinstance(rows, list) or (rows and not isinstance(rows[0], list)):
            rows = [[rows]] if not isinstance(rows, list) else [rows]
        r1, c1 = self.areas[0][0], self.areas[0][1]
        ws = self.sheet.ws
        for i, line in enumerate(rows):
            for j, v in enumerate(line):
                if v is None and (r1 + i, c1 + j) not in ws._cells:
                    continue                  # already empty
                set_cell(ws.cell(r1 + i, c1 + j), v)

    @property
    def number_format(self):
        """Excel's Range.NumberFormat: the cells' one format, or None (Null) when they differ."""
        self.rec.hit("Range.number_format")
        formats = {cell.number_format for line in self._cells() for cell in line}
        return formats.pop() if len(formats) == 1 else None

    @property
    def formula(self):
        self.rec.hit("Range.formula")
        out = []
        for line in self._cells():
            out.append([_formula_text(cell) for cell in line])
        return out

    def clear_contents(self):
        self.rec.hit("Range.clear_contents")
        for r1, c1, r2, c2 in self.areas:
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    cell = self.sheet.ws.cell(r, c)
                    if not isinstance(cell, openpyxl.cell.cell.MergedCell):
                        cell.value = None


def _formula_text(cell) -> str:
    v = cell.value
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v) if not isinstance(v, str) else v


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _is_text_cell(cell) -> bool:
    return cell.number_format == "@"


def set_cell(cell, v) -> None:
    """Assign as Excel's Range.Value does: ' keeps text; =, and +, - or @ before anything but a number,
    make a formula unless the cell is text (Excel parses the text as if typed)."""
    if isinstance(cell, openpyxl.cell.cell.MergedCell):
        return
    if isinstance(v, str) and v.startswith("'"):
        cell.value = v[1:]
        cell.data_type = "s"
    elif isinstance(v, str) and v.startswith("=") and not _is_text_cell(cell):
        cell.value = v
    elif isinstance(v, str) and v[:1] in ("+", "-", "@") and not _is_number(v) and not _is_text_cell(cell):
        cell.value = "=" + v.lstrip("@")
    else:
        cell.value = v
        if isinstance(v, str):
            cell.data_type = "s"


class FakeXlwings:
    """Stands in for the xlwings module inside xl_automation.excel.app."""

    def __init__(self, caller: FakeBook):
        book = caller

        class Book:
            @staticmethod
            def caller():
                book.rec.hit("Book.caller")
                return book
        self.Book = Book


# ---- LedgerMarks.bas, modelled -------------------------------------------------------------

def _record_sheet(wb):
    name = labels.ANNOTATION_SHEET
    if name not in wb.sheetnames:
        ws = wb.create_sheet(name)
        ws.sheet_state = "veryHidden"
    return wb[name]


def _scratch_rows(rs) -> int:
    return max(rs.max_row, 2)


def _clear_scratch(rs) -> None:
    for r in range(1, _scratch_rows(rs) + 1):
        for c in SCRATCH:
            rs.cell(r, c).value = None


def _put_text(rs, r: int, c: int, v: Any) -> None:
    cell = rs.cell(r, c)
    cell.number_format = "@"
    cell.value = None if v is None else str(v)
    if cell.value is not None:
        cell.data_type = "s"


def prepare_marks(book: FakeBook) -> None:
    """PrepareMarks: capture notes, hidden rows, merged ranges and the 1904 flag into the scratch."""
    wb = book.wb
    rs = _record_sheet(wb)
    _clear_scratch(rs)
    items: list[list[Any]] = [["BOOK", book.path.name, "1" if wb.epoch.year == 1904 else "0"]]
    for ws in wb.worksheets:
        items.append(["SHEET", ws.title])
        if ws.title == rs.title:
            continue
        hidden = [str(r) for r, dim in sorted(ws.row_dimensions.items()) if dim.hidden and r <= ws.max_row]
        if hidden:
            items.append(["HIDDEN", ws.title, ",".join(hidden)])
        for rng in sorted(ws.merged_cells.ranges, key=lambda m: (m.min_row, m.min_col)):
            items.append(["MERGED", ws.title, rng.coord])
        for row in ws.iter_rows():
            for cell in row:
                note = cell.comment
                if note is not None:
                    items.append(["HASNOTE", ws.title, cell.coordinate, note.author or "", note.text,
                                  note.width * 0.75, note.height * 0.75])
    for i, item in enumerate(items):
        for j, v in enumerate(item):
            _put_text(rs, live_marks.FIRST_ROW + i, live_marks.SCRATCH_COL + j, v)
    _put_text(rs, 1, live_marks.SCRATCH_COL, live_marks.CAPTURE_MARK)


def _argb(bgr: float) -> str:
    n = int(float(bgr))
    return f"FF{n & 0xFF:02X}{(n >> 8) & 0xFF:02X}{(n >> 16) & 0xFF:02X}"


_PATTERN_NAMES = {v: k for k, v in live_marks.PATTERNS.items()}


def _fill_xml(cell) -> str:
    fill = cell.fill
    if getattr(fill, "tagname", "") != "patternFill" or not fill.fill_type:
        return ""
    if fill.fill_type == "solid":
        return f'<fill><patternFill patternType="solid"><fgColor rgb="{fill.fgColor.rgb}"/></patternFill></fill>'
    return (f'<fill><patternFill patternType="{fill.fill_type}"><fgColor rgb="{fill.fgColor.rgb}"/>'
            f'<bgColor rgb="{fill.bgColor.rgb}"/></patternFill></fill>')


def _set_fill(cell, pattern: str, color: str, theme: str, tint: str, pattern_color: str) -> None:
    pattern_type = _PATTERN_NAMES.get(int(float(pattern or -4142)), "none")
    if pattern_type == "none":
        cell.fill = PatternFill()
        return
    from openpyxl.styles.colors import Color
    themes = {v: k for k, v in live_marks.THEME_COLORS.items()}
    if theme:
        index = int(float(theme))
        main = Color(theme=themes.get(index, index - 1), tint=float(tint or 0))
    else:
        main = Color(rgb=_argb(color))
    if pattern_type == "solid":
        cell.fill = PatternFill("solid", fgColor=main, bgColor=copy(main))
    else:
        cell.fill = PatternFill(pattern_type, fgColor=Color(rgb=_argb(pattern_color)) if pattern_color else None,
                                bgColor=main)


def _set_note(cell, text: str, width: str, height: str, replace: bool = False) -> None:
    """SetNote: edit the note that is there (its author stays), or add one as the Excel user."""
    if not text:
        cell.comment = None
        return
    author = cell.comment.author if cell.comment is not None and not replace else EXCEL_USER
    cell.comment = Comment(text, author, height=round(float(height or 55) * 4 / 3),
                           width=round(float(width or 108) * 4 / 3))


def apply_marks(book: FakeBook) -> tuple[str, str, str] | None:
    """ApplyMarks: carry out the operations, clear the scratch; returns the message box (title, text, level)."""
    wb = book.wb
    if labels.ANNOTATION_SHEET not in wb.sheetnames:
        return None
    rs = wb[labels.ANNOTATION_SHEET]
    ready = rs.cell(1, live_marks.SCRATCH_COL).value == live_marks.OPS_MARK
    for r in range(live_marks.FIRST_ROW, rs.max_row + 1 if ready else 0):
        op = [rs.cell(r, c).value for c in SCRATCH]
        op = ["" if v is None else str(v) for v in op]
        kind, sheet, ref = op[0], op[1], op[2]
        if kind not in ("RF", "NOTE", "MARK", "HEAD"):
            continue
        cell = _anchor(wb[sheet], ref)
        if kind == "RF":
            fill = cell.fill
            if fill.fill_type == "solid" and fill.fgColor.rgb == _argb(op[3]):
                _set_fill(cell, *op[4:9])
        elif kind == "NOTE":
            _set_note(cell, op[3], op[4], op[5], op[6] == "1")
        elif kind == "MARK":
            rs.cell(int(float(op[7])), 3).value = _fill_xml(cell) or None
            cell.fill = PatternFill("solid", fgColor=_argb(op[3]), bgColor=_argb(op[3]))
            if op[4]:
                _set_note(cell, op[4], op[5], op[6])
        elif kind == "HEAD":
            source = wb[sheet][op[3]]
            cell._style = copy(source._style)
            cell.comment = None
            cell.value = op[4]
            wb[sheet].column_dimensions[re.sub(r"\d", "", ref)].width = float(op[5])
    message = [rs.cell(2, c).value for c in SCRATCH][:4]
    _clear_scratch(rs)
    return tuple(message[1:4]) if message[0] == live_marks.MESSAGE_OP else None


def _anchor(ws, ref: str):
    """Range(ref) in VBA acts on a merged area's top-left cell."""
    cell = ws[ref]
    if isinstance(cell, openpyxl.cell.cell.MergedCell):
        for rng in ws.merged_cells.ranges:
            if cell.coordinate in rng:
                return ws.cell(rng.min_row, rng.min_col)
    return cell


def click(excel_module, book: FakeBook, entry: str, *, marks: bool, **kwargs):
    """What a button's Sub does: PrepareMarks, RunPython, ApplyMarks (the last two only for marking buttons)."""
    if marks:
        prepare_marks(book)
    getattr(excel_module, entry)(**kwargs)
    message = apply_marks(book) if marks else None
    return message
