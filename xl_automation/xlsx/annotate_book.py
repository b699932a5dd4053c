"""The workbook parts an annotation touches, each opened when first needed and saved once: the worksheets,
their notes parts, the styles part, the shared strings; the record sheet and the recalculation flag.

annotate.py's passes (undo, program columns, marks) work through a Book; this module knows the package."""
from __future__ import annotations

from typing import Any

from xl_automation.model import labels
from xl_automation.model.ledger import LedgerError
from xl_automation.xlsx.annotation_record import write_record
from xl_automation.xlsx.annotation_text import AUTHOR
from xl_automation.xlsx.xlsx_cells import SharedStrings, Sheet
from xl_automation.xlsx.xlsx_notes import SheetNotes
from xl_automation.xlsx.xlsx_package import R_NS, STRICT_NS, Package, local, q
from xl_automation.xlsx.xlsx_styles import Styles


class Book:
    """A workbook package's worksheets by name, and the parts opened from it so far."""

    def __init__(self, pkg: Package, ledger_sheet: str):
        self.pkg = pkg
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
        if ledger_sheet not in self.parts:
            raise LedgerError("sheet-missing", pkg.path, sheet=ledger_sheet)

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

    def markable(self, name: str) -> bool:
        """A worksheet marks may go on (not the record sheet, not a chart sheet or a missing one)."""
        return name in self.parts and name != labels.ANNOTATION_SHEET

    def with_notes(self) -> list[str]:
        """Worksheets that have a notes part (only those can hold notes this program wrote)."""
        return [n for n, part in self.parts.items() if self.pkg.target(part, "comments")
                and n != labels.ANNOTATION_SHEET]

    def save(self, record: list[list[Any]]) -> None:
        """Every changed part into the package, the record sheet with `record`; the workbook recalculates
        formulas over program columns on opening."""
        for notes in self._notes.values():
            notes.save(AUTHOR)
        for ws in self._sheets.values():
            ws.save()
        if self._styles is not None:
            self._styles.save()
        write_record(self.pkg, self.book, self.parts.get(labels.ANNOTATION_SHEET), record)
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
