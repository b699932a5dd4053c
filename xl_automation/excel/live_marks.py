"""Findings into a workbook open in Excel: what annotate.py does to a file, as a plan of bulk writes and
cell operations that macros/LedgerMarks.bas carries out in-process (no COM round trip per cell).

The protocol with LedgerMarks.bas lives in the very hidden record sheet `_校验标注`: columns A:E are
annotate.py's own record (so the CLI and the buttons undo each other's marks), columns H:P are scratch.
Before Python runs, PrepareMarks writes what only per-cell calls can see (notes, hidden rows, merged
ranges, the 1904 flag) into the scratch; Python plans and writes the record and the operations; ApplyMarks
then sets fills and notes and writes each marked cell's previous fill into the record. macros/README.md
says why it is done this way. This module is that protocol (the capture read, fills as VBA arguments, the
record sheet written); live_plan.py plans the marks themselves.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from openpyxl.styles.colors import COLOR_INDEX
from openpyxl.styles.fills import Fill, PatternFill
from openpyxl.utils.cell import column_index_from_string
from openpyxl.xml.functions import fromstring

from xl_automation.xlsx.annotation_record import KIND_ADDED, KIND_CELL, KIND_PROGRAM, RECORD_HEADERS, RECORD_NOTE

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
    ends = [cell_at(part) for part in ref.replace("$", "").split(":")]
    if not ends or None in ends:
        return None
    (r1, c1), (r2, c2) = ends[0], ends[-1]
    return (r1 - 1, c1 - 1), (r2 - 1, c2 - 1)


def cell_at(coord: str) -> tuple[int, int] | None:
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


def note_json(note: Note | None) -> str | None:
    if note is None:
        return None
    # whole px, as annotate records the boxes it reads from the VML
    return json.dumps({"text": note.text, "author": note.author, "width": round(note.width),
                       "height": round(note.height)}, ensure_ascii=False)


def pt(px: float) -> float:
    return round(px / PX_PER_PT, 2)


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
