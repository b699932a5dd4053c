"""fileio: lock files, atomic writes, and the lossy-content rule checked against what openpyxl really drops."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from openpyxl.comments import Comment
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table

from xl_automation.xlsx import fileio
from xl_automation.model.ledger import LedgerError
from support.package_edits import PIVOT_AND_LINK, SHEET, insert_before, rewrite, run_uno, tiny_png


# ---- lock files ---------------------------------------------------------------------------

@pytest.mark.parametrize("lock_name", ["~$台账2026年11月.xlsx", "~$2026年11月.xlsx", ".~lock.台账2026年11月.xlsx#"])
def test_lock_file_in_either_excel_form_refuses(tmp_path, lock_name):
    book = tmp_path / "台账2026年11月.xlsx"
    book.write_bytes(b"x")
    fileio.check_not_open(book)     # no lock yet
    (tmp_path / lock_name).write_bytes(b"owner")
    with pytest.raises(LedgerError) as err:
        fileio.check_not_open(book)
    assert err.value.finding.code == "file-locked"
    assert lock_name in str(err.value)


def test_short_name_only_checks_the_full_form(tmp_path):
    book = tmp_path / "ab.xlsx"
    (tmp_path / "~$.xlsx").write_bytes(b"")     # what name[2:] would give: must not count
    fileio.check_not_open(book)
    assert [p.name for p in fileio.lock_files(book)] == ["~$ab.xlsx", ".~lock.ab.xlsx#"]


# ---- atomic writes --------------------------------------------------------------------------

def test_atomic_write_replaces_and_keeps_permission_bits(tmp_path):
    target = tmp_path / "台账.xlsx"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    fileio.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["台账.xlsx"]


def test_atomic_target_failure_leaves_original_and_no_temp(tmp_path):
    target = tmp_path / "台账.xlsx"
    target.write_bytes(b"original")
    with pytest.raises(RuntimeError):
        with fileio.atomic_target(target) as tmp:
            tmp.write_bytes(b"half written")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"original"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["台账.xlsx"]


def test_atomic_write_of_bad_data_leaves_no_temp(tmp_path):
    target = tmp_path / "new.xlsx"
    with pytest.raises(TypeError):
        fileio.atomic_write_bytes(target, "not bytes")
    assert list(tmp_path.iterdir()) == []


def test_new_file_takes_mode_of_the_file_it_copies(tmp_path):
    source = tmp_path / "a.xlsx"
    source.write_bytes(b"a")
    os.chmod(source, 0o604)
    copy = tmp_path / "a.copy.xlsx"
    fileio.atomic_write_bytes(copy, b"b", mode_from=source)
    assert stat.S_IMODE(copy.stat().st_mode) == 0o604


def test_write_package_is_deterministic(tmp_path):
    parts = {"b.xml": b"<b/>", "[Content_Types].xml": b"<Types/>", "a.xml": b"<a/>"}
    when = dt.datetime(2026, 11, 20, 12, 0)
    fileio.write_package(tmp_path / "1.zip", parts, when)
    fileio.write_package(tmp_path / "2.zip", dict(reversed(parts.items())), when)
    assert (tmp_path / "1.zip").read_bytes() == (tmp_path / "2.zip").read_bytes()
    assert zipfile.ZipFile(tmp_path / "1.zip").namelist() == ["[Content_Types].xml", "a.xml", "b.xml"]


# ---- building test packages -------------------------------------------------------------


def plain_openpyxl(path: Path) -> Path:
    """A workbook using only features openpyxl keeps."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "受理台账"
    ws.append(["受理编号", "受理渠道", "联系方式"])
    ws.append(["A-1", "电话", "13800000000"])
    ws.merge_cells("D1:E1")
    dv = DataValidation(type="list", formula1='"电话,上门"', allow_blank=True)
    dv.add("B2:B50")
    ws.add_data_validation(dv)
    ws.conditional_formatting.add("A2:C50", openpyxl.formatting.rule.FormulaRule(formula=['$B2="上门"']))
    ws["A2"].comment = Comment("批注", "李娜")
    other = wb.create_sheet("下拉列表")
    other.append(["渠道"])
    other.append(["电话"])
    other.add_table(Table(displayName="渠道表", ref="A1:A2"))
    wb.defined_names["渠道"] = openpyxl.workbook.defined_name.DefinedName("渠道", attr_text="'下拉列表'!$A$2")
    wb.save(path)
    return path


def xlsxwriter_book(path: Path, build) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("受理台账")
    ws.write_row(0, 0, [1, 2, 3])
    build(wb, ws, path)
    wb.close()
    return path


def x14_validation(tmp):
    ext = ('<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
           'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"><x14:dataValidations '
           'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main" count="1"><x14:dataValidation type="list">'
           "<x14:formula1><xm:f>'下拉列表'!$A$2:$A$3</xm:f></x14:formula1><xm:sqref>B2:B50</xm:sqref>"
           "</x14:dataValidation></x14:dataValidations></ext></extLst>")
    return rewrite(plain_openpyxl(tmp / "p.xlsx"), tmp / "x14.xlsx", {SHEET: insert_before(b"</worksheet>", ext)})


def controls(tmp):
    alt = ('<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
           '<mc:Choice xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main" Requires="x14">'
           '<controls><mc:AlternateContent><mc:Choice Requires="x14"><control shapeId="1025" name="Check Box 1"/>'
           "</mc:Choice></mc:AlternateContent></controls></mc:Choice></mc:AlternateContent>")
    return rewrite(plain_openpyxl(tmp / "p.xlsx"), tmp / "controls.xlsx", {SHEET: insert_before(b"</worksheet>", alt)})


def threaded_comments(tmp):
    rels = "xl/worksheets/_rels/sheet1.xml.rels"
    rel = ('<Relationship Id="rIdT" Type="http://schemas.microsoft.com/office/2017/10/relationships/threadedComment" '
           'Target="../threadedComments/threadedComment1.xml"/>')
    ct = ('<Override PartName="/xl/threadedComments/threadedComment1.xml" '
          'ContentType="application/vnd.ms-excel.threadedcomments+xml"/>')
    body = (b'<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
            b'<threadedComment ref="A2" id="{1}" personId="{2}"><text>threadedComment</text></threadedComment>'
            b"</ThreadedComments>")
    return rewrite(plain_openpyxl(tmp / "p.xlsx"), tmp / "threaded.xlsx",
                   {rels: insert_before(b"</Relationships>", rel),
                    "[Content_Types].xml": insert_before(b"</Types>", ct)},
                   {"xl/threadedComments/threadedComment1.xml": body})


def dynamic_arrays(tmp):
    ct = ('<Override PartName="/xl/metadata.xml" '
          'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheetMetadata+xml"/>')
    return rewrite(plain_openpyxl(tmp / "p.xlsx"), tmp / "dyn.xlsx",
                   {"[Content_Types].xml": insert_before(b"</Types>", ct)},
                   {"xl/metadata.xml": b'<metadata xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                                       b'<dynamicArrayProperties/></metadata>'})


def file_sharing(tmp):
    return rewrite(plain_openpyxl(tmp / "p.xlsx"), tmp / "sharing.xlsx",
                   {"xl/workbook.xml": insert_before(b"<workbookPr", '<fileSharing readOnlyRecommended="1"/>')})


def customui(tmp, rel_type, suffix):
    from support.annotate_books import build_xlsm   # the VBA workbook built for the annotate tests
    base = build_xlsm(tmp / f"base{suffix}.xlsm")
    rel = f'<Relationship Id="rIdUI" Type="{rel_type}" Target="customUI/customUI.xml"/>'
    return rewrite(base, tmp / f"ui{suffix}.xlsm", {"_rels/.rels": insert_before(b"</Relationships>", rel)},
                   {"customUI/customUI.xml": b'<customUI xmlns="http://schemas.microsoft.com/office/2006/01/customui">'
                                             b'<ribbon/></customUI>'})


LOSSY = {
    # name: (build, text the reason mentions, bytes present before and gone after openpyxl load + save)
    "x14 list validation": (x14_validation, "下拉列表", b"x14:dataValidation"),
    "sparklines": (lambda t: xlsxwriter_book(t / "s.xlsx", lambda wb, ws, p: ws.add_sparkline(
        "E1", {"range": "受理台账!A1:C1"})), "迷你图", b"sparklineGroup"),
    "2010 data bars": (lambda t: xlsxwriter_book(t / "d.xlsx", lambda wb, ws, p: ws.conditional_format(
        "A1:C1", {"type": "data_bar", "data_bar_2010": True})), "条件格式", b"x14:cfRule"),
    "text box": (lambda t: xlsxwriter_book(t / "tb.xlsx", lambda wb, ws, p: ws.insert_textbox(
        "E2", "文本框内容")), "图表、图片或形状", "文本框内容".encode()),
    "picture and shape": (lambda t: xlsxwriter_book(t / "pic.xlsx", lambda wb, ws, p: (ws.insert_image(
        "E2", "dot.png", {"image_data": __import__("io").BytesIO(tiny_png())}), ws.insert_textbox("H2", "旁边的文本框"))),
        "图表、图片或形状", "旁边的文本框".encode()),
    "chart": (lambda t: xlsxwriter_book(t / "ch.xlsx", lambda wb, ws, p: ws.insert_chart("E2", _chart(wb))),
              "图表", b"<c:style "),
    "button in xlsx": (lambda t: xlsxwriter_book(t / "b.xlsx", lambda wb, ws, p: ws.insert_button(
        "E2", {"macro": "M", "caption": "按钮"})), "表单控件", b"FmlaMacro"),
    "visible note": (lambda t: xlsxwriter_book(t / "n.xlsx", lambda wb, ws, p: ws.write_comment(
        "A1", "常显批注", {"visible": True})), "始终显示的批注", b"<x:Visible/>"),
    "form controls": (controls, "控件", b"<controls"),
    "threaded comments": (threaded_comments, "会话式批注", b"threadedComment"),
    "dynamic arrays": (dynamic_arrays, "动态数组", b"dynamicArrayProperties"),
    "modify password": (file_sharing, "建议只读", b"fileSharing"),
    "ribbon 2010": (lambda t: customui(t, fileio.UI_2007, "07"), "自定义功能区", b"2007/relationships/ui"),
}


def _chart(wb):
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "=受理台账!$A$1:$C$1"})
    chart.set_style(37)   # a chart style openpyxl does not write back
    return chart


def roundtrip(path: Path, out: Path) -> Path:
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(path, keep_vba=path.suffix == ".xlsm", keep_links=True, rich_text=True)
    wb.save(out)
    return out


def blob(path: Path) -> bytes:
    parts = fileio.read_parts(path)
    return b"\n".join(name.encode() + b"\n" + data for name, data in parts.items())


@pytest.mark.parametrize("case", sorted(LOSSY))
def test_lossy_rule_matches_what_openpyxl_drops(tmp_path, case):
    build, reason, marker = LOSSY[case]
    path = build(tmp_path)
    assert marker in blob(path), "the test file lacks the feature"
    after = roundtrip(path, tmp_path / f"after{path.suffix}")
    assert marker not in blob(after), "openpyxl kept it: the rule is too strict"
    reasons = fileio.lossy_parts(path)
    assert any(reason in r for r in reasons), reasons


def test_a_drawing_of_plain_pictures_is_kept_and_not_reported(tmp_path):
    """With Pillow installed (matplotlib brings it) openpyxl writes plain pictures back, link and all."""
    import io
    path = xlsxwriter_book(tmp_path / "pic.xlsx", lambda wb, ws, p: ws.insert_image(
        "E2", "dot.png", {"image_data": io.BytesIO(tiny_png()), "url": "https://example.com/", "description": "示意图"}))
    after = roundtrip(path, tmp_path / "after.xlsx")
    for marker in (b"xl/media/", b"hlinkClick", "示意图".encode()):
        assert marker in blob(path) and marker in blob(after), marker
    assert fileio.lossy_parts(path) == []


def test_features_openpyxl_keeps_are_not_reported(tmp_path):
    path = plain_openpyxl(tmp_path / "plain.xlsx")
    # what Excel adds to ordinary files and openpyxl drops harmlessly: phonetic settings, printer setup
    path = rewrite(path, tmp_path / "excelish.xlsx",
                   {SHEET: insert_before(b"<pageMargins", '<phoneticPr fontId="1" type="noConversion"/>')},
                   {"xl/printerSettings/printerSettings1.bin": b"\0" * 16})
    assert fileio.lossy_parts(path) == []
    after = roundtrip(path, tmp_path / "after.xlsx")
    for marker in (b"<dataValidation ", b"<conditionalFormatting", b'displayName="\xe6\xb8\xa0\xe9\x81\x93\xe8\xa1\xa8"',
                   b"<mergeCell ", "批注".encode(), b"definedName"):
        assert marker in blob(path) and marker in blob(after), marker


def test_vba_buttons_and_old_ribbon_survive_keep_vba(tmp_path):
    path = customui(tmp_path, fileio.UI_2006, "06")
    assert fileio.lossy_parts(path) == []
    after = roundtrip(path, tmp_path / "after.xlsm")
    before_parts, after_parts = fileio.read_parts(path), fileio.read_parts(after)
    assert after_parts["xl/vbaProject.bin"] == before_parts["xl/vbaProject.bin"]
    assert b"FmlaMacro" in blob(after) and fileio.UI_2006.encode() in after_parts["_rels/.rels"]
    assert "customUI/customUI.xml" in after_parts


def test_vml_shapes_reads_notes_and_buttons(tmp_path):
    path = xlsxwriter_book(tmp_path / "v.xlsx", lambda wb, ws, p: (
        ws.write_comment("B3", "note", {"x_scale": 2}), ws.insert_button("E2", {"macro": "M"})))
    parts = fileio.read_parts(path)
    shapes = fileio.vml_shapes(parts[fileio.sheet_vml(parts, SHEET)])
    note = next(s for s in shapes if s["type"] == "Note")
    assert (note["row"], note["column"], note["visible"]) == (2, 1, False)
    assert note["width"] == pytest.approx(2 * 96 * 4 / 3)
    assert {s["type"] for s in shapes} == {"Note", "Button"}


def test_unreadable_package_reports_nothing(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip")
    assert fileio.lossy_parts(bad) == []


# ---- LibreOffice-made workbooks: pivot tables and external links survive -----------------------


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_pivot_tables_and_external_links_survive_openpyxl(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["渠道", "数量"])
    for i in range(6):
        ws.append([["电话", "上门", "窗口现场"][i % 3], i])
    wb.save(tmp_path / "src.xlsx")
    other = openpyxl.Workbook()
    other.active["A1"] = 42
    other.save(tmp_path / "other.xlsx")
    made = tmp_path / "pivot.xlsx"
    run_uno(tmp_path, PIVOT_AND_LINK, str(tmp_path / "src.xlsx"), str(made), str(tmp_path / "other.xlsx"))
    before = fileio.read_parts(made)
    assert any(n.startswith("xl/pivotTables/") for n in before) and any(n.startswith("xl/externalLinks/") for n in before)
    assert fileio.lossy_parts(made) == []
    after = fileio.read_parts(roundtrip(made, tmp_path / "after.xlsx"))
    for prefix in ("xl/pivotTables/pivotTable", "xl/pivotCache/pivotCacheDefinition", "xl/pivotCache/pivotCacheRecords",
                   "xl/externalLinks/externalLink"):
        assert any(n.startswith(prefix) for n in after), prefix
    definition = next(n for n in after if n.startswith("xl/pivotCache/pivotCacheDefinition") and n.endswith(".xml"))
    for text in ("渠道", "上门", "窗口现场", 'ref="A1:B7"'):
        assert text.encode() in after[definition]
    assert b"other.xlsx" in after["xl/externalLinks/_rels/externalLink1.xml.rels"]
