"""The report workbook's plumbing: formats in 等线, safe text cells, masking, sheet setup."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

from xl_automation.model.config import Config
from xl_automation.model.labels import TICK
from xl_automation.rules.normalize import DateOnly, Invalid, clean_text
from xl_automation.rules.masking import is_organisation, mask_name, mask_numbers_in_text
from xl_automation.rules.phones import mask_phone
from xl_automation.model.schema import COLUMNS
from xl_automation.xlsx.xlsx_safe import DATETIME_FORMAT, FONT, new_workbook, write_text
from xl_automation.xlsx.xlsx_spool import SpoolSheet, splice

PERSONAL = {c.key: c.personal for c in COLUMNS if c.personal}      # key -> "name" | "phone"
PERSONAL_HEADERS = {c.header: c.key for c in COLUMNS if c.personal}          # header -> key
PAPER_A4 = 9
MIN_PRINT_SCALE = 60        # percent: below this a printed sheet is no longer legible
SIDE_MARGIN_IN = 0.4
PRINTABLE_CM = 29.7 - 2 * SIDE_MARGIN_IN * 2.54        # A4 landscape between the side margins
MAX_ROWS = 1_048_576        # rows in one Excel worksheet
MASK_MEMO = 50_000          # masked values remembered at most
_PLAIN = frozenset({str, datetime, int, float, type(None)})     # what SpoolSheet.write_row writes as value() does


def column_cm(width: float) -> float:
    """Printed width of an Excel column of `width` characters at 100 %, reckoned at 10 px a character + 5 px
    at 96 dpi: Excel's digit is 7–8 px, but LibreOffice, where 等线 is missing, lays a column out at
    about 9.6 px a character (measured on its PDF); pages planned for the wider one are never cut."""
    return (width * 10 + 5) * 2.54 / 96


def print_scale(widths: Sequence[float]) -> int:
    """The scale (percent) at which these columns fill the printable width of A4 landscape."""
    total = sum(column_cm(w) for w in widths) or 1
    return int(PRINTABLE_CM / total * 100)


def _header_text(text: str) -> str:
    return text.replace("&", "&&")         # '&' starts a code in Excel's header language


class ReportError(Exception):
    """The report cannot be written as asked (the message says why and what to do)."""


class Book:
    """One XlsxWriter workbook in constant-memory mode: every sheet is written top to bottom once."""

    def __init__(self, path: Path | str, config: Config, show_personal_info: bool, created: datetime):
        self.wb = new_workbook(path, constant_memory=True, created=created)
        self.config = config
        self.show_personal_info = show_personal_info
        base = {"font_name": FONT, "font_size": 10, "valign": "vcenter"}
        add = lambda **kw: self.wb.add_format({**base, **kw})   # noqa: E731
        self.text_fmt = add()
        self.title = add(bold=True, font_size=14)
        self.subtitle = add(font_color="#595959")
        self.section = add(bold=True, font_size=11)
        self.header = add(bold=True, bg_color="#D9E1F2", border=1, text_wrap=True, align="center")
        self.datetime = add(num_format=DATETIME_FORMAT)
        self.date = add(num_format="yyyy-mm-dd")
        self.pct = add(num_format="0.0%")
        self.dec1 = add(num_format="0.0")
        self.total_pct = add(num_format="0.0%", bold=True, top=1)
        self.total_dec1 = add(num_format="0.0", bold=True, top=1)
        self.total_int = add(num_format="0", bold=True, top=1)
        self.total_text = add(bold=True, top=1)
        self.spools: list[SpoolSheet] = []
        self._masks: dict[tuple[str, str], str] = {}
        self.path = Path(path)
        self.print_title = ""           # the page header of every sheet: the report and its period

    def spool(self, ws, first_row: int) -> SpoolSheet:
        """Rows from first_row on go through a fast XML spool instead of XlsxWriter's per-cell path."""
        spool = SpoolSheet(ws, first_row)
        self.spools.append(spool)
        return spool

    def sheet(self, name: str, widths: Sequence[float], *, header_row: int | None = None, fit_width: bool = True,
              scale: int | None = None, repeat_columns: int = 0):
        """A worksheet with column widths and A4 landscape printing: the title rows down to header_row (or
        the title alone) repeat on each page, the first repeat_columns columns too; the period in the page
        header, page numbers in the footer. A sheet fits the page width only when that keeps it at 60 % or
        more; otherwise it prints at `scale` (at least 60 %) over several pages across."""
        ws = self.wb.add_worksheet(name)
        fitted = print_scale(widths)
        if fit_width and fitted >= MIN_PRINT_SCALE:
            ws.fit_to_pages(1, 0)
        else:
            ws.set_print_scale(max(MIN_PRINT_SCALE, min(100, scale or fitted)))
            ws.print_across()           # a request's columns on consecutive pages, not after every row
        for i, width in enumerate(widths):
            ws.set_column(i, i, width)
        ws.set_paper(PAPER_A4)
        ws.set_landscape()
        ws.set_margins(left=SIDE_MARGIN_IN, right=SIDE_MARGIN_IN, top=0.6, bottom=0.6)
        ws.repeat_rows(0, header_row or 0)
        if repeat_columns:
            ws.repeat_columns(0, repeat_columns - 1)
        ws.set_header(f"&L&9{_header_text(self.print_title)}&R&9{_header_text(name)}", {"margin": 0.25})
        ws.set_footer("&C&9第 &P 页，共 &N 页", {"margin": 0.25})
        return ws

    def text(self, ws, row: int, col: int, value: str, fmt=None) -> None:
        """Untrusted text stays text; XlsxWriter would copy a '<r>…</r>' string into the XML raw."""
        write_text(ws, row, col, value, fmt or self.text_fmt if value.startswith("<r>") else fmt)

    def value(self, ws, row: int, col: int, value: Any, fmt=None) -> None:
        """A ledger value as the right cell type; None, '' and unticked stay empty."""
        kind = type(value)
        if kind is str:
            if value:
                self.text(ws, row, col, value, fmt)
        elif kind is bool:
            if value:
                ws.write_string(row, col, TICK, fmt)
        elif kind is datetime:
            ws.write_datetime(row, col, value, fmt or self.datetime)
        elif kind is int or kind is float:
            ws.write_number(row, col, value, fmt)
        elif value is None:
            return
        elif isinstance(value, DateOnly):
            ws.write_datetime(row, col, value.value, fmt or self.date)
        elif isinstance(value, Invalid):
            if value.raw is not None and str(value.raw) != "":
                self.text(ws, row, col, str(value.raw), fmt)
        elif isinstance(value, datetime):
            ws.write_datetime(row, col, value, fmt or self.datetime)
        else:
            self.text(ws, row, col, str(value), fmt)

    def row(self, ws, row: int, values: Sequence[Any], fmt=None, first_col: int = 0) -> None:
        if fmt is None and first_col == 0 and type(ws) is SpoolSheet and _PLAIN.issuperset(map(type, values)) \
                and not any(type(v) is str and v.startswith("<r>") for v in values):
            ws.write_row(row, values, self.datetime)      # a list sheet's usual row: one spool call
            return
        for col, v in enumerate(values, start=first_col):
            self.value(ws, row, col, v, fmt)

    def headers(self, ws, row: int, labels: Sequence[str], first_col: int = 0) -> None:
        for col, label in enumerate(labels, start=first_col):
            ws.write_string(row, col, label, self.header)

    def masked(self, key: str, value: Any) -> Any:
        """The value of a personal column as the report shows it (masked unless asked otherwise)."""
        if type(value) is str:
            # a month repeats names, numbers and addresses, and the lists show them again: each masked once
            hit = self._masks.get((key, value))
            if hit is None:
                if len(self._masks) >= MASK_MEMO:       # a million-row month: memory stays bounded
                    self._masks.clear()
                hit = self._masks[(key, value)] = self._masked(key, value)
            return hit
        return self._masked(key, value)

    def _masked(self, key: str, value: Any) -> Any:
        kind = PERSONAL.get(key)
        if kind is None or self.show_personal_info or value is None or value == "":
            return value
        text = value if type(value) is str else clean_text(value.raw if isinstance(value, Invalid) else value)
        if kind == "text":
            return mask_numbers_in_text(text)
        if kind == "phone":
            if len(text) == 11 and text[0] == "1" and text.isascii() and text.isdigit():   # the usual mobile, without regexes
                return f"{text[:3]}****{text[7:]}"
            return mask_phone(text)
        return mask_name(text, is_organisation(text, self.config))

    def close(self) -> None:
        self.wb.close()
        if self.spools:
            splice(self.path, self.spools)

    def discard(self) -> None:
        self.wb.fileclosed = True       # nothing more to write; keep XlsxWriter's destructor quiet
        for s in self.spools:
            if not s.file.closed:
                s.file.close()
            s.path.unlink(missing_ok=True)
