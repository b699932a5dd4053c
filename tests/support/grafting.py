"""A ledger sheet grafted into a real workbook at the XML level (everything else exactly as the other
program saved it), and the part-by-part comparison of a package before and after annotation."""
from __future__ import annotations

import posixpath
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

from support.ledger_files import ledger_layout, sample_rows
from xl_automation.model import labels
from xl_automation.xlsx.xlsx_cells import ref_of, split_ref
from xl_automation.xlsx.xlsx_package import CT_NS, MAIN_NS, PKG_REL_NS, R_NS

LEDGER = labels.LEDGER_SHEET
WS_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
WS_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


def ledger_cells(n: int = 6) -> dict[tuple[int, int], Any]:
    """A small month with two mistakes (a channel not in the list, a bad phone): the annotation has work."""
    rows = sample_rows(n)
    rows[1]["channel"] = "微信"
    rows[2]["phone"] = "12345"
    return ledger_layout(rows, info=None).sheets[LEDGER]


def sheet_xml(cells: dict[tuple[int, int], Any], ns: str = MAIN_NS) -> bytes:
    """A worksheet of inline strings and numbers, date-times as text the way clerks type them."""
    rows: dict[int, list[str]] = {}
    for (r, c), v in sorted(cells.items()):
        if isinstance(v, datetime):
            v = f"{v:%Y-%m-%d %H:%M}"
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            rows.setdefault(r, []).append(f'<c r="{ref_of(r, c)}"><v>{v}</v></c>')
        else:
            rows.setdefault(r, []).append(f'<c r="{ref_of(r, c)}" t="inlineStr"><is><t>{escape(str(v))}</t></is></c>')
    body = "".join(f'<row r="{r}">{"".join(cs)}</row>' for r, cs in rows.items())
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{ns}">'
            f"<sheetData>{body}</sheetData></worksheet>").encode()


def read_entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist() if not i.filename.endswith("/")}


def graft(host: Path, out: Path, cells: dict[tuple[int, int], Any] | None = None, *, name: str = LEDGER) -> Path:
    """host with one more worksheet `name` holding the ledger; every other part as host has it."""
    parts = read_entries(host)
    rels = etree.fromstring(parts["_rels/.rels"])
    book = next(r.get("Target") for r in rels if r.get("Type", "").endswith("/officeDocument")).lstrip("/")
    book_rels = posixpath.join(posixpath.dirname(book), "_rels", posixpath.basename(book) + ".rels")
    root = etree.fromstring(parts[book])
    ns = root.tag[1:].split("}")[0]
    n = 1
    while f"xl/worksheets/sheet{n}.xml" in parts:
        n += 1
    part = f"xl/worksheets/sheet{n}.xml"
    parts[part] = sheet_xml(ledger_cells() if cells is None else cells, ns)
    brels = etree.fromstring(parts[book_rels])
    rid = f"rIdLedger{n}"
    etree.SubElement(brels, f"{{{PKG_REL_NS}}}Relationship", Id=rid, Type=WS_TYPE,
                     Target=posixpath.relpath(part, posixpath.dirname(book)))
    parts[book_rels] = etree.tostring(brels, xml_declaration=True, encoding="UTF-8", standalone=True)
    sheets = root.find(f"{{{ns}}}sheets")
    ids = [int(s.get("sheetId")) for s in sheets]
    r_ns = next((v for v in root.nsmap.values() if v and v.endswith("/relationships")), R_NS)
    sheet = etree.SubElement(sheets, f"{{{ns}}}sheet", name=name, sheetId=str(max(ids) + 1))
    sheet.set(f"{{{r_ns}}}id", rid)
    parts[book] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    types = etree.fromstring(parts["[Content_Types].xml"])
    etree.SubElement(types, f"{{{CT_NS}}}Override", PartName="/" + part, ContentType=WS_CT)
    parts["[Content_Types].xml"] = etree.tostring(types, xml_declaration=True, encoding="UTF-8", standalone=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name_, data in parts.items():
            z.writestr(name_, data)
    return out


# ---- comparing ------------------------------------------------------------------------------

def _rels_targets(parts: dict[str, bytes], part: str) -> dict[str, str]:
    folder, base = posixpath.split(part)
    data = parts.get(posixpath.join(folder, "_rels", base + ".rels"))
    if data is None:
        return {}
    return {r.get("Type").rsplit("/", 1)[-1]: posixpath.normpath(posixpath.join(folder, r.get("Target")))
            for r in etree.fromstring(data) if r.get("TargetMode") != "External"}


def annotation_parts(before: dict[str, bytes], after: dict[str, bytes], ledger_part: str) -> set[str]:
    """The parts an annotation may write: the ledger sheet, its rels and notes, styles, the workbook part
    and its rels, content types, and the record sheet."""
    allowed = {ledger_part, posixpath.join("xl/worksheets/_rels", posixpath.basename(ledger_part) + ".rels"),
               "[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"}
    for kind in ("comments", "vmlDrawing"):
        target = _rels_targets(after, ledger_part).get(kind)
        if target:
            allowed.add(target)
    allowed |= set(after) - set(before)     # the record sheet (and notes parts created for the ledger)
    return allowed


def cells_of(data: bytes) -> dict[str, tuple[str, bytes]]:
    """ref -> (style index, the cell's XML without its style) of a worksheet part."""
    out = {}
    for c in etree.fromstring(data).iter(f"{{{MAIN_NS}}}c"):
        s = c.get("s", "0")
        c = etree.fromstring(etree.tostring(c))
        c.attrib.pop("s", None)
        out[c.get("r")] = (s, etree.tostring(c))
    return out


def ledger_differences(before: bytes, after: bytes, marked: set[str], program_cols: set[int]) -> list[str]:
    """What changed in the ledger sheet beyond marked cells' styles and the program columns' cells."""
    problems = []
    a, b = cells_of(before), cells_of(after)
    for ref in set(a) | set(b):
        col = split_ref(ref)[1]
        if col in program_cols:
            continue
        old, new = a.get(ref), b.get(ref)
        if old is None or new is None:
            if ref not in marked:
                problems.append(f"{ref}: cell {'added' if old is None else 'removed'}")
            continue
        if old[1] != new[1]:
            problems.append(f"{ref}: content {old[1]!r} -> {new[1]!r}")
        if old[0] != new[0] and ref not in marked:
            problems.append(f"{ref}: style {old[0]} -> {new[0]} on a cell not marked")
    strip = {"sheetData", "dimension", "cols", "legacyDrawing"}
    outline = lambda data: [etree.tostring(e) for e in etree.fromstring(data) if etree.QName(e).localname not in strip]
    if outline(before) != outline(after):
        problems.append("elements outside the cells changed")
    return problems
