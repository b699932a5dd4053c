"""The boundary between the button flows and a workbook: a Protocol, and its implementation on a saved file.

The flows in buttons.py are written once against SheetPort. excel.py implements it on a workbook open
in Excel (xlwings, a bounded number of bulk calls); FilePort implements it on a saved file with the
same reader and annotate.py as the CLI, so the flows run in tests and on machines without Excel.
"""
from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Protocol

from openpyxl import load_workbook
from openpyxl.utils.cell import coordinate_to_tuple, range_boundaries

from xl_automation.xlsx import fileio

from xl_automation.rules import sla
from xl_automation.xlsx.annotate import AnnotateResult, _carry_comment_boxes
from xl_automation.model.findings import Finding
from xl_automation.model.ledger import Ledger, LedgerError

INFO, WARN, ERROR = "info", "warning", "error"


class SheetPort(Protocol):
    """One workbook as the buttons see it: read in one go, write in bulk, talk to the user."""

    name: str                                     # the workbook's file name, for messages

    def folder(self) -> Path:
        """The folder the workbook is saved in (settings with relative paths start there)."""

    def status(self, text: str | None) -> None:
        """Show progress (Excel's status bar); None clears it."""

    def report(self, title: str, text: str, level: str = INFO) -> None:
        """The one message box a button ends with."""

    def read_ledger(self) -> Ledger:
        """The ledger sheet read and normalised exactly as reader.read_ledger reads a file."""

    def annotate(self, ledger: Ledger, findings: list[Finding], clocks: dict[int, sla.RowClock],
                 now: datetime) -> AnnotateResult:
        """Fills, notes and the program columns, as annotate.annotate writes them into a file."""

    def save(self) -> Path:
        """Save the workbook where it is; returns its path."""

    def read_values(self, sheet: str, ref: str) -> list[list[Any]]:
        """The values of a rectangle such as "A1:M11", row by row (None for empty cells)."""

    def write_values(self, sheet: str, top_left: str, rows: list[list[Any]]) -> None:
        """Write a rectangle of values from top_left; text stays text."""

    def clear_cells(self, sheet: str, refs: list[str]) -> None:
        """Empty these cells (values only; formats and validation stay)."""


def _rectangle(ref: str) -> tuple[int, int, int, int]:
    """(first row, first column, last row, last column), 1-based."""
    c1, r1, c2, r2 = range_boundaries(ref.replace("$", ""))
    return r1, c1, r2, c2


class FilePort:
    """SheetPort on a saved workbook file: what the CLI does, plus the writes the form button needs."""

    def __init__(self, path: str | Path, *, now: datetime | None = None):
        self.path = Path(path)
        self.name = self.path.name
        self.now = now or datetime.now().replace(microsecond=0)
        self.statuses: list[str | None] = []
        self.reports: list[tuple[str, str, str]] = []

    def folder(self) -> Path:
        return self.path.resolve().parent

    def status(self, text: str | None) -> None:
        self.statuses.append(text)

    def report(self, title: str, text: str, level: str = INFO) -> None:
        self.reports.append((title, text, level))

    def read_ledger(self) -> Ledger:
        from xl_automation.xlsx.isolation import read_untrusted
        return read_untrusted(self.path)

    def annotate(self, ledger: Ledger, findings: list[Finding], clocks: dict[int, sla.RowClock],
                 now: datetime) -> AnnotateResult:
        from xl_automation.xlsx.annotate import annotate
        return annotate(ledger, findings, clocks, now=now)

    def save(self) -> Path:
        return self.path

    def read_values(self, sheet: str, ref: str) -> list[list[Any]]:
        import python_calamine as calamine
        r1, c1, r2, c2 = _rectangle(ref)
        with calamine.CalamineWorkbook.from_path(str(self.path)) as wb:
            if sheet not in wb.sheet_names:
                raise LedgerError("sheet-missing", self.path, sheet=sheet)
            grid = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        out = []
        for r in range(r1, r2 + 1):
            line = grid[r - 1] if r <= len(grid) else []
            out.append([None if (v := (line[c - 1] if c <= len(line) else "")) == "" else v
                        for c in range(c1, c2 + 1)])
        return out

    def write_values(self, sheet: str, top_left: str, rows: list[list[Any]]) -> None:
        row0, col0 = coordinate_to_tuple(top_left.replace("$", ""))

        def put(wb) -> None:
            ws = wb[sheet]
            for i, line in enumerate(rows):
                for j, value in enumerate(line):
                    cell = ws.cell(row0 + i, col0 + j)
                    cell.value = value
                    if isinstance(value, str) and value.startswith("="):
                        cell.data_type = "s"      # typed text, never a formula
        self._edit(sheet, put)

    def clear_cells(self, sheet: str, refs: list[str]) -> None:
        def clear(wb) -> None:
            for ref in refs:
                wb[sheet][ref.replace("$", "")].value = None
        self._edit(sheet, clear)

    def _edit(self, sheet: str, change: Callable[[Any], None]) -> None:
        """Load, change and write the file in place, refusing when openpyxl would lose part of it."""
        suffix = self.path.suffix.lower()
        fileio.check_not_open(self.path)
        lost = fileio.lossy_parts(self.path)
        if lost:
            raise LedgerError("write-refused", self.path, detail="；".join(lost[:3]))
        original = fileio.read_parts(self.path)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wb = load_workbook(self.path, keep_vba=suffix in fileio.MACRO_SUFFIXES, keep_links=True,
                                   rich_text=True)
        except Exception as exc:   # openpyxl raises many kinds for a damaged package
            raise LedgerError("file-corrupt", self.path, detail=str(exc)[:200]) from exc
        if sheet not in wb.sheetnames:
            raise LedgerError("sheet-missing", self.path, sheet=sheet)
        if b"creator" not in original.get("docProps/core.xml", b""):
            wb.properties.creator = None
        _carry_comment_boxes(wb, original)
        change(wb)
        wb.calculation.fullCalcOnLoad = True
        parts = fileio.workbook_parts(wb, self.now)
        fileio.restore_cached_values(original, parts)
        fileio.renumber_note_shapes(parts)
        fileio.write_package(self.path, parts, self.now, mode_from=self.path)
