"""The notes (批注) of one worksheet, edited cell by cell: the comments part (text and author, here) and the
legacy VML drawing that gives each note a box (xlsx_vml.NoteDrawing). Threaded comments stay as they are."""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from xl_automation.xlsx.xlsx_cells import XML_SPACE, Sheet, ref_of, split_ref, text_of
from xl_automation.xlsx.xlsx_package import CT_COMMENTS, MAIN_NS, PARSER, Package, local, q
from xl_automation.xlsx.xlsx_vml import DEFAULT_BOX, NoteDrawing


@dataclass
class Note:
    text: str
    author: str
    width: float      # px
    height: float


class Comments:
    """The sheet's comments part: each note's XML by cell, and the list of authors."""

    def __init__(self, pkg: Package, sheet: Sheet):
        self.pkg, self.sheet = pkg, sheet
        self.part = pkg.target(sheet.part, "comments")
        self.root = pkg.xml(self.part) if self.part and pkg.has(self.part) else None
        self.elements: dict[tuple[int, int], etree._Element] = {}
        if self.root is not None:
            for el in self.root.iter(q("comment")):
                at = split_ref(el.get("ref", ""))
                if at:
                    self.elements[at] = el

    def _authors(self) -> etree._Element:
        return self.root.find(q("authors"))

    def author_of(self, el: etree._Element) -> str:
        names = [a.text or "" for a in self._authors()] if self._authors() is not None else []
        i = int(el.get("authorId", 0) or 0)
        return names[i] if 0 <= i < len(names) else ""

    def set_text(self, row: int, col: int, text_value: str, author: str) -> None:
        """The cell's note becomes this plain text by this author (made when missing)."""
        el = self.elements.get((row, col))
        if el is None:
            el = etree.SubElement(self._comment_list(), q("comment"))
            el.set("ref", ref_of(row, col))
            self.elements[(row, col)] = el
        el.set("authorId", str(self.author_id(author)))
        text = etree.Element(q("text"))
        old = el.find(q("text"))
        if old is not None:    # in its place: LibreOffice puts its own <commentPr> after the text
            old.addprevious(text)
            el.remove(old)
        else:
            el.insert(0, text)
        t = etree.SubElement(text, q("t"))
        t.text = text_value
        t.set(XML_SPACE, "preserve")

    def remove(self, row: int, col: int) -> bool:
        el = self.elements.pop((row, col), None)
        if el is not None:
            el.getparent().remove(el)
        return el is not None

    def put_xml(self, row: int, col: int, xml: str, author: str) -> None:
        """A note's recorded XML back on the cell, under its author."""
        el = etree.fromstring(xml.encode(), PARSER)
        el.set("ref", ref_of(row, col))
        el.set("authorId", str(self.author_id(author)))
        current = self.elements.get((row, col))
        if current is not None:
            current.addprevious(el)
            current.getparent().remove(current)
        else:
            self._comment_list().append(el)
        self.elements[(row, col)] = el

    def _comment_list(self) -> etree._Element:
        if self.root is None:
            self.root = etree.fromstring(f'<comments xmlns="{MAIN_NS}"><authors/><commentList/></comments>')
            if self.part is None:
                self.part = self.pkg.new_name("xl/comments%d.xml")
                self.pkg.add_rel(self.sheet.part, "comments", self.part)
            self.pkg.set_override(self.part, CT_COMMENTS)
        holder = self.root.find(q("commentList"))
        if holder is None:
            holder = etree.SubElement(self.root, q("commentList"))
        return holder

    def author_id(self, name: str) -> int:
        authors = self._authors()
        if authors is None:
            authors = etree.Element(q("authors"))
            self.root.insert(0, authors)
        names = [a.text or "" for a in authors]
        if name in names:
            return names.index(name)
        etree.SubElement(authors, q("author")).text = name
        return len(names)

    def save(self, own_author: str) -> None:
        """The part, without our author when a run before added it and none of its notes is left."""
        authors = self._authors()
        used = {c.get("authorId") for c in self.elements.values()}
        while authors is not None and len(authors) and authors[-1].text == own_author \
                and str(len(authors) - 1) not in used:
            authors.remove(authors[-1])   # ours, added by a run whose notes are all gone now
        self.pkg.save_xml(self.part, self.root)


class SheetNotes:
    """Notes of a sheet by cell; set() and restore() change them, save() writes both parts."""

    def __init__(self, pkg: Package, sheet: Sheet, block: int):
        self.pkg, self.sheet = pkg, sheet
        self.comments = Comments(pkg, sheet)
        self.drawing = NoteDrawing(pkg, sheet, block)
        self.threaded = self._threaded()
        # cell -> what its box becomes: None (no note), ("box", width, height) or ("style", a recorded style)
        self.dirty: dict[tuple[int, int], tuple | None] = {}

    @property
    def elements(self) -> dict[tuple[int, int], etree._Element]:
        return self.comments.elements

    def _threaded(self) -> set[tuple[int, int]]:
        out = set()
        for _, rtype, target, mode in self.pkg.rels(self.sheet.part):
            if rtype.endswith("/threadedComment") and mode != "External" and self.pkg.has(target):
                for el in self.pkg.xml(target).iter():
                    at = split_ref(el.get("ref", "")) if local(el.tag) == "threadedComment" else None
                    if at:
                        out.add(at)
        return out

    def get(self, row: int, col: int) -> Note | None:
        el = self.elements.get((row, col))
        if el is None:
            return None
        text = el.find(q("text"))
        width, height = self.drawing.size((row, col), self.dirty.get((row, col)))
        return Note(text_of(text) if text is not None else "", self.comments.author_of(el), width, height)

    def has_thread(self, row: int, col: int) -> bool:
        return (row, col) in self.threaded

    def original(self, row: int, col: int) -> dict[str, str] | None:
        """The note exactly as it is (comment XML, author, box style), for an exact undo later."""
        el = self.elements.get((row, col))
        if el is None:
            return None
        return {"xml": etree.tostring(el, encoding="unicode"), "author": self.comments.author_of(el),
                "style": self.drawing.box_style((row, col), self.dirty.get((row, col), ())) or ""}

    # -- changing ------------------------------------------------------------------------
    def set(self, row: int, col: int, note: Note | None) -> None:
        """Give the cell this note as plain text (None removes it); the box takes the note's size."""
        if note is None:
            if self.comments.remove(row, col):
                self.dirty[(row, col)] = None
            return
        self.comments.set_text(row, col, note.text, note.author)
        self.dirty[(row, col)] = ("box", round(note.width), round(note.height))

    def restore(self, row: int, col: int, original: dict[str, str]) -> None:
        """Put back a note recorded by original(): its XML, author and box as they were."""
        self.comments.put_xml(row, col, original["xml"], original.get("author", ""))
        self.dirty[(row, col)] = ("style", original["style"]) if original.get("style") else ("box", *DEFAULT_BOX)

    def save(self, own_author: str) -> None:
        if not self.dirty:
            return
        self.comments.save(own_author)
        self.drawing.save(self.dirty, self.elements)
