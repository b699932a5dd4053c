"""A worksheet's legacy VML drawing, as far as notes go: each note's box (its size and style), boxes made
for new notes, boxes of removed notes taken out. Other shapes in the drawing (buttons, controls) stay."""
from __future__ import annotations

from xml.etree import ElementTree as ET

from lxml import etree

from xl_automation.model.ledger import LedgerError
from xl_automation.xlsx import fileio
from xl_automation.xlsx.xlsx_cells import Sheet
from xl_automation.xlsx.xlsx_package import CT_VML, Package

V_NS, O_NS, X_NS = "urn:schemas-microsoft-com:vml", "urn:schemas-microsoft-com:office:office", \
    "urn:schemas-microsoft-com:office:excel"
NOTE_TYPE = "#_x0000_t202"
DEFAULT_BOX = (144, 79)     # px: a note's box when its drawing does not say (openpyxl's default too)
NEW_VML = (f'<xml xmlns:v="{V_NS}" xmlns:o="{O_NS}" xmlns:x="{X_NS}"><o:shapelayout v:ext="edit">'
           '<o:idmap v:ext="edit" data="{block}"/></o:shapelayout>'
           '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
           '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype></xml>')
SHAPETYPE = NEW_VML[NEW_VML.index("<v:shapetype"):NEW_VML.index("</xml>")]
SHAPE = (f'<v:shape xmlns:v="{V_NS}" xmlns:o="{O_NS}" xmlns:x="{X_NS}" id="_x0000_s{{id}}" type="{NOTE_TYPE}" '
         'style="position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:{w}px;height:{h}px;z-index:1;'
         'visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
         '<v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
         '<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"/></v:textbox>'
         '<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
         '<x:Anchor>{c1}, 15, {r0}, 10, {c3}, 15, {r4}, 4</x:Anchor><x:AutoFill>False</x:AutoFill>'
         '<x:Row>{r0}</x:Row><x:Column>{c0}</x:Column></x:ClientData></v:shape>')


Cell = tuple[int, int]
Box = tuple | None      # what a cell's box becomes: None (no note), ("box", width, height) or ("style", a style)


class NoteDrawing:
    """The sheet's VML part: the boxes it gives notes now, and the changes to write into it."""

    def __init__(self, pkg: Package, sheet: Sheet, block: int):
        self.pkg, self.sheet, self.block = pkg, sheet, block
        self.part = pkg.target(sheet.part, "vmlDrawing")
        self.boxes: dict[Cell, tuple[float, float]] = {}
        if self.part and pkg.has(self.part):
            try:
                for s in fileio.vml_shapes(pkg.read(self.part)):
                    if s["type"] == "Note" and s["width"]:
                        self.boxes[(s["row"] + 1, s["column"] + 1)] = (s["width"], s["height"] or DEFAULT_BOX[1])
            except (ET.ParseError, ValueError):
                pass   # Excel's VML is not always XML: sizes unknown; writing it is refused in save()

    def size(self, cell: Cell, box: Box) -> tuple[float, float]:
        """The note's box in px, as it will be saved (box: the change not yet saved, if any)."""
        if box and box[0] == "box":
            return box[1], box[2]
        if box and box[0] == "style":
            style = dict(kv.replace(" ", "").split(":", 1) for kv in box[1].split(";") if ":" in kv)
            width, height = (fileio.pt_or_px(style.get(k, "")) for k in ("width", "height"))
            return width or DEFAULT_BOX[0], height or DEFAULT_BOX[1]
        return self.boxes.get(cell, DEFAULT_BOX)

    def box_style(self, cell: Cell, box: Box | tuple = ()) -> str | None:
        """The style the cell's note box has, with the change not yet saved (box; () when none)."""
        current = None
        if self.part and self.pkg.has(self.part):
            try:
                shape = _shapes(self.pkg.xml(self.part)).get(cell)
                current = None if shape is None else shape.get("style")
            except LedgerError:
                pass
        if not box:
            return None if box is None else current
        return box[1] if box[0] == "style" else _with_box(current or "", *box[1:])

    def _root(self) -> etree._Element:
        if self.part is None or not self.pkg.has(self.part):
            related = self.part is not None     # named by the sheet but missing: make it under that name
            self.part = self.part or self.pkg.new_name("xl/drawings/vmlDrawing%d.vml")
            self.pkg.put(self.part, NEW_VML.replace("{block}", str(self.block)).encode())
            if not related:
                self.sheet.add_legacy_drawing(self.pkg.add_rel(self.sheet.part, "vmlDrawing", self.part))
            self.pkg.set_default("vml", CT_VML)
        try:
            return self.pkg.xml(self.part)
        except LedgerError:
            raise LedgerError("annotate-failed", self.pkg.path,
                              detail=f"工作表“{self.sheet.name}”的批注绘图（{self.part}）不是有效的 XML，"
                                     "程序不改动它") from None

    def save(self, dirty: dict[Cell, Box], noted: set[Cell] | dict) -> None:
        """Each changed cell's box: removed when its note is gone, restyled, or made for a new note."""
        root = self._root()
        shapes = _shapes(root)
        for cell, box in dirty.items():
            shape = shapes.get(cell)
            if box is None or cell not in noted:
                if shape is not None:
                    shape.getparent().remove(shape)
            elif shape is not None:
                shape.set("style", box[1] if box[0] == "style" else _with_box(shape.get("style", ""), *box[1:]))
        new = [cell for cell, box in dirty.items() if box is not None and cell in noted and cell not in shapes]
        if new:
            self._append_shapes(root, [(cell, dirty[cell]) for cell in new])
        self.pkg.save_xml(self.part, root)

    def _append_shapes(self, root: etree._Element, cells: list[tuple[Cell, tuple]]) -> None:
        if not any(t.get("id") == NOTE_TYPE[1:] for t in root.iter(f"{{{V_NS}}}shapetype")):
            root.append(etree.fromstring(SHAPETYPE.replace("<v:shapetype", f'<v:shapetype xmlns:v="{V_NS}" '
                                                           f'xmlns:o="{O_NS}"', 1)))
        taken = [0]
        for shape in root.iter(f"{{{V_NS}}}shape"):
            for attr in ("id", f"{{{O_NS}}}spid"):
                value = shape.get(attr, "")
                if value.startswith("_x0000_s") and value[8:].isdigit():
                    taken.append(int(value[8:]))
        idmap = root.find(f"{{{O_NS}}}shapelayout/{{{O_NS}}}idmap")
        blocks = [int(b) for b in (idmap.get("data", "") if idmap is not None else "").split(",") if b.strip().isdigit()]
        next_id = max(max(taken) + 1, (min(blocks) if blocks else self.block) * 1024 + 1)
        for (row, col), box in cells:
            width, height = box[1:] if box[0] == "box" else DEFAULT_BOX
            shape = etree.fromstring(SHAPE.format(id=next_id, w=width, h=height, c0=col - 1, c1=col,
                                                  c3=col + 2, r0=row - 1, r4=row + 3))
            if box[0] == "style":
                shape.set("style", box[1])
            root.append(shape)
            next_id += 1
        if idmap is not None and blocks:   # every id must fall in a block the drawing claims
            needed = sorted(set(blocks) | set(range(min(blocks), (next_id - 1) // 1024 + 1)))
            idmap.set("data", ",".join(map(str, needed)))


def _shapes(root: etree._Element) -> dict[Cell, etree._Element]:
    out = {}
    for shape in root.iter(f"{{{V_NS}}}shape"):
        data = shape.find(f"{{{X_NS}}}ClientData")
        if data is not None and data.get("ObjectType") == "Note":
            try:
                out[(int(data.findtext(f"{{{X_NS}}}Row")) + 1, int(data.findtext(f"{{{X_NS}}}Column")) + 1)] = shape
            except (TypeError, ValueError):
                continue
    return out


def _with_box(style: str, width: int, height: int) -> str:
    """A VML style with width and height replaced, every other declaration kept in its place."""
    items = [kv.split(":", 1) for kv in style.split(";") if ":" in kv]
    new = {"width": f"{width}px", "height": f"{height}px"}
    out = [f"{k}:{new.pop(k.strip())}" if k.strip() in new else f"{k}:{v}" for k, v in items]
    return ";".join(out + [f"{k}:{v}" for k, v in new.items()])
