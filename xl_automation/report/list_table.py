"""What the report's list sheets share: the windows in configuration order, and a table written under
its header (a 无 row when empty, cut with a note at Excel's last row)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Sequence

from xl_automation.model.config import Config, Window
from xl_automation.model.schema import BY_KEY
from xl_automation.report import report_book
from xl_automation.report.report_book import Book
from xl_automation.rules.consolidate import Detail

NONE_ROW = "（无）"
H = {k: BY_KEY[k].header for k in BY_KEY}


class Lists:
    """The book and the windows every list sheet writes with; each sheet is a function of its own module
    (list_requests, list_rows, list_submissions, list_assessment, list_notes) taking this."""

    def __init__(self, book: Book, config: Config):
        self.book = book
        self.config = config
        self.windows: dict[str, Window] = {w.code: w for w in config.windows}
        self.order = {w.code: i for i, w in enumerate(config.windows)}

    def name_of(self, code: str) -> str:
        w = self.windows.get(code)
        return w.name if w else ""

    def by_window_time(self, d: Detail) -> tuple[int, datetime]:
        received = d.values.get("received_at")
        return self.order.get(d.window, len(self.order)), received if isinstance(received, datetime) else datetime.max

    def table(self, ws, r: int, headers: Sequence[str], rows: Iterable[Sequence[Any]], col: int = 0) -> int:
        """Header and rows from row r; returns the row after the table (a 无 row when empty)."""
        self.book.headers(ws, r, headers, col)
        r += 1
        start = r
        rows = iter(rows)
        for values in rows:
            if r >= report_book.MAX_ROWS - 1:       # keep the sheet's last row for saying what was left out
                left = 1 + sum(1 for _ in rows)
                ws.write_string(r, 0, f"另有 {left} 行未列出：超过 Excel 工作表 {report_book.MAX_ROWS:,} 行的上限")
                return r + 1
            self.book.row(ws, r, values, first_col=col)
            r += 1
        if r == start:
            ws.write_string(r, col, NONE_ROW)
            r += 1
        return r

    def personal(self, d: Detail) -> list[Any]:
        return [self.book.masked("applicant", d.values.get("applicant")),
                self.book.masked("phone", d.values.get("phone"))]
