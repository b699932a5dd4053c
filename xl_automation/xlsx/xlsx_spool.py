"""Fast rows for XlsxWriter sheets: cells spooled as sheet XML to a file, spliced in after close.

XlsxWriter costs about 12 µs a cell; a million-row 明细 has 40 million cells. A spool accepts the same
write_string / write_number / write_datetime calls, writes the <row> XML itself (escaped here, so no
text can become markup), and Book.close() splices it into the saved sheet part.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from datetime import date, datetime
from pathlib import Path

from xl_automation.model.ledger import column_letter

_EPOCH = datetime(1899, 12, 30)
_EPOCH_DAY = _EPOCH.date()
# control characters are not allowed in XML (and a carriage return would be read as a line feed):
# written as _xHHHH_, and a literal "_x0041_" as _x005F_x0041_ so that it is not read as "A", the
# escapes Excel and XlsxWriter use
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")
# the underscore starting each escape-shaped run, the closing one left free to start the next: "_x0041_x0042_"
# holds two runs, and each needs its _x005F_ (matching whole runs skipped the second, read back as "…B")
_ESCAPE_LIKE = re.compile(r"_(?=x[0-9a-fA-F]{4}_)")
_LETTERS = [column_letter(i + 1) for i in range(16384)]
_PRESERVE = ' xml:space="preserve"'


def _control(m: re.Match) -> str:
    return f"_x{ord(m.group(0)):04X}_"


def xml_text(value: str) -> str:
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "_x" in value:
        value = _ESCAPE_LIKE.sub("_x005F_", value)
    # isprintable() is one C-level scan; only text with some unprintable character needs the regex
    return value if value.isprintable() else _CONTROL.sub(_control, value)


class SpoolSheet:
    """Rows below a worksheet's header, written as XML; rows and cells must come in order."""

    def __init__(self, worksheet, first_row: int):
        self.worksheet = worksheet
        self.first_row = first_row
        fd, name = tempfile.mkstemp(prefix="xl_rows_", suffix=".xml")
        self.path = Path(name)
        self.file = os.fdopen(fd, "w", encoding="utf-8", newline="")
        self.buf: list[str] = []
        self.row_open = -1
        self.last_row = first_row - 1
        self.last_col = 0
        self._xf: dict[int, str] = {}

    def _cell(self, row: int, col: int, fmt, body: str) -> None:
        if row != self.row_open:
            if row <= self.last_row or row < self.first_row:
                raise ValueError("spooled rows must be written in order below the header")
            if self.row_open >= 0:
                self.buf.append("</row>")
                if len(self.buf) > 20000:
                    self.flush()
            self.buf.append(f'<row r="{row + 1}">')
            self.row_open = self.last_row = row
        if col > self.last_col:
            self.last_col = col
        self.buf.append(f'<c r="{_LETTERS[col]}{row + 1}"{self._style(fmt)}{body}</c>')

    def _style(self, fmt) -> str:
        if fmt is None:
            return ""
        style = self._xf.get(id(fmt))
        if style is None:
            style = self._xf[id(fmt)] = f' s="{fmt._get_xf_index()}"'
        return style

    def write_row(self, row: int, values, datetime_fmt=None, date_fmt=None, number_fmts=None) -> None:
        """A whole new row from column A in one call, for wide sheets of plain values: str as text,
        int and float as numbers (with number_fmts[col] where given), datetime with datetime_fmt, date
        with date_fmt; None and "" leave the cell empty."""
        if row <= self.last_row or row < self.first_row:
            raise ValueError("spooled rows must be written in order below the header")
        if self.row_open >= 0:
            self.buf.append("</row>")
            self.row_open = -1
        self.last_row = row
        r = str(row + 1)
        # formats are looked up where first used, so XlsxWriter numbers its styles as the cell path would
        when = None
        parts = [f'<row r="{r}">']
        last = -1
        # most rows' text has nothing to escape and no cell starts or ends with a space: one C-level scan
        # of the row's joined text tells, instead of six per cell (isprintable: no control character,
        # and the only whitespace left is the ASCII space)
        texts = "".join([v for v in values if type(v) is str])    # "_x" across two cells: only the slow path
        plain = (texts.isprintable() and "&" not in texts and "<" not in texts and ">" not in texts
                 and "_x" not in texts)
        spaced = " " in texts
        for col, value in enumerate(values):
            kind = type(value)
            if kind is str:
                if not value:
                    continue
                if plain and not spaced:
                    parts.append(f'<c r="{_LETTERS[col]}{r}" t="inlineStr"><is><t>{value}</t></is></c>')
                    last = col
                    continue
                text = value if plain else xml_text(value)
                # xml:space only where Excel would trim: leading or trailing whitespace (as XlsxWriter does)
                space = _PRESERVE if text[0].isspace() or text[-1].isspace() else ""
                parts.append(f'<c r="{_LETTERS[col]}{r}" t="inlineStr"><is><t{space}>{text}</t></is></c>')
            elif kind is datetime:
                if when is None:
                    when = self._style(datetime_fmt)
                parts.append(f'<c r="{_LETTERS[col]}{r}"{when}><v>{(value - _EPOCH).total_seconds() / 86400!r}</v></c>')
            elif value is None:
                continue
            elif kind is date:
                parts.append(f'<c r="{_LETTERS[col]}{r}"{self._style(date_fmt)}><v>{(value - _EPOCH_DAY).days}</v></c>')
            elif kind is float:
                parts.append(f'<c r="{_LETTERS[col]}{r}"{self._number_style(number_fmts, col)}><v>{value!r}</v></c>')
            elif kind is int:
                parts.append(f'<c r="{_LETTERS[col]}{r}"{self._number_style(number_fmts, col)}><v>{value}</v></c>')
            else:
                raise TypeError(f"write_row: {kind.__name__} in column {_LETTERS[col]}")
            last = col
        parts.append("</row>")
        self.buf.append("".join(parts))
        if last > self.last_col:
            self.last_col = last
        if len(self.buf) > 2000:
            self.flush()

    def _number_style(self, number_fmts, col: int) -> str:
        return self._style(number_fmts.get(col)) if number_fmts else ""

    def write_string(self, row: int, col: int, value: str, fmt=None) -> None:
        self._cell(row, col, fmt, f' t="inlineStr"><is><t xml:space="preserve">{xml_text(value)}</t></is>')

    def write_rich_string(self, row: int, col: int, *parts) -> None:
        text = "".join(p for p in parts if isinstance(p, str))
        fmt = parts[-1] if parts and not isinstance(parts[-1], str) else None
        self.write_string(row, col, text, fmt)

    def write_number(self, row: int, col: int, value: float, fmt=None) -> None:
        self._cell(row, col, fmt, f"><v>{value!r}</v>" if isinstance(value, float) else f"><v>{int(value)}</v>")

    def write_datetime(self, row: int, col: int, value: datetime, fmt=None) -> None:
        serial = (value - _EPOCH).total_seconds() / 86400
        self._cell(row, col, fmt, f"><v>{serial!r}</v>")

    def flush(self) -> None:
        self.file.write("".join(self.buf))
        self.buf.clear()

    def finish(self) -> None:
        if self.row_open >= 0:
            self.buf.append("</row>")
            self.row_open = -2
        self.flush()
        self.file.close()

    def part_name(self) -> str:
        return f"xl/worksheets/sheet{self.worksheet.index + 1}.xml"


def splice(path: Path, spools: list[SpoolSheet]) -> None:
    """Rewrite the saved workbook with each spool's rows inserted at the end of its sheet's data."""
    for s in spools:
        s.finish()
    parts = {s.part_name(): s for s in spools}
    tmp = path.with_name(path.name + ".splice")
    try:
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
            for info in src.infolist():
                spool = parts.get(info.filename)
                if spool is None:
                    dst.writestr(info, src.read(info.filename))
                    continue
                xml = src.read(info.filename).decode("utf-8")
                xml = _dimension(xml, spool)
                if "<sheetData/>" in xml:
                    xml = xml.replace("<sheetData/>", "<sheetData></sheetData>", 1)
                head, tail = xml.split("</sheetData>", 1)
                # opened by name, so that the archive's compresslevel=1 applies (a ZipInfo would get level 6,
                # twice the time for a 20 % smaller file); its date is a fixed 1980 one, like XlsxWriter's
                with dst.open(info.filename, "w", force_zip64=True) as w, open(spool.path, "rb") as rows:
                    w.write(head.encode("utf-8"))
                    shutil.copyfileobj(rows, w, 1 << 20)
                    w.write(("</sheetData>" + tail).encode("utf-8"))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        for s in spools:
            s.path.unlink(missing_ok=True)


def _dimension(xml: str, spool: SpoolSheet) -> str:
    m = re.search(r'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"/>', xml)
    if not m or spool.last_row < spool.first_row:
        return xml
    last_col = max(spool.last_col, _index(m.group(3) or m.group(1)))
    ref = f"{m.group(1)}{m.group(2)}:{_LETTERS[last_col]}{spool.last_row + 1}"
    return xml[:m.start()] + f'<dimension ref="{ref}"/>' + xml[m.end():]


def _index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1
