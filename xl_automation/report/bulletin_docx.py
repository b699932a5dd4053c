"""Official-document layout (GB/T 9704) for the 通报 with python-docx: A4, fonts by role, page numbers.

The official font names stay in the document (Word on the centre's PCs has them); each also names a
fallback in the font table (w:altName) that Word and LibreOffice use where it is missing.
"""
from __future__ import annotations

import io
import re
from typing import Sequence

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from xl_automation.model.text import REPLACEMENT

TITLE_FONT, BODY_FONT, HEADING1_FONT, HEADING2_FONT = "方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312"
PAGE_NUMBER_FONT = "宋体"
# official face -> what to use where it is not installed (Windows ships the second names)
FALLBACKS = {TITLE_FONT: "宋体", BODY_FONT: "仿宋", HEADING1_FONT: "SimHei", HEADING2_FONT: "楷体"}
TITLE_PT, BODY_PT, TABLE_PT, PAGE_NUMBER_PT = 22, 16, 10, 14
LINE_PT = 27          # exact line pitch of the body: 23 lines on the GB/T 9704 text block (22 at 28.9 pt); one
                      # more line a page keeps a month within 4 pages
TEXT_WIDTH_CM = 15.6
# characters XML 1.0 cannot hold (python-docx refuses them); tab and line breaks it turns into w:tab / w:br
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def docx_text(text: str) -> str:
    """Text from a branch's ledger (a request id, a reason) as a run can hold it: a control character
    typed or pasted into a cell is shown as U+FFFD where it was, neither refused nor silently dropped."""
    return _NOT_XML.sub(REPLACEMENT, text)


def add_text(paragraph, text: str):
    return paragraph.add_run(docx_text(text))


def set_fonts(run, east_asia: str, size: float | None = None, bold: bool | None = None) -> None:
    """python-docx's font.name sets only the Latin slots; Chinese text takes w:eastAsia."""
    run.font.name = east_asia
    rfonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    for slot in ("w:eastAsia", "w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(slot), east_asia)
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold


class OfficialDocument:
    def __init__(self):
        self.doc = Document()
        section = self.doc.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
        section.footer_distance = Mm(22)
        normal = self.doc.styles["Normal"]
        normal.font.size = Pt(BODY_PT)
        normal.font.name = BODY_FONT
        normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
        fmt = normal.paragraph_format
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(LINE_PT)
        self._page_numbers(section)
        self._fallbacks()

    # --- text -------------------------------------------------------------------
    def title(self, text: str) -> None:
        p = self.doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.line_spacing = Pt(36)
        p.paragraph_format.space_after = Pt(LINE_PT)
        set_fonts(add_text(p, text), TITLE_FONT, TITLE_PT)

    def addressee(self, text: str) -> None:
        set_fonts(add_text(self.doc.add_paragraph(), text), BODY_FONT)

    def heading(self, text: str, level: int = 1) -> None:
        p = self.doc.add_paragraph()
        p.paragraph_format.first_line_indent = Pt(BODY_PT * 2)
        p.paragraph_format.keep_with_next = True
        set_fonts(add_text(p, text), HEADING1_FONT if level == 1 else HEADING2_FONT)

    def paragraph(self, text: str, *, indent: bool = True, align_right: bool = False, size: float | None = None):
        p = self.doc.add_paragraph()
        if indent:
            p.paragraph_format.first_line_indent = Pt((size or BODY_PT) * 2)
        if align_right:
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        if size is not None:
            p.paragraph_format.line_spacing = Pt(size * 1.5)
        set_fonts(add_text(p, text), BODY_FONT, size)
        return p

    def image(self, png: bytes, width_cm: float = TEXT_WIDTH_CM) -> None:
        p = self.doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE    # an exact pitch would crop the picture
        p.add_run().add_picture(io.BytesIO(png), width=Cm(width_cm))

    def images(self, pngs: Sequence[bytes], width_cm: float = TEXT_WIDTH_CM) -> None:
        """Pictures side by side in one borderless row (two charts take the height of one)."""
        if len(pngs) == 1:
            self.image(pngs[0], width_cm)
            return
        t = self.doc.add_table(rows=1, cols=len(pngs))
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        t.autofit = False
        each = width_cm / len(pngs)
        for col, png in zip(t.columns, pngs):
            col.width = Cm(each)
        for cell, png in zip(t.rows[0].cells, pngs):
            cell.width = Cm(each)
            p = cell.paragraphs[0]
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.paragraph_format.first_line_indent = Pt(0)
            p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
            p.add_run().add_picture(io.BytesIO(png), width=Cm(each - 0.3))

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[object]], widths_cm: Sequence[float]) -> None:
        t = self.doc.add_table(rows=1 + len(rows), cols=len(headers))
        t.style = "Table Grid"
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        t.autofit = False
        for col, width in zip(t.columns, widths_cm):
            col.width = Cm(width)          # the grid: LibreOffice lays a table out from it, not from the cells
        for r, (row, values) in enumerate(zip(t.rows, [headers, *rows])):
            # a row's own cells: Table.cell(r, c) walks the whole table's grid for every cell (0.37 s for the
            # 通报's 287 cells of 15 windows)
            for c, (cell, value) in enumerate(zip(row.cells, values)):
                cell.width = Cm(widths_cm[c])
                p = cell.paragraphs[0]
                p.paragraph_format.first_line_indent = Pt(0)
                p.paragraph_format.line_spacing = Pt(TABLE_PT * 1.3)
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER if c or r == 0 else WD_ALIGN_PARAGRAPH.LEFT
                set_fonts(add_text(p, str(value)), HEADING1_FONT if r == 0 else BODY_FONT, TABLE_PT)
        _repeat_header(t.rows[0])
        self.doc.add_paragraph().paragraph_format.line_spacing = Pt(8)

    def save(self, path) -> None:
        self.doc.save(str(path))

    # --- page furniture ----------------------------------------------------------
    def _page_numbers(self, section) -> None:
        """— 1 — centred in the footer: a PAGE field between em dashes, 宋体 四号."""
        p = section.footer.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        set_fonts(p.add_run("— "), PAGE_NUMBER_FONT, PAGE_NUMBER_PT)
        run = p.add_run()
        set_fonts(run, PAGE_NUMBER_FONT, PAGE_NUMBER_PT)
        for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
            if kind:
                el = OxmlElement("w:fldChar")
                el.set(qn("w:fldCharType"), kind)
            else:
                el = OxmlElement("w:instrText" if text.strip() == "PAGE" else "w:t")
                el.set(qn("xml:space"), "preserve")
                el.text = text
            run._element.append(el)
        set_fonts(p.add_run(" —"), PAGE_NUMBER_FONT, PAGE_NUMBER_PT)

    def _fallbacks(self) -> None:
        """Declare each official font in the font table with its fallback (w:altName) and the GB2312 charset."""
        from lxml import etree
        from docx.oxml import parse_xml
        table = next(rel.target_part for rel in self.doc.part.rels.values() if rel.reltype.endswith("/fontTable"))
        root = parse_xml(table.blob)       # a plain Part in python-docx: edit its XML and put the bytes back
        for name, alt in FALLBACKS.items():
            font = OxmlElement("w:font")
            font.set(qn("w:name"), name)
            for tag, val in (("w:altName", alt), ("w:charset", "86"), ("w:family", "auto")):
                el = OxmlElement(tag)
                el.set(qn("w:val"), val)
                font.append(el)
            root.append(font)
        table._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)
