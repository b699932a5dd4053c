"""Text from branch files stays text in every workbook we write: submission copies and spooled rows."""
import zipfile
from datetime import datetime

import openpyxl
import pytest
from hypothesis import example, given, settings, strategies as st
from python_calamine import CalamineWorkbook

from xl_automation.xlsx.values_ledger import write_values_ledger
from xl_automation.xlsx.xlsx_safe import new_workbook, stored_text
from xl_automation.xlsx.xlsx_spool import splice, SpoolSheet

from support.rows import good_row

HOSTILE = ['=HYPERLINK("http://evil.example","点我")', "+1+1", "-2+3", "@SUM(A1)", "<r><t>x</t></r>",
           "http://evil.example", "0123", "a\x01b", "&<>\"'"]


@pytest.mark.parametrize("text", HOSTILE)
def test_submission_copy_keeps_hostile_text_as_text(tmp_path, text):
    path = tmp_path / "copy.xlsx"
    write_values_ledger(path, [good_row(remarks=text)], {"窗口编码": "ZLS01"})
    cell = openpyxl.load_workbook(path)["受理台账"]["P4"]
    assert cell.data_type == "s"
    assert cell.value == text.replace("\x01", "_x0001_")     # openpyxl shows the XML escape of a control char
    with zipfile.ZipFile(path) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()
        assert "<hyperlink" not in z.read("xl/worksheets/sheet1.xml").decode()


def test_spooled_rows_round_trip_exactly(tmp_path):
    path = tmp_path / "spool.xlsx"
    wb = new_workbook(path)
    ws = wb.add_worksheet("明细")
    ws.write_string(0, 0, "头")
    fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    spool = SpoolSheet(ws, 1)
    texts = [t for t in HOSTILE if "\x01" not in t]
    for r, t in enumerate(texts, start=1):
        spool.write_string(r, 0, t)
        spool.write_number(r, 1, r * 1.5)
        spool.write_datetime(r, 2, datetime(2026, 11, 3, 9, 5), fmt)
    wb.close()
    splice(path, [spool])
    rows = CalamineWorkbook.from_path(path).get_sheet_by_name("明细").to_python()
    assert [r[0] for r in rows[1:]] == texts
    assert rows[1][1] == 1.5 and rows[1][2] == datetime(2026, 11, 3, 9, 5)
    ws2 = openpyxl.load_workbook(path)["明细"]
    assert ws2.max_row == len(texts) + 1 and ws2["C2"].number_format == "yyyy-mm-dd hh:mm"
    assert not any(c.data_type == "f" for row in ws2.iter_rows() for c in row)
    assert not spool.path.exists()


ESCAPE_PRONE = st.text(st.sampled_from(list("_x005F0041aAfz ") + ["\x01", "\x1f", "\r", "\n", "\t", "淄", "="]),
                       min_size=1, max_size=24)


@settings(max_examples=40, deadline=None)
@given(st.lists(ESCAPE_PRONE, min_size=1, max_size=20))
@example(["_x005F_x0041_", "_x0041_x0042_", "a_x0001_b"])
def test_escape_shaped_and_control_text_reads_back_as_written(tmp_path_factory, texts):
    """Cells hold _xHHHH_ as a character escape: a literal run of that shape ("_x005F_x0041_", overlapping
    ones included) and control characters must come back from Excel's reader as the very text, from the
    spooled report rows (both paths) and from openpyxl writes through stored_text (fill_ledger)."""
    folder = tmp_path_factory.mktemp("escape")
    spooled = folder / "spool.xlsx"
    wb = new_workbook(spooled)
    ws = wb.add_worksheet("明细")
    ws.write_string(0, 0, "头")
    spool = SpoolSheet(ws, 1)
    for r, t in enumerate(texts, start=1):
        spool.write_string(r, 0, t)
    for r, t in enumerate(texts, start=len(texts) + 1):
        spool.write_row(r, [t])
    wb.close()
    splice(spooled, [spool])
    rows = CalamineWorkbook.from_path(spooled).get_sheet_by_name("明细").to_python()
    assert [r[0] for r in rows[1:]] == texts + texts
    raw = folder / "openpyxl.xlsx"
    book = openpyxl.Workbook()
    for r, t in enumerate(texts, start=1):
        cell = book.active.cell(r, 1)
        cell.value = stored_text(t)
        cell.data_type = "s"           # as fill_ledger writes "=…": text
    book.save(raw)
    assert [r[0] for r in CalamineWorkbook.from_path(raw).get_sheet_by_index(0).to_python()] == texts


def test_submission_copy_keeps_hostile_info_text_as_text(tmp_path):
    """The copy's 台账信息 sheet repeats the ledger's 模板版本 as typed. XlsxWriter copies a string shaped
    '<r>…</r>' into the sheet's XML raw, so such a value could close its cell and add a formula cell to the
    "values-only" copy the group receives (and may open in Excel)."""
    hostile = ('<r><t>1.0</t></r></is></c><c r="C6"><f>HYPERLINK("http://evil.example","点我")</f><v>0</v></c>'
               '<c r="D6" t="inlineStr"><is><r><t>x</t></r>')
    path = tmp_path / "copy.xlsx"
    write_values_ledger(path, [good_row()], {"窗口编码": "ZLS01", "模板版本": hostile})
    with zipfile.ZipFile(path) as z:
        assert not any("<f>" in z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))
    info = CalamineWorkbook.from_path(path).get_sheet_by_name("台账信息").to_python()
    assert ["模板版本", hostile] in info
