"""The plan for a workbook open in Excel: what annotate.py does to a file, over the values and notes the
macros captured (live_marks.py holds that protocol). One part per concern, run in this order by `plan`:

- `Grid`: the sheet's values and merged ranges as captured (which cell holds a value, which is covered);
- `Undo`: the previous annotation's marks taken off (fills restored, our notes removed, stale program values);
- `ProgramColumns`: the program's columns found or added, and the values written into them;
- `Marks`: a fill (and a note) per finding's cell, the record of what was changed, a MARK operation each.

They share the list of operations for LedgerMarks.bas (appended in that order) and the notes as they stand.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from openpyxl.comments import Comment

from xl_automation.excel.live_marks import (FIRST_ROW, Captured, Note, Plan, bgr, cell_at, fill_spec, note_json,
                                            pt, record_entries)
from xl_automation.model import schema
from xl_automation.model.findings import ERROR, Finding
from xl_automation.model.ledger import Ledger, column_letter, consecutive_runs
from xl_automation.rules import sla
from xl_automation.xlsx.annotation_record import KIND_ADDED, KIND_CELL, KIND_PROGRAM
from xl_automation.xlsx.annotation_text import (FILLS, SEPARATOR, STATUS_FILLS, clean, digest, group_findings, is_ours,
                                                load_json, minutes_value, note_box, note_of, parse_ref, ref_formula,
                                                row_summary)

Key = tuple[str, str]          # (sheet, "B7")


@dataclass
class Grid:
    """The ledger sheet's values (row 1 first) and every sheet's merged ranges, as PrepareMarks captured them."""
    rows: list[list[Any]]
    merged: dict[str, list[tuple[tuple[int, int], tuple[int, int]]]] = field(default_factory=dict)

    def value(self, row: int, col: int) -> Any:
        line = self.rows[row - 1] if 0 < row <= len(self.rows) else []
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

    def anchor(self, sheet: str, coord: str) -> Key | None:
        """The cell a mark lands on: the top-left of its merged range; None when coord is not one cell."""
        at = cell_at(coord)
        if at is None:
            return None
        owner = self.merged_owner(sheet, *at) or at
        return sheet, f"{column_letter(owner[1])}{owner[0]}"


class Undo:
    """The previous annotation taken off, as annotate does before it marks again."""

    def __init__(self, ledger: Ledger, grid: Grid, sheets: list[str], notes: dict[Key, Note | None],
                 ops: list[list[Any]]):
        self.ledger, self.grid, self.sheets, self.notes, self.ops = ledger, grid, sheets, notes, ops
        self.cleared: dict[int, set[int]] = {}        # program column -> rows no longer in the ledger
        self.previously_added: dict[str, str] = {}    # header -> cell of a column an earlier run added

    def run(self, record: list[tuple[Any, ...]]) -> None:
        rows = {r.excel_row for r in self.ledger.rows}
        restored: set[Key] = set()
        sheet_name = self.ledger.sheet
        for kind, ref, value, note, applied in record:
            target = parse_ref(ref)
            if target is None or target[0] not in self.sheets:
                continue
            sheet, col, top, _, bottom = target
            if kind == KIND_CELL:
                if self.grid.is_covered(sheet, top, col):
                    continue
                key = (sheet, f"{column_letter(col)}{top}")
                self._restore(key, value, load_json(note), load_json(applied) or {})
                restored.add(key)
            elif kind == KIND_PROGRAM and sheet == sheet_name:
                for row in range(top, bottom + 1):
                    if row not in rows and self.grid.value(row, col) is not None and not self.grid.is_covered(sheet, row, col):
                        self.cleared.setdefault(col, set()).add(row)
            elif kind == KIND_ADDED and sheet == sheet_name and self.grid.value(top, col) == value:
                self.previously_added[value] = f"{column_letter(col)}{top}"
        self._strip_stray_notes(restored)

    def _restore(self, key: Key, fill: Any, note: dict | None, applied: dict) -> None:
        if "fill" in applied:
            self.ops.append(["RF", *key, bgr(applied["fill"]), *fill_spec(fill if isinstance(fill, str) else "")])
        current = self.notes.get(key)
        if "comment" in applied and current is not None and is_ours(Comment(current.text, current.author),
                                                                     applied["comment"]):
            self._set_note(key, Note(note["text"], note.get("author") or "", note["width"], note["height"])
                           if note else None)

    def _strip_stray_notes(self, restored: set[Key]) -> None:
        for key, note in list(self.notes.items()):
            if note is None or key in restored or not is_ours(Comment(note.text, note.author)):
                continue
            user = note.text.split("\n" + SEPARATOR + "\n")[0] if SEPARATOR in note.text else None
            self._set_note(key, Note(user, "", note.width, note.height) if user else None)

    def _set_note(self, key: Key, note: Note | None) -> None:
        """Give the cell this note (None: no note). VBA cannot set a note's author: it edits the text of the
        note that is there, which keeps that author, and replaces the note when the author must change
        (a note the CLI wrote as 综合受理校验 must not come back as the user's note under that name)."""
        current = self.notes.get(key)
        replace = note is not None and current is not None and current.author != note.author
        self.notes[key] = note
        self.ops.append(["NOTE", *key, note.text if note else "", pt(note.width) if note else "",
                         pt(note.height) if note else "", 1 if replace else 0])


class ProgramColumns:
    """The program's columns (响应用时, 时限状态, 校验结果): found by key or header, or added after the last
    used column; and the values written into them, as rectangles."""

    def __init__(self, ledger: Ledger, grid: Grid, ops: list[list[Any]]):
        self.ledger, self.grid, self.ops = ledger, grid, ops
        self.sheet = ledger.sheet
        self.columns: dict[str, int] = {}          # column key -> index
        self.added: dict[str, str] = {}            # header -> cell, of columns this or an earlier run added
        self.columns_added: list[str] = []         # headers this run added
        self.values: dict[tuple[int, int], Any] = {}
        self.rows_written = 0

    def ensure(self, previously_added: dict[str, str]) -> None:
        header_row = self.ledger.header_row
        grid = self.grid.rows
        line = grid[header_row - 1] if header_row <= len(grid) else []
        header_cells = {v: c for c, v in enumerate(line, 1) if isinstance(v, str) and v}
        used = {c for row in grid for c, v in enumerate(row, 1) if v not in (None, "")}
        used |= {col for (r1, c1), (r2, c2) in self.grid.merged.get(self.sheet, ()) if r1 + 1 <= header_row <= r2 + 1
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
            elif col.header in previously_added:
                self.added[col.header] = previously_added[col.header]
            self.columns[col.key] = index

    def put(self, row: int, col: int, value: Any) -> None:
        if not self.grid.is_covered(self.sheet, row, col):
            self.values[(row, col)] = value

    def write_clocks(self, clocks: dict[int, sla.RowClock], cleared: dict[int, set[int]], marks: Marks) -> None:
        """Minutes and status per row (a status fill through marks); stale values of removed rows cleared."""
        minutes, status = self.columns["response_minutes"], self.columns["sla_status"]
        for col, rows in cleared.items():
            for row in rows:
                self.values[(row, col)] = None
        for row in self.ledger.rows:
            clock = clocks.get(row.excel_row)
            self.put(row.excel_row, minutes, minutes_value(clock.minutes) if clock else None)
            self.put(row.excel_row, status, clock.status if clock else None)
            if clock and clock.status in STATUS_FILLS and not self.grid.is_covered(self.sheet, row.excel_row, status):
                marks.mark((self.sheet, f"{column_letter(status)}{row.excel_row}"), STATUS_FILLS[clock.status], None)
            self.rows_written += 1

    def blocks(self) -> list[tuple[int, int, list[list[Any]]]]:
        """One rectangle of values per run of adjacent program columns; rows untouched keep their value."""
        if not self.values:
            return []
        runs = consecutive_runs(sorted({c for _, c in self.values}))
        top = min(r for r, _ in self.values)
        bottom = max(r for r, _ in self.values)
        return [(run[0], top, [[self.values[(r, c)] if (r, c) in self.values else self.grid.value(r, c) for c in run]
                               for r in range(top, bottom + 1)])
                for run in runs]


class Marks:
    """A fill, and a note for findings, per marked cell; what each replaced, for the record and the undo."""

    def __init__(self, notes: dict[Key, Note | None]):
        self.notes = notes
        self.entries: dict[Key, dict[str, Any]] = {}
        self.cells_marked = self.error_cells = self.warning_cells = 0

    def mark(self, key: Key, rgb: str, text: str | None) -> None:
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = {"note": self.notes.get(key), "applied": {}, "text": None}
        entry["applied"]["fill"] = rgb
        if text:
            user = entry["note"]
            entry["text"] = clean(f"{user.text.rstrip()}\n{SEPARATOR}\n{text}" if user else text)
            entry["applied"]["comment"] = digest(entry["text"])

    def findings(self, findings: list[Finding], ledger: Ledger, grid: Grid, sheets: list[str],
                 program: ProgramColumns) -> None:
        """Each finding on its cell (else its row's 校验结果, else that column's header); a summary per row."""
        sheet = ledger.sheet
        result_col = program.columns["check_result"]
        header = (sheet, f"{column_letter(result_col)}{ledger.header_row}")

        def anchor(f: Finding):
            known = f.sheet is None or f.sheet in sheets
            return grid.anchor(f.sheet or sheet, f.cell) if f.cell and known else None

        def fallback(f: Finding, in_row: bool):
            return (sheet, f"{column_letter(result_col)}{f.row}") if in_row else header

        by_cell, by_row = group_findings(findings, ledger, anchor, fallback)
        for row in ledger.rows:
            program.put(row.excel_row, result_col, row_summary(by_row.get(row.excel_row, [])))
        for key, group in by_cell.items():
            severity, text = note_of(group)
            self.mark(key, FILLS[severity], text)
            self.cells_marked += 1
            if severity == ERROR:
                self.error_cells += 1
            else:
                self.warning_cells += 1

    def record(self, ledger: Ledger, program: ProgramColumns, ops: list[list[Any]]) -> list[list[Any]]:
        """The record rows (added columns, program ranges, marked cells); a MARK operation per marked cell,
        pointing at its record row."""
        sheet = ledger.sheet
        record: list[list[Any]] = [[KIND_ADDED, ref_formula(sheet, coord), header, None, None]
                                   for header, coord in program.added.items()]
        rows = sorted(r.excel_row for r in ledger.rows)
        if rows:
            for col in schema.PROGRAM_COLUMNS:
                letter = column_letter(program.columns[col.key])
                record.append([KIND_PROGRAM, ref_formula(sheet, f"{letter}{rows[0]}:{letter}{rows[-1]}"),
                               col.header, None, None])
        for (where, coord), entry in self.entries.items():
            record.append([KIND_CELL, ref_formula(where, coord), None, note_json(entry["note"]),
                           json.dumps(entry["applied"], ensure_ascii=False)])
            text = entry["text"]
            width, height = note_box(text) if text else (0, 0)
            ops.append(["MARK", where, coord, bgr(entry["applied"]["fill"]), text or "",
                        pt(width) if text else "", pt(height) if text else "", FIRST_ROW + len(record) - 1])
        return record


def plan(ledger: Ledger, findings: Iterable[Finding], clocks: dict[int, sla.RowClock], *,
         grid: list[list[Any]], record_rows: list[list[Any]], captured: Captured) -> Plan:
    """What to write so that the live workbook ends as annotate.annotate would leave the file."""
    cells = Grid(grid, captured.merged)
    notes: dict[Key, Note | None] = dict(captured.notes)
    ops: list[list[Any]] = []
    undo = Undo(ledger, cells, captured.sheets, notes, ops)
    undo.run(list(record_entries(record_rows)))
    program = ProgramColumns(ledger, cells, ops)
    program.ensure(undo.previously_added)
    marks = Marks(notes)
    program.write_clocks(clocks, undo.cleared, marks)
    marks.findings(list(findings), ledger, cells, captured.sheets, program)
    record = marks.record(ledger, program, ops)
    return Plan(program.blocks(), record, ops, marks.cells_marked, marks.error_cells, marks.warning_cells,
                program.rows_written, program.columns_added)
