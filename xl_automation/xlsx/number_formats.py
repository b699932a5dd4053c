"""Which cells of an .xlsx sheet show a time of day: the cell's style → its number format.

python-calamine hands back a `date` for every date-formatted serial without a fraction, so a receipt
at exactly 00:00 in a `yyyy-mm-dd hh:mm` cell and a date typed into a `yyyy-mm-dd` cell look the same.
The number format tells them apart; it is read only for the cells that need it.
"""
from __future__ import annotations

import re
import zipfile
from contextlib import nullcontext
from xml.etree import ElementTree

_CHUNK = 1 << 20
# built-in formats (ECMA-376 18.8.30 and the zh-CN locale's 27–58) that show a time of day
_BUILTIN_TIME = frozenset({18, 19, 20, 21, 22, 32, 33, 34, 35, 45, 46, 47, 55, 56})
# quoted text, escaped characters, [$-804] locales and [Red] colours (but not [h] elapsed hours)
_QUOTED = re.compile(r'"[^"]*"|\\.|\[(?![hms]+\])[^\]]*\]|_.|\*.', re.I)
_STYLE = re.compile(rb'\ss="(\d+)"')
# a row's start tag and its number (any namespace prefix); cell text cannot hold a raw "<"
_ROW_TAG = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?row\b[^>]*?\sr="(\d+)"')
_NEAR = 4096      # bytes: close enough to a wanted row to look for its cell from there


def format_shows_time(code: str) -> bool:
    """True when a number format code displays hours, seconds or AM/PM (not inside quotes or [..])."""
    bare = _QUOTED.sub("", code).lower()
    return "h" in bare or "s" in bare or "am/pm" in bare or "a/p" in bare or "上午/下午" in bare


def time_styles(z: zipfile.ZipFile, styles_part: str) -> set[int]:
    """Indexes into cellXfs whose number format shows a time of day."""
    try:
        root = ElementTree.fromstring(z.read(styles_part))
    except KeyError:
        return set()
    custom: dict[int, str] = {}
    out: set[int] = set()
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] == "numFmt":
            custom[int(el.get("numFmtId", "-1"))] = el.get("formatCode", "")
    xfs = next((el for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "cellXfs"), None)
    for i, xf in enumerate(xfs if xfs is not None else ()):
        fmt = int(xf.get("numFmtId", "0"))
        if fmt in custom:
            if format_shows_time(custom[fmt]):
                out.add(i)
        elif fmt in _BUILTIN_TIME:
            out.add(i)
    return out


def cells_showing_time(z: zipfile.ZipFile, sheet_part: str, styles_part: str,
                       cells: set[tuple[int, str]], xml: list[bytes] | None = None) -> set[tuple[int, str]] | None:
    """The (row, column letters) of `cells` whose style shows a time; None when a cell cannot be found
    (a sheet written without cell references). Excel writes cells in row and column order, so the
    wanted references are looked for in that order with C-level searches, chunk by chunk: one pass
    over the sheet, and no Python work for the cells in between. xml: the sheet part already inflated,
    in chunks (it is then not read again)."""
    timed = time_styles(z, styles_part)
    if not timed or not cells:
        return set()
    wanted = sorted(cells, key=lambda c: (c[0], len(c[1]), c[1]))
    needles = [f' r="{letters}{row}"'.encode() for row, letters in wanted]
    out: set[tuple[int, str]] = set()
    k, tail = 0, b""
    with (nullcontext(iter(xml)) if xml is not None else z.open(sheet_part)) as f:
        read = (lambda: next(f, b"")) if xml is not None else (lambda: f.read(_CHUNK))
        while k < len(needles):
            chunk = read()
            buf = tail + chunk
            cut = len(buf) if not chunk else max(buf.rfind(b"<"), 0)
            pos = 0
            while k < len(needles):
                at = buf.find(needles[k], _row_near(buf, wanted[k][0], pos, cut), cut)
                if at < 0:
                    break
                end = buf.find(b">", at, cut)
                end = cut if end < 0 else end
                style = _STYLE.search(buf, at, end)
                if style and int(style.group(1)) in timed:
                    out.add(wanted[k])
                pos, k = end, k + 1
            if not chunk:
                break
            tail = buf[cut:]
    return out if k == len(needles) else None


def _row_near(buf: bytes, row: int, lo: int, hi: int) -> int:
    """A position in buf[lo:hi] at or before where row `row` starts (rows are written in order): found by
    halving, so that a wanted cell is looked for from near its row instead of through every row before it."""
    while hi - lo > _NEAR:
        mid = (lo + hi) // 2
        m = _ROW_TAG.search(buf, mid, hi)
        if m is None or int(m.group(1)) > row:
            hi = mid
        else:
            lo = m.start()
    return lo
