"""The VBA in the built workbooks: read back with oletools, cross-checked against buttons and ribbon,
and run in LibreOffice with xlwings.bas replaced by a RunPython test double."""
from __future__ import annotations

import ast
import importlib
import inspect
import re
import shutil
import xml.etree.ElementTree as ET
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from support.paths import VBA
from oletools.olevba import VBA_Parser

from support.libreoffice import Session, needs_soffice
from xl_automation.excel import build as B
from xl_automation.model import labels
from xl_automation.excel import live_marks, live_plan
from xl_automation.model import schema
from xl_automation.xlsx.annotation_text import parse_ref
from xl_automation.excel.build_vba import RIBBON_PART, RIBBON_REL, module_name, xlwings_bas
from xl_automation.xlsx.ledger_check import check_file
from xl_automation.model.ledger import column_letter
from xl_automation.xlsx.reader import info_from_lines, ledger_from_grid
from xl_automation.xlsx.template import default_config
from xl_automation.rules.validate import check_ledger

from support.paths import ROOT as REPO
MACROS = REPO / "macros"
STAND_INS = [(VBA / name).read_text(encoding="ascii")
             for name in ("RunPythonStub.bas", "MarksProbe.bas")]
NOW = datetime(2026, 11, 20, 12, 0)
CUSTOMUI = "{http://schemas.microsoft.com/office/2009/07/customui}"
# what each button must hand to Python, by caption (ledger and group workbook) or ribbon label
COMMANDS = {
    "校验": "import xl_automation.excel as x; x.validate()",
    "标记超时": "import xl_automation.excel as x; x.flag_overdue()",
    "登记联系单": "import xl_automation.excel as x; x.register_from_form()",
    "提交": "import xl_automation.excel as x; x.submit()",
    "汇总": "import xl_automation.excel as x; x.consolidate()",
    "环境检查": "import xl_automation.excel as x; x.doctor()",
}
RIBBON_COMMANDS = {label: command.replace("()", "(book='active')") for label, command in COMMANDS.items()}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("built")
    B.build(out, macros=MACROS)
    return out / "workbook"


@pytest.fixture(scope="module")
def for_libreoffice(tmp_path_factory) -> Path:
    """The same workbooks with the RunPython double (and probe entry points) instead of xlwings.bas."""
    out = tmp_path_factory.mktemp("lo")
    B.build(out, macros=MACROS, stand_in=STAND_INS)
    return out / "workbook"


def vba_modules(path: Path) -> dict[str, str]:
    """Module name -> source text, as oletools extracts it (independent of pyOpenVBA, which wrote it)."""
    parser = VBA_Parser(str(path))
    try:
        return {Path(name).stem: code if isinstance(code, str) else code.decode("cp1252")
                for _, _, name, code in parser.extract_macros() if name}
    finally:
        parser.close()


def norm(text: str) -> str:
    return text.replace("\r\n", "\n").rstrip("\n")


def public_subs(source: str) -> dict[str, list[str]]:
    """Sub name -> parameter declarations, for the Public (or default public) Subs of a module."""
    out = {}
    for m in re.finditer(r"^(?:Public\s+)?Sub\s+(\w+)\s*\(([^)]*)\)", source, re.M | re.I):
        out[m.group(1)] = [p.strip() for p in m.group(2).split(",") if p.strip()]
    return out


def button_macros(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return [m for name in z.namelist() if name.endswith(".vml")
                for m in re.findall(r"<x:FmlaMacro>(.*?)</x:FmlaMacro>", z.read(name).decode("utf-8"))]


# ---- the project as oletools reads it -------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(B.MODULES))
def test_every_module_is_byte_identical_to_its_source(built, name):
    found = vba_modules(built / name)
    expected = {"xlwings": xlwings_bas()} | {m: (MACROS / f"{m}.bas").read_text(encoding="ascii")
                                             for m in B.MODULES[name]}
    standard = {m: code for m, code in found.items() if not re.match(r"(ThisWorkbook|Sheet\d+)$", m)}
    assert sorted(standard) == sorted(expected)
    for module, source in expected.items():
        assert norm(standard[module]) == norm(source), f"{name}: module {module} differs from its source"


def test_macro_sources_are_ascii_and_named_on_line_one():
    for path in sorted(MACROS.glob("*.bas")):
        data = path.read_bytes()
        assert data.isascii(), f"{path.name}: VBA source must be ASCII (code page 1252)"
        assert module_name(data.decode()) == path.stem


@pytest.mark.parametrize("name", [B.LEDGER_BOOK, B.GROUP_BOOK])
def test_every_button_runs_a_public_sub_without_arguments(built, name):
    subs = {sub: params for code in vba_modules(built / name).values() for sub, params in public_subs(code).items()}
    macros = button_macros(built / name)
    expected = B.LEDGER_BUTTONS + B.FORM_BUTTONS if name == B.LEDGER_BOOK else B.GROUP_BUTTONS
    assert [m.split("!")[-1] for m in macros] == [macro for macro, _ in expected]
    for macro in macros:
        assert subs.get(macro.split("!")[-1]) == [], f"{name}: button macro {macro} is not a Sub without arguments"


def test_every_ribbon_action_names_a_callback_taking_the_control(built):
    modules = vba_modules(built / B.ADDIN)
    with zipfile.ZipFile(built / B.ADDIN) as z:
        rels = z.read("_rels/.rels").decode()
        ui = ET.fromstring(z.read(RIBBON_PART))
    assert f'Type="{RIBBON_REL}" Target="{RIBBON_PART}"' in rels
    assert ui.tag == f"{CUSTOMUI}customUI"
    tab = ui.find(f"{CUSTOMUI}ribbon/{CUSTOMUI}tabs/{CUSTOMUI}tab")
    assert tab.get("label") == "综合受理"
    actions = {b.get("label"): b.get("onAction") for b in tab.iter(f"{CUSTOMUI}button")}
    assert sorted(actions) == sorted(COMMANDS)
    ids = [e.get("id") for e in ui.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    for label, action in actions.items():
        module, _, sub = action.partition(".")
        params = public_subs(modules[module]).get(sub)
        assert params == ["control As IRibbonControl"], f"{label}: onAction {action} -> {params}"


def test_ledger_marks_tables_match_the_python_side():
    source = (MACROS / "LedgerMarks.bas").read_text()
    cases = dict((int(n), name) for n, name in re.findall(r'Case (-?\d+): PatternName = "(\w+)"', source))
    assert cases == {v: k for k, v in live_marks.PATTERNS.items() if k != "none"}
    consts = dict(re.findall(r'Private Const (\w+) As (?:Long|String) = "?([^"\s]+(?: \w+)*)"?', source))
    assert int(consts["FIRST_COL"]) == live_marks.SCRATCH_COL
    assert int(consts["SCRATCH_WIDTH"]) == live_marks.SCRATCH_WIDTH
    assert int(consts["FIRST_ROW"]) == live_marks.FIRST_ROW
    assert consts["CAPTURE_MARK"] == live_marks.CAPTURE_MARK and consts["OPS_MARK"] == live_marks.OPS_MARK
    chars = re.search(r'RecordSheetName = "_"((?: & ChrW\(&H[0-9A-F]+\))+)', source).group(1)
    assert "_" + "".join(chr(int(h, 16)) for h in re.findall(r"&H([0-9A-F]+)", chars)) == labels.ANNOTATION_SHEET


# ---- LibreOffice clicks every button --------------------------------------------------------------

def _check_command(command: str) -> None:
    """The command imports xl_automation.excel (as the workbooks' macros do) and calls one of its entry points
    (found through the package, which looks them up in excel/app.py) with arguments it takes."""
    tree = ast.parse(command)
    imp, call = tree.body
    assert isinstance(imp, ast.Import) and imp.names[0].name == "xl_automation.excel" and imp.names[0].asname == "x"
    call = call.value
    assert isinstance(call, ast.Call) and call.func.value.id == "x"
    func = getattr(importlib.import_module(imp.names[0].name), call.func.attr, None)
    assert callable(func) and func.__module__ == "xl_automation.excel.app", f"{command}: no such function"
    inspect.signature(func).bind(*[ast.literal_eval(a) for a in call.args],
                                 **{k.arg: ast.literal_eval(k.value) for k in call.keywords})


@pytest.mark.libreoffice
@needs_soffice
@pytest.mark.parametrize("name", [B.LEDGER_BOOK, B.GROUP_BOOK])
def test_libreoffice_clicks_every_button_and_sees_the_exact_command(for_libreoffice, tmp_path, name):
    path = shutil.copy(for_libreoffice / name, tmp_path / name)
    with Session(Path(path)) as lo:
        modules = lo("modules")["VBAProject"]
        clicks = lo("click_all", cell="IV1")
    assert set(B.MODULES[name]) <= set(modules)
    expected = B.LEDGER_BUTTONS + B.FORM_BUTTONS if name == B.LEDGER_BOOK else B.GROUP_BUTTONS
    assert [c["label"] for c in clicks] == [caption for _, caption in expected]
    for click in clicks:
        assert click["error"] is None, click
        assert click["sent"] == COMMANDS[click["label"]], click
        _check_command(click["sent"])


@pytest.mark.libreoffice
@needs_soffice
def test_libreoffice_presses_every_ribbon_button(for_libreoffice, tmp_path):
    # LibreOffice does not open an add-in package: the same parts, labelled a macro workbook, carry the
    # add-in's VBA project, which is what this test runs
    path = tmp_path / "addin-as-workbook.xlsm"
    with zipfile.ZipFile(for_libreoffice / B.ADDIN) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"addin.macroEnabled.main+xml", b"sheet.macroEnabled.main+xml")
            dst.writestr(item, data)
    ribbon = tmp_path / "customUI14.xml"
    ribbon.write_bytes((MACROS / B.RIBBON).read_bytes())
    with Session(Path(path)) as lo:
        presses = lo("ribbon", xml=str(ribbon), cell="IV1")
    assert sorted(p["label"] for p in presses) == sorted(RIBBON_COMMANDS)
    for press in presses:
        assert press["error"] is None, press
        assert press["sent"] == RIBBON_COMMANDS[press["label"]], press
        _check_command(press["sent"])


# ---- LedgerMarks.bas does in LibreOffice what the Python side planned ------------------------------

def _letter(key: str) -> str:
    return column_letter(schema.COLUMNS.index(schema.BY_KEY[key]) + 1)


ROWS = {4: {"request_id": "ZLS01-20261103-001", "received_at": "2026-11-03 09:05", "channel": "电话",
            "svc_water": "√", "install_type": "民用", "applicant": "张三", "phone": "13800000001",
            "district": "张店区", "address": "张店区人民西路1号", "first_responder": "李娜", "result": "办理中"},
        5: {"request_id": "ZLS01-20261103-002", "received_at": "2026-11-03 10:05", "channel": "微信",
            "svc_water": "√", "install_type": "民用", "applicant": "李四", "phone": "13800000002",
            "district": "张店区", "address": "张店区人民西路2号", "first_responder": "李娜", "result": "办理中",
            "replied_at": "2026-11-03 10:35"}}


def _round(lo, conf):
    """One button press in LibreOffice: PrepareMarks, then the Python side, then ApplyMarks."""
    lo("run", macro="VBAProject.MarksProbe.ProbePrepare")
    record = lo("read", sheet=labels.ANNOTATION_SHEET, range="A1:P80")["formula"]
    grid = lo("read", sheet=labels.LEDGER_SHEET, range="A1:AA6")["text"]
    info = lo("read", sheet=labels.INFO_SHEET, range="A1:B7")["text"]
    captured = live_marks.parse_capture(record)
    assert captured is not None, f"PrepareMarks did not run: {record[0][7:9]}"
    ledger = ledger_from_grid(grid, sheet=labels.LEDGER_SHEET, path=Path("台账.xlsm"), info=info_from_lines(info),
                              merged=captured.merged.get(labels.LEDGER_SHEET, ()))
    check = check_ledger(ledger, conf, NOW)
    plan = live_plan.plan(ledger, check.findings, check.clocks, grid=grid, record_rows=record, captured=captured)
    for col, top, body in plan.program:
        lo("block", sheet=labels.LEDGER_SHEET, row=top, column=col, rows=body)
    block = live_marks.record_sheet_block(plan, None)
    block += [[None] * len(block[0]) for _ in range(80 - len(block))]     # the sheet cleared, as Python does
    lo("block", sheet=labels.ANNOTATION_SHEET, row=1, column=1, rows=block)
    lo("run", macro="VBAProject.MarksProbe.ProbeApply")
    return check, plan


@pytest.mark.libreoffice
@needs_soffice
def test_ledger_marks_set_and_undo_what_python_planned_in_libreoffice(for_libreoffice, tmp_path):
    conf = default_config()
    path = Path(shutil.copy(for_libreoffice / B.LEDGER_BOOK, tmp_path / B.LEDGER_BOOK))
    channel, status = f"{_letter('channel')}5", f"{_letter('sla_status')}4"
    with Session(path) as lo:
        assert lo("run", macro="VBAProject.LedgerMarks.RecordSheetName")["result"] == labels.ANNOTATION_SHEET
        lo("set", sheet=labels.LEDGER_SHEET, cells={f"{_letter(k)}{r}": v for r, row in ROWS.items()
                                                    for k, v in row.items()})
        lo("set", sheet=labels.INFO_SHEET, cells={"B1": "ZLS01"})
        lo("note", sheet=labels.LEDGER_SHEET, cell=channel, text="用户的批注")
        check, plan = _round(lo, conf)
        assert {f.cell for f in check.findings} >= {channel}
        lo("store", path=str(tmp_path / "first.xlsx"))
        lo("set", sheet=labels.LEDGER_SHEET, cells={channel: "电话"})
        _round(lo, conf)
        lo("store", path=str(tmp_path / "second.xlsx"))
        scratch = lo("read", sheet=labels.ANNOTATION_SHEET, range="H1:P80")["text"]
    assert not any(v for line in scratch for v in line), "ApplyMarks leaves the scratch empty"

    first = openpyxl.load_workbook(tmp_path / "first.xlsx")
    ws = first[labels.LEDGER_SHEET]
    marks = [op for op in plan.ops if op[0] == "MARK"]
    assert marks
    for _, sheet, ref, colour, text, *_ in marks:
        cell = first[sheet][ref]
        assert (cell.fill.fill_type, cell.fill.fgColor.rgb) == ("solid", _argb(colour)), ref
        if text:
            assert cell.comment is not None and cell.comment.text == text, ref
    assert ws[channel].comment.text.startswith("用户的批注\n" + "—" * 12 + "\n【错误】")
    assert ws[status].value == "超时未回复"
    # the record: what the CLI reads to undo these marks, with the program cell's grey recorded
    record = first[labels.ANNOTATION_SHEET]
    fills = {parse_ref(row[1].value)[:3]: row[2].value for row in record.iter_rows(min_row=3)
             if row[0].value == "标注单元格"}      # Excel and LibreOffice quote sheet names differently
    key = (labels.LEDGER_SHEET, schema.COLUMNS.index(schema.BY_KEY["sla_status"]) + 1, 4)
    assert live_marks.fill_spec(fills[key])[:2] == [1, live_marks.bgr("FFF2F2F2")]

    second = openpyxl.load_workbook(tmp_path / "second.xlsx")[labels.LEDGER_SHEET]
    assert second[channel].comment.text == "用户的批注"           # the user's note is back
    assert second[channel].fill.fill_type is None                 # and the cell unfilled again
    # the CLI reads this record and undoes the marks the macro set
    cli = tmp_path / "first-cli.xlsx"
    shutil.copy(tmp_path / "first.xlsx", cli)
    wb = openpyxl.load_workbook(cli)
    wb[labels.LEDGER_SHEET][channel] = "电话"
    wb.save(cli)
    check_file(cli, conf, NOW, annotate=True)
    assert openpyxl.load_workbook(cli)[labels.LEDGER_SHEET][channel].comment.text == "用户的批注"


def _argb(bgr) -> str:
    n = int(float(bgr))
    return f"FF{n & 0xFF:02X}{(n >> 8) & 0xFF:02X}{(n >> 16) & 0xFF:02X}"


@pytest.mark.libreoffice
@needs_soffice
def test_buttons_still_work_after_the_cli_annotated_the_macro_ledger(for_libreoffice, tmp_path):
    """The WPS / .cmd path rewrites the workbook with openpyxl: the buttons must still run their macros."""
    from xl_automation.xlsx.fill import fill_ledger
    from xl_automation.rules.periods import Period
    from xl_automation.demo.sample import sample_rows
    conf = default_config()
    path = Path(shutil.copy(for_libreoffice / B.LEDGER_BOOK, tmp_path / B.LEDGER_BOOK))
    fill_ledger(path, sample_rows(conf.window("ZLS02"), Period.parse("2026-11"), conf, n=12, now=NOW))
    check, annotation = check_file(path, conf, NOW, annotate=True)
    assert not annotation.is_copy and annotation.cells_marked
    with Session(path) as lo:
        clicks = lo("click_all", cell="IV1")
    assert [(c["label"], c["sent"], c["error"]) for c in clicks] == [
        (caption, COMMANDS[caption], None) for _, caption in B.LEDGER_BUTTONS + B.FORM_BUTTONS]
