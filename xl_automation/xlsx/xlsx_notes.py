"""The notes (批注) of one worksheet: its comments part and the legacy VML drawing that gives each note a
box, edited cell by cell. Other shapes in the drawing (buttons, controls) and threaded comments stay."""
from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree as ET

from lxml import etree

from xl_automation.xlsx import fileio
from xl_automation.model.ledger import LedgerError
from xl_automation.xlsx.xlsx_cells import XML_SPACE, Sheet, ref_of, split_ref, text_of
from xl_automation.xlsx.xlsx_package import CT_COMMENTS, CT_VML, MAIN_NS, PARSER, Package, local, q

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


@dataclass
class Note:
    text: str
    author: str
    width: float      # px
    height: float


class SheetNotes:
    """Notes of a sheet by cell; set() and restore() change them, save() writes both parts."""

    def __init__(self, pkg: Package, sheet: Sheet, block: int):
        self.pkg, self.sheet, self.block = pkg, sheet, block
        self.comments_part = pkg.target(sheet.part, "comments")
        self.vml_part = pkg.target(sheet.part, "vmlDrawing")
        self.root = pkg.xml(self.comments_part) if self.comments_part and pkg.has(self.comments_part) else None
        self.elements: dict[tuple[int, int], etree._Element] = {}
        if self.root is not None:
            for el in self.root.iter(q("comment")):
                at = split_ref(el.get("ref", ""))
                if at:
                    self.elements[at] = el
        self.boxes: dict[tuple[int, int], tuple[float, float]] = {}
        if self.vml_part and pkg.has(self.vml_part):
            try:
                for s in fileio.vml_shapes(pkg.read(self.vml_part)):
                    if s["type"] == "Note" and s["width"]:
                        self.boxes[(s["row"] + 1, s["column"] + 1)] = (s["width"], s["height"] or DEFAULT_BOX[1])
            except (ET.ParseError, ValueError):
                pass   # Excel's VML is not always XML: sizes unknown; writing it is refused in save()
        self.threaded = self._threaded()
        # cell -> what its box becomes: None (no note), ("box", width, height) or ("style", a recorded style)
        self.dirty: dict[tuple[int, int], tuple | None] = {}

    def _threaded(self) -> set[tuple[int, int]]:
        out = set()
        for _, rtype, target, mode in self.pkg.rels(self.sheet.part):
            if rtype.endswith("/threadedComment") and mode != "External" and self.pkg.has(target):
                for el in self.pkg.xml(target).iter():
                    at = split_ref(el.get("ref", "")) if local(el.tag) == "threadedComment" else None
                    if at:
                        out.add(at)
        return out

    def _authors(self) -> etree._Element:
        return self.root.find(q("authors"))

    def author_of(self, el: etree._Element) -> str:
        names = [a.text or "" for a in self._authors()] if self._authors() is not None else []
        i = int(el.get("authorId", 0) or 0)
        return names[i] if 0 <= i < len(names) else ""

    def get(self, row: int, col: int) -> Note | None:
        el = self.elements.get((row, col))
        if el is None:
            return None
        text = el.find(q("text"))
        width, height = self._size(row, col)
        return Note(text_of(text) if text is not None else "", self.author_of(el), width, height)

    def _size(self, row: int, col: int) -> tuple[float, float]:
        """The note's box in px, as it will be saved."""
        box = self.dirty.get((row, col))
        if box and box[0] == "box":
            return box[1], box[2]
        if box and box[0] == "style":
            style = dict(kv.replace(" ", "").split(":", 1) for kv in box[1].split(";") if ":" in kv)
            width, height = (fileio.pt_or_px(style.get(k, "")) for k in ("width", "height"))
            return width or DEFAULT_BOX[0], height or DEFAULT_BOX[1]
        return self.boxes.get((row, col), DEFAULT_BOX)

    def has_thread(self, row: int, col: int) -> bool:
        return (row, col) in self.threaded

    def original(self, row: int, col: int) -> dict[str, str] | None:
        """The note exactly as it is (comment XML, author, box style), for an exact undo later."""
        el = self.elements.get((row, col))
        if el is None:
            return None
        return {"xml": etree.tostring(el, encoding="unicode"), "author": self.author_of(el),
                "style": self._box_style(row, col) or ""}

    # -- changing ------------------------------------------------------------------------
    def set(self, row: int, col: int, note: Note | None) -> None:
        """Give the cell this note as plain text (None removes it); the box takes the note's size."""
        el = self.elements.get((row, col))
        if note is None:
            if el is not None:
                el.getparent().remove(el)
                del self.elements[(row, col)]
                self.dirty[(row, col)] = None
            return
        if el is None:
            el = etree.SubElement(self._comment_list(), q("comment"))
            el.set("ref", ref_of(row, col))
            self.elements[(row, col)] = el
        el.set("authorId", str(self._author_id(note.author)))
        text = etree.Element(q("text"))
        old = el.find(q("text"))
        if old is not None:    # in its place: LibreOffice puts its own <commentPr> after the text
            old.addprevious(text)
            el.remove(old)
        else:
            el.insert(0, text)
        t = etree.SubElement(text, q("t"))
        t.text = note.text
        t.set(XML_SPACE, "preserve")
        self.dirty[(row, col)] = ("box", round(note.width), round(note.height))

    def restore(self, row: int, col: int, original: dict[str, str]) -> None:
        """Put back a note recorded by original(): its XML, author and box as they were."""
        el = etree.fromstring(original["xml"].encode(), PARSER)
        el.set("ref", ref_of(row, col))
        el.set("authorId", str(self._author_id(original.get("author", ""))))
        current = self.elements.get((row, col))
        if current is not None:
            current.addprevious(el)
            current.getparent().remove(current)
        else:
            self._comment_list().append(el)
        self.elements[(row, col)] = el
        self.dirty[(row, col)] = ("style", original["style"]) if original.get("style") else ("box", *DEFAULT_BOX)

    def _comment_list(self) -> etree._Element:
        if self.root is None:
            self.root = etree.fromstring(f'<comments xmlns="{MAIN_NS}"><authors/><commentList/></comments>')
            if self.comments_part is None:
                self.comments_part = self.pkg.new_name("xl/comments%d.xml")
                self.pkg.add_rel(self.sheet.part, "comments", self.comments_part)
            self.pkg.set_override(self.comments_part, CT_COMMENTS)
        holder = self.root.find(q("commentList"))
        if holder is None:
            holder = etree.SubElement(self.root, q("commentList"))
        return holder

    def _author_id(self, name: str) -> int:
        authors = self._authors()
        if authors is None:
            authors = etree.Element(q("authors"))
            self.root.insert(0, authors)
        names = [a.text or "" for a in authors]
        if name in names:
            return names.index(name)
        etree.SubElement(authors, q("author")).text = name
        return len(names)

    # -- the drawing ------------------------------------------------------------------------
    def _vml(self) -> etree._Element:
        if self.vml_part is None or not self.pkg.has(self.vml_part):
            related = self.vml_part is not None     # named by the sheet but missing: make it under that name
            self.vml_part = self.vml_part or self.pkg.new_name("xl/drawings/vmlDrawing%d.vml")
            self.pkg.put(self.vml_part, NEW_VML.replace("{block}", str(self.block)).encode())
            if not related:
                self.sheet.add_legacy_drawing(self.pkg.add_rel(self.sheet.part, "vmlDrawing", self.vml_part))
            self.pkg.set_default("vml", CT_VML)
        try:
            return self.pkg.xml(self.vml_part)
        except LedgerError:
            raise LedgerError("annotate-failed", self.pkg.path,
                              detail=f"工作表“{self.sheet.name}”的批注绘图（{self.vml_part}）不是有效的 XML，"
                                     "程序不改动它") from None

    def _shapes(self, root: etree._Element) -> dict[tuple[int, int], etree._Element]:
        out = {}
        for shape in root.iter(f"{{{V_NS}}}shape"):
            data = shape.find(f"{{{X_NS}}}ClientData")
            if data is not None and data.get("ObjectType") == "Note":
                try:
                    out[(int(data.findtext(f"{{{X_NS}}}Row")) + 1, int(data.findtext(f"{{{X_NS}}}Column")) + 1)] = shape
                except (TypeError, ValueError):
                    continue
        return out

    def _box_style(self, row: int, col: int) -> str | None:
        """The style the cell's note box has now, changes not yet saved included."""
        current = None
        if self.vml_part and self.pkg.has(self.vml_part):
            try:
                shape = self._shapes(self.pkg.xml(self.vml_part)).get((row, col))
                current = None if shape is None else shape.get("style")
            except LedgerError:
                pass
        box = self.dirty.get((row, col), ())
        if not box:
            return None if box is None else current
        return box[1] if box[0] == "style" else _with_box(current or "", *box[1:])

    def save(self, own_author: str) -> None:
        if not self.dirty:
            return
        authors = self._authors()
        used = {c.get("authorId") for c in self.elements.values()}
        while authors is not None and len(authors) and authors[-1].text == own_author \
                and str(len(authors) - 1) not in used:
            authors.remove(authors[-1])   # ours, added by a run whose notes are all gone now
        self.pkg.save_xml(self.comments_part, self.root)
        root = self._vml()
        shapes = self._shapes(root)
        for cell, box in self.dirty.items():
            shape = shapes.get(cell)
            if box is None or cell not in self.elements:
                if shape is not None:
                    shape.getparent().remove(shape)
            elif shape is not None:
                shape.set("style", box[1] if box[0] == "style" else _with_box(shape.get("style", ""), *box[1:]))
        new = [cell for cell, box in self.dirty.items() if box is not None and cell in self.elements
               and cell not in shapes]
        if new:
            self._append_shapes(root, new)
        self.pkg.save_xml(self.vml_part, root)

    def _append_shapes(self, root: etree._Element, cells: list[tuple[int, int]]) -> None:
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
        for row, col in cells:
            box = self.dirty[(row, col)]
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


def _with_box(style: str, width: int, height: int) -> str:
    """A VML style with width and height replaced, every other declaration kept in its place."""
    items = [kv.split(":", 1) for kv in style.split(";") if ":" in kv]
    new = {"width": f"{width}px", "height": f"{height}px"}
    out = [f"{k}:{new.pop(k.strip())}" if k.strip() in new else f"{k}:{v}" for k, v in items]
    return ";".join(out + [f"{k}:{v}" for k, v in new.items()])
