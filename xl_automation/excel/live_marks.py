"""Findings into a workbook open in Excel: what annotate.py does to a file, as a plan of bulk writes and
cell operations that macros/LedgerMarks.bas carries out in-process (no COM round trip per cell).

The protocol with LedgerMarks.bas lives in the very hidden record sheet `_校验标注`: columns A:E are
annotate.py's own record (so the CLI and the buttons undo each other's marks), columns H:P are scratch.
Before Python runs, PrepareMarks writes what only per-cell calls can see (notes, hidden rows, merged
ranges, the 1904 flag) into the scratch; Python plans and writes the record and the operations; ApplyMarks
then sets fills and notes and writes each marked cell's previous fill into the record. macros/README.md
says why it is done this way.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from openpyxl.comments import Comment
from openpyxl.styles.colors import COLOR_INDEX
from openpyxl.styles.fills import Fill, PatternFill
from openpyxl.utils.cell import column_index_from_string
from openpyxl.xml.functions import fromstring

from xl_automation.model import schema

from xl_automation.rules import sla
from xl_automation.xlsx.annotation_record import KIND_ADDED, KIND_CELL, KIND_PROGRAM, RECORD_HEADERS, RECORD_NOTE
from xl_automation.xlsx.annotation_text import (FILLS, SEPARATOR, STATUS_FILLS, clean, digest, group_findings, is_ours, load_json,
                              minutes_value, note_box, note_of, parse_ref, ref_formula, row_summary)
from xl_automation.model.findings import ERROR, Finding
from xl_automation.model.ledger import Ledger, column_letter

SCRATCH_COL = 8                  # H: first scratch column (LedgerMarks.bas FIRST_COL)
SCRATCH_WIDTH = 9                # H:P
FIRST_ROW = 3                    # first record / capture / operation row
CAPTURE_MARK = "LedgerMarks 1"   # H1 once PrepareMarks has run; the protocol version
CAPTURE_FAILED = "LedgerMarks error: "   # H1 when PrepareMarks stopped, followed by Excel's reason
OPS_MARK = "LedgerMarks ops 1"   # H1 once Python has written operations: ApplyMarks runs nothing else
MESSAGE_OP = "MSG"               # H2: the message box ApplyMarks shows when it is done
PX_PER_PT = 4 / 3
# Excel's XlPattern constants by OOXML patternType (LedgerMarks.bas holds the same table)
PATTERNS = {"none": -4142, "solid": 1, "mediumGray": -4125, "darkGray": -4126, "lightGray": -4124,
            "darkHorizontal": -4128, "darkVertical": -4166, "darkDown": -4121, "darkUp": -4162, "darkGrid": 9,
            "darkTrellis": 10, "lightHorizontal": 11, "lightVertical": 12, "lightDown": 13, "lightUp": 14,
            "lightGrid": 15, "lightTrellis": 16, "gray125": 17, "gray0625": 18}
# styles.xml theme index -> XlThemeColor (Excel swaps the first two pairs: 0 is Light1, 1 is Dark1)
THEME_COLORS = {0: 2, 1: 1, 2: 4, 3: 3}
_COORD = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


@dataclass
class Note:
    text: str
    author: str
    width: float                 # px, as annotate records them
    height: float


@dataclass
class Captured:
    """What PrepareMarks saw."""
    sheets: list[str] = field(default_factory=list)
    notes: dict[tuple[str, str], Note] = field(default_factory=dict)
    hidden: dict[str, set[int]] = field(default_factory=dict)
    merged: dict[str, list[tuple[tuple[int, int], tuple[int, int]]]] = field(default_factory=dict)  # 0-based
    date1904: bool = False


@dataclass
class Plan:
    """Bulk writes and cell operations that reproduce annotate.annotate on a live workbook."""
    program: list[tuple[int, int, list[list[Any]]]]    # (first column, first row, rows of values)
    record: list[list[Any]]                             # record rows from FIRST_ROW, columns A:E
    ops: list[list[Any]]                                # operation rows from FIRST_ROW, columns H:P
    cells_marked: int = 0
    error_cells: int = 0
    warning_cells: int = 0
    rows_written: int = 0
    columns_added: list[str] = field(default_factory=list)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def capture_failure(rows: list[list[Any]]) -> str | None:
    """Excel's reason when PrepareMarks stopped half way (e.g. a protected workbook structure)."""
    mark = rows[0][SCRATCH_COL - 1] if rows and len(rows[0]) >= SCRATCH_COL else None
    return mark[len(CAPTURE_FAILED):] if isinstance(mark, str) and mark.startswith(CAPTURE_FAILED) else None


def parse_capture(rows: list[list[Any]]) -> Captured | None:
    """The capture in the record sheet's cells (row 1 first), or None when PrepareMarks has not run."""
    def cell(r: int, c: int) -> Any:
        line = rows[r] if r < len(rows) else []
        return line[c] if c < len(line) else None
    if cell(0, SCRATCH_COL - 1) != CAPTURE_MARK:
        return None
    out = Captured()
    for line in rows[FIRST_ROW - 1:]:
        kind, *rest = [(line[c] if c < len(line) else None) for c in range(SCRATCH_COL - 1, SCRATCH_COL - 1 + SCRATCH_WIDTH)]
        rest = ["" if v is None else v for v in rest]
        if kind == "SHEET":
            out.sheets.append(str(rest[0]))
        elif kind == "HASNOTE":
            sheet, ref, author, text, width, height = rest[:6]
            out.notes[(str(sheet), str(ref))] = Note(str(text), str(author), _number(width) * PX_PER_PT,
                                                     _number(height) * PX_PER_PT)
        elif kind == "HIDDEN":
            out.hidden.setdefault(str(rest[0]), set()).update(int(_number(n)) for n in str(rest[1]).split(",") if n)
        elif kind == "MERGED":
            bounds = _bounds(str(rest[1]))
            if bounds:
                out.merged.setdefault(str(rest[0]), []).append(bounds)
        elif kind == "BOOK":
            out.date1904 = str(rest[1]).strip().lower() in ("true", "1", "-1")
    return out


def _bounds(ref: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """'A1:C2' -> ((0, 0), (1, 2)), calamine's 0-based form."""
    ends = [_cell(part) for part in ref.replace("$", "").split(":")]
    if not ends or None in ends:
        return None
    (r1, c1), (r2, c2) = ends[0], ends[-1]
    return (r1 - 1, c1 - 1), (r2 - 1, c2 - 1)


def _cell(coord: str) -> tuple[int, int] | None:
    """'B7' -> (7, 2); None when not one cell."""
    m = _COORD.match(coord.strip().upper())
    return (int(m.group(2)), column_index_from_string(m.group(1))) if m else None


def record_entries(rows: list[list[Any]]) -> Iterable[tuple[Any, ...]]:
    """annotate's record rows (kind, reference formula, value, note, applied) from the record sheet's formulas."""
    for line in rows[FIRST_ROW - 1:]:
        values = [(line[c] if c < len(line) else None) for c in range(len(RECORD_HEADERS))]
        values = [None if v == "" else v if v is None or isinstance(v, (str, int, float)) else str(v) for v in values]
        kind, ref, *rest = values
        if kind in (KIND_CELL, KIND_PROGRAM, KIND_ADDED) and isinstance(ref, str):
            yield (kind, ref, *rest)


def bgr(argb: str) -> int:
    """'FFRRGGBB' -> the Long VBA's Interior.Color uses."""
    rgb = argb[-6:]
    return int(rgb[0:2], 16) + int(rgb[2:4], 16) * 256 + int(rgb[4:6], 16) * 65536


def fill_spec(xml: str | None) -> list[Any]:
    """A recorded fill (annotate's XML, "" for none) as ApplyMarks' arguments: pattern, color, theme, tint, pattern color."""
    none = [PATTERNS["none"], "", "", "", ""]
    if not xml:
        return none
    try:
        fill = Fill.from_tree(fromstring(xml))
    except Exception:   # a fill this program cannot read: leave the cell without one rather than guess
        return none
    if not isinstance(fill, PatternFill) or not fill.fill_type or fill.fill_type not in PATTERNS:
        return none
    solid = fill.fill_type == "solid"
    cell_colour = fill.fgColor if solid else fill.bgColor
    color, theme, tint = _colour(cell_colour)
    pattern_colour = "" if solid else _colour(fill.fgColor)[0]
    return [PATTERNS[fill.fill_type], color, theme, tint, pattern_colour]


def _colour(colour) -> tuple[Any, Any, Any]:
    """(BGR long, "", "") or ("", XlThemeColor, tint) of an openpyxl Color; blanks when automatic."""
    if colour is None:
        return "", "", ""
    if colour.type == "theme" and colour.theme is not None:
        return "", THEME_COLORS.get(colour.theme, colour.theme + 1), colour.tint or 0
    if colour.type == "indexed" and colour.indexed is not None and colour.indexed < len(COLOR_INDEX):
        return bgr(COLOR_INDEX[colour.indexed]), "", ""
    if colour.type == "rgb" and isinstance(colour.rgb, str):
        return bgr(colour.rgb), "", ""
    return "", "", ""


def _note_json(note: Note | None) -> str | None:
    if note is None:
        return None
    # whole px, as annotate records the boxes it reads from the VML
    return json.dumps({"text": note.text, "author": note.author, "width": round(note.width),
                       "height": round(note.height)}, ensure_ascii=False)


def _pt(px: float) -> float:
    return round(px / PX_PER_PT, 2)


class _Planner:
    """annotate._Run, over plain values and captured notes instead of an openpyxl workbook."""

    def __init__(self, ledger: Ledger, grid: list[list[Any]], captured: Captured):
        self.ledger, self.grid, self.captured = ledger, grid, captured
        self.sheet = ledger.sheet
        self.notes: dict[tuple[str, str], Note | None] = dict(captured.notes)
        self.merged = captured.merged
        self.ops: list[list[Any]] = []
        self.entries: dict[tuple[str, str], dict[str, Any]] = {}
        self.values: dict[tuple[int, int], Any] = {}          # (row, column) -> program value written
        self.added: dict[str, str] = {}
        self.previously_added: dict[str, str] = {}
        self.columns: dict[str, int] = {}
        self.columns_added: list[str] = []
        self.cells_marked = self.error_cells = self.warning_cells = self.rows_written = 0

    def value(self, row: int, col: int) -> Any:
        line = self.grid[row - 1] if 0 < row <= len(self.grid) else []
        v = line[col - 1] if 0 < col <= len(line) else None
        return None if v == "" else v

    def merged_owner(self, sheet: str, row: int, col: int) -> tuple[int, int] | None:
        """(row, col) of the top-left cell of the merged range holding the cell, if it is one."""
        for (r1, c1), (r2, c2) in self.merged.get(sheet, ()):
            if r1 + 1 <= row <= r2 + 1 and c1 + 1 <= col <= c2 + 1:
                return r1 + 1, c1 + 1
        return None

    def is_covered(self, sheet: str, row: int, col: int) -> bool:
        """A merged cell other than its range's top-left: openpyxl's MergedCell, which annotate skips."""
        owner = self.merged_owner(sheet, row, col)
        return owner is not None and owner != (row, col)

    # -- undo ---------------------------------------------------------------------------
    def undo_previous(self, record: list[tuple[Any, ...]]) -> None:
        rows = {r.excel_row for r in self.ledger.rows}
        restored: set[tuple[str, str]] = set()
        self.cleared: dict[int, set[int]] = {}
        for kind, ref, value, note, applied in record:
            target = parse_ref(ref)
            if target is None or target[0] not in self.captured.sheets:
                continue
            sheet, col, top, _, bottom = target
            if kind == KIND_CELL:
                if self.is_covered(sheet, top, col):
                    continue
                key = (sheet, f"{column_letter(col)}{top}")
                self._restore(key, value, load_json(note), load_json(applied) or {})
                restored.add(key)
            elif kind == KIND_PROGRAM and sheet == self.sheet:
                for row in range(top, bottom + 1):
                    if row not in rows and self.value(row, col) is not None and not self.is_covered(sheet, row, col):
                        self.cleared.setdefault(col, set()).add(row)
            elif kind == KIND_ADDED and sheet == self.sheet and self.value(top, col) == value:
                self.previously_added[value] = f"{column_letter(col)}{top}"
        self._strip_stray_notes(restored)

    def _restore(self, key: tuple[str, str], fill: Any, note: dict | None, applied: dict) -> None:
        if "fill" in applied:
            self.ops.append(["RF", *key, bgr(applied["fill"]), *fill_spec(fill if isinstance(fill, str) else "")])
        current = self.notes.get(key)
        if "comment" in applied and current is not None and is_ours(Comment(current.text, current.author),
                                                                     applied["comment"]):
            self._set_note(key, Note(note["text"], note.get("author") or "", note["width"], note["height"])
                           if note else None)

    def _strip_stray_notes(self, restored: set[tuple[str, str]]) -> None:
        for key, note in list(self.notes.items()):
            if note is None or key in restored or not is_ours(Comment(note.text, note.author)):
                continue
            user = note.text.split("\n" + SEPARATOR + "\n")[0] if SEPARATOR in note.text else None
            self._set_note(key, Note(user, "", note.width, note.height) if user else None)

    def _set_note(self, key: tuple[str, str], note: Note | None) -> None:
        """Give the cell this note (None: no note). VBA cannot set a note's author: it edits the text of the
        note that is there, which keeps that author, and replaces the note when the author must change
        (a note the CLI wrote as 综合受理校验 must not come back as the user's note under that name)."""
        current = self.notes.get(key)
        replace = note is not None and current is not None and current.author != note.author
        self.notes[key] = note
        self.ops.append(["NOTE", *key, note.text if note else "", _pt(note.width) if note else "",
                         _pt(note.height) if note else "", 1 if replace else 0])

    # -- program columns ----------------------------------------------------------------
    def write_program_columns(self, clocks: dict[int, sla.RowClock]) -> None:
        self._ensure_program_columns()
        minutes, status = self.columns["response_minutes"], self.columns["sla_status"]
        for col, rows in self.cleared.items():
            for row in rows:
                self.values[(row, col)] = None
        for row in self.ledger.rows:
            clock = clocks.get(row.excel_row)
            self._put(row.excel_row, minutes, minutes_value(clock.minutes) if clock else None)
            self._put(row.excel_row, status, clock.status if clock else None)
            if clock and clock.status in STATUS_FILLS and not self.is_covered(self.sheet, row.excel_row, status):
                self._mark((self.sheet, f"{column_letter(status)}{row.excel_row}"), STATUS_FILLS[clock.status], None)
            self.rows_written += 1

    def _put(self, row: int, col: int, value: Any) -> None:
        if not self.is_covered(self.sheet, row, col):
            self.values[(row, col)] = value

    def _ensure_program_columns(self) -> None:
        header_row = self.ledger.header_row
        line = self.grid[header_row - 1] if header_row <= len(self.grid) else []
        header_cells = {v: c for c, v in enumerate(line, 1) if isinstance(v, str) and v}
        used = {c for row in self.grid for c, v in enumerate(row, 1) if v not in (None, "")}
        used |= {col for (r1, c1), (r2, c2) in self.merged.get(self.sheet, ()) if r1 + 1 <= header_row <= r2 + 1
                 for col in range(c1 + 1, c2 + 2)}
        last = max((c for c, v in enumerate(line, 1) if v not in (None, "")), default=1)
        source = f"{column_letter(last)}{header_row}"
        free = last + 1
        for col in schema.PROGRAM_COLUMNS:
            index = self.ledger.columns.get(col.key) or header_cells.get(col.header)
            if index is None:
                while free in used:
                    free += 1
                index, free = free, free + 1
                coord = f"{column_letter(index)}{header_row}"
                self.ops.append(["HEAD", self.sheet, coord, source, col.header, col.width])
                self.columns_added.append(col.header)
                self.added[col.header] = coord
            elif col.header in self.previously_added:
                self.added[col.header] = self.previously_added[col.header]
            self.columns[col.key] = index

    # -- findings -----------------------------------------------------------------------
    def mark_findings(self, findings: list[Finding]) -> None:
        result_col = self.columns["check_result"]
        header = (self.sheet, f"{column_letter(result_col)}{self.ledger.header_row}")

        def anchor(f: Finding):
            known = f.sheet is None or f.sheet in self.captured.sheets
            return self._anchor(f.sheet or self.sheet, f.cell) if f.cell and known else None

        def fallback(f: Finding, in_row: bool):
            return (self.sheet, f"{column_letter(result_col)}{f.row}") if in_row else header

        by_cell, by_row = group_findings(findings, self.ledger, anchor, fallback)
        for row in self.ledger.rows:
            self._put(row.excel_row, result_col, row_summary(by_row.get(row.excel_row, [])))
        for key, group in by_cell.items():
            severity, text = note_of(group)
            self._mark(key, FILLS[severity], text)
            self.cells_marked += 1
            if severity == ERROR:
                self.error_cells += 1
            else:
                self.warning_cells += 1

    def _anchor(self, sheet: str, coord: str) -> tuple[str, str] | None:
        at = _cell(coord)
        if at is None:
            return None
        owner = self.merged_owner(sheet, *at) or at
        return sheet, f"{column_letter(owner[1])}{owner[0]}"

    def _mark(self, key: tuple[str, str], rgb: str, text: str | None) -> None:
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = {"note": self.notes.get(key), "applied": {}, "text": None}
        entry["applied"]["fill"] = rgb
        if text:
            user = entry["note"]
            entry["text"] = clean(f"{user.text.rstrip()}\n{SEPARATOR}\n{text}" if user else text)
            entry["applied"]["comment"] = digest(entry["text"])

    # -- output -------------------------------------------------------------------------
    def record_and_marks(self) -> list[list[Any]]:
        """The record rows; appends a MARK operation per entry, pointing at its record row."""
        record: list[list[Any]] = [[KIND_ADDED, ref_formula(self.sheet, coord), header, None, None]
                                   for header, coord in self.added.items()]
        rows = sorted(r.excel_row for r in self.ledger.rows)
        if rows:
            for col in schema.PROGRAM_COLUMNS:
                letter = column_letter(self.columns[col.key])
                record.append([KIND_PROGRAM, ref_formula(self.sheet, f"{letter}{rows[0]}:{letter}{rows[-1]}"),
                               col.header, None, None])
        for (sheet, coord), entry in self.entries.items():
            record.append([KIND_CELL, ref_formula(sheet, coord), None, _note_json(entry["note"]),
                           json.dumps(entry["applied"], ensure_ascii=False)])
            text = entry["text"]
            width, height = note_box(text) if text else (0, 0)
            self.ops.append(["MARK", sheet, coord, bgr(entry["applied"]["fill"]), text or "",
                             _pt(width) if text else "", _pt(height) if text else "", FIRST_ROW + len(record) - 1])
        return record

    def program_blocks(self) -> list[tuple[int, int, list[list[Any]]]]:
        """One rectangle of values per run of adjacent program columns; rows untouched keep their value."""
        if not self.values:
            return []
        cols = sorted({c for _, c in self.values})
        top = min(r for r, _ in self.values)
        bottom = max(r for r, _ in self.values)
        runs: list[list[int]] = []
        for c in cols:
            if runs and c == runs[-1][-1] + 1:
                runs[-1].append(c)
            else:
                runs.append([c])
        blocks = []
        for run in runs:
            body = [[self.values[(r, c)] if (r, c) in self.values else self.value(r, c) for c in run]
                    for r in range(top, bottom + 1)]
            blocks.append((run[0], top, body))
        return blocks


def plan(ledger: Ledger, findings: Iterable[Finding], clocks: dict[int, sla.RowClock], *,
         grid: list[list[Any]], record_rows: list[list[Any]], captured: Captured) -> Plan:
    """What to write so that the live workbook ends as annotate.annotate would leave the file."""
    p = _Planner(ledger, grid, captured)
    p.undo_previous(list(record_entries(record_rows)))
    p.write_program_columns(clocks)
    p.mark_findings(list(findings))
    record = p.record_and_marks()
    return Plan(p.program_blocks(), record, p.ops, p.cells_marked, p.error_cells, p.warning_cells,
                p.rows_written, p.columns_added)


def record_sheet_block(plan_: Plan, message: tuple[str, str, str] | None) -> list[list[Any]]:
    """The whole record sheet as one rectangle from A1: annotate's record in A:E, the operations in H:P.

    message: (title, text, "info" | "warning") for the box ApplyMarks shows once the marks are set.
    Numbers in the scratch are written as text: ApplyMarks reads them with Val(), whatever the locale.
    """
    width = SCRATCH_COL - 1 + SCRATCH_WIDTH
    height = max(len(plan_.record), len(plan_.ops)) + FIRST_ROW - 1
    block: list[list[Any]] = [[None] * width for _ in range(height)]
    block[0][0] = RECORD_NOTE
    block[0][SCRATCH_COL - 1] = OPS_MARK
    block[1][:len(RECORD_HEADERS)] = list(RECORD_HEADERS)
    if message:
        block[1][SCRATCH_COL - 1:SCRATCH_COL + 3] = [MESSAGE_OP, *message]
    for i, line in enumerate(plan_.record):
        block[FIRST_ROW - 1 + i][:len(line)] = line
    for i, op in enumerate(plan_.ops):
        block[FIRST_ROW - 1 + i][SCRATCH_COL - 1:SCRATCH_COL - 1 + len(op)] = [
            _text(v) for v in op]
    return block


def _text(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)
