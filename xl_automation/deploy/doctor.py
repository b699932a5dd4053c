"""环境检查: why a button does nothing, one line per cause, each with its fix.

Every check asks the machine through winenv.Machine, so the tests run each failure cause against a fake.
A check is ok (✓), failed (✗, with the fix) or does not apply here (–, e.g. Excel checks on Linux).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from xl_automation.excel.build_vba import XLWINGS_VERSION
from xl_automation.model import config as cfg
from xl_automation.deploy.winenv import Machine
from xl_automation.deploy.xlwings_conf import DEFAULT_INTERPRETER, interpreter_for, user_conf

SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13")
WORKBOOK_SUFFIXES = (".xlsm", ".xlam", ".xlsx")
INTERNET_ZONE = 3
DLL = "xlwings{bits}-{version}.dll"


@dataclass
class Check:
    name: str
    ok: bool | None            # None: does not apply on this machine
    detail: str
    fix: str = ""

    def line(self, marks: tuple[str, str, str] = ("✓", "✗", "–")) -> str:
        mark = marks[0] if self.ok else (marks[2] if self.ok is None else marks[1])
        return f"{mark} {self.name}：{self.detail}" + (f"。处理：{self.fix}" if self.fix and self.ok is False else "")

    def as_dict(self) -> dict:
        return {"name": self.name, "ok": self.ok, "detail": self.detail, "fix": self.fix}


def workbooks_in(targets: list[Path]) -> list[Path]:
    """The workbooks named, or those directly inside the folders named (those that exist)."""
    out = []
    for t in targets:
        if t.is_dir():
            out += sorted(p for p in t.iterdir() if p.suffix.lower() in WORKBOOK_SUFFIXES and not p.name.startswith("~$"))
        elif t.suffix.lower() in WORKBOOK_SUFFIXES and t.exists():
            out.append(t)
    return out


def check_targets(targets: list[Path]) -> list[Check]:
    """A ✗ line for each path named that does not exist or is not a workbook: a mistyped name must not make
    every workbook check pass over nothing."""
    out = []
    for t in targets:
        if not t.exists():
            out.append(Check("工作簿", False, f"{t} 不存在", "检查路径和文件名（可把工作簿或所在文件夹拖到 检查环境.cmd 上）"))
        elif not t.is_dir() and t.suffix.lower() not in WORKBOOK_SUFFIXES:
            out.append(Check("工作簿", False, f"{t} 不是工作簿（{'、'.join(sorted(WORKBOOK_SUFFIXES))}）",
                             "指定带按钮的工作簿（.xlsm/.xlam）或它们所在的文件夹"))
    return out


def _not_windows(name: str) -> Check:
    return Check(name, None, "只在装有 Excel 的 Windows 电脑上检查")


def check_python(m: Machine) -> Check:
    name = "Python"
    version = ".".join(map(str, m.python_version))
    office = m.office() if m.is_windows else None
    where = f"{version}，{m.python_bits} 位（{m.python_executable}）"
    if version not in SUPPORTED_PYTHONS:
        return Check(name, False, f"{where}，不是支持的版本", f"安装 64 位 Python {'、'.join(SUPPORTED_PYTHONS)} 之一，再运行 安装.cmd")
    if m.python_bits != 64:
        return Check(name, False, f"{where}，安装包只有 64 位的程序", "卸载 32 位 Python，安装 64 位 Python 后再运行 安装.cmd")
    if office is None:
        return Check(name, True, where + ("；未找到 Microsoft Excel" if m.is_windows else ""))
    note = "" if office.bits == 64 else "（32 位 Office 也可以：按钮另起一个 Python 进程）"
    return Check(name, True, f"{where}；Office {office.version} {office.bits} 位{note}")


def check_xlwings(m: Machine) -> Check:
    name = "xlwings"
    version = m.xlwings_version()
    if version is None:
        if not m.is_windows:
            return Check(name, None, "未安装（只有 Excel 按钮需要它，命令行不需要）")
        return Check(name, False, "未安装", "运行离线安装包中的 安装.cmd（它安装 xl-automation[excel]）")
    if version != XLWINGS_VERSION:
        return Check(name, False, f"已安装 {version}，工作簿是按 {XLWINGS_VERSION} 构建的",
                     f"重新运行 安装.cmd，或 pip install xlwings=={XLWINGS_VERSION}；不要单独升级 xlwings")
    return Check(name, True, f"{version}，与工作簿一致")


def _interpreter(m: Machine, folder: Path) -> tuple[str, str]:
    return interpreter_for(folder, m.userprofile, m.ansi_encoding)


def check_interpreter(m: Machine, folder: Path) -> Check:
    name = "按钮使用的 Python"
    if not m.is_windows:
        return _not_windows(name)
    interpreter, source = _interpreter(m, folder)
    if not m.exists(interpreter):
        fix = (f"运行 安装.cmd，或在 {user_conf(m.userprofile)} 写一行 \"INTERPRETER_WIN\",\"python.exe 的完整路径\""
               if interpreter != DEFAULT_INTERPRETER else "运行 安装.cmd：它写入 xlwings 设置，让按钮使用装好程序的 Python")
        return Check(name, False, f"{interpreter}（设置来自 {source}）不存在", fix)
    problem = m.imports_ok(interpreter)
    if problem:
        return Check(name, False, f"{interpreter} 不能导入本程序或 xlwings（{problem}）",
                     "运行 安装.cmd 重新安装；若杀毒软件隔离了文件，请把程序环境加入信任列表")
    return Check(name, True, f"{interpreter}（设置来自 {source}）")


def check_dll(m: Machine, folder: Path) -> Check:
    """xlwings.bas loads the DLL beside the interpreter, or one folder up (a venv's Scripts\\..)."""
    name = "xlwings DLL"
    if not m.is_windows:
        return _not_windows(name)
    office = m.office()
    bits = office.bits if office else 64
    dll = DLL.format(bits=bits, version=XLWINGS_VERSION)
    interpreter, _ = _interpreter(m, folder)
    if interpreter == DEFAULT_INTERPRETER:
        interpreter = m.python_executable
    here = PureWindowsPath(interpreter).parent
    places = [here / dll, here.parent / dll]
    for place in places:
        if m.exists(str(place)):
            return Check(name, True, str(place))
    return Check(name, False, f"{dll} 不在 {places[0].parent} 或 {places[1].parent}",
                 "杀毒软件可能删除了它：把程序环境文件夹加入杀毒软件的信任列表，再运行 安装.cmd 重新安装")


def _inside(path: Path, location) -> bool:
    folder = PureWindowsPath(str(path).casefold()).parent      # Windows paths: case does not matter
    base = PureWindowsPath(location.path.rstrip("\\/").casefold())
    return folder == base or (location.subfolders and base in folder.parents)


def _not_applicable(m: Machine, name: str, books: list[Path]) -> Check | None:
    """The answer of a workbook check that cannot be made here (not Windows, no workbook named)."""
    if not m.is_windows:
        return _not_windows(name)
    if not books:
        return Check(name, None, "没有指定工作簿或工作簿文件夹")
    return None


def check_mark_of_the_web(m: Machine, books: list[Path]) -> Check:
    name = "“来自互联网”标记"
    if skip := _not_applicable(m, name, books):
        return skip
    marked = [b for b in books if (m.zone_id(b) or 0) >= INTERNET_ZONE]
    trusted = m.trusted_locations()
    blocked = [b for b in marked if not any(_inside(b, t) for t in trusted)]
    if blocked:
        names = "、".join(b.name for b in blocked)
        return Check(name, False, f"{names} 带有来自互联网的标记，Excel 会禁用其中的宏（按钮没有反应）",
                     f"文件上点右键 → 属性 → 勾选“解除锁定”；或在 PowerShell 运行 "
                     f"Get-ChildItem \"{blocked[0].parent}\" | Unblock-File；或放进受信任位置")
    if marked:
        return Check(name, True, f"{len(marked)} 个工作簿带有标记，但位于受信任位置，宏可以运行")
    return Check(name, True, f"{len(books)} 个工作簿都没有标记")


def check_trusted(m: Machine, books: list[Path]) -> Check:
    name = "受信任位置"
    if skip := _not_applicable(m, name, books):
        return skip
    trusted = m.trusted_locations()
    outside = sorted({b.parent for b in books if not any(_inside(b, t) for t in trusted)})
    if outside:
        return Check(name, False, f"{'、'.join(map(str, outside))} 不是 Excel 的受信任位置",
                     "Excel：文件 → 选项 → 信任中心 → 信任中心设置 → 受信任位置 → 添加新位置，选该文件夹，"
                     "勾选“同时信任此位置的子文件夹”（批量部署见 docs/安装说明.md 第 4 节）")
    return Check(name, True, f"{'、'.join(sorted({str(b.parent) for b in books}))} 在受信任位置中")


def check_run_python(m: Machine, books: list[Path], from_button: bool) -> Check:
    name = "按钮调用 Python"
    if from_button:
        return Check(name, True, "本次检查就是由按钮启动的，往返正常")
    if not m.is_windows:
        return _not_windows(name)
    macro_books = [b for b in books if b.suffix.lower() == ".xlsm"]
    if not macro_books:
        return Check(name, None, "没有可用于测试的 .xlsm 工作簿")
    problem = m.run_python(macro_books[0])
    if problem:
        return Check(name, False, f"用 {macro_books[0].name} 测试 RunPython 失败：{problem}",
                     "先处理上面未通过的项目；若都正常，多半是杀毒软件的“阻止 Office 应用程序创建子进程”规则"
                     "拦截了 Excel 启动 Python：请信息技术人员为 Excel 放行该规则")
    return Check(name, True, f"{macro_books[0].name} 的 RunPython 启动了 Python 并收到回应")


def check_libreoffice(m: Machine) -> Check:
    name = "LibreOffice（导出 PDF）"
    exe = m.soffice()
    if not exe:
        return Check(name, False, "未找到，汇总时不能导出 PDF（报表 .xlsx 照常生成）",
                     "安装 LibreOffice（libreoffice.org），装在默认位置即可")
    return Check(name, True, exe)


def check_cjk_font(m: Machine) -> Check:
    name = "中文字体（PDF）"
    fonts = m.cjk_fonts()
    if not fonts:
        return Check(name, False, "未找到中文字体，PDF 中的汉字会显示为方框",
                     "Windows：确认 C:\\Windows\\Fonts 中有宋体或微软雅黑；Linux：安装 fonts-wqy-zenhei 或 fonts-noto-cjk")
    return Check(name, True, "、".join(fonts[:3]))


def check_config(path: str | None = None) -> Check:
    """The configuration every button and command loads (--config, else XL_AUTOMATION_CONFIG, else the defaults):
    a file they would refuse fails here too, so 环境检查 never says 全部通过 while the buttons stop."""
    name = "配置文件"
    try:
        return Check(name, True, cfg.load(path).source)
    except cfg.ConfigError as exc:
        return Check(name, False, str(exc), f"改正该文件，或删除环境变量 {cfg.ENV_VAR} 改用默认配置")


def run_checks(m: Machine, targets: list[Path], *, from_button: bool = False, config: str | None = None) -> list[Check]:
    books = workbooks_in(targets)
    folder = books[0].parent if books else (targets[0] if targets else Path.cwd())
    # the button names the workbook it runs in (its FullName may be a OneDrive address): only typed paths
    named = [] if from_button else check_targets(targets)
    return [*named, check_python(m), check_xlwings(m), check_dll(m, folder), check_interpreter(m, folder),
            check_mark_of_the_web(m, books), check_trusted(m, books), check_run_python(m, books, from_button),
            check_config(config), check_libreoffice(m), check_cjk_font(m)]


def marks_for(encoding: str | None) -> tuple[str, str, str]:
    """✓ ✗ – where the output can carry them; √ × - (in GBK) on a Chinese Windows console or file."""
    try:
        "✓✗–".encode(encoding or "ascii")
        return ("✓", "✗", "–")
    except (UnicodeEncodeError, LookupError):
        return ("√", "×", "-")
