"""Write findings and the 2-hour clock back into the ledger workbook, undoing the previous run's marks first.

The workbook is patched, not re-saved: only the parts the marks live in are rewritten (the marked sheets'
XML, the styles part extended, the notes parts, the record sheet, the workbook part when the record sheet
is new); every other part is copied as it is, byte for byte (annotate_book.Book opens and saves them).
Three passes, one class each, in this order: Undo (the previous run's marks off), ProgramColumns (found
or added, values written), Marks (a fill and a note per finding's cell, and what each replaced).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from xl_automation.xlsx import fileio

from xl_automation.model import labels

from xl_automation.model import schema

from xl_automation.rules import sla
from xl_automation.xlsx.annotate_book import Book
from xl_automation.xlsx.annotation_record import KIND_ADDED, KIND_CELL, KIND_PROGRAM, exact, read_record
from xl_automation.xlsx.annotation_text import (AUTHOR, FILLS, SEPARATOR, STATUS_FILLS, clean, digest, group_findings, is_ours,
                              load_json, minutes_value, note_box, note_of, parse_ref, ref_formula, row_summary)
from xl_automation.model.findings import ERROR, Finding, make
from xl_automation.model.ledger import Ledger, LedgerError
from xl_automation.xlsx.xlsx_cells import ref_of, split_ref
from xl_automation.xlsx.xlsx_notes import Note
from xl_automation.xlsx.xlsx_package import Package
from xl_automation.xlsx.xlsx_styles import solid

COPY_TAG = "校验标注"
SUPPORTED = (".xlsx", ".xlsm", ".xltx", ".xltm")


@dataclass
class AnnotateResult:
    path: Path                      # the workbook written
    is_copy: bool                   # always False now: the file itself is patched (kept for the JSON output)
    reasons: list[str]              # empty: kept for the JSON output's shape
    cells_marked: int = 0           # cells given a fill and a note for findings
    error_cells: int = 0
    warning_cells: int = 0
    rows_written: int = 0           # ledger rows whose program columns were written
    columns_added: list[str] = field(default_factory=list)
    notices: list[Finding] = field(default_factory=list)   # what the user should know about the write


def copy_path(path: Path) -> Path:
    """Where versions before the package patch wrote an annotated copy (tests check none is made now)."""
    return path.with_name(f"{path.stem}.{COPY_TAG}{path.suffix}")


def annotate(ledger: Ledger, findings: Iterable[Finding], clocks: dict[int, sla.RowClock], *,
             now: datetime | None = None) -> AnnotateResult:
    """Mark findings and write the program columns into the workbook itself.

    `now` is accepted for the callers' symmetry; nothing of the clock is written (document properties and
    zip entry dates stay the file's own)."""
    path = Path(ledger.path)
    suffix = path.suffix.lower()
    if getattr(ledger, "format", None) == "xls" or suffix == ".xls":
        raise LedgerError("file-old-xls", path)
    if suffix not in SUPPORTED:
        raise LedgerError("file-not-xlsx", path)
    fileio.check_not_open(path)
    with Package(path) as pkg:
        book = Book(pkg, ledger.sheet)
        notices = [make("annotate-protected", sheet=ledger.sheet)] if book.sheet(ledger.sheet).protected else []
        undo = Undo(book, ledger)
        undo.run()
        program, marks = ProgramColumns(book, ledger), Marks(book)
        program.ensure(undo.previously_added)
        program.write_clocks(clocks, marks)
        marks.findings(list(findings), ledger, program)
        book.save(program.record_rows() + marks.record_rows())
        try:
            pkg.write(path, mode_from=path)
        except PermissionError as exc:   # Windows: another program holds the file
            raise LedgerError("file-locked", path, lock=path.name) from exc
    return AnnotateResult(path, False, [], marks.cells_marked, marks.error_cells, marks.warning_cells,
                          program.rows_written, program.columns_added, notices)


class Undo:
    """The previous run's marks taken off: every recorded cell's fill and note put back, program values in
    rows gone from the ledger cleared, the columns an earlier run added remembered."""

    def __init__(self, book: Book, ledger: Ledger):
        self.book, self.ledger = book, ledger
        self.previously_added: dict[str, str] = {}    # header -> cell

    def run(self) -> None:
        book = self.book
        record = book.parts.get(labels.ANNOTATION_SHEET)
        ledger_ws = book.sheet(self.ledger.sheet)
        rows = {r.excel_row for r in self.ledger.rows}
        restored: set[tuple[str, int, int]] = set()
        for kind, ref, value, note, applied, extra in read_record(book.pkg, record, book.strings):
            target = parse_ref(ref)
            if target is None or not book.markable(target[0]):
                continue   # the cell was deleted (#REF!) or its sheet removed
            name, col, top, _, bottom = target
            ws = book.sheet(name)
            if kind == KIND_CELL:
                if not ws.covered(top, col):
                    self._restore_cell(name, top, col, value, load_json(note), load_json(applied) or {},
                                       exact(extra))
                    restored.add((name, top, col))
            elif kind == KIND_PROGRAM and ws is ledger_ws:
                for row in range(top, bottom + 1):
                    if row not in rows and ws.value(row, col) is not None and not ws.covered(row, col):
                        ws.set_value(row, col, None)
            elif kind == KIND_ADDED and ws is ledger_ws and ws.value(top, col) == value:
                self.previously_added[value] = ref_of(top, col)
        self._strip_stray_notes(restored)

    def _restore_cell(self, name: str, row: int, col: int, fill: Any, note: dict | None, applied: dict,
                      extra: dict) -> None:
        """Put back the user's fill and note, unless the user has since replaced ours with their own."""
        ws, styles = self.book.sheet(name), self.book.styles
        now = ws.style(row, col)
        if "fill" in applied and styles.solid_rgb(now) == applied["fill"]:
            fill = fill if isinstance(fill, str) else ""
            before = extra.get("s")
            if isinstance(before, int) and styles.same_but_fill(before, now) and styles.fill_xml(before) == fill:
                ws.set_style(row, col, before)     # exactly the format it had
            else:                                  # recorded by the live path, or formats renumbered since
                ws.set_style(row, col, styles.with_fill(now, fill))
            ws.drop_if_bare(row, col)
        notes = self.book.notes(name) if "comment" in applied else None
        current = notes.get(row, col) if notes else None
        if current is not None and is_ours(current, applied["comment"]):
            if note and isinstance(extra.get("note"), dict) and extra["note"].get("xml"):
                notes.restore(row, col, extra["note"])
            elif note:
                notes.set(row, col, Note(str(note.get("text", "")), note.get("author") or "",
                                         note.get("width") or 144, note.get("height") or 79))
            else:
                notes.set(row, col, None)

    def _strip_stray_notes(self, restored: set[tuple[str, int, int]]) -> None:
        """Our notes that moved away from their recorded cell (e.g. after a sort): keep only the user's part."""
        for name in self.book.with_notes():
            notes = self.book.notes(name)
            for (row, col) in list(notes.elements):
                note = notes.get(row, col)
                if note is None or (name, row, col) in restored or not is_ours(note):
                    continue
                user = note.text.split("\n" + SEPARATOR + "\n")[0] if SEPARATOR in note.text else None
                notes.set(row, col, Note(user, "", note.width, note.height) if user else None)


class ProgramColumns:
    """The program's columns (响应用时, 时限状态, 校验结果) found, or appended in empty columns right of the
    header; the values written into them."""

    def __init__(self, book: Book, ledger: Ledger):
        self.ledger = ledger
        self.ws = book.sheet(ledger.sheet)
        self.columns: dict[str, int] = {}         # column key -> index
        self.added: dict[str, str] = {}           # header -> cell, of columns this or an earlier run added
        self.columns_added: list[str] = []        # headers this run added
        self.rows_written = 0

    def ensure(self, previously_added: dict[str, str]) -> None:
        """Find the program columns, or append the missing ones in empty columns right of the header."""
        ws, header_row = self.ws, self.ledger.header_row
        values = [(r, c, ws.value_of(el)) for r, c, el in ws.cells()]
        header_cells = {v: c for r, c, v in values if r == header_row and isinstance(v, str)}
        used = {c for _, c, v in values if v is not None}
        used |= {c for r1, c1, r2, c2 in ws.merged if r1 <= header_row <= r2 for c in range(c1, c2 + 1)}
        last = max((c for r, c, v in values if r == header_row and v is not None), default=1)
        style_source = ws.style(header_row, last)
        free = last + 1
        for col in schema.PROGRAM_COLUMNS:
            index = self.ledger.columns.get(col.key) or header_cells.get(col.header)
            if index is None:
                while free in used:   # never write over the user's cells beside the table
                    free += 1
                index, free = free, free + 1
                ws.set_value(header_row, index, col.header)
                ws.set_style(header_row, index, style_source)
                ws.set_width(index, col.width)
                self.columns_added.append(col.header)
                self.added[col.header] = ref_of(header_row, index)
            elif col.header in previously_added:
                self.added[col.header] = previously_added[col.header]
            self.columns[col.key] = index

    def put(self, row: int, col: int, value: Any) -> None:
        if not self.ws.covered(row, col):
            self.ws.set_value(row, col, value)

    def write_clocks(self, clocks: dict[int, sla.RowClock], marks: Marks) -> None:
        """Minutes and status per row; a status that needs attention gets its fill through marks."""
        minutes, status = self.columns["response_minutes"], self.columns["sla_status"]
        for row in self.ledger.rows:
            clock = clocks.get(row.excel_row)
            self.put(row.excel_row, minutes, minutes_value(clock.minutes) if clock else None)
            self.put(row.excel_row, status, clock.status if clock else None)
            if clock and clock.status in STATUS_FILLS and not self.ws.covered(row.excel_row, status):
                marks.mark(self.ledger.sheet, row.excel_row, status, STATUS_FILLS[clock.status], None)
            self.rows_written += 1

    def record_rows(self) -> list[list[Any]]:
        """The record's rows for the added columns and the ranges the program's values were written to."""
        sheet = self.ledger.sheet
        rows: list[list[Any]] = [[KIND_ADDED, ref_formula(sheet, ref), header, None, None]
                                 for header, ref in self.added.items()]
        excel_rows = sorted(r.excel_row for r in self.ledger.rows)
        if excel_rows:
            for col in schema.PROGRAM_COLUMNS:
                first, last = ref_of(excel_rows[0], self.columns[col.key]), ref_of(excel_rows[-1], self.columns[col.key])
                rows.append([KIND_PROGRAM, ref_formula(sheet, f"{first}:{last}"), col.header, None, None])
        return rows


class Marks:
    """A fill, and a note for findings, on each marked cell; what each replaced, for the record and the undo."""

    def __init__(self, book: Book):
        self.book = book
        self.entries: dict[tuple[str, int, int], dict[str, Any]] = {}
        self.cells_marked = self.error_cells = self.warning_cells = 0

    def findings(self, findings: list[Finding], ledger: Ledger, program: ProgramColumns) -> None:
        """Each finding on its cell (else its row's 校验结果, else that column's header); a summary per row."""
        book = self.book
        result_col = program.columns["check_result"]
        sheet = ledger.sheet

        def anchor(f: Finding):
            name = f.sheet or sheet
            at = split_ref(f.cell.replace("$", "")) if f.cell and name in book.parts else None
            if at is None or name == labels.ANNOTATION_SHEET:
                return None
            return name, ref_of(*book.sheet(name).owner(*at))

        def fallback(f: Finding, in_row: bool):
            return sheet, ref_of(f.row if in_row else ledger.header_row, result_col)

        by_cell, by_row = group_findings(findings, ledger, anchor, fallback)
        rows = {r.excel_row for r in ledger.rows}
        for (name, ref), group in list(by_cell.items()):
            if book.notes(name).has_thread(*split_ref(ref)):
                # a threaded comment (Excel 365) stays as it is: the cell gets the fill, its findings'
                # note goes to the row's 校验结果 cell
                self.mark(name, *split_ref(ref), FILLS[note_of(group)[0]], None)
                for f in group:
                    by_cell.setdefault(fallback(f, f.sheet in (None, sheet) and f.row in rows), []).append(f)
                del by_cell[(name, ref)]
        for row in ledger.rows:
            program.put(row.excel_row, result_col, row_summary(by_row.get(row.excel_row, [])))
        for (name, ref), group in by_cell.items():
            severity, text = note_of(group)
            self.mark(name, *split_ref(ref), FILLS[severity], text)
            self.cells_marked += 1
            if severity == ERROR:
                self.error_cells += 1
            else:
                self.warning_cells += 1

    def mark(self, name: str, row: int, col: int, rgb: str, text: str | None) -> None:
        ws, notes, styles = self.book.sheet(name), self.book.notes(name), self.book.styles
        key = (name, row, col)
        entry = self.entries.get(key)
        if entry is None:
            style = ws.style(row, col)
            user = notes.get(row, col)
            entry = self.entries[key] = {
                "fill": styles.fill_xml(style), "applied": {},
                "comment": None if user is None else {"text": user.text, "author": user.author,
                                                      "width": round(user.width), "height": round(user.height)},
                "exact": {"s": style, **({"note": notes.original(row, col)} if user is not None else {})}}
        ws.set_style(row, col, styles.with_fill(ws.style(row, col), solid(rgb)))
        entry["applied"]["fill"] = rgb
        if text and not notes.has_thread(row, col):
            user = entry["comment"]
            text = clean(f"{user['text'].rstrip()}\n{SEPARATOR}\n{text}" if user else text)
            width, height = note_box(text)
            notes.set(row, col, Note(text, AUTHOR, width, height))
            entry["applied"]["comment"] = digest(text)

    def record_rows(self) -> list[list[Any]]:
        """The record's rows for the marked cells: what each had before, what was applied."""
        rows = []
        for (name, row, col), entry in self.entries.items():
            note = json.dumps(entry["comment"], ensure_ascii=False) if entry["comment"] else None
            rows.append([KIND_CELL, ref_formula(name, ref_of(row, col)), entry["fill"] or None, note,
                         json.dumps(entry["applied"], ensure_ascii=False),
                         json.dumps(entry["exact"], ensure_ascii=False)])
        return rows


def _carry_comment_boxes(wb, parts: dict[str, bytes]) -> None:
    """openpyxl forgets note sizes; take them from the VML so untouched notes keep their boxes (sheetport,
    the tests' Excel stand-in)."""
    for name, boxes in fileio.note_boxes(parts).items():
        if name not in wb.sheetnames:
            continue
        cells = wb[name]._cells
        for (row, col), (width, height) in boxes.items():
            cell = cells.get((row + 1, col + 1))
            if cell is not None and cell.comment is not None:
                cell.comment.width = round(width)
                cell.comment.height = round(height or cell.comment.height)
