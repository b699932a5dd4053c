"""The build: templates/ and workbook/ (macro-enabled ledger, group workbook, ribbon add-in, .cmd wrappers).

Everything is generated from the schema, the shipped configuration and macros/*.bas, with fixed dates
and a fixed zip order, so a rebuild gives the same bytes and a test can prove the committed files fresh.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import xlsxwriter

from xl_automation import TEMPLATE_VERSION, __version__

from xl_automation.deploy import batch

from xl_automation.model import labels
from xl_automation.excel.build_vba import add_vba, xlwings_bas
from xl_automation.model.config import Config
from xl_automation.excel.group_workbook import build_group_workbook
from xl_automation.xlsx.template import FONT, TEMPLATE_CREATED, build_ledger, build_templates, default_config

REPO = Path(__file__).resolve().parents[2]
LEDGER_BOOK = "综合受理台账.xlsm"
GROUP_BOOK = "集团汇总.xlsm"
ADDIN = "综合受理.xlam"
RIBBON = "customUI14.xml"
# macro names are the Subs in macros/*.bas; captions are what users click
LEDGER_BUTTONS = [("ValidateLedger", "校验"), ("FlagOverdue", "标记超时"),
                  ("RegisterContactForm", "登记联系单"), ("SubmitLedger", "提交")]
FORM_BUTTONS = [("RegisterContactForm", "登记联系单")]
GROUP_BUTTONS = [("ConsolidateSubmissions", "汇总"), ("CheckEnvironment", "环境检查")]
MODULES = {LEDGER_BOOK: ("LedgerMarks", "LedgerButtons"), GROUP_BOOK: ("GroupButtons",),
           ADDIN: ("LedgerMarks", "RibbonCallbacks")}
SUBMIT_SETTING = {labels.INFO_SUBMIT_DIR: (
    "", "集团营销服务中心收取报送文件的文件夹，如 \\\\服务器\\报送；相对路径从本台账所在的文件夹算起")}
ADDIN_SHEET = "说明"
# drag-and-drop wrappers for WPS and for saved files: the same commands, no Excel needed
WRAPPERS = {
    "校验台账.cmd": ("校验台账并把标注写回（xl-automation validate --annotate）", "validate \"%~1\" --annotate"),
    "标记超时.cmd": ("标记超时并把时限状态写回（xl-automation flag --annotate）", "flag \"%~1\" --annotate"),
    "报送台账.cmd": ("月度报送（xl-automation submit）", "submit \"%~1\" --to \"%TO%\""),
}
WRAPPER_ENCODING = batch.BATCH_ENCODING     # see batch.py: GBK, chcp 936, CRLF


def _modules(macros: Path, names: tuple[str, ...], stand_in: list[str] | None) -> list[str]:
    first = stand_in if stand_in is not None else [xlwings_bas()]
    return first + [(macros / f"{name}.bas").read_text(encoding="ascii") for name in names]


def _addin_base(path: Path) -> Path:
    """The add-in's one sheet (never shown once installed): what it is and which version."""
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True, "default_format_properties": dict(FONT)})
    wb.set_properties({"title": "综合受理加载项", "created": TEMPLATE_CREATED})
    ws = wb.add_worksheet(ADDIN_SHEET)
    ws.set_column(0, 0, 90)
    lines = ["综合受理加载项", f"程序版本 {__version__}，{labels.INFO_TEMPLATE_VERSION} {TEMPLATE_VERSION}",
             "安装后，Excel 功能区出现“综合受理”选项卡：校验、标记超时、登记联系单、提交（作用于当前工作簿），",
             "以及集团汇总工作簿使用的“汇总”。按钮调用本机安装的 Python 程序 xl_automation（见 docs/）。"]
    for r, line in enumerate(lines):
        ws.write_string(r, 0, line)
    wb.close()
    return path


def wrapper_text(title: str, arguments: str) -> str:
    """A .cmd file: drop one or more workbooks on it; it runs the command on each and waits for a key."""
    ask = ""
    if "%TO%" in arguments:
        ask = ('set "TO=%XL_AUTOMATION_SUBMIT_DIR%"\n'
               'if "%TO%"=="" set /p "TO=请输入报送目录（集团营销服务中心收取报送文件的文件夹）："\n')
    return (
        "@echo off\n"
        f"{batch.CODE_PAGE}"
        f"rem {title}。把台账文件拖到本文件的图标上即可，可一次拖多个。\n"
        "rem 需要本机安装 Python 和 xl-automation（见 docs/安装说明.md），不需要 Excel，WPS 用户也可使用。\n"
        "setlocal\n"
        "if \"%~1\"==\"\" (\n"
        "  echo 用法：把台账文件（.xlsx 或 .xlsm）拖到本文件的图标上。请先在 Excel/WPS 中保存并关闭该文件。\n"
        "  pause\n"
        f"  {batch.RESTORE_CODE_PAGE}"
        "  exit /b 2\n"
        ")\n"
        f"{batch.FIND_PYTHON}"
        f"{ask}"
        ":next\n"
        "if \"%~1\"==\"\" goto done\n"
        "echo.\n"
        "echo ==== \"%~nx1\"\n"
        f"%PY% -m xl_automation {arguments}\n"
        "shift\n"
        "goto next\n"
        ":done\n"
        "echo.\n"
        "pause\n"
        f"{batch.RESTORE_CODE_PAGE}"
    )


def build(root: str | Path, *, macros: str | Path | None = None, config: Config | None = None,
          stand_in: list[str] | None = None) -> list[Path]:
    """Write root/templates and root/workbook from the sources; returns the files written.

    stand_in: modules embedded instead of xlwings.bas (the tests' RunPython double for LibreOffice).
    """
    root = Path(root)
    macros = Path(macros) if macros else (root / "macros" if (root / "macros").is_dir() else REPO / "macros")
    conf = config or default_config()
    written = build_templates(root / "templates", config=conf)
    out = root / "workbook"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xl_build_") as tmp:
        base = build_ledger(Path(tmp, "ledger.xlsm"), config=conf, created=TEMPLATE_CREATED,
                            buttons={labels.LEDGER_SHEET: LEDGER_BUTTONS, labels.FORM_SHEET: FORM_BUTTONS},
                            settings=SUBMIT_SETTING)
        written.append(add_vba(base, out / LEDGER_BOOK, _modules(macros, MODULES[LEDGER_BOOK], stand_in), when=TEMPLATE_CREATED))
        base = build_group_workbook(Path(tmp, "group.xlsm"), buttons=GROUP_BUTTONS, created=TEMPLATE_CREATED)
        written.append(add_vba(base, out / GROUP_BOOK, _modules(macros, MODULES[GROUP_BOOK], stand_in), when=TEMPLATE_CREATED))
        base = _addin_base(Path(tmp, "addin.xlsm"))
        written.append(add_vba(base, out / ADDIN, _modules(macros, MODULES[ADDIN], stand_in),
                               ribbon=(macros / RIBBON).read_bytes(), when=TEMPLATE_CREATED))
    for name, (title, arguments) in WRAPPERS.items():
        path = out / name
        path.write_bytes(batch.batch_bytes(wrapper_text(title, arguments)))
        written.append(path)
    return written


if __name__ == "__main__":
    for done in build(sys.argv[1] if len(sys.argv) > 1 else "."):
        print(done)
