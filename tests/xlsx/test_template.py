"""The ledger template: committed files fresh, drop-downs, hints, live colours, print setup, LibreOffice."""
from __future__ import annotations

import difflib
import re
import shutil
import subprocess
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from xl_automation import TEMPLATE_VERSION

from xl_automation.model import labels

from xl_automation.model import schema

from xl_automation.rules import sla
from xl_automation.model.config import Config, default_data
from xl_automation.xlsx.contact_form import FORM_CELLS, FORM_NAMES, PRINT_AREA
from xl_automation.model.ledger import column_letter
from xl_automation.rules.periods import Period
from xl_automation.xlsx import template as T

from support.paths import ROOT as REPO
COMMITTED = REPO / "templates"
REGENERATE = "python -m xl_automation build-templates templates  (or: python -m xl_automation.xlsx.template templates/)"
FIRST, LAST = T.LEDGER_FIRST_DATA_ROW, T.LEDGER_LAST_PREPARED_ROW


def letter(key: str) -> str:
    return column_letter(schema.COLUMNS.index(schema.BY_KEY[key]) + 1)


@pytest.fixture(scope="module")
def config() -> Config:
    return T.default_config()


@pytest.fixture(scope="module")
def built(tmp_path_factory, config) -> dict[str, Path]:
    paths = T.build_templates(tmp_path_factory.mktemp("templates"), config=config)
    return {p.name: p for p in paths}


@pytest.fixture(scope="module")
def book(built):
    return openpyxl.load_workbook(built[T.TEMPLATE_FILE])


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def xml_lines(data: bytes) -> list[str]:
    return data.decode("utf-8", "replace").replace("><", ">\n<").splitlines()


def part_diff(expected: dict[str, bytes], actual: dict[str, bytes]) -> str:
    """An indented, readable account of which zip members differ and how."""
    out = []
    for name in sorted(set(expected) | set(actual)):
        if name not in actual:
            out.append(f"  {name}: only in the committed file")
        elif name not in expected:
            out.append(f"  {name}: only in the fresh build")
        elif expected[name] != actual[name]:
            diff = difflib.unified_diff(xml_lines(expected[name]), xml_lines(actual[name]),
                                        "committed", "fresh", n=1, lineterm="")
            out.append(f"  {name}:\n" + "\n".join("    " + line for line in list(diff)[:30]))
    return "\n".join(out)


def validations(ws) -> dict[str, object]:
    return {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}


def column_range(key: str, last: int = LAST) -> str:
    return f"{letter(key)}{FIRST}:{letter(key)}{last}"


# --- the committed files are what the code builds ---------------------------------------------

def test_committed_template_is_fresh(built):
    committed = COMMITTED / T.TEMPLATE_FILE
    assert committed.exists(), f"{committed} is missing; run: {REGENERATE}"
    expected, actual = parts(committed), parts(built[T.TEMPLATE_FILE])
    assert list(expected) == list(actual) and expected == actual, (
        f"templates/{T.TEMPLATE_FILE} is stale; run: {REGENERATE}\n{part_diff(expected, actual)}")


def test_committed_config_is_a_byte_copy_of_the_defaults(built):
    shipped = (REPO / "xl_automation" / "model" / "data" / T.CONFIG_FILE).read_bytes()
    assert built[T.CONFIG_FILE].read_bytes() == shipped
    assert (COMMITTED / T.CONFIG_FILE).read_bytes() == shipped, f"templates/{T.CONFIG_FILE} is stale; run: {REGENERATE}"


def test_build_is_byte_identical_and_has_no_clock_timestamps(tmp_path, config, built):
    again = T.build_ledger(tmp_path / "again.xlsx", config=config, created=T.TEMPLATE_CREATED)
    assert again.read_bytes() == built[T.TEMPLATE_FILE].read_bytes()
    core = parts(again)["docProps/core.xml"].decode()
    assert re.findall(r"<dcterms:\w+ [^>]*>([^<]+)<", core) == ["2026-11-01T00:00:00Z"] * 2
    with zipfile.ZipFile(again) as z:
        assert {info.date_time for info in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


# --- ledger sheet ---------------------------------------------------------------------------

def test_sheets_order_visibility_and_title(book):
    assert book.sheetnames == [labels.LEDGER_SHEET, labels.FORM_SHEET, labels.INFO_SHEET, labels.LOOKUP_SHEET]
    assert book.active.title == labels.LEDGER_SHEET
    assert book[labels.LOOKUP_SHEET].sheet_state == "hidden"
    ws = book[labels.LEDGER_SHEET]
    assert ws["A1"].value == labels.LEDGER_TITLE and ws["A1"].font.b
    assert f"A1:{column_letter(len(schema.COLUMNS))}1" in {str(r) for r in ws.merged_cells.ranges}


def test_header_row_is_the_schema(book):
    ws = book[labels.LEDGER_SHEET]
    row = [c.value for c in ws[T.HEADER_ROW]]
    assert tuple(row) == schema.HEADERS
    assert all(c.value is None for c in ws[FIRST])


def test_program_columns_are_grey_with_a_note(book):
    ws = book[labels.LEDGER_SHEET]
    for col in schema.COLUMNS:
        cell = ws[f"{letter(col.key)}{T.HEADER_ROW}"]
        assert cell.font.b and cell.alignment.wrap_text and cell.border.bottom.style == "thin"
        if col.program_written:
            assert cell.fill.fgColor.rgb == "FFD9D9D9"
            assert cell.comment is not None and cell.comment.text == T.PROGRAM_COLUMN_NOTE
        else:
            assert cell.fill.fgColor.rgb != "FFD9D9D9" and cell.comment is None


def test_every_enum_column_has_exactly_the_schema_list(book):
    dvs = validations(book[labels.LEDGER_SHEET])
    enums = [c for c in schema.INPUT_COLUMNS if c.kind == "enum"]
    assert enums, "the schema should have enum columns"
    for col in enums:
        dv = dvs[column_range(col.key)]
        assert dv.type == "list" and dv.errorStyle in (None, "stop")
        assert dv.formula1 == '"' + ",".join(col.enum) + '"'
        assert len(dv.formula1) < 255


def test_ticks_dates_and_enterprises(book, config):
    dvs = validations(book[labels.LEDGER_SHEET])
    for col in schema.SERVICE_COLUMNS:
        dv = dvs[column_range(col.key)]
        assert (dv.type, dv.formula1, dv.errorStyle) == ("list", f'"{labels.TICK}"', "warning")
    for key in schema.DATETIME_KEYS:
        dv = dvs[column_range(key)]
        assert dv.type == "date" and dv.operator in (None, "between") and dv.error
        assert (float(dv.formula1), int(float(dv.formula2))) == (36526, 73050)   # 2000-01-01, 2099-12-31
    dv = dvs[column_range("enterprise")]
    assert (dv.type, dv.formula1, dv.errorStyle) == ("list", T.ENTERPRISE_LIST, "information")
    assert lookup_values(book, T.ENTERPRISE_LIST) == config.enterprise_names()


def lookup_values(book, name: str) -> list[str]:
    sheet, ref = book.defined_names[name].attr_text.rsplit("!", 1)
    ws = book[sheet.strip("'")]
    return [c.value for (c,) in ws[ref.replace("$", "")]]


def test_every_column_has_its_input_message(book):
    dvs = validations(book[labels.LEDGER_SHEET])
    for col in schema.COLUMNS:
        dv = dvs[column_range(col.key)]
        assert dv.promptTitle == col.header and dv.prompt == (col.input_message or col.header)
        assert dv.showInputMessage


def test_a_busy_halls_month_keeps_drop_downs_hints_and_colouring():
    """A hall taking ~300 requests a day fills ~9,000 rows in a month: every one of them must keep the
    drop-downs, input hints and live overdue colouring a clerk without Python relies on (2,000 rows did not)."""
    assert LAST - FIRST + 1 >= 300 * 31


def test_overdue_rules_use_receipt_and_reply_columns(book, config):
    ws = book[labels.LEDGER_SHEET]
    (cf,) = list(ws.conditional_formatting)
    assert str(cf.sqref) == f"A{FIRST}:{column_letter(len(schema.COLUMNS))}{LAST}"
    rules = sorted(cf.rules, key=lambda r: r.priority)
    formulas = [r.formula[0] for r in rules]
    assert formulas == list(T.overdue_formulas(config.policy).values())
    rec, rep = f"${letter('received_at')}{FIRST}", f"${letter('replied_at')}{FIRST}"
    assert (rec, rep) == ("$B4", "$S4")
    for f in formulas:
        assert rec in f and rep in f and f"*1440,2)>{config.policy['sla_minutes']}" in f.replace("<=", ">")
    assert "NOW()" in formulas[0] and "NOW()" not in formulas[1]
    assert f">{config.policy['warn_minutes']}," in formulas[2]
    assert all(r.stopIfTrue for r in rules)
    fills = [r.dxf.fill.bgColor.rgb[-6:] for r in rules]
    assert fills == [T.FILLS[s][0][1:] for s in (sla.OVERDUE_OPEN, sla.LATE, sla.NEAR)]


def test_policy_numbers_flow_into_the_rules(tmp_path):
    data = default_data()
    data["policy"].update(sla_minutes=60, warn_minutes=45)
    path = T.build_ledger(tmp_path / "l.xlsx", config=Config(data))
    (cf,) = list(openpyxl.load_workbook(path)[labels.LEDGER_SHEET].conditional_formatting)
    text = " ".join(r.formula[0] for r in cf.rules)
    assert ">60" in text and ">45" in text and ">120" not in text


def column_dimension(ws, key: str):
    """openpyxl keys a <col min max> group by its first letter only."""
    index = schema.COLUMNS.index(schema.BY_KEY[key]) + 1
    return next(d for d in ws.column_dimensions.values() if d.min <= index <= d.max)


def test_fonts_formats_panes_filter_and_print(book, built):
    files = parts(built[T.TEMPLATE_FILE])
    # XlsxWriter always lists a Tahoma comment font (colour indexed 81); the comment itself sets its own
    fonts = [re.search(r'<name val="([^"]+)"', f).group(1)
             for f in re.findall(r"<font>.*?</font>", files["xl/styles.xml"].decode().split("</fonts>")[0])
             if 'indexed="81"' not in f]
    assert len(fonts) > 3 and set(fonts) == {T.FONT_NAME}
    comment_fonts = set(re.findall(r'<rFont val="([^"]+)"', files["xl/comments1.xml"].decode()))
    assert comment_fonts == {T.FONT_NAME}
    assert T.FONT_NAME in ("宋体", "等线")
    ws = book[labels.LEDGER_SHEET]
    assert ws["A3"].font.name == T.FONT_NAME
    for key in schema.DATETIME_KEYS:
        assert column_dimension(ws, key).number_format == T.DATETIME_FORMAT
    for col in schema.COLUMNS:
        assert column_dimension(ws, col.key).width == pytest.approx(col.width, abs=1)
    assert ws.freeze_panes == f"{column_letter(T.FROZEN_COLUMNS + 1)}{FIRST}"
    assert ws.auto_filter.ref == f"A{T.HEADER_ROW}:{column_letter(len(schema.COLUMNS))}{LAST}"
    setup = ws.page_setup
    assert (setup.orientation, str(setup.paperSize)) == ("landscape", "9")
    assert ws.sheet_properties.pageSetUpPr.fitToPage and (setup.fitToWidth, setup.fitToHeight) == (2, 0)
    assert ws.print_title_cols == "$A:$B"
    assert ws.print_title_rows == "$1:$3"
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    assert not ws.print_options.gridLines


# --- contact form and info sheet -------------------------------------------------------------

def test_contact_form_cells_are_named_and_validated(book):
    ws = book[labels.FORM_SHEET]
    assert ws["A1"].value == labels.FORM_TITLE
    assert set(FORM_CELLS) == {c.key for c in schema.SERVICE_COLUMNS} | {
        "received_at", "applicant", "phone", "install_type", "address", "enterprise", "remarks"}
    dvs = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    for key, cell in FORM_CELLS.items():
        sheet, ref = book.defined_names[FORM_NAMES[key]].attr_text.split("!")
        assert (sheet.strip("'"), ref.replace("$", "")) == (labels.FORM_SHEET, cell)
        assert dvs[cell].promptTitle == schema.BY_KEY[key].header
    for col in schema.SERVICE_COLUMNS:
        cell = FORM_CELLS[col.key]
        assert dvs[cell].formula1 == f'"{labels.TICK}"'
        left = ws.cell(ws[cell].row, ws[cell].column - 1).value
        assert left == col.header                               # the tick box sits right of its label
    assert dvs[FORM_CELLS["install_type"]].formula1 == '"' + ",".join(schema.BY_KEY["install_type"].enum) + '"'
    address_label = ws.cell(ws[FORM_CELLS["address"]].row, 1).value
    assert "**区**镇**路交叉口，或门牌号" in address_label
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert all(any(m.startswith(FORM_CELLS[k] + ":") for m in merged) for k in ("applicant", "remarks"))
    assert ws.page_setup.orientation == "portrait" and str(ws.page_setup.paperSize) == "9"
    assert ws.print_area.split("!")[1].replace("$", "") == PRINT_AREA


def info_pairs(ws) -> dict[str, str]:
    return {a: b for a, b in ws.iter_rows(min_col=1, max_col=2, values_only=True) if a in labels.INFO_KEYS}


def test_blank_template_info_sheet(book, config):
    ws = book[labels.INFO_SHEET]
    assert [a for (a,) in ws.iter_rows(min_col=1, max_col=1, values_only=True) if a] == list(labels.INFO_KEYS)
    notes = " ".join(v for (v,) in ws.iter_rows(min_col=4, max_col=4, values_only=True) if v)
    assert notes == " ".join(T.usage_notes(config.policy)) and "2 小时" in notes and "90 分钟" in notes
    pairs = info_pairs(ws)
    assert list(pairs) == list(labels.INFO_KEYS)
    assert pairs[labels.INFO_TEMPLATE_VERSION] == TEMPLATE_VERSION
    assert all(not pairs[k] for k in labels.INFO_KEYS if k != labels.INFO_TEMPLATE_VERSION)


def test_window_ledger_info_and_meta_line(tmp_path, config):
    window, period = config.window("ZLS02"), Period(2026, 11)
    path = T.build_ledger(tmp_path / "w.xlsx", config=config, window=window, period=period)
    wb = openpyxl.load_workbook(path, data_only=True)
    pairs = info_pairs(wb[labels.INFO_SHEET])
    assert pairs == {labels.INFO_WINDOW_CODE: "ZLS02", labels.INFO_WINDOW_NAME: window.name,
                     labels.INFO_COMPANY: window.company_name, labels.INFO_PERIOD: "2026-11",
                     labels.INFO_PERIOD_RANGE: period.describe(), labels.INFO_TEMPLATE_VERSION: TEMPLATE_VERSION}
    meta = wb[labels.LEDGER_SHEET]["A2"].value
    assert "ZLS02" in meta and window.name in meta and period.describe() in meta and TEMPLATE_VERSION in meta
    formula = openpyxl.load_workbook(path)[labels.LEDGER_SHEET]["A2"].value
    assert formula.startswith("=") and f"'{labels.INFO_SHEET}'!$B$1" in formula


# --- LibreOffice: the workbook works without Python ------------------------------------------

def soffice_convert(src: Path, out_dir: Path, profile: Path) -> Path:
    exe = shutil.which("soffice")
    # a fresh profile per run: a shared one is locked by any other running LibreOffice
    subprocess.run([exe, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(out_dir), str(src)],
                   check=True, capture_output=True, timeout=180)
    out = out_dir / (src.stem + ".xlsx")
    assert out.exists(), f"LibreOffice did not write {out}"
    return out


needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")


@pytest.mark.libreoffice
@needs_soffice
def test_libreoffice_keeps_dropdowns_and_colours(tmp_path, built, config):
    converted = soffice_convert(built[T.TEMPLATE_FILE], tmp_path / "out", tmp_path / "profile")
    wb = openpyxl.load_workbook(converted)
    ws = wb[labels.LEDGER_SHEET]
    assert tuple(c.value for c in ws[T.HEADER_ROW]) == schema.HEADERS
    by_col = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            by_col[rng.min_col] = (dv, rng)
    for col in schema.INPUT_COLUMNS:
        if col.kind not in ("enum", "tick") and col.key != "enterprise":
            continue
        dv, rng = by_col[schema.COLUMNS.index(col) + 1]
        # LibreOffice's xlsx export clips validations to about 1,000 rows past the last used row
        assert rng.min_row == FIRST and rng.max_row >= FIRST + 999
        expected = '"' + ",".join(col.enum or (labels.TICK,)) + '"' if col.key != "enterprise" else None
        if expected:
            assert dv.type == "list" and dv.formula1 == expected
        else:
            assert dv.type == "list" and dv.errorStyle == "information"
            assert lookup_values(wb, dv.formula1) == config.enterprise_names()
    (cf,) = list(ws.conditional_formatting)
    assert str(cf.sqref) == f"A{FIRST}:{column_letter(len(schema.COLUMNS))}{LAST}"
    assert [r.formula[0] for r in sorted(cf.rules, key=lambda r: r.priority)] == list(
        T.overdue_formulas(config.policy).values())


@pytest.mark.libreoffice
@needs_soffice
def test_overdue_formulas_agree_with_the_clock_when_recalculated(tmp_path, config):
    """LibreOffice evaluates the colouring formulas on known times; each row must match sla.Clock."""
    policy = config.policy
    now = datetime.now().replace(microsecond=0)
    base = datetime(2026, 11, 3, 9, 5)
    replied = [0, 60, 119.5, 120, 120 + 1 / 60, 121, 600]           # minutes after receipt
    cases = [(base + timedelta(hours=7 * i), base + timedelta(hours=7 * i, minutes=m)) for i, m in enumerate(replied)]
    cases += [(datetime(2026, 11, 3, 23, 59), datetime(2026, 11, 4, 1, 59))]  # 120 min across midnight
    open_minutes = [5, 85, 95, 118, 123, 300, 3000]                 # >= 2 min from a boundary: conversion lag
    cases += [(now - timedelta(minutes=m), None) for m in open_minutes]
    cases += [(None, base), ("不是时间", None)]

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "=NOW()"
    first_out = len(schema.COLUMNS) + 2
    for i, (received, reply) in enumerate(cases):
        row = FIRST + i
        ws[f"{letter('received_at')}{row}"] = received
        ws[f"{letter('replied_at')}{row}"] = reply
        for j, formula in enumerate(T.overdue_formulas(policy, row).values()):
            ws.cell(row, first_out + j, "=" + formula)    # openpyxl stores no cached value: LO must compute
    scratch = tmp_path / "scratch.xlsx"
    wb.save(scratch)

    result = openpyxl.load_workbook(soffice_convert(scratch, tmp_path / "out", tmp_path / "profile"), data_only=True).active
    lo_now = result["A1"].value
    assert isinstance(lo_now, datetime) and abs((lo_now - now).total_seconds()) < 90
    clock = sla.Clock(policy, lo_now)
    statuses = list(T.overdue_formulas(policy))
    seen = set()
    for i, (received, reply) in enumerate(cases):
        row = FIRST + i
        flags = [result.cell(row, first_out + j).value for j in range(len(statuses))]
        assert all(isinstance(f, bool) for f in flags), f"row {row} not recalculated: {flags}"
        coloured = {s for s, f in zip(statuses, flags) if f}
        status = clock.row(received, reply).status
        expected = {status} & set(statuses)
        assert coloured == expected, f"row {row}: received {received}, replied {reply}: {coloured} != {expected}"
        seen |= coloured
    assert seen == set(statuses)                                  # every colour was exercised
    # the boundary, explicitly: exactly 120 minutes is on time, 120 min 1 s is late
    row_120, row_121s = FIRST + replied.index(120), FIRST + replied.index(120 + 1 / 60)
    assert result.cell(row_120, first_out + 1).value is False
    assert result.cell(row_121s, first_out + 1).value is True
