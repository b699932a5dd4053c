"""annotate: findings and clock columns written into real workbooks, and nothing else changed."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import openpyxl
import pytest
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill

from support.workbook_compare import Package, compare, identical_parts
from xl_automation.xlsx import fileio
from xl_automation.model import labels
from xl_automation.model import schema
from xl_automation.rules import sla
from xl_automation.xlsx.annotate import AUTHOR, FILLS, SEPARATOR, STATUS_FILLS, annotate, copy_path
from xl_automation.model.ledger import Ledger, LedgerError, LedgerRow, column_letter
from support.annotate_books import Case, LAYOUTS, LEDGER, NOW, PROGRAM_HEADERS, USER_FILL, _col


# ---- two feature-rich ledgers ---------------------------------------------------------------


@pytest.fixture(params=sorted(LAYOUTS))
def case(tmp_path, request) -> Case:
    return Case(tmp_path, request.param)


PROGRAM_LETTERS = {column_letter(_col(c.key)) for c in schema.PROGRAM_COLUMNS}


def _letters(ref: str) -> str:
    return ref.rstrip("0123456789")


def program_cells(ref: str) -> bool:
    return _letters(ref) in PROGRAM_LETTERS


# ---- what the annotation says -----------------------------------------------------------------

def test_annotation_content(case):
    result = case.run()
    r1, r2, r3, r4 = case.rows
    assert (result.path, result.is_copy, result.reasons) == (case.path, False, [])
    assert (result.cells_marked, result.error_cells, result.warning_cells, result.rows_written) == (4, 3, 1, 4)
    assert result.columns_added == ([] if case.path.suffix == ".xlsx" else PROGRAM_HEADERS)
    wb = openpyxl.load_workbook(case.path)
    ws = wb[LEDGER]
    minutes, status, check = (column_letter(_col(c.key)) for c in schema.PROGRAM_COLUMNS)
    assert [ws[f"{minutes}{r}"].value for r in case.rows] == [35.5, 150, 100.4, None]
    assert [ws[f"{status}{r}"].value for r in case.rows] == [sla.ON_TIME, sla.LATE, sla.NEAR, None]
    assert [ws[f"{check}{r}"].value for r in case.rows] == ["通过", "1 错误：受理渠道", "1 错误 1 提醒：联系方式", "1 错误"]
    assert ws[f"{status}{r2}"].fill.fgColor.rgb == STATUS_FILLS[sla.LATE]
    assert ws[f"{status}{r3}"].fill.fgColor.rgb == STATUS_FILLS[sla.NEAR]
    channel = ws[case.ledger.cell(r2, "channel")]
    assert channel.fill.fgColor.rgb == FILLS["error"] and channel.comment.author == AUTHOR
    user_part, ours = channel.comment.text.split(f"\n{SEPARATOR}\n")
    assert user_part == "用户批注：渠道待核实" and ours.startswith("【错误】“微信”不是“受理渠道”的可选值\n处理：")
    phone = ws[case.ledger.cell(r3, "phone")]
    assert phone.fill.fgColor.rgb == FILLS["error"]
    assert phone.comment.text.startswith("【错误】联系方式“12345”") and "\n【提醒】与第" in phone.comment.text
    box = note_box(case.path, case.ledger.cell(r3, "phone"))
    assert box[0] >= 144 and box[1] > 79      # openpyxl does not read note sizes: take them from the VML
    assert "【错误】六项办事需求" in ws[f"{check}{r4}"].comment.text
    header = ws[f"{check}{case.header_row}"]
    assert header.value == "校验结果" and header.fill.fgColor.rgb == FILLS["warning"]
    assert header.comment.text == "【提醒】缺少列：备注，这些信息将视为空\n处理：从台账模板复制完整表头"
    assert wb[labels.ANNOTATION_SHEET].sheet_state == "veryHidden"
    # no clock value anywhere: the document properties are the user's, byte for byte
    assert fileio.read_parts(case.path)["docProps/core.xml"] == fileio.read_parts(case.original)["docProps/core.xml"]
    if case.path.suffix == ".xlsm":   # appended columns look like the header row
        last_input = ws.cell(case.header_row, len(schema.INPUT_COLUMNS))
        for column in schema.PROGRAM_COLUMNS:
            added = ws.cell(case.header_row, _col(column.key))
            assert (added.value, added.font.b, added.border.left.style) == (column.header, True, "thin")
            if column.key != "check_result":     # that one carries the file-level finding's fill
                assert added.fill.fgColor.rgb == last_input.fill.fgColor.rgb


def note_box(path: Path, ref: str) -> tuple[float, float]:
    parts = fileio.read_parts(path)
    sheet = fileio.sheet_parts(parts)[LEDGER]
    row, col = openpyxl.utils.cell.coordinate_to_tuple(ref)
    shape = next(s for s in fileio.vml_shapes(parts[fileio.sheet_vml(parts, sheet)])
                 if s["type"] == "Note" and (s["row"], s["column"]) == (row - 1, col - 1))
    return shape["width"], shape["height"]


# ---- (a) nothing else changes ------------------------------------------------------------------

def marked_cells(case: Case) -> set[str]:
    r2, r3 = case.rows[1:3]
    return {case.ledger.cell(r2, "channel"), case.ledger.cell(r3, "phone")}


def test_first_run_changes_nothing_but_the_annotation(case):
    case.run()
    marked = marked_cells(case)
    problems = compare(case.original, case.path,
                       skip=["styles", "package:", f"sheet:{LEDGER}/comments", f"sheet:{LEDGER}/vmlDrawing"],
                       masks={LEDGER: lambda ref: program_cells(ref) or ref in marked},
                       ignore_sheets=[labels.ANNOTATION_SHEET], ignore_attrs=["calcPr@fullCalcOnLoad"])
    assert not problems, "\n\n".join(problems)
    before, after = Package(case.original), Package(case.path)
    for part in (f"sheet:{LEDGER}/comments", f"sheet:{LEDGER}/vmlDrawing"):   # other notes and buttons as they were
        untouched = lambda lines: [ln for ln in lines[1:] if not _is_marked_note(ln, marked)]
        assert untouched(before.canonical(part)) == untouched(after.canonical(part))
    assert snapshot(case.original, marked) == snapshot(case.path, marked)
    for name, data in after.parts.items():      # kept buttons and rewritten notes must not share shape ids
        if name.endswith(".vml"):
            ids = [s["id"] for s in fileio.vml_shapes(data)]
            assert len(ids) == len(set(ids)), (name, ids)
    if case.path.suffix == ".xlsm":
        assert before.parts["xl/vbaProject.bin"] == after.parts["xl/vbaProject.bin"]
        assert "vbaProject" in after.logical and after.canonical("vbaProject") == before.canonical("vbaProject")


def _is_marked_note(line: str, marked: set[str]) -> bool:
    """A comments or VML line about a cell the annotation marks (or a program column)."""
    if line.startswith("note "):
        fields = dict(kv.split("=") for kv in line.split()[1:])
        ref = f"{column_letter(int(fields['col']) + 1)}{int(fields['row']) + 1}"
    elif line.startswith("shape "):
        return False
    else:
        ref = line.split()[0]
    return ref in marked or program_cells(ref)


def snapshot(path: Path, marked: set[str]) -> dict[str, object]:
    """What openpyxl reads back: values, formulas, validations, formats, tables, names, notes, widths."""
    wb = openpyxl.load_workbook(path, keep_vba=path.suffix == ".xlsm")
    out: dict[str, object] = {"names": {n: d.attr_text for n, d in wb.defined_names.items()},
                              "sheets": [s for s in wb.sheetnames if s != labels.ANNOTATION_SHEET]}
    for ws in wb.worksheets:
        if ws.title == labels.ANNOTATION_SHEET:
            continue
        skip = (lambda ref: program_cells(ref) or ref in marked) if ws.title == LEDGER else (lambda ref: False)
        out[ws.title] = {
            "cells": {c.coordinate: c.value for row in ws.iter_rows() for c in row
                      if c.value is not None and not skip(c.coordinate)},
            "notes": {c.coordinate: (c.comment.text, c.comment.author) for row in ws.iter_rows() for c in row
                      if c.comment and not skip(c.coordinate)},
            "validations": sorted((str(dv.sqref), dv.type, dv.formula1) for dv in ws.data_validations.dataValidation),
            "formats": sorted((str(rng.sqref), tuple(r.formula for r in rules))
                              for rng, rules in ws.conditional_formatting._cf_rules.items()),
            "tables": dict(ws.tables.items()),
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "widths": {k: d.width for k, d in ws.column_dimensions.items()
                       if k not in PROGRAM_LETTERS and d.customWidth},
            "freeze": ws.freeze_panes,
        }
    return out


# ---- (b) running twice gives the same file -----------------------------------------------------

def test_second_run_is_identical(case, tmp_path):
    case.run()
    first = tmp_path / f"first{case.path.suffix}"
    shutil.copy(case.path, first)
    result = case.run()
    assert result.path == case.path
    assert identical_parts(first, case.path) == []
    assert first.read_bytes() == case.path.read_bytes()


# ---- (c) no findings restores the user's workbook ----------------------------------------------

def test_no_findings_after_annotation_restores_fills_and_notes(case):
    case.run()
    result = case.run(findings=[], clocks={})
    assert result.cells_marked == 0
    problems = compare(case.original, case.path, skip=["styles", "package:"], masks={LEDGER: program_cells},
                       ignore_sheets=[labels.ANNOTATION_SHEET], ignore_attrs=["calcPr@fullCalcOnLoad"])
    assert not problems, "\n\n".join(problems)
    ws = openpyxl.load_workbook(case.path)[LEDGER]
    r2, r3 = case.rows[1:3]
    assert ws[case.ledger.cell(r3, "phone")].fill.fgColor.rgb == USER_FILL
    note = ws[case.ledger.cell(r2, "channel")].comment
    assert (note.text, note.author) == ("用户批注：渠道待核实", "李娜")


def test_user_changes_after_annotation_win(case):
    case.run()
    wb = openpyxl.load_workbook(case.path, keep_vba=case.path.suffix == ".xlsm")
    channel = case.ledger.cell(case.rows[1], "channel")
    wb[LEDGER][channel].fill = PatternFill("solid", start_color="FF00B050", end_color="FF00B050")
    wb.save(case.path)
    case.run(findings=[], clocks={})
    cell = openpyxl.load_workbook(case.path)[LEDGER][channel]
    assert cell.fill.fgColor.rgb == "FF00B050"                  # their new fill stays
    assert cell.comment.text == "用户批注：渠道待核实"            # our note is gone, theirs is back


def test_note_moved_by_a_sort_keeps_only_the_users_part(case):
    case.run()
    wb = openpyxl.load_workbook(case.path, keep_vba=case.path.suffix == ".xlsm")
    ws = wb[LEDGER]
    here = case.ledger.cell(case.rows[1], "channel")
    there = case.ledger.cell(case.rows[0], "channel")
    ws[there].comment, ws[here].comment = Comment(ws[here].comment.text, AUTHOR), None   # as a sort would
    wb.save(case.path)
    case.run(findings=[], clocks={})
    ws = openpyxl.load_workbook(case.path)[LEDGER]
    assert ws[there].comment.text == "用户批注：渠道待核实" and ws[here].comment is None


def test_rows_gone_from_the_ledger_lose_their_program_values(case):
    case.run()
    fewer = case.make_ledger(case.rows[:3])
    case.run(findings=[f for f in case.findings if f.row != case.rows[3]], ledger=fewer)
    ws = openpyxl.load_workbook(case.path)[LEDGER]
    last = case.rows[3]
    for c in schema.PROGRAM_COLUMNS:
        cell = ws.cell(last, _col(c.key))
        assert cell.value is None and cell.comment is None and cell.fill.fill_type is None, c.header
    assert ws.cell(case.rows[0], _col("check_result")).value == "通过"


# ---- refusals and copies -------------------------------------------------------------------------

def test_xls_is_refused(tmp_path):
    old = tmp_path / "台账.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    ledger = Ledger(old, LEDGER, 1, {}, [], format="xls")
    with pytest.raises(LedgerError) as err:
        annotate(ledger, [], {}, now=NOW)
    assert err.value.finding.code == "file-old-xls"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["台账.xls"]


def test_open_file_is_refused_untouched(tmp_path):
    case = Case(tmp_path, ".xlsx")
    digest = sha256(case.path)
    (tmp_path / f"~${case.path.name}").write_bytes(b"owner")
    with pytest.raises(LedgerError) as err:
        case.run()
    assert err.value.finding.code == "file-locked"
    assert sha256(case.path) == digest


def test_workbook_openpyxl_cannot_write_is_refused_untouched(tmp_path):
    from support.package_edits import rewrite
    case = Case(tmp_path, ".xlsm")
    broken = tmp_path / "broken.xlsm"   # Excel writes HTML-ish <br> into button captions: not XML
    rewrite(case.path, broken, {"xl/drawings/vmlDrawing1.vml": lambda d: d.replace(
        ">校验0<".encode(), ">校验<br>0<".encode(), 1)})
    shutil.move(broken, case.path)
    digest = sha256(case.path)
    with pytest.raises(LedgerError) as err:
        case.run()
    assert err.value.finding.code == "annotate-failed"
    assert sha256(case.path) == digest and not copy_path(case.path).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["original.xlsm", case.path.name])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def with_x14_validation(case: Case) -> str:
    from support.package_edits import insert_before, rewrite
    ext = ('<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
           'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"><x14:dataValidations '
           'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main" count="1"><x14:dataValidation type="list">'
           f"<x14:formula1><xm:f>'{labels.LOOKUP_SHEET}'!$A$2:$A$5</xm:f></x14:formula1><xm:sqref>J4:J200</xm:sqref>"
           "</x14:dataValidation></x14:dataValidations></ext></extLst>")
    tmp = case.path.with_name("x14.xlsx")
    rewrite(case.path, tmp, {"xl/worksheets/sheet1.xml": insert_before(b"</worksheet>", ext)})
    shutil.move(tmp, case.path)
    return "引用其他工作表的下拉列表"


def with_chart(case: Case) -> str:
    wb = openpyxl.load_workbook(case.path)
    chart = openpyxl.chart.BarChart()
    chart.add_data(openpyxl.chart.Reference(wb[LEDGER], min_col=1, min_row=4, max_row=7))
    wb[LEDGER].add_chart(chart, "AE3")
    wb.save(case.path)
    return "图表、图片或形状"


def with_ribbon(case: Case) -> str:
    from support.package_edits import insert_before, rewrite
    rel = f'<Relationship Id="rIdUI" Type="{fileio.UI_2007}" Target="customUI/customUI14.xml"/>'
    tmp = case.path.with_name("ui.xlsm")
    rewrite(case.path, tmp, {"_rels/.rels": insert_before(b"</Relationships>", rel)},
            {"customUI/customUI14.xml": b'<customUI xmlns="http://schemas.microsoft.com/office/2009/07/customui"/>'})
    shutil.move(tmp, case.path)
    return "自定义功能区"


@pytest.mark.parametrize("suffix, add", [(".xlsx", with_x14_validation), (".xlsx", with_chart),
                                         (".xlsm", with_ribbon)], ids=["x14-validation", "chart", "ribbon"])
def test_workbook_openpyxl_would_damage_is_annotated_in_place(tmp_path, suffix, add):
    """These used to go to a copy beside the file (openpyxl drops them); the patch keeps them in the file."""
    case = Case(tmp_path, suffix)
    add(case)
    before = fileio.read_parts(case.path)
    result = case.run()
    assert (result.path, result.is_copy) == (case.path, False) and not copy_path(case.path).exists()
    after = fileio.read_parts(case.path)
    ledger_part = fileio.sheet_parts(after)[LEDGER]
    ledger_rels = ledger_part.replace("worksheets/", "worksheets/_rels/") + ".rels"
    touched = {ledger_part, ledger_rels, "xl/styles.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
               "[Content_Types].xml"} | {t for _, rt, t, _ in fileio.rels_of(after, ledger_part)
                                         if rt.endswith(("/comments", "/vmlDrawing"))}
    assert {n for n in before if before[n] != after.get(n)} <= touched
    if add is with_x14_validation:      # the extension sits in the ledger sheet itself: kept there
        assert b"x14:dataValidation" in after[ledger_part]
    ws = openpyxl.load_workbook(case.path)[LEDGER]
    assert ws[case.ledger.cell(case.rows[1], "channel")].comment.author == AUTHOR
    first = case.path.read_bytes()
    case.run()
    assert case.path.read_bytes() == first


# ---- LibreOffice: rows deleted in a spreadsheet program -------------------------------------------

DELETE_ROW = r'''
src, dst, sheet, row = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def body(desktop):
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(src), "_blank", 0, (prop("Hidden", True),))
    doc.Sheets.getByName(sheet).Rows.removeByIndex(row - 1, 1)
    doc.storeToURL(uno.systemPathToFileUrl(dst), (prop("FilterName", "Calc MS Excel 2007 XML"),))
    doc.close(True)
run(body)
'''


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_row_deleted_in_libreoffice_restores_the_right_cells(tmp_path):
    case = Case(tmp_path, ".xlsx")
    case.run()
    r1, r2, r3, r4 = case.rows
    edited = tmp_path / "edited.xlsx"
    from support.package_edits import run_uno
    run_uno(tmp_path, DELETE_ROW, str(case.path), str(edited), LEDGER, str(r2))
    shutil.move(edited, case.path)
    # row r2 (our note over the user's note) is gone; the user-filled phone cell moved up one row
    moved = Ledger(case.path, LEDGER, case.header_row, case.ledger.columns, [LedgerRow(r, {}) for r in (r1, r3 - 1, r4 - 1)])
    result = annotate(moved, [], {}, now=NOW)
    ws = openpyxl.load_workbook(result.path)[LEDGER]
    phone = ws[moved.cell(r3 - 1, "phone")]
    assert phone.fill.fgColor.rgb == USER_FILL and phone.comment is None
    assert all(c.comment is None or c.comment.author != AUTHOR for row in ws.iter_rows() for c in row)
    assert ws.cell(r4, _col("check_result")).value is None       # the old last row's values went with it
    assert ws[f"{column_letter(_col('check_result'))}{case.header_row}"].comment is None
    assert ws["B5"].comment.text == "另一条批注"                # the user's other note moved up with its row
