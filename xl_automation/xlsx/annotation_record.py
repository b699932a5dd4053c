"""The very hidden record sheet `_校验标注` as its own worksheet part: read back (whoever saved it last:
this program, Excel, WPS or LibreOffice) and written anew.

Columns A:E are shared with the live Excel path (live_marks.py, macros/LedgerMarks.bas): kind, a formula
referring to the cell (so spreadsheet programs move it with inserted or deleted rows), the cell's fill
before, its note before (JSON) and what was applied (JSON). Column F is the file path's own: the exact
cell format index and note XML before, for an undo that gives back the very same bytes. The live path
clears it, and the undo then works from A:E alone.
"""
from __future__ import annotations

import json
from typing import Any, Iterator

from lxml import etree
from openpyxl.formula.translate import Translator

from xl_automation.model import labels
from xl_automation.xlsx.xlsx_cells import XML_SPACE, SharedStrings, Sheet, ref_of
from xl_automation.xlsx.xlsx_package import CT_SHEET, MAIN_NS, R_NS, Package, q

KIND_CELL, KIND_PROGRAM, KIND_ADDED = "标注单元格", "程序列", "新增列"
KINDS = (KIND_CELL, KIND_PROGRAM, KIND_ADDED)
RECORD_NOTE = "本表由综合受理校验程序维护，记录上次标注前单元格的原样，请勿修改"
RECORD_HEADERS = ("类别", "位置", "原填充", "原批注", "本次标注")
FIRST_ROW = 3
EXACT_COL = 6     # F: the file path's exact undo data


def read_record(pkg: Package, part: str | None, strings: SharedStrings) -> Iterator[tuple[Any, ...]]:
    """(kind, "=formula", fill, note JSON, applied JSON, exact JSON) of each record row."""
    if not part or not pkg.has(part):
        return
    sheet = Sheet(pkg, labels.ANNOTATION_SHEET, part, strings)
    masters: dict[str, tuple[str, str]] = {}    # shared-formula index -> (formula, its cell)
    for row in sorted(sheet.rows):
        if row < FIRST_ROW:
            continue
        values = [sheet.value(row, col) for col in range(1, EXACT_COL + 1)]
        values = [v if v is None or isinstance(v, (str, int, float)) else str(v) for v in values]
        f = sheet.formula(row, 2)
        values[1] = _formula(f, ref_of(row, 2), masters) if f is not None else values[1]
        if values[0] in KINDS and isinstance(values[1], str):
            yield tuple(values)


def _formula(f: etree._Element, ref: str, masters: dict[str, tuple[str, str]]) -> str | None:
    """The formula of a cell, shared formulas (Excel writes them for filled-down references) translated."""
    text, index = (f.text or "").strip(), f.get("si")
    if f.get("t") == "shared" and index is not None:
        if text:
            masters[index] = (text, ref)
        elif index in masters:
            master, origin = masters[index]
            return Translator("=" + master, origin=origin).translate_formula(ref)
        else:
            return None
    return "=" + text if text else None


def record_xml(rows: list[list[Any]]) -> bytes:
    """The record sheet part: the note, the headers, then one row per record entry (B as a formula)."""
    root = etree.Element(q("worksheet"), nsmap={None: MAIN_NS, "r": R_NS})
    data = etree.SubElement(root, q("sheetData"))
    for r, line in enumerate([[RECORD_NOTE], list(RECORD_HEADERS), *rows], 1):
        row = etree.SubElement(data, q("row"), r=str(r))
        for c, value in enumerate(line, 1):
            if value is None:
                continue
            cell = etree.SubElement(row, q("c"), r=ref_of(r, c))
            if r >= FIRST_ROW and c == 2:
                etree.SubElement(cell, q("f")).text = str(value).lstrip("=")
            else:
                cell.set("t", "inlineStr")
                t = etree.SubElement(etree.SubElement(cell, q("is")), q("t"))
                t.text = str(value)
                t.set(XML_SPACE, "preserve")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def write_record(pkg: Package, workbook: str, part: str | None, rows: list[list[Any]]) -> None:
    """Replace the record sheet's part, or add the sheet (very hidden, last) when the workbook has none."""
    if part is None:
        part = pkg.new_name("xl/worksheets/sheet%d.xml")
        rid = pkg.add_rel(workbook, "worksheet", part)
        pkg.set_override(part, CT_SHEET)
        root = pkg.xml(workbook)
        sheets = root.find(q("sheets"))
        ids = [int(s.get("sheetId", 0)) for s in sheets.iter(q("sheet")) if s.get("sheetId", "").isdigit()]
        el = etree.SubElement(sheets, q("sheet"))
        el.set("name", labels.ANNOTATION_SHEET)
        el.set("sheetId", str(max(ids, default=0) + 1))
        el.set("state", "veryHidden")
        el.set(q("id", R_NS), rid)
        pkg.save_xml(workbook)
    pkg.put(part, record_xml(rows))


def exact(value: Any) -> dict[str, Any]:
    """Column F read back ({} when absent or not ours)."""
    if not isinstance(value, str) or not value.startswith("{"):
        return {}
    try:
        data = json.loads(value)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}

