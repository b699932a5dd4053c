"""annotate on the workbooks that broke the openpyxl round trip: one test per failure seen on real files."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from lxml import etree

from support.paths import CORPUS
from support.grafting import LEDGER, graft, ledger_cells, read_entries
from support.ledger_files import convert_with_soffice
from support.patch_check import (annotate_twice, check_patch, handmade_host, openpyxl_host, readers_open, run_cli,
                                 xlsxwriter_host)
from support.package_edits import PIVOT_AND_LINK, rewrite, run_uno
from xl_automation.cli import main as cli
from xl_automation.model import schema
from xl_automation.xlsx.annotation_text import AUTHOR, FILLS
from xl_automation.xlsx.xlsx_package import MAIN_NS

NOW = "2026-11-20 12:00"
M = f"{{{MAIN_NS}}}"
needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")


def part_of(path: Path, sheet: str) -> str:
    """The part name of a sheet."""
    parts = read_entries(path)
    book = etree.fromstring(parts["xl/workbook.xml"])
    rid = next(s.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")
               for s in book.iter(M + "sheet") if s.get("name") == sheet)
    rels = etree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    return "xl/" + next(r.get("Target") for r in rels if r.get("Id") == rid).lstrip("/").removeprefix("xl/")


def test_workbook_without_calculation_properties(tmp_path):
    """Tencent Docs and Numbers write no <calcPr>: the run used to end in an AttributeError."""
    host = handmade_host(tmp_path)
    assert b"calcPr" not in read_entries(host)["xl/workbook.xml"]
    before, after, findings = annotate_twice(tmp_path, host)
    book = etree.fromstring(read_entries(after)["xl/workbook.xml"])
    calc = book.find(M + "calcPr")
    assert calc is not None and calc.get("fullCalcOnLoad") == "1"
    names = [etree.QName(c).localname for c in book]
    assert names[-2:] == ["definedNames", "calcPr"]                 # where the schema wants it
    assert check_patch(before, after, findings) == []


def test_chart_sheet_is_left_as_it_is(tmp_path):
    """A workbook with a chart sheet used to end in "'Chartsheet' object has no attribute '_cells'"."""
    host = xlsxwriter_host(tmp_path)
    before, after, findings = annotate_twice(tmp_path, host)
    b, a = read_entries(before), read_entries(after)
    charts = [n for n in b if n.startswith(("xl/chartsheets/", "xl/charts/", "xl/drawings/drawing", "xl/media/"))]
    assert len(charts) >= 5 and all(a[n] == b[n] for n in charts)
    assert check_patch(before, after, findings) == []


def test_large_drawing_is_never_decompressed(tmp_path, monkeypatch):
    """Annotation time cannot depend on a drawing's size: the drawing part is copied as compressed bytes,
    never inflated (it used to take more than 300 s on a workbook with a large drawing)."""
    host = xlsxwriter_host(tmp_path)
    anchor = re.compile(rb"<xdr:twoCellAnchor.*?</xdr:twoCellAnchor>", re.S)
    def inflate(data: bytes) -> bytes:     # 20,000 more pictures' anchors: ~15 MB of drawing XML
        one = anchor.search(data).group(0)
        return data.replace(b"</xdr:wsDr>", one * 20000 + b"</xdr:wsDr>")
    big = rewrite(host, tmp_path / "big.xlsx", {"xl/drawings/drawing1.xml": inflate})
    grafted = graft(big, tmp_path / "台账.xlsx")
    assert len(read_entries(grafted)["xl/drawings/drawing1.xml"]) > 10_000_000
    from xl_automation.xlsx import annotate as A
    from xl_automation.xlsx.ledger_check import check_file
    from xl_automation.model.config import load
    opened: list[str] = []
    real_open = zipfile.ZipFile.open
    def spy(self, name, *args, **kwargs):
        opened.append(name.filename if isinstance(name, zipfile.ZipInfo) else name)
        return real_open(self, name, *args, **kwargs)
    original = read_entries(grafted)["xl/drawings/drawing1.xml"]
    check, _ = check_file(grafted, load(), datetime(2026, 11, 20, 12), annotate=False)
    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    result = A.annotate(check.ledger, check.findings, check.clocks)
    monkeypatch.undo()
    assert result.cells_marked and opened, "the spy saw the parts annotate read"
    assert not [n for n in opened if n.startswith("xl/drawings/drawing")], opened
    assert read_entries(grafted)["xl/drawings/drawing1.xml"] == original


def test_hidden_columns_keep_their_widths_and_program_columns_are_appended(tmp_path):
    """Hidden columns' widths used to drift on every run; a ledger without the program columns gets them
    in empty columns right of the table, with widths for those columns only."""
    headers = [c.header for c in schema.INPUT_COLUMNS]
    cells = {k: v for k, v in ledger_cells().items() if k[0] != 3 or v in headers}
    cols = b'<cols><col min="2" max="2" width="0.5" hidden="1" customWidth="1"/>' \
           b'<col min="5" max="6" width="17.25" customWidth="1"/></cols>'
    host = openpyxl_host(tmp_path)
    grafted = graft(host, tmp_path / "台账.xlsx", cells)
    part = part_of(grafted, LEDGER)
    grafted = rewrite(grafted, tmp_path / "cols.xlsx", {part: lambda d: d.replace(b"<sheetData>", cols + b"<sheetData>")})
    before = read_entries(grafted)[part]
    for _ in range(2):
        code, out, err = run_cli(grafted)
        assert code in (0, 1), err
    after = etree.fromstring(read_entries(grafted)[part])
    got = [etree.tostring(c) for c in after.iter(M + "col")]
    kept = [etree.tostring(c) for c in etree.fromstring(before).iter(M + "col")]
    assert got[:2] == kept                                 # the user's columns, byte for byte
    first = len(schema.INPUT_COLUMNS) + 1
    added = [(c.get("min"), c.get("max"), c.get("width")) for c in after.iter(M + "col")][2:]
    assert added == [(str(first + i), str(first + i), str(c.width)) for i, c in enumerate(schema.PROGRAM_COLUMNS)]
    ws = openpyxl.load_workbook(grafted)[LEDGER]
    assert ws.column_dimensions["B"].hidden and ws.column_dimensions["B"].width == 0.5
    assert [ws.cell(3, first + i).value for i in range(3)] == [c.header for c in schema.PROGRAM_COLUMNS]


def test_empty_note_authors_stay_empty(tmp_path):
    """Empty note authors used to come back as the text "None"."""
    host = openpyxl_host(tmp_path)            # its note on 说明!A2 has the author <author></author>
    grafted = graft(host, tmp_path / "台账.xlsx")
    notes = "xl/comments/comment1.xml"
    before = read_entries(grafted)[notes]
    assert b"<author></author>" in before
    for _ in range(2):
        run_cli(grafted)
    parts = read_entries(grafted)
    assert parts[notes] == before
    ledger_notes = [d for n, d in parts.items() if n.startswith("xl/comments") and n != notes]
    assert ledger_notes and all(b"None" not in d for d in ledger_notes)


def test_user_note_with_empty_author_comes_back_exactly(tmp_path):
    """A marked cell's own note (empty author, rich text) is restored byte for byte once the finding is fixed."""
    from support.annotate_books import Case
    case = Case(tmp_path, ".xlsx")
    rich = (b'<comment ref="C5" authorId="9"><text><r><rPr><b/><sz val="9"/></rPr><t>\xe6\xb3\xa8\xef\xbc\x9a</t></r>'
            b'<r><t xml:space="preserve"> \xe7\x94\xa8\xe6\x88\xb7\xe6\x89\xb9\xe6\xb3\xa8</t></r></text></comment>')
    def edit(data: bytes) -> bytes:
        root = etree.fromstring(data)
        authors = root.find(M + "authors")
        while len(authors) < 9:
            etree.SubElement(authors, M + "author").text = f"作者{len(authors)}"
        etree.SubElement(authors, M + "author")           # authorId 9: empty
        old = next(c for c in root.iter(M + "comment") if c.get("ref") == "C5")
        new = etree.fromstring(rich.replace(b"<comment", f'<comment xmlns="{MAIN_NS}"'.encode(), 1))
        old.addprevious(new)
        old.getparent().remove(old)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    comments = next(n for n in read_entries(case.path) if n.startswith("xl/comments"))
    edited = rewrite(case.path, tmp_path / "edited.xlsx", {comments: edit})
    shutil.move(edited, case.path)
    original = read_entries(case.path)[comments]
    case.run()
    ws = openpyxl.load_workbook(case.path)[LEDGER]
    assert ws["C5"].comment.author == AUTHOR and ws["C5"].comment.text.startswith("注： 用户批注")
    case.run(findings=[], clocks={})
    assert read_entries(case.path)[comments].decode() == original.decode()   # empty author, runs and all


def test_no_clock_value_is_written(tmp_path):
    """Two runs with different --now give the same bytes; zip entries keep the file's own dates."""
    host = handmade_host(tmp_path)        # a workbook without a creation date (openpyxl writes one; drop it)
    host = rewrite(host, tmp_path / "nodate.xlsx", {"docProps/core.xml": lambda d: re.sub(
        rb"<dcterms:created[^>]*>[^<]*</dcterms:created>", b"", d)})
    grafted = graft(host, tmp_path / "台账.xlsx")
    dates = {i.date_time for i in zipfile.ZipFile(grafted).infolist()}
    core = read_entries(grafted)["docProps/core.xml"]
    run_cli(grafted)
    first = grafted.read_bytes()
    out, err = __import__("io").StringIO(), __import__("io").StringIO()
    from contextlib import redirect_stderr, redirect_stdout
    with redirect_stdout(out), redirect_stderr(err):
        cli.main(["validate", str(grafted), "--annotate", "--now", "2026-11-24 23:59"])
    assert grafted.read_bytes() == first
    assert {i.date_time for i in zipfile.ZipFile(grafted).infolist()} <= dates
    assert read_entries(grafted)["docProps/core.xml"] == core


def test_protected_ledger_sheet_keeps_its_protection_and_the_run_says_so(tmp_path):
    """Choice: protection stays and the marks are written (protection guards typing, not this program)."""
    protection = b'<sheetProtection sheet="1" objects="1" scenarios="1" formatCells="0"/>'
    grafted = graft(openpyxl_host(tmp_path), tmp_path / "台账.xlsx")
    part = part_of(grafted, LEDGER)
    grafted = rewrite(grafted, tmp_path / "保护.xlsx", {part: lambda d: d.replace(b"</sheetData>",
                                                                                     b"</sheetData>" + protection)})
    done = subprocess.run([sys.executable, "-m", "xl_automation", "validate", str(grafted), "--annotate", "--now", NOW],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "已写回标注" in done.stdout and "工作表设有保护：保护保持不变，标注照常写入" in done.stdout
    assert protection in read_entries(grafted)[part]
    ws = openpyxl.load_workbook(grafted)[LEDGER]
    assert ws.protection.sheet and ws["C5"].fill.fgColor.rgb == FILLS["error"]


def test_strict_ooxml_is_refused_with_a_message(tmp_path):
    strict = next(p for p in (CORPUS).rglob("SimpleStrict.xlsx"))
    grafted = graft(strict, tmp_path / "台账.xlsx")
    before = grafted.read_bytes()
    done = subprocess.run([sys.executable, "-m", "xl_automation", "validate", str(grafted), "--annotate", "--now", NOW],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == ("无法使用：台账.xlsx：文件是“Strict Open XML 电子表格”格式，程序无法写回标注。"
                                   "在 Excel 中“另存为”，保存类型选“Excel 工作簿(*.xlsx)”后再运行")
    assert grafted.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["台账.xlsx"]


def test_cell_with_a_threaded_comment_keeps_it(tmp_path):
    """Excel 365 comments are threads: the cell gets the fill, the thread and its legacy note stay, and the
    finding's note goes to the row's 校验结果 cell."""
    grafted = graft(openpyxl_host(tmp_path), tmp_path / "台账.xlsx")
    part = part_of(grafted, LEDGER)
    rels_name = part.replace("worksheets/", "worksheets/_rels/") + ".rels"
    thread = ('<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
              '<threadedComment ref="C5" personId="{P}" id="{T}"><text>渠道待核实</text></threadedComment>'
              '</ThreadedComments>').encode()
    legacy = (f'<comments xmlns="{MAIN_NS}"><authors><author>tc={{T}}</author></authors><commentList>'
              '<comment ref="C5" authorId="0"><text><t>[Threaded comment]渠道待核实</t></text></comment>'
              '</commentList></comments>').encode()
    rels = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.microsoft.com/office/2017/10/relationships/threadedComment" '
            'Target="../threadedComments/threadedComment9.xml"/><Relationship Id="rId2" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments" '
            'Target="../comments9.xml"/></Relationships>').encode()
    types = (b'<Override PartName="/xl/threadedComments/threadedComment9.xml" '
             b'ContentType="application/vnd.ms-excel.threadedcomments+xml"/><Override PartName="/xl/comments9.xml" '
             b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"/>')
    grafted = rewrite(grafted, tmp_path / "thread.xlsx", {"[Content_Types].xml": lambda d: d.replace(
        b"</Types>", types + b"</Types>")}, {rels_name: rels, "xl/threadedComments/threadedComment9.xml": thread,
                                           "xl/comments9.xml": legacy})
    run_cli(grafted)
    parts = read_entries(grafted)
    assert parts["xl/threadedComments/threadedComment9.xml"] == thread
    notes = etree.fromstring(parts["xl/comments9.xml"])
    c5 = next(c for c in notes.iter(M + "comment") if c.get("ref") == "C5")
    assert "".join(c5.itertext()) == "[Threaded comment]渠道待核实"
    ws = openpyxl.load_workbook(grafted)[LEDGER]
    assert ws["C5"].fill.fgColor.rgb == FILLS["error"]
    check = next(i for i, c in enumerate(ws[3], 1) if c.value == "校验结果")
    assert "“微信”不是“受理渠道”的可选值" in ws.cell(5, check).comment.text


# ---- LibreOffice -------------------------------------------------------------------------------------

@pytest.mark.libreoffice
@needs_soffice
def test_pivot_table_workbook_keeps_every_pivot_part(tmp_path):
    """A pivot-table workbook's annotated copy used to be unopenable (a pivot-cache part was missing)."""
    wb = openpyxl.Workbook()
    wb.active.append(["渠道", "数量"])
    for i in range(6):
        wb.active.append([["电话", "上门", "窗口现场"][i % 3], i])
    wb.save(tmp_path / "src.xlsx")
    other = openpyxl.Workbook()
    other.save(tmp_path / "other.xlsx")
    made = tmp_path / "pivot.xlsx"
    run_uno(tmp_path, PIVOT_AND_LINK, str(tmp_path / "src.xlsx"), str(made), str(tmp_path / "other.xlsx"))
    assert any(n.startswith("xl/pivotCache/pivotCacheRecords") for n in read_entries(made))
    before, after, findings = annotate_twice(tmp_path, made)
    assert check_patch(before, after, findings) == []
    readers_open(before, after)


@pytest.mark.libreoffice
@needs_soffice
def test_libreoffice_saved_ledger_is_annotated_in_place_and_libreoffice_shows_the_marks(tmp_path):
    """LibreOffice writes an empty drawing part for every sheet with notes: such ledgers used to go to a
    copy. Now the ledger itself is marked, and LibreOffice opening it shows the fills and notes."""
    from support.libreoffice import Session
    from support.annotate_books import Case
    case = Case(tmp_path, ".xlsx")           # a ledger with notes of the user's, and two slips
    wb = openpyxl.load_workbook(case.path)
    wb[LEDGER]["C5"], wb[LEDGER]["L6"] = "微信", "12345"
    wb.save(case.path)
    outdir = tmp_path / "lo"
    outdir.mkdir()
    saved = convert_with_soffice(case.path, "xlsx", outdir)
    drawings = {n: d for n, d in read_entries(saved).items() if n.startswith("xl/drawings/")}
    assert drawings, "LibreOffice wrote its drawing parts"
    code, out, err = run_cli(saved)
    assert code == 1, err
    assert json.loads(out)["annotated"]["path"] == str(saved)
    assert sorted(p.name for p in outdir.iterdir() if p.suffix == ".xlsx") == [saved.name]   # no copy
    after = read_entries(saved)
    assert all(after[n] == d for n, d in drawings.items() if not n.endswith(".vml"))
    with Session(saved) as lo:
        seen = lo("look", sheet=LEDGER, cells=["C5", "L6", "A3"])
    assert seen["C5"]["back"] == int(FILLS["error"][2:], 16) and not seen["C5"]["transparent"]
    assert seen["C5"]["note"].startswith("用户批注：渠道待核实") and "“微信”不是“受理渠道”的可选值" in seen["C5"]["note"]
    assert seen["L6"]["back"] == int(FILLS["warning"][2:], 16) and "12345" in seen["L6"]["note"]   # a service short number
    assert seen["A3"]["note"] == ""


def test_record_sheet_saved_by_excel_with_shared_formulas_is_read(tmp_path):
    """Excel may save filled-down references as one shared formula: each cell's reference is translated."""
    from xl_automation.xlsx.annotation_record import KIND_CELL, read_record
    from xl_automation.xlsx.xlsx_cells import SharedStrings
    from xl_automation.xlsx.xlsx_package import Package
    rows = "".join(
        f'<row r="{r}"><c r="A{r}" t="s"><v>0</v></c><c r="B{r}">{f}<v>0</v></c>'
        f'<c r="E{r}" t="inlineStr"><is><t>{{"fill": "FFFFC7CE"}}</t></is></c></row>'
        for r, f in ((3, """<f t="shared" ref="B3:B5" si="0">'受理台账'!C5</f>"""), (4, '<f t="shared" si="0"/>'),
                     (5, '<f t="shared" si="0"/>')))
    sheet = f'<worksheet xmlns="{MAIN_NS}"><sheetData>{rows}</sheetData></worksheet>'.encode()
    strings = f'<sst xmlns="{MAIN_NS}"><si><r><t>标注</t></r><r><t>单元格</t></r></si></sst>'.encode()
    with zipfile.ZipFile(tmp_path / "r.xlsx", "w") as z:
        z.writestr("xl/worksheets/sheet9.xml", sheet)
        z.writestr("xl/sharedStrings.xml", strings)
    with Package(tmp_path / "r.xlsx") as pkg:
        got = list(read_record(pkg, "xl/worksheets/sheet9.xml", SharedStrings(pkg, "xl/sharedStrings.xml")))
    assert [(k, ref) for k, ref, *_ in got] == [(KIND_CELL, "='受理台账'!C5"), (KIND_CELL, "='受理台账'!C6"),
                                                (KIND_CELL, "='受理台账'!C7")]


@pytest.mark.libreoffice
@needs_soffice
def test_libreoffice_shows_the_marks_in_a_grafted_real_workbook(tmp_path):
    """A workbook with charts, a chart sheet, pictures and sparklines, annotated: LibreOffice shows the
    fill and the note of the marked cell, and openpyxl and calamine read it (readers_open)."""
    from support.libreoffice import Session
    before, after, findings = annotate_twice(tmp_path, xlsxwriter_host(tmp_path))
    assert any(f["cell"] == "C5" for f in findings)
    readers_open(before, after)
    with Session(after) as lo:
        seen = lo("look", sheet=LEDGER, cells=["C5", "B5"])
    assert seen["C5"]["back"] == int(FILLS["error"][2:], 16) and "“微信”不是“受理渠道”的可选值" in seen["C5"]["note"]
    assert seen["B5"]["transparent"] and seen["B5"]["note"] == ""


def test_ledger_with_an_empty_drawing_as_libreoffice_writes_it_is_annotated_in_place(tmp_path):
    """LibreOffice writes an empty drawing part for a sheet with notes; that used to force a copy."""
    grafted = graft(openpyxl_host(tmp_path), tmp_path / "台账.xlsx")
    part = part_of(grafted, LEDGER)
    rels = part.replace("worksheets/", "worksheets/_rels/") + ".rels"
    drawing = (b'<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
               b'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"/>')
    element = b'<drawing xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rIdD"/>'
    ct = (b'<Override PartName="/xl/drawings/drawing7.xml" '
          b'ContentType="application/vnd.openxmlformats-officedocument.drawing+xml"/>')
    host = rewrite(grafted, tmp_path / "lo.xlsx", {
        part: lambda d: d.replace(b"</worksheet>", element + b"</worksheet>"),
        "[Content_Types].xml": lambda d: d.replace(b"</Types>", ct + b"</Types>")}, {
        rels: b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
              b'Id="rIdD" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing" '
              b'Target="../drawings/drawing7.xml"/></Relationships>', "xl/drawings/drawing7.xml": drawing})
    shutil.copy(host, grafted)
    before = tmp_path / "before.xlsx"
    shutil.copy(grafted, before)
    code, out, err = run_cli(grafted)
    assert code == 1 and json.loads(out)["annotated"]["path"] == str(grafted), err
    after = read_entries(grafted)
    assert after["xl/drawings/drawing7.xml"] == drawing and b'r:id="rIdD"' in after[part]
    assert check_patch(before, grafted, json.loads(out)["findings"]) == []
    assert sorted(p.name for p in tmp_path.iterdir() if "校验标注" in p.name) == []


def test_shared_formula_in_a_program_column_keeps_the_rest_of_its_group(tmp_path):
    """A clerk's filled-down formula in 时限状态 reaching below the ledger: Excel stores it as one shared
    formula; overwriting its first cell must leave the other cells their own formula."""
    cells = ledger_cells()
    status = next(c for (r, c), v in cells.items() if v == "时限状态")
    grafted = graft(openpyxl_host(tmp_path), tmp_path / "台账.xlsx", cells)
    part = part_of(grafted, LEDGER)
    col = openpyxl.utils.get_column_letter(status)
    def edit(data: bytes) -> bytes:
        root = etree.fromstring(data)
        rows = {r.get("r"): r for r in root.iter(M + "row")}
        for n in range(4, 13):
            row = rows.get(str(n)) or etree.SubElement(root.find(M + "sheetData"), M + "row", r=str(n))
            f = '<f t="shared" ref="{0}4:{0}12" si="0">IF(A4="","",A4)</f>'.format(col) if n == 4 else \
                '<f t="shared" si="0"/>'
            row.append(etree.fromstring(f'<c xmlns="{MAIN_NS}" r="{col}{n}">{f}<v>0</v></c>'))
        return etree.tostring(root)
    grafted = rewrite(grafted, tmp_path / "shared.xlsx", {part: edit})
    code, out, err = run_cli(grafted)
    assert code == 1, err
    ws = openpyxl.load_workbook(grafted)[LEDGER]
    assert ws[f"{col}12"].value == '=IF(A12="","",A12)' and ws[f"{col}11"].value == '=IF(A11="","",A11)'
    assert not str(ws[f"{col}4"].value).startswith("=")      # a ledger row: the program's value now
    assert b't="shared"' not in read_entries(grafted)[part]
