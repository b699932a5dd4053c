"""Write findings and the 2-hour clock back into the ledger workbook, undoing the previous run's marks first."""
from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
import warnings
from copy import copy
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.styles.fills import Fill
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.xml.functions import fromstring, tostring

from . import fileio, labels, schema, sla
from .findings import ERROR, WARNING, Finding
from .ledger import Ledger, LedgerError

AUTHOR = "综合受理校验"
SEPARATOR = "—" * 12
COPY_TAG = "校验标注"
FILLS = {ERROR: "FFFFC7CE", WARNING: "FFFFEB9C"}
STATUS_FILLS = {sla.LATE: "FFFFC7CE", sla.OVERDUE_OPEN: "FFFFC7CE", sla.NEAR: "FFF8CBAD"}
PASSED = "通过"
SUPPORTED = (".xlsx", ".xlsm", ".xltx", ".xltm")
# the record sheet: one row per thing this program changed, referenced by formulas that Excel/WPS
# keep pointing at the same cell when the user inserts or deletes rows
KIND_CELL, KIND_PROGRAM, KIND_ADDED = "标注单元格", "程序列", "新增列"
RECORD_NOTE = "本表由综合受理校验程序维护，记录上次标注前单元格的原样，请勿修改"
RECORD_HEADERS = ("类别", "位置", "原填充", "原批注", "本次标注")
_OUR_NOTE = re.compile(r"(?m)^【(?:错误|提醒)】.*\n处理：")
_REF = re.compile(r"^=\s*(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?\s*$")


@dataclass
class AnnotateResult:
    path: Path                      # the workbook written
    is_copy: bool                   # True when written beside the original instead of into it
    reasons: list[str]              # what openpyxl could not carry, when a copy was written
    cells_marked: int = 0           # cells given a fill and a note for findings
    error_cells: int = 0
    warning_cells: int = 0
    rows_written: int = 0           # ledger rows whose program columns were written
    columns_added: list[str] = field(default_factory=list)


def copy_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.{COPY_TAG}{path.suffix}")


def annotate(ledger: Ledger, findings: Iterable[Finding], clocks: dict[int, sla.RowClock], *,
             now: datetime) -> AnnotateResult:
    """Mark findings and write the program columns; in place when safe, else into a copy beside the file."""
    path = Path(ledger.path)
    suffix = path.suffix.lower()
    if getattr(ledger, "format", None) == "xls" or suffix == ".xls":
        raise LedgerError("file-old-xls", path)
    if suffix not in SUPPORTED:
        raise LedgerError("file-not-xlsx", path)
    fileio.check_not_open(path)
    reasons = fileio.lossy_parts(path)
    target = copy_path(path) if reasons else path
    if target != path:
        fileio.check_not_open(target)
    original = fileio.read_parts(path)
    wb = _load(path, keep_vba=suffix in fileio.MACRO_SUFFIXES)
    if b"creator" not in original.get("docProps/core.xml", b""):
        wb.properties.creator = None    # openpyxl would otherwise sign a file it did not create
    _carry_comment_boxes(wb, original)
    if ledger.sheet not in wb.sheetnames:
        raise LedgerError("sheet-missing", path, sheet=ledger.sheet)
    run = _Run(wb, ledger)
    run.undo_previous()
    run.write_program_columns(clocks)
    run.mark_findings(list(findings))
    run.write_record()
    wb.calculation.fullCalcOnLoad = True    # openpyxl drops cached formula results; let Excel/WPS refresh them
    try:
        parts = fileio.workbook_parts(wb, now)
    except Exception as exc:   # openpyxl cannot write some packages it read (e.g. malformed VML it kept)
        raise LedgerError("annotate-failed", path, detail=f"{type(exc).__name__}: {str(exc)[:160]}") from exc
    fileio.restore_cached_values(original, parts)
    fileio.renumber_note_shapes(parts)
    try:
        fileio.write_package(target, parts, now, mode_from=path)
    except PermissionError as exc:   # Windows: another program holds the file
        raise LedgerError("file-locked", target, lock=target.name) from exc
    return AnnotateResult(target, target != path, reasons, run.cells_marked, run.error_cells,
                          run.warning_cells, run.rows_written, run.columns_added)


def _load(path: Path, keep_vba: bool):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # openpyxl warns about extensions; lossy_parts has judged them
            return load_workbook(path, keep_vba=keep_vba, keep_links=True, rich_text=True)
    except Exception as exc:   # openpyxl raises many kinds for a damaged package
        raise LedgerError("file-corrupt", path, detail=str(exc)[:200]) from exc


class _Run:
    """One annotation pass over a loaded workbook."""

    def __init__(self, wb, ledger: Ledger):
        self.wb, self.ledger = wb, ledger
        self.ws = wb[ledger.sheet]
        self.entries: dict[tuple[str, str], dict[str, Any]] = {}
        self.added: dict[str, str] = {}            # header -> coordinate of header cells this program added
        self.previously_added: dict[str, str] = {}
        self.columns: dict[str, int] = {}
        self.cells_marked = self.error_cells = self.warning_cells = self.rows_written = 0
        self.columns_added: list[str] = []
        # fills by index: openpyxl hashes a fill object on every assignment, too slow for thousands of cells
        self._fill_ids: dict[str, int] = {}
        self._fill_xml: dict[int, str] = {}

    # -- undo ---------------------------------------------------------------------------
    def undo_previous(self) -> None:
        """Restore every cell the last run marked, clear its program values in rows gone from the ledger."""
        if labels.ANNOTATION_SHEET not in self.wb.sheetnames:
            return
        rows = set(r.excel_row for r in self.ledger.rows)
        restored: set[tuple[str, str]] = set()
        for kind, ref, value, note, applied in _record_rows(self.wb[labels.ANNOTATION_SHEET]):
            target = _parse_ref(ref)
            if target is None or target[0] not in self.wb.sheetnames:
                continue   # the cell was deleted (#REF!) or its sheet removed
            ws = self.wb[target[0]]
            if kind == KIND_CELL:
                cell = ws.cell(target[2], target[1])
                if not isinstance(cell, MergedCell):
                    self._restore_cell(cell, value, _json(note), _json(applied) or {})
                    restored.add((ws.title, cell.coordinate))
            elif kind == KIND_PROGRAM and ws is self.ws:
                _, col, top, _, bottom = target
                for row in range(top, bottom + 1):
                    cell = ws._cells.get((row, col))
                    if row not in rows and cell is not None and not isinstance(cell, MergedCell):
                        cell.value = None
            elif kind == KIND_ADDED and ws is self.ws:
                cell = ws._cells.get((target[2], target[1]))
                if cell is not None and cell.value == value:   # value: the header this program wrote
                    self.previously_added[value] = cell.coordinate
        self._strip_stray_notes(restored)

    def _strip_stray_notes(self, restored: set[tuple[str, str]]) -> None:
        """Our notes that moved away from their recorded cell (e.g. after a sort): keep only the user's part."""
        for ws in self.wb.worksheets:
            for cell in list(ws._cells.values()):
                note = cell.comment
                if note is None or (ws.title, cell.coordinate) in restored or not _is_ours(note):
                    continue
                user = note.text.split("\n" + SEPARATOR + "\n")[0] if SEPARATOR in note.text else None
                cell.comment = Comment(user, "", note.height, note.width) if user else None

    # -- program columns ----------------------------------------------------------------
    def write_program_columns(self, clocks: dict[int, sla.RowClock]) -> None:
        self._ensure_program_columns()
        minutes, status = self.columns["response_minutes"], self.columns["sla_status"]
        for row in self.ledger.rows:
            clock = clocks.get(row.excel_row)
            _put(self.ws.cell(row.excel_row, minutes), _minutes(clock.minutes) if clock else None)
            cell = self.ws.cell(row.excel_row, status)
            _put(cell, clock.status if clock else None)
            if clock and clock.status in STATUS_FILLS and not isinstance(cell, MergedCell):
                self._mark(cell, STATUS_FILLS[clock.status], None)
            self.rows_written += 1

    def _ensure_program_columns(self) -> None:
        """Find the program columns, or append the missing ones in empty columns right of the header."""
        header_row = self.ledger.header_row
        header_cells = {c.value: col for (r, col), c in self.ws._cells.items()
                        if r == header_row and isinstance(c.value, str)}
        used = {col for (_, col), cell in self.ws._cells.items() if cell.value is not None}
        used |= {col for rng in self.ws.merged_cells.ranges if rng.min_row <= header_row <= rng.max_row
                 for col in range(rng.min_col, rng.max_col + 1)}
        last = max((col for (r, col), cell in self.ws._cells.items() if r == header_row and cell.value is not None),
                   default=1)
        style_source = self.ws.cell(header_row, last)
        free = last + 1
        for col in schema.PROGRAM_COLUMNS:
            index = self.ledger.columns.get(col.key) or header_cells.get(col.header)
            if index is None:
                while free in used:   # never write over the user's cells beside the table
                    free += 1
                index, free = free, free + 1
                cell = self.ws.cell(header_row, index, col.header)
                cell._style = copy(style_source._style)
                self.ws.column_dimensions[get_column_letter(index)].width = col.width
                self.columns_added.append(col.header)
                self.added[col.header] = cell.coordinate
            elif col.header in self.previously_added:
                self.added[col.header] = self.previously_added[col.header]
            self.columns[col.key] = index

    # -- findings -----------------------------------------------------------------------
    def mark_findings(self, findings: list[Finding]) -> None:
        result_col = self.columns["check_result"]
        header_cell = self.ws.cell(self.ledger.header_row, result_col)

        def anchor(f: Finding):
            known = f.sheet is None or f.sheet in self.wb.sheetnames
            cell = _anchor(self.wb[f.sheet] if f.sheet else self.ws, f.cell) if f.cell and known else None
            return (cell.parent.title, cell.coordinate) if cell is not None else None

        def fallback(f: Finding, in_row: bool):
            cell = self.ws.cell(f.row, result_col) if in_row else header_cell
            return cell.parent.title, cell.coordinate

        by_cell, by_row = group_findings(findings, self.ledger, anchor, fallback)
        for row in self.ledger.rows:
            _put(self.ws.cell(row.excel_row, result_col), _summary(by_row.get(row.excel_row, [])))
        for (sheet, coord), group in by_cell.items():
            severity, text = note_of(group)
            self._mark(self.wb[sheet][coord], FILLS[severity], text)
            self.count(severity)

    def count(self, severity: str) -> None:
        self.cells_marked += 1
        if severity == ERROR:
            self.error_cells += 1
        else:
            self.warning_cells += 1

    def _mark(self, cell, rgb: str, text: str | None) -> None:
        key = (cell.parent.title, cell.coordinate)
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = {"fill": self._fill_of(cell), "comment": _comment_json(cell.comment),
                                         "applied": {}}
        self._set_fill(cell, f"solid:{rgb}")
        entry["applied"]["fill"] = rgb
        if text:
            user = entry["comment"]
            text = _clean(f"{user['text'].rstrip()}\n{SEPARATOR}\n{text}" if user else text)
            width, height = _box(text)
            cell.comment = Comment(text, AUTHOR, height=height, width=width)
            entry["applied"]["comment"] = _digest(text)

    # -- record -------------------------------------------------------------------------
    def write_record(self) -> None:
        title = labels.ANNOTATION_SHEET
        index = None
        if title in self.wb.sheetnames:
            index = self.wb.sheetnames.index(title)
            self.wb.remove(self.wb[title])
        rs = self.wb.create_sheet(title, index)
        rs.sheet_state = "veryHidden"
        rs.append([RECORD_NOTE])
        rs.append(list(RECORD_HEADERS))
        for header, coord in self.added.items():
            rs.append([KIND_ADDED, _ref_formula(self.ws.title, coord), header, None, None])
        rows = sorted(r.excel_row for r in self.ledger.rows)
        if rows:
            for col in schema.PROGRAM_COLUMNS:
                letter = get_column_letter(self.columns[col.key])
                rs.append([KIND_PROGRAM, _ref_formula(self.ws.title, f"{letter}{rows[0]}:{letter}{rows[-1]}"),
                           col.header, None, None])
        for (sheet, coord), entry in self.entries.items():
            note = json.dumps(entry["comment"], ensure_ascii=False) if entry["comment"] else None
            rs.append([KIND_CELL, _ref_formula(sheet, coord), entry["fill"] or None, note,
                       json.dumps(entry["applied"], ensure_ascii=False)])

    # -- fills ----------------------------------------------------------------------------
    def _fill_of(self, cell) -> str:
        """The cell's fill as XML; "" for no fill."""
        index = cell._style.fillId if cell._style is not None else 0
        if index not in self._fill_xml:
            fill = self.wb._fills[index]
            plain = isinstance(fill, PatternFill) and fill == PatternFill()
            self._fill_xml[index] = "" if plain else tostring(fill.to_tree()).decode("utf-8")
        return self._fill_xml[index]

    def _set_fill(self, cell, key: str) -> None:
        """Give the cell a fill: "solid:ARGB", a fill's XML, or "" for none."""
        index = self._fill_ids.get(key)
        if index is None:
            if key.startswith("solid:"):
                fill = PatternFill(fill_type="solid", start_color=key[6:], end_color=key[6:])
            else:
                fill = Fill.from_tree(fromstring(key)) if key else None
            index = self._fill_ids[key] = self.wb._fills.add(fill or PatternFill())
        if cell._style is None:
            cell._style = StyleArray()
        cell._style.fillId = index

    def _restore_cell(self, cell, fill: str | None, note: dict | None, applied: dict) -> None:
        """Put back the user's fill and note, unless the user has since replaced ours with their own."""
        if "fill" in applied and cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb == applied["fill"]:
            self._set_fill(cell, fill or "")
        if "comment" in applied and cell.comment is not None and _is_ours(cell.comment, applied["comment"]):
            cell.comment = (Comment(note["text"], note["author"], height=note["height"], width=note["width"])
                            if note else None)


# ---- cells ------------------------------------------------------------------------------

def group_findings(findings: Iterable[Finding], ledger: Ledger, anchor, fallback):
    """Findings per marked cell and per ledger row. anchor(f) is the cell a finding names (None when it
    names none, or none that exists); fallback(f, in_row) is its row's 校验结果 cell or the header's."""
    rows = {r.excel_row for r in ledger.rows}
    by_cell: dict[tuple[str, str], list[Finding]] = {}
    by_row: dict[int, list[Finding]] = {}
    for f in findings:
        in_row = f.sheet in (None, ledger.sheet) and f.row in rows
        if in_row:
            by_row.setdefault(f.row, []).append(f)
        by_cell.setdefault(anchor(f) or fallback(f, in_row), []).append(f)
    return by_cell, by_row


def note_of(group: list[Finding]) -> tuple[str, str]:
    """The severity that colours a cell (errors first) and its note: every finding and its fix."""
    group.sort(key=lambda f: f.severity != ERROR)
    severity = ERROR if group[0].severity == ERROR else WARNING
    text = "\n".join(dict.fromkeys(
        f"【{labels.SEVERITY_ZH.get(f.severity, f.severity)}】{f.message}\n处理：{f.hint}" for f in group))
    return severity, text


def _record_rows(rs):
    for values in rs.iter_rows(min_row=3, max_col=len(RECORD_HEADERS), values_only=True):
        # other programs may save the texts as rich text (LibreOffice does): read them as plain text
        values = [v if v is None or isinstance(v, (str, int, float)) else str(v) for v in values]
        kind, ref, *rest = (*values, None, None, None, None)[:len(RECORD_HEADERS)]
        if kind in (KIND_CELL, KIND_PROGRAM, KIND_ADDED) and isinstance(ref, str):
            yield (kind, ref, *rest)


def _ref_formula(sheet: str, ref: str) -> str:
    return "='{}'!{}".format(sheet.replace("'", "''"), ref)


def _parse_ref(formula: str) -> tuple[str, int, int, int, int] | None:
    """(sheet, column, first row, last column, last row) of a recorded reference formula."""
    m = _REF.match(formula)
    if not m:
        return None
    sheet = m.group(1).replace("''", "'") if m.group(1) else m.group(2).strip()
    c1, r1, c2, r2 = range_boundaries(f"{m.group(3)}{m.group(4)}:{m.group(5) or m.group(3)}{m.group(6) or m.group(4)}")
    return sheet, c1, r1, c2, r2


def _json(text: Any) -> Any:
    if not isinstance(text, str) or not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _comment_json(note: Comment | None) -> dict[str, Any] | None:
    if note is None:
        return None
    return {"text": note.text, "author": note.author, "width": note.width, "height": note.height}


def _put(cell, value: Any) -> None:
    if not isinstance(cell, MergedCell):
        cell.value = value


def _digest(text: str) -> str:
    return hashlib.sha1(text.strip().encode("utf-8")).hexdigest()[:16]


def _is_ours(note: Comment, applied: str | None = None) -> bool:
    """A note this program wrote: by author, or by its text (LibreOffice does not keep authors)."""
    text = note.text or ""
    if note.author == AUTHOR or (applied is not None and _digest(text) == applied):
        return True
    return applied is None and bool(_OUR_NOTE.search(text))


def _anchor(ws, coord: str):
    """The cell to mark for a reference (top-left when inside a merged range); None when not one cell."""
    try:
        cell = ws[coord.replace("$", "")]
    except (ValueError, KeyError, IndexError):
        return None
    if not hasattr(cell, "coordinate"):
        return None
    if isinstance(cell, MergedCell):
        for rng in ws.merged_cells.ranges:
            if cell.coordinate in rng:
                return ws.cell(rng.min_row, rng.min_col)
    return cell


def _minutes(value: float | None) -> float | int | None:
    if value is None:
        return None
    value = round(value, 1)
    return int(value) if value == int(value) else value


def _summary(findings: list[Finding]) -> str:
    if not findings:
        return PASSED
    errors = sum(1 for f in findings if f.severity == ERROR)
    warnings_ = len(findings) - errors
    counts = " ".join(f"{n} {labels.SEVERITY_ZH[s]}" for n, s in ((errors, ERROR), (warnings_, WARNING)) if n)
    where = "、".join(dict.fromkeys(f.column for f in findings if f.column))
    return _clean(f"{counts}：{where}" if where else counts)


def _clean(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _box(text: str) -> tuple[int, int]:
    """Note size in px, wide and tall enough for the text at Excel's 9-point note font."""
    def units(line: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
    lines = text.split("\n")
    width = min(max(144, max(units(line) for line in lines) * 6 + 24), 360)
    per_line = (width - 24) / 6
    height = sum(max(1, math.ceil(units(line) / per_line)) for line in lines) * 16 + 16
    return width, max(79, height)


# ---- package ----------------------------------------------------------------------------

def _carry_comment_boxes(wb, parts: dict[str, bytes]) -> None:
    """openpyxl forgets note sizes; take them from the VML so untouched notes keep their boxes."""
    for name, boxes in fileio.note_boxes(parts).items():
        if name not in wb.sheetnames:
            continue
        cells = wb[name]._cells
        for (row, col), (width, height) in boxes.items():
            cell = cells.get((row + 1, col + 1))
            if cell is not None and cell.comment is not None:
                cell.comment.width = round(width)
                cell.comment.height = round(height or cell.comment.height)
