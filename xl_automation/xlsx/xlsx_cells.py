"""One worksheet part edited in its own XML: cell styles and values, merged ranges, column widths.

Only the elements asked for change; rows, cells and attributes the program does not touch stay as the
writer left them. Text is written as inline strings, so the shared-strings part is never rewritten.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

from lxml import etree

from xl_automation.model.ledger import LedgerError
from xl_automation.xlsx.xlsx_package import MAIN_NS, R_NS, Package, local, q

_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
# CT_Worksheet's child order (ECMA-376 Part 1, 18.3.1.99); AlternateContent wraps controls and OLE objects
ORDER = ("sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr",
         "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate",
         "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting", "dataValidations",
         "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
         "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing",
         "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems", "tableParts",
         "extLst")


def column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def column_name(n: int) -> str:
    out = ""
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(65 + rest) + out
    return out


def split_ref(ref: str) -> tuple[int, int] | None:
    """'C7' -> (7, 3); None when it is not one cell."""
    m = _REF.match(ref.strip())
    return (int(m.group(2)), column_number(m.group(1))) if m else None


def ref_of(row: int, col: int) -> str:
    return f"{column_name(col)}{row}"


class SharedStrings:
    """The workbook's shared strings, read once when a cell needs one."""

    def __init__(self, pkg: Package, part: str | None):
        self.pkg, self.part, self._texts = pkg, part, None

    def __getitem__(self, index: int) -> str:
        if self._texts is None:
            root = self.pkg.xml(self.part) if self.part and self.pkg.has(self.part) else None
            self._texts = [] if root is None else [text_of(si) for si in root.iter(q("si"))]
        return self._texts[index] if 0 <= index < len(self._texts) else ""


def text_of(el: etree._Element) -> str:
    """The plain text of a string item or comment text: its <t> pieces, phonetic runs left out."""
    return "".join(t.text or "" for t in el.iter(q("t")) if local(t.getparent().tag) != "rPh")


def cell_value(c: etree._Element, strings: SharedStrings) -> Any:
    """A <c> element's value as the user sees it: text, number, bool, error text; None when empty."""
    kind = c.get("t", "n")
    if kind == "inlineStr":
        inline = c.find(q("is"))
        return None if inline is None else text_of(inline)
    v = c.findtext(q("v"))
    if v is None:
        return None
    if kind == "s":
        try:
            return strings[int(v)]
        except ValueError:
            return None
    if kind in ("str", "e"):
        return v
    if kind == "b":
        return v.strip() in ("1", "true")
    try:
        number = float(v)
    except ValueError:
        return v
    return int(number) if number.is_integer() and "." not in v and "E" not in v.upper() else number


def write_value(c: etree._Element, value: Any) -> None:
    """Put a number or text into a <c> element (text stays text, never a formula); None or a bool empties it.
    Its formula, value and type go; its style stays."""
    for child in list(c):
        if local(child.tag) in ("f", "v", "is"):
            c.remove(child)
    for attr in ("t", "cm", "vm"):
        c.attrib.pop(attr, None)
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, (int, float)):
        etree.SubElement(c, q("v")).text = repr(value) if isinstance(value, float) else str(value)
        return
    c.set("t", "inlineStr")
    t = etree.SubElement(etree.SubElement(c, q("is")), q("t"))
    t.text = str(value)
    if t.text != t.text.strip() or "\n" in t.text:
        t.set(XML_SPACE, "preserve")


class Merged(list):
    """A sheet's merged ranges as (top, left, bottom, right), 1-based; which cell holds a covered one."""

    @classmethod
    def of(cls, root: etree._Element) -> "Merged":
        return cls(b for b in (_bounds(m.get("ref", "")) for m in root.iter(q("mergeCell"))) if b)

    def owner(self, row: int, col: int) -> tuple[int, int]:
        """The top-left cell of the merged range holding the cell (the cell itself when not merged)."""
        for r1, c1, r2, c2 in self:
            if r1 <= row <= r2 and c1 <= col <= c2:
                return r1, c1
        return row, col

    def covered(self, row: int, col: int) -> bool:
        return self.owner(row, col) != (row, col)


def insert_child(root: etree._Element, el: etree._Element) -> etree._Element:
    """Put a new child of <worksheet> where the schema's order wants it."""
    rank = ORDER.index(local(el.tag))
    later = set(ORDER[rank + 1:]) | {"AlternateContent"}
    before = next((c for c in root if local(c.tag) in later), None)
    if before is not None:
        before.addprevious(el)
    else:
        root.append(el)
    return el


def add_width(root: etree._Element, col: int, width: float) -> bool:
    """Give one column without settings a width (<cols> made when missing); False when the column already
    has settings of the user's (hidden or not), which win."""
    cols = root.find(q("cols"))
    if cols is None:
        cols = insert_child(root, etree.Element(q("cols")))
    if any(int(c.get("min", 0)) <= col <= int(c.get("max", 0)) for c in cols):
        return False
    el = etree.Element(q("col"))
    for key, value in (("min", col), ("max", col), ("width", width), ("customWidth", 1)):
        el.set(key, str(value))
    before = next((c for c in cols if int(c.get("min", 0)) > col), None)
    if before is not None:
        before.addprevious(el)
    else:
        cols.append(el)
    return True


def unshare(cells: dict[tuple[int, int], etree._Element], index: str | None) -> None:
    """Write each cell of shared-formula group `index` with its own formula (Excel's meaning of the group),
    so that one of them can be overwritten without the others losing theirs."""
    from openpyxl.formula.translate import Translator
    group = [(ref, f) for (r, c_), cell in cells.items() if (f := cell.find(q("f"))) is not None
             and f.get("t") == "shared" and f.get("si") == index for ref in [ref_of(r, c_)]]
    master = next(((ref, f.text.strip()) for ref, f in group if (f.text or "").strip()), None)
    if master is None:
        return
    for ref, f in group:
        if not (f.text or "").strip():
            f.text = Translator("=" + master[1], origin=master[0]).translate_formula(ref)[1:]
        for attr in ("t", "si", "ref"):
            f.attrib.pop(attr, None)


def widen(root: etree._Element, row_el: etree._Element, row: int, col: int) -> None:
    """Keep <dimension> and the row's spans= hint around a new cell (readers size grids by them)."""
    dim = root.find(q("dimension"))
    if dim is not None:
        bounds = _bounds(dim.get("ref", ""))
        if bounds and not (bounds[0] <= row <= bounds[2] and bounds[1] <= col <= bounds[3]):
            r1, c1, r2, c2 = bounds
            dim.set("ref", f"{ref_of(min(r1, row), min(c1, col))}:{ref_of(max(r2, row), max(c2, col))}")
    spans = row_el.get("spans", "")
    if re.fullmatch(r"\d+:\d+", spans):
        lo, hi = map(int, spans.split(":"))
        if not lo <= col <= hi:
            row_el.set("spans", f"{min(lo, col)}:{max(hi, col)}")


class Sheet:
    """A worksheet part: find, create and change cells in place. Values are read and written by
    cell_value / write_value, merged ranges answered by Merged, the part's other children placed by
    insert_child, shared formulas expanded by unshare, the size hints kept by widen; this class keeps the
    index of rows and cells and what a cell inherits."""

    def __init__(self, pkg: Package, name: str, part: str, strings: SharedStrings):
        self.pkg, self.name, self.part, self.strings = pkg, name, part, strings
        self.root = pkg.xml(part)
        if self.root.tag != q("worksheet"):
            raise LedgerError("annotate-failed", pkg.path, detail=f"“{name}”不是普通工作表，无法标注")
        self.data = self.root.find(q("sheetData"))
        if self.data is None:
            self.data = insert_child(self.root, etree.Element(q("sheetData")))
        self.rows: dict[int, etree._Element] = {}
        self._cells: dict[tuple[int, int], etree._Element] = {}
        previous = 0
        for row in self.data.iterchildren(q("row")):
            n = int(row.get("r") or previous + 1)
            row.set("r", str(n))     # a few writers leave r= out; say it so that inserted rows keep their place
            self.rows[n], previous = row, n
            col = 0
            for c in row.iterchildren(q("c")):
                at = split_ref(c.get("r", ""))
                col = at[1] if at else col + 1
                if not at:
                    c.set("r", ref_of(n, col))
                self._cells.setdefault((n, col), c)
        self.merged = Merged.of(self.root)
        self._col_styles = [(int(c.get("min", 0)), int(c.get("max", 0)), int(c.get("style", 0)))
                            for c in self.root.iter(q("col"))]
        self.changed = False

    # -- reading ----------------------------------------------------------------------------
    def cell(self, row: int, col: int) -> etree._Element | None:
        return self._cells.get((row, col))

    def cells(self) -> Iterator[tuple[int, int, etree._Element]]:
        for (row, col), c in self._cells.items():
            yield row, col, c

    def value(self, row: int, col: int) -> Any:
        c = self.cell(row, col)
        return None if c is None else self.value_of(c)

    def value_of(self, c: etree._Element) -> Any:
        return cell_value(c, self.strings)

    def formula(self, row: int, col: int) -> etree._Element | None:
        c = self.cell(row, col)
        return None if c is None else c.find(q("f"))

    def style(self, row: int, col: int) -> int:
        """The cell format index the cell shows: its own, else its row's, else its column's."""
        c = self.cell(row, col)
        if c is not None:
            return int(c.get("s", 0))
        return self._inherited(row, col)

    def _inherited(self, row: int, col: int) -> int:
        el = self.rows.get(row)
        if el is not None and el.get("customFormat") in ("1", "true"):
            return int(el.get("s", 0))
        return next((s for lo, hi, s in self._col_styles if lo <= col <= hi), 0)

    def owner(self, row: int, col: int) -> tuple[int, int]:
        return self.merged.owner(row, col)

    def covered(self, row: int, col: int) -> bool:
        return self.merged.covered(row, col)

    @property
    def protected(self) -> bool:
        el = self.root.find(q("sheetProtection"))
        return el is not None and el.get("sheet") in ("1", "true")

    # -- writing -----------------------------------------------------------------------------
    def _row(self, row: int) -> etree._Element:
        el = self.rows.get(row)
        if el is None:
            el = etree.Element(q("row"))
            el.set("r", str(row))
            before = max((n for n in self.rows if n < row), default=None)
            if before is not None:
                self.rows[before].addnext(el)
            else:
                self.data.insert(0, el)
            self.rows[row] = el
        return el

    def make_cell(self, row: int, col: int) -> etree._Element:
        c = self.cell(row, col)
        if c is not None:
            return c
        inherited = self._inherited(row, col)
        el = self._row(row)
        c = etree.Element(q("c"))
        c.set("r", ref_of(row, col))
        if inherited:
            c.set("s", str(inherited))
        before = next((x for x in el.iterchildren(q("c")) if (split_ref(x.get("r", "")) or (0, 0))[1] > col), None)
        if before is not None:
            before.addprevious(c)
        else:
            el.append(c)
        self._cells[(row, col)] = c
        widen(self.root, self.rows[row], row, col)
        return c

    def set_style(self, row: int, col: int, style: int) -> None:
        c = self.make_cell(row, col)
        if style:
            c.set("s", str(style))
        elif "s" in c.attrib:
            del c.attrib["s"]
        self.changed = True

    def set_value(self, row: int, col: int, value: Any) -> None:
        """Write a number or text (text stays text, never a formula); None empties the cell."""
        if value is None and self.cell(row, col) is None:
            return
        c = self.make_cell(row, col)
        f = c.find(q("f"))
        if f is not None and f.get("t") == "shared" and (f.text or "").strip():
            unshare(self._cells, f.get("si"))     # the group's other cells must not lose the formula they share
        write_value(c, value)
        self.changed = True

    def drop_if_bare(self, row: int, col: int) -> None:
        """Remove a cell that holds nothing and looks like its row or column (one the program created)."""
        c = self.cell(row, col)
        if c is not None and len(c) == 0 and int(c.get("s", 0)) == self._inherited(row, col) \
                and set(c.attrib) <= {"r", "s"}:
            c.getparent().remove(c)
            del self._cells[(row, col)]
            self.changed = True

    def set_width(self, col: int, width: float) -> None:
        """Give one empty column a width; columns of the user's (hidden or not) are never touched."""
        if add_width(self.root, col, width):
            self.changed = True

    def add_legacy_drawing(self, rid: str) -> None:
        el = etree.Element(q("legacyDrawing"))
        el.set(q("id", R_NS), rid)
        insert_child(self.root, el)
        self.changed = True

    def save(self) -> None:
        if self.changed:
            self.pkg.save_xml(self.part, self.root)


def _bounds(ref: str) -> tuple[int, int, int, int] | None:
    ends = [split_ref(p) for p in ref.split(":")]
    if not ends or None in ends:
        return None
    (r1, c1), (r2, c2) = ends[0], ends[-1]
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def is_main(root: etree._Element) -> bool:
    return root.tag.startswith(f"{{{MAIN_NS}}}")
