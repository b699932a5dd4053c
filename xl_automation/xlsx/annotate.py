"""Write findings and the 2-hour clock back into the ledger workbook, undoing the previous run's marks first.

The workbook is patched, not re-saved: only the parts the marks live in are rewritten (the marked sheets'
XML, the styles part extended, the notes parts, the record sheet, the workbook part when the record sheet
is new); every other part is copied as it is, byte for byte.
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
from xl_automation.xlsx.annotation_record import KIND_ADDED, KIND_CELL, KIND_PROGRAM, exact, read_record, write_record
from xl_automation.xlsx.annotation_text import (AUTHOR, FILLS, SEPARATOR, STATUS_FILLS, clean, digest, group_findings, is_ours,
                              load_json, minutes_value, note_box, note_of, parse_ref, ref_formula, row_summary)
from xl_automation.model.findings import ERROR, Finding, make
from xl_automation.model.ledger import Ledger, LedgerError
from xl_automation.xlsx.xlsx_cells import SharedStrings, Sheet, ref_of, split_ref
from xl_automation.xlsx.xlsx_notes import Note, SheetNotes
from xl_automation.xlsx.xlsx_package import R_NS, STRICT_NS, Package, local, q
from xl_automation.xlsx.xlsx_styles import Styles, solid

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
        run = _Run(pkg, ledger)
        run.undo_previous()
        run.write_program_columns(clocks)
        run.mark_findings(list(findings))
        run.save()
        try:
            pkg.write(path, mode_from=path)
        except PermissionError as exc:   # Windows: another program holds the file
            raise LedgerError("file-locked", path, lock=path.name) from exc
    return AnnotateResult(path, False, [], run.cells_marked, run.error_cells, run.warning_cells, run.rows_written,
                          run.columns_added, run.notices)


class _Run:
    """One annotation pass over a package."""

    def __init__(self, pkg: Package, ledger: Ledger):
        self.pkg, self.ledger = pkg, ledger
        self.book = pkg.target("", "officeDocument") or "xl/workbook.xml"
        root = pkg.xml(self.book)
        if root.tag.startswith(f"{{{STRICT_NS}}}"):
            raise LedgerError("file-strict", pkg.path)
        if local(root.tag) != "workbook":
            raise LedgerError("file-corrupt", pkg.path, detail=f"{self.book} 不是工作簿部件")
        targets = {rid: (rtype.rsplit("/", 1)[-1], target) for rid, rtype, target, _ in pkg.rels(self.book)}
        self.parts: dict[str, str] = {}     # worksheet name -> part (chart sheets and the like are left alone)
        self.order: list[str] = []
        for el in root.iter(q("sheet")):
            kind, target = targets.get(el.get(q("id", R_NS)), ("", ""))
            self.order.append(el.get("name", ""))
            if kind == "worksheet" and pkg.has(target):
                self.parts[el.get("name", "")] = target
        self.strings = SharedStrings(pkg, pkg.target(self.book, "sharedStrings"))
        self._styles: Styles | None = None
        self._sheets: dict[str, Sheet] = {}
        self._notes: dict[str, SheetNotes] = {}
        if ledger.sheet not in self.parts:
            raise LedgerError("sheet-missing", pkg.path, sheet=ledger.sheet)
        self.ws = self.sheet(ledger.sheet)
        self.entries: dict[tuple[str, int, int], dict[str, Any]] = {}
        self.added: dict[str, str] = {}
        self.previously_added: dict[str, str] = {}
        self.columns: dict[str, int] = {}
        self.cells_marked = self.error_cells = self.warning_cells = self.rows_written = 0
        self.columns_added: list[str] = []
        self.notices: list[Finding] = []
        if self.ws.protected:
            self.notices.append(make("annotate-protected", sheet=ledger.sheet))

    # -- parts, opened when first needed ------------------------------------------------------
    @property
    def styles(self) -> Styles:
        if self._styles is None:
            self._styles = Styles(self.pkg, self.book)
        return self._styles

    def sheet(self, name: str) -> Sheet:
        if name not in self._sheets:
            self._sheets[name] = Sheet(self.pkg, name, self.parts[name], self.strings)
        return self._sheets[name]

    def notes(self, name: str) -> SheetNotes:
        if name not in self._notes:
            block = self.order.index(name) + 1 if name in self.order else 1
            self._notes[name] = SheetNotes(self.pkg, self.sheet(name), block)
        return self._notes[name]

    def _with_notes(self) -> list[str]:
        """Worksheets that have a notes part (only those can hold notes this program wrote)."""
        return [n for n, part in self.parts.items() if self.pkg.target(part, "comments")
                and n != labels.ANNOTATION_SHEET]

    # -- undo ---------------------------------------------------------------------------
    def undo_previous(self) -> None:
        """Restore every cell the last run marked, clear its program values in rows gone from the ledger."""
        record = self.parts.get(labels.ANNOTATION_SHEET)
        rows = {r.excel_row for r in self.ledger.rows}
        restored: set[tuple[str, int, int]] = set()
        for kind, ref, value, note, applied, extra in read_record(self.pkg, record, self.strings):
            target = parse_ref(ref)
            if target is None or target[0] not in self.parts or target[0] == labels.ANNOTATION_SHEET:
                continue   # the cell was deleted (#REF!) or its sheet removed
            name, col, top, _, bottom = target
            ws = self.sheet(name)
            if kind == KIND_CELL:
                if not ws.covered(top, col):
                    self._restore_cell(name, top, col, value, load_json(note), load_json(applied) or {},
                                       exact(extra))
                    restored.add((name, top, col))
            elif kind == KIND_PROGRAM and ws is self.ws:
                for row in range(top, bottom + 1):
                    if row not in rows and ws.value(row, col) is not None and not ws.covered(row, col):
                        ws.set_value(row, col, None)
            elif kind == KIND_ADDED and ws is self.ws and ws.value(top, col) == value:
                self.previously_added[value] = ref_of(top, col)
        self._strip_stray_notes(restored)

    def _restore_cell(self, name: str, row: int, col: int, fill: Any, note: dict | None, applied: dict,
                      extra: dict) -> None:
        """Put back the user's fill and note, unless the user has since replaced ours with their own."""
        ws, styles = self.sheet(name), self.styles
        now = ws.style(row, col)
        if "fill" in applied and styles.solid_rgb(now) == applied["fill"]:
            fill = fill if isinstance(fill, str) else ""
            before = extra.get("s")
            if isinstance(before, int) and styles.same_but_fill(before, now) and styles.fill_xml(before) == fill:
                ws.set_style(row, col, before)     # exactly the format it had
            else:                                  # recorded by the live path, or formats renumbered since
                ws.set_style(row, col, styles.with_fill(now, fill))
            ws.drop_if_bare(row, col)
        notes = self.notes(name) if "comment" in applied else None
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
        for name in self._with_notes():
            notes = self.notes(name)
            for (row, col) in list(notes.elements):
                note = notes.get(row, col)
                if note is None or (name, row, col) in restored or not is_ours(note):
                    continue
                user = note.text.split("\n" + SEPARATOR + "\n")[0] if SEPARATOR in note.text else None
                notes.set(row, col, Note(user, "", note.width, note.height) if user else None)

    # -- program columns ----------------------------------------------------------------
    def write_program_columns(self, clocks: dict[int, sla.RowClock]) -> None:
        self._ensure_program_columns()
        minutes, status = self.columns["response_minutes"], self.columns["sla_status"]
        for row in self.ledger.rows:
            clock = clocks.get(row.excel_row)
            self._put(row.excel_row, minutes, minutes_value(clock.minutes) if clock else None)
            self._put(row.excel_row, status, clock.status if clock else None)
            if clock and clock.status in STATUS_FILLS and not self.ws.covered(row.excel_row, status):
                self._mark(self.ledger.sheet, row.excel_row, status, STATUS_FILLS[clock.status], None)
            self.rows_written += 1

    def _put(self, row: int, col: int, value: Any) -> None:
        if not self.ws.covered(row, col):
            self.ws.set_value(row, col, value)

    def _ensure_program_columns(self) -> None:
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
            elif col.header in self.previously_added:
                self.added[col.header] = self.previously_added[col.header]
            self.columns[col.key] = index

    # -- findings -----------------------------------------------------------------------
    def mark_findings(self, findings: list[Finding]) -> None:
        result_col = self.columns["check_result"]
        sheet = self.ledger.sheet

        def anchor(f: Finding):
            name = f.sheet or sheet
            at = split_ref(f.cell.replace("$", "")) if f.cell and name in self.parts else None
            if at is None or name == labels.ANNOTATION_SHEET:
                return None
            return name, ref_of(*self.sheet(name).owner(*at))

        def fallback(f: Finding, in_row: bool):
            return sheet, ref_of(f.row if in_row else self.ledger.header_row, result_col)

        by_cell, by_row = group_findings(findings, self.ledger, anchor, fallback)
        rows = {r.excel_row for r in self.ledger.rows}
        for (name, ref), group in list(by_cell.items()):
            if self.notes(name).has_thread(*split_ref(ref)):
                # a threaded comment (Excel 365) stays as it is: the cell gets the fill, its findings'
                # note goes to the row's 校验结果 cell
                self._mark(name, *split_ref(ref), FILLS[note_of(group)[0]], None)
                for f in group:
                    by_cell.setdefault(fallback(f, f.sheet in (None, sheet) and f.row in rows), []).append(f)
                del by_cell[(name, ref)]
        for row in self.ledger.rows:
            self._put(row.excel_row, result_col, row_summary(by_row.get(row.excel_row, [])))
        for (name, ref), group in by_cell.items():
            severity, text = note_of(group)
            self._mark(name, *split_ref(ref), FILLS[severity], text)
            self.cells_marked += 1
            if severity == ERROR:
                self.error_cells += 1
            else:
                self.warning_cells += 1

    def _mark(self, name: str, row: int, col: int, rgb: str, text: str | None) -> None:
        ws = self.sheet(name)
        key = (name, row, col)
        entry = self.entries.get(key)
        if entry is None:
            style = ws.style(row, col)
            notes = self.notes(name)
            user = notes.get(row, col)
            entry = self.entries[key] = {
                "fill": self.styles.fill_xml(style), "applied": {},
                "comment": None if user is None else {"text": user.text, "author": user.author,
                                                      "width": round(user.width), "height": round(user.height)},
                "exact": {"s": style, **({"note": notes.original(row, col)} if user is not None else {})}}
        ws.set_style(row, col, self.styles.with_fill(ws.style(row, col), solid(rgb)))
        entry["applied"]["fill"] = rgb
        if text and not self.notes(name).has_thread(row, col):
            user = entry["comment"]
            text = clean(f"{user['text'].rstrip()}\n{SEPARATOR}\n{text}" if user else text)
            width, height = note_box(text)
            self.notes(name).set(row, col, Note(text, AUTHOR, width, height))
            entry["applied"]["comment"] = digest(text)

    # -- record and parts -----------------------------------------------------------------
    def record_rows(self) -> list[list[Any]]:
        sheet = self.ledger.sheet
        rows: list[list[Any]] = [[KIND_ADDED, ref_formula(sheet, ref), header, None, None]
                                 for header, ref in self.added.items()]
        excel_rows = sorted(r.excel_row for r in self.ledger.rows)
        if excel_rows:
            for col in schema.PROGRAM_COLUMNS:
                first, last = ref_of(excel_rows[0], self.columns[col.key]), ref_of(excel_rows[-1], self.columns[col.key])
                rows.append([KIND_PROGRAM, ref_formula(sheet, f"{first}:{last}"), col.header, None, None])
        for (name, row, col), entry in self.entries.items():
            note = json.dumps(entry["comment"], ensure_ascii=False) if entry["comment"] else None
            rows.append([KIND_CELL, ref_formula(name, ref_of(row, col)), entry["fill"] or None, note,
                         json.dumps(entry["applied"], ensure_ascii=False),
                         json.dumps(entry["exact"], ensure_ascii=False)])
        return rows

    def save(self) -> None:
        """Every changed part into the package; the workbook recalculates formulas over program columns on opening."""
        for notes in self._notes.values():
            notes.save(AUTHOR)
        for ws in self._sheets.values():
            ws.save()
        if self._styles is not None:
            self._styles.save()
        write_record(self.pkg, self.book, self.parts.get(labels.ANNOTATION_SHEET), self.record_rows())
        _full_calc_on_load(self.pkg, self.book)


# CT_Workbook's children after calcPr (ECMA-376 Part 1, 18.2.27)
_AFTER_CALC = {"oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes", "webPublishing",
               "fileRecoveryPr", "webPublishObjects", "extLst", "AlternateContent"}


def _full_calc_on_load(pkg: Package, book: str) -> None:
    """Cached results of formulas over the program columns are stale now: let Excel/WPS recalculate on opening.
    A workbook without calculation properties (Tencent Docs, Numbers) gets the element."""
    root = pkg.xml(book)
    calc = root.find(q("calcPr"))
    if calc is None:
        from lxml import etree
        calc = etree.Element(q("calcPr"))
        later = next((c for c in root if local(c.tag) in _AFTER_CALC), None)
        if later is not None:
            later.addprevious(calc)
        else:
            root.append(calc)
    if calc.get("fullCalcOnLoad") not in ("1", "true"):
        calc.set("fullCalcOnLoad", "1")
        pkg.save_xml(book)


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
