"""What an annotation says and how it is recorded, as pure functions: shared by the file path
(annotate.py) and the live Excel path (live_marks.py), so both write the same marks and undo each other's."""
from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from typing import Any, Iterable

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import range_boundaries

from xl_automation.model import labels

from xl_automation.rules import sla
from xl_automation.model.findings import ERROR, WARNING, Finding
from xl_automation.model.ledger import Ledger

AUTHOR = "综合受理校验"
SEPARATOR = "—" * 12
FILLS = {ERROR: "FFFFC7CE", WARNING: "FFFFEB9C"}
STATUS_FILLS = {sla.LATE: "FFFFC7CE", sla.OVERDUE_OPEN: "FFFFC7CE", sla.NEAR: "FFF8CBAD"}
PASSED = "通过"
_OUR_NOTE = re.compile(r"(?m)^【(?:错误|提醒)】.*\n处理：")
_REF = re.compile(r"^=\s*(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?\s*$")


def group_findings(findings: Iterable[Finding], ledger: Ledger, anchor, fallback):
    """Findings per marked cell and per ledger row. anchor(f) is the cell a finding names (None when it
    names none, or none that exists); fallback(f, in_row) is its row's 校验结果 cell or the header's."""
    rows = {r.excel_row for r in ledger.rows}
    by_cell: dict[tuple[str, str], list[Finding]] = {}
    by_row: dict[int, list[Finding]] = {}
    for f in findings:
        in_row = f.sheet in (None, ledger.sheet) and f.row in rows
        if in_row:
            by_row.setdefault(f.row, []).append(f)
        by_cell.setdefault(anchor(f) or fallback(f, in_row), []).append(f)
    return by_cell, by_row


def note_of(group: list[Finding]) -> tuple[str, str]:
    """The severity that colours a cell (errors first) and its note: every finding and its fix."""
    group.sort(key=lambda f: f.severity != ERROR)
    severity = ERROR if group[0].severity == ERROR else WARNING
    text = "\n".join(dict.fromkeys(
        f"【{labels.SEVERITY_ZH.get(f.severity, f.severity)}】{f.message}\n处理：{f.hint}" for f in group))
    return severity, text


def ref_formula(sheet: str, ref: str) -> str:
    return "='{}'!{}".format(sheet.replace("'", "''"), ref)


def parse_ref(formula: str) -> tuple[str, int, int, int, int] | None:
    """(sheet, column, first row, last column, last row) of a recorded reference formula."""
    m = _REF.match(formula)
    if not m:
        return None
    sheet = m.group(1).replace("''", "'") if m.group(1) else m.group(2).strip()
    c1, r1, c2, r2 = range_boundaries(f"{m.group(3)}{m.group(4)}:{m.group(5) or m.group(3)}{m.group(6) or m.group(4)}")
    return sheet, c1, r1, c2, r2


def load_json(text: Any) -> Any:
    if not isinstance(text, str) or not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def digest(text: str) -> str:
    return hashlib.sha1(text.strip().encode("utf-8")).hexdigest()[:16]


def is_ours(note, applied: str | None = None) -> bool:
    """A note this program wrote: by author, or by its text (LibreOffice does not keep authors)."""
    text = note.text or ""
    if note.author == AUTHOR or (applied is not None and digest(text) == applied):
        return True
    return applied is None and bool(_OUR_NOTE.search(text))


def minutes_value(value: float | None) -> float | int | None:
    if value is None:
        return None
    value = round(value, 1)
    return int(value) if value == int(value) else value


def row_summary(findings: list[Finding]) -> str:
    if not findings:
        return PASSED
    errors = sum(1 for f in findings if f.severity == ERROR)
    warnings_ = len(findings) - errors
    counts = " ".join(f"{n} {labels.SEVERITY_ZH[s]}" for n, s in ((errors, ERROR), (warnings_, WARNING)) if n)
    where = "、".join(dict.fromkeys(f.column for f in findings if f.column))
    return clean(f"{counts}：{where}" if where else counts)


def clean(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def note_box(text: str) -> tuple[int, int]:
    """Note size in px, wide and tall enough for the text at Excel's 9-point note font."""
    def units(line: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
    lines = text.split("\n")
    width = min(max(144, max(units(line) for line in lines) * 6 + 24), 360)
    per_line = (width - 24) / 6
    height = sum(max(1, math.ceil(units(line) / per_line)) for line in lines) * 16 + 16
    return width, max(79, height)
