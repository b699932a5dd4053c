"""Two feature-rich ledgers (.xlsx by XlsxWriter, .xlsm by openpyxl with a VBA part) and a Case: one file with its Ledger, findings and clocks, for the annotation tests."""
from __future__ import annotations

import shutil
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import xlsxwriter
from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table

from xl_automation.model import labels, schema
from xl_automation.model.findings import make
from xl_automation.model.ledger import Ledger, LedgerRow, column_letter
from xl_automation.rules import sla
from xl_automation.xlsx.annotate import annotate

NOW = datetime(2026, 11, 20, 12, 0)
LEDGER = labels.LEDGER_SHEET
USER_FILL = "FFDDEBF7"
XLSM_CT = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"
XLSX_CT = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
BUTTON_MACRO = 'Attribute VB_Name = "LedgerButtons"\r\nPublic Sub ValidateLedger()\r\n    MsgBox "ok"\r\nEnd Sub\r\n'
PROGRAM_HEADERS = [c.header for c in schema.PROGRAM_COLUMNS]


def data_row(i: int) -> dict[str, object]:
    return {"request_id": f"ZLS01-20261103-{i:03d}", "received_at": f"2026-11-03 09:{i:02d}",
            "channel": "电话", "svc_water": labels.TICK, "install_type": "民用", "applicant": f"张{i}",
            "phone": f"1380000000{i}", "district": "张店区", "address": "张店区人民西路1号",
            "first_responder": "李娜", "result": "办理中"}


def build_xlsx(path: Path) -> Path:
    """openpyxl ledger: title rows, all schema headers on row 3, data on rows 4-7, and user features."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = LEDGER
    ws["A1"] = labels.LEDGER_TITLE
    ws["A1"].font = Font(name="等线", bold=True, size=16)
    ws.merge_cells("A1:H1")
    ws["A2"] = "窗口：营销服务中心　统计周期：2026-11"
    for col, header in enumerate(schema.HEADERS, 1):
        cell = ws.cell(3, col, header)
        cell.font = Font(name="等线", bold=True)
        cell.fill = PatternFill("solid", start_color="FFD9E1F2", end_color="FFD9E1F2")
        ws.column_dimensions[column_letter(col)].width = schema.COLUMNS[col - 1].width
    for i, row in enumerate(range(4, 8), 1):
        for key, value in data_row(i).items():
            ws.cell(row, _col(key), value)
        ws.cell(row, _col("remarks"), f'=A{row}&"-备注"')
    ws["AC2"] = '=COUNTIF(Z4:Z7,"超时")'
    channels = DataValidation(type="list", formula1='"' + ",".join(schema.BY_KEY["channel"].enum) + '"')
    channels.add("C4:C200")
    results = DataValidation(type="list", formula1="=结果列表")
    results.add("U4:U200")
    ws.add_data_validation(channels)
    ws.add_data_validation(results)
    ws.conditional_formatting.add("A4:AA200", FormulaRule(formula=['$Z4="超时未回复"'], fill=PatternFill(
        "solid", start_color="FFFF0000", end_color="FFFF0000")))
    ws["C5"].comment = Comment("用户批注：渠道待核实", "李娜")
    ws["B6"].comment = Comment("另一条批注", "王芳")
    ws["L6"].fill = PatternFill("solid", start_color=USER_FILL, end_color=USER_FILL)
    ws.freeze_panes = "B4"
    info = wb.create_sheet(labels.INFO_SHEET)
    info.append([labels.INFO_WINDOW_CODE, "ZLS01"])
    info.append([labels.INFO_PERIOD, "2026-11"])
    info["B1"].comment = Comment("窗口编码由集团统一分配", "集团")
    lists = wb.create_sheet(labels.LOOKUP_SHEET)
    lists.append(["办理结果"])
    for value in schema.BY_KEY["result"].enum:
        lists.append([value])
    lists.add_table(Table(displayName="结果表", ref=f"A1:A{len(schema.BY_KEY['result'].enum) + 1}"))
    wb.defined_names["结果列表"] = DefinedName("结果列表", attr_text=f"'{labels.LOOKUP_SHEET}'!$A$2:$A$5")
    wb.save(path)
    return path


def build_xlsm(path: Path) -> Path:
    """XlsxWriter + pyOpenVBA ledger: input headers only (row 2), data rows 3-6, a button, a VBA project."""
    from pyopenvba import ExcelFile
    base, with_vba = path.with_name(path.stem + ".base.xlsm"), path.with_name(path.stem + ".vba.xlsm")
    wb = xlsxwriter.Workbook(str(base))
    wb.set_properties({"created": datetime(2024, 1, 1)})
    title = wb.add_format({"bold": True, "font_size": 16, "font_name": "等线"})
    head = wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "font_name": "等线"})
    user = wb.add_format({"bg_color": "#" + USER_FILL[2:]})
    ws = wb.add_worksheet(LEDGER)
    ws.merge_range("A1:H1", labels.LEDGER_TITLE, title)
    inputs = schema.INPUT_COLUMNS
    for col, column in enumerate(inputs):
        ws.write(1, col, column.header, head)
        ws.set_column(col, col, column.width)
    for i, row in enumerate(range(2, 6), 1):
        for key, value in data_row(i).items():
            ws.write(row, _col(key) - 1, value, user if (row, key) == (4, "phone") else None)
        ws.write_formula(row, _col("remarks") - 1, f'=A{row + 1}&"-备注"', None, f"{data_row(i)['request_id']}-备注")
    ws.write_formula("AE1", "=COUNTA(A3:A6)", None, 4)
    ws.data_validation("C3:C200", {"validate": "list", "source": list(schema.BY_KEY["channel"].enum)})
    ws.conditional_format("A3:X200", {"type": "formula", "criteria": '=$U3="无法办理"',
                                      "format": wb.add_format({"font_color": "#9C0006"})})
    ws.write_comment("C4", "用户批注：渠道待核实", {"author": "李娜"})
    ws.write_comment("B5", "另一条批注", {"author": "王芳", "x_scale": 1.5})
    for n, macro in enumerate(["ValidateLedger", "ValidateLedger", "ValidateLedger"]):
        ws.insert_button(f"AG{2 + 3 * n}", {"macro": macro, "caption": f"校验{n}", "width": 120, "height": 30})
    ws.freeze_panes(2, 1)
    info = wb.add_worksheet(labels.INFO_SHEET)
    info.write_row(0, 0, [labels.INFO_WINDOW_CODE, "ZLS01"])
    info.write_comment("B1", "窗口编码由集团统一分配", {"author": "集团"})
    info.add_table("D1:E3", {"name": "窗口表", "columns": [{"header": "编码"}, {"header": "名称"}],
                             "data": [["ZLS01", "营销服务中心"], ["ZLS02", "张店分公司"]]})
    wb.define_name("窗口编码", f"='{labels.INFO_SHEET}'!$B$1")
    wb.close()
    with ExcelFile(base) as x:
        x.add_vba_project()
        x.vba_project().add_module("LedgerButtons", BUTTON_MACRO)
        x.save(with_vba)
    with zipfile.ZipFile(with_vba) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, data.replace(XLSX_CT, XLSM_CT) if name == "[Content_Types].xml" else data)
    base.unlink()
    with_vba.unlink()
    return path


def _col(key: str) -> int:
    return [c.key for c in schema.COLUMNS].index(key) + 1


LAYOUTS = {  # suffix: (builder, header row, data rows, columns present)
    ".xlsx": (build_xlsx, 3, [4, 5, 6, 7], schema.COLUMNS),
    ".xlsm": (build_xlsm, 2, [3, 4, 5, 6], schema.INPUT_COLUMNS),
}


class Case:
    """One ledger file with its hand-made Ledger, findings and clocks."""

    def __init__(self, tmp_path: Path, suffix: str):
        build, self.header_row, self.rows, present = LAYOUTS[suffix]
        self.path = build(tmp_path / f"台账2026年11月{suffix}")
        self.original = tmp_path / f"original{suffix}"
        shutil.copy(self.path, self.original)
        self.ledger = self.make_ledger(self.rows, present)
        r1, r2, r3, r4 = self.rows
        cell = self.ledger.cell
        self.findings = [
            make("enum-invalid", sheet=LEDGER, row=r2, column="受理渠道", cell=cell(r2, "channel"),
                 value="微信", choices="窗口现场、电话"),
            make("phone-invalid", sheet=LEDGER, row=r3, column="联系方式", cell=cell(r3, "phone"), value="12345"),
            make("likely-duplicate", sheet=LEDGER, row=r3, column="联系方式", cell=cell(r3, "phone"), other_row=r2),
            make("service-none", sheet=LEDGER, row=r4),
            make("column-optional-missing", sheet=LEDGER, columns="备注"),
        ]
        self.clocks = {r1: sla.RowClock(35.5, 84.5, sla.ON_TIME), r2: sla.RowClock(150, -30, sla.LATE),
                       r3: sla.RowClock(100.44, 19.56, sla.NEAR)}

    def make_ledger(self, rows, present=schema.COLUMNS) -> Ledger:
        return Ledger(self.path, LEDGER, self.header_row, {c.key: _col(c.key) for c in present},
                      [LedgerRow(r, {}) for r in rows], format=self.path.suffix[1:])

    def run(self, findings=None, clocks=None, ledger=None):
        return annotate(ledger or self.ledger, self.findings if findings is None else findings,
                        self.clocks if clocks is None else clocks, now=NOW)
