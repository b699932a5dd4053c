"""A VBA project and a ribbon into a workbook XlsxWriter wrote: pyOpenVBA, then a reproducible package.

pyOpenVBA adds a source-only project as Excel makes one (document modules for ThisWorkbook and each
sheet, code names in the XML) and rewrites only xl/vbaProject.bin. Two things are finished here: the
main part's content type (pyOpenVBA leaves XlsxWriter's .xlsx one, which Excel refuses for .xlsm and
.xlam) and the ribbon part with its package relationship. The zip is written with fileio.write_package:
fixed order and timestamp, so the same sources give the same bytes.
"""
from __future__ import annotations

import re
import tempfile
from datetime import datetime
from importlib import resources
from pathlib import Path

from xl_automation.xlsx import fileio

XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
MAIN_TYPES = {".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
              ".xlam": "application/vnd.ms-excel.addin.macroEnabled.main+xml"}
RIBBON_PART = "customUI/customUI14.xml"
RIBBON_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
XLWINGS_VERSION = "0.37.8"       # pinned in pyproject.toml; xlwings.bas loads xlwings64-<version>.dll


class BuildError(Exception):
    """The build cannot produce a workbook users could rely on."""


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def xlwings_bas() -> str:
    """xlwings.bas from the installed, pinned xlwings: the RunPython the buttons call."""
    try:
        import xlwings
    except ImportError:
        raise BuildError("没有安装 xlwings：pip install -e '.[build]'") from None
    if xlwings.__version__ != XLWINGS_VERSION:
        raise BuildError(f"已安装 xlwings {xlwings.__version__}，构建需要固定版本 {XLWINGS_VERSION}："
                         f"pip install xlwings=={XLWINGS_VERSION}")
    text = resources.files("xlwings").joinpath("xlwings.bas").read_text(encoding="ascii")
    if f"xlwings64-{XLWINGS_VERSION}.dll" not in text:
        raise BuildError(f"xlwings.bas 与 xlwings {XLWINGS_VERSION} 不符")
    return text


def module_name(source: str) -> str:
    """The VB_Name on a .bas file's first line."""
    m = re.match(r'\s*Attribute VB_Name = "(\w+)"', source)
    if not m:
        raise BuildError("VBA 模块的第一行应为 Attribute VB_Name = \"名称\"")
    return m.group(1)


def add_vba(base: Path, out: Path, modules: list[str], *, ribbon: bytes | None = None,
            when: datetime) -> Path:
    """Write `out` (.xlsm or .xlam): the workbook `base` plus a project holding `modules` (.bas sources)."""
    try:
        from pyopenvba import ExcelFile
    except ImportError:
        raise BuildError("没有安装 pyOpenVBA：pip install -e '.[build]'") from None
    suffix = out.suffix.lower()
    if suffix not in MAIN_TYPES:
        raise BuildError(f"{out.name}：只能构建 .xlsm 或 .xlam")
    for source in modules:
        if not source.isascii():
            raise BuildError(f"VBA 模块 {module_name(source)} 含有非 ASCII 字符：中文请放在单元格或用 ChrW()")
    with tempfile.TemporaryDirectory(prefix="xl_build_") as tmp:
        staged = Path(tmp, "vba.xlsm")
        with ExcelFile(base) as book:
            book.add_vba_project()
            project = book.vba_project()
            for source in modules:
                project.add_module(module_name(source), crlf(source))
            book.save(staged)
        parts = fileio.read_parts(staged)
    types = parts["[Content_Types].xml"].decode("utf-8")
    if XLSX_MAIN not in types:
        raise BuildError("工作簿主部件的内容类型不是预期的 .xlsx 类型")
    parts["[Content_Types].xml"] = types.replace(XLSX_MAIN, MAIN_TYPES[suffix]).encode("utf-8")
    if ribbon is not None:
        rels = parts["_rels/.rels"].decode("utf-8")
        rel = f'<Relationship Id="rIdRibbon" Type="{RIBBON_REL}" Target="{RIBBON_PART}"/>'
        parts["_rels/.rels"] = rels.replace("</Relationships>", rel + "</Relationships>", 1).encode("utf-8")
        parts[RIBBON_PART] = ribbon
    out.parent.mkdir(parents=True, exist_ok=True)
    fileio.write_package(out, parts, when)
    return out
