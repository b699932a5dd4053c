"""Windows batch files as text: 安装.cmd, 检查环境.cmd and the lines every .cmd shares.

Encoding decision: GBK (code page 936) without a BOM, CRLF line ends, and `chcp 936` as the first command.
cmd.exe decodes a batch file line by line in the console's code page; on Chinese Windows that is 936,
and `chcp 936` makes it so even where someone switched the console to UTF-8. UTF-8 with `chcp 65001`
was rejected: cmd of Windows 7/8 misreads multi-byte UTF-8 lines in batch files, and anything `echo`
writes to a file would be UTF-8 while Excel's VBA (`Input #`, which reads xlwings.conf) reads the ANSI
code page. The Python side is handed paths as arguments (Unicode), never through files cmd writes.
"""
from __future__ import annotations

BATCH_ENCODING = "gbk"
VENV_DIR = r"%LOCALAPPDATA%\xl-automation\venv"
HOME_DEFAULT = r"%USERPROFILE%\综合受理"
PYTHON_VAR, HOME_VAR = "XL_AUTOMATION_PYTHON", "XL_AUTOMATION_HOME"

# the console in code page 936 while the file runs, then back to what it was; before any Chinese line
CODE_PAGE = ('for /f "tokens=2 delims=:" %%c in (\'chcp\') do set "XL_OLDCP=%%c"\n'
             "chcp 936 >nul\n")
RESTORE_CODE_PAGE = "if defined XL_OLDCP chcp %XL_OLDCP% >nul\n"
# the interpreter 安装.cmd installed into (setx), else the py launcher, else python on PATH
FIND_PYTHON = ('set "PY=py -3"\n'
               "where py >nul 2>nul || set \"PY=python\"\n"
               f'if defined {PYTHON_VAR} if exist "%{PYTHON_VAR}%" set PY="%{PYTHON_VAR}%"\n')


def batch_bytes(text: str) -> bytes:
    """A .cmd file's bytes: CRLF line ends, GBK, no BOM."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode(BATCH_ENCODING)


def install_cmd(version: str, pythons: list[str]) -> str:
    """安装.cmd: a venv from the PC's Python, the bundle's wheels with --no-index, then the Excel side.

    The py launcher is asked for `-3.x-64`: a PC with both a 32- and a 64-bit 3.x gets the 64-bit one.
    """
    tried = " ".join(sorted(pythons, key=lambda v: tuple(map(int, v.split("."))), reverse=True))
    allowed = ",".join(f"({v.replace('.', ',')})" for v in pythons)
    listed = "、".join(pythons)
    return f"""@echo off
{CODE_PAGE}rem 综合受理台账工具 {version} 离线安装：双击运行，或在命令提示符中运行 安装.cmd [工作簿文件夹]
rem 不需要上网，不需要管理员权限。工作簿文件夹默认为 {HOME_DEFAULT}
setlocal EnableExtensions DisableDelayedExpansion
set "BUNDLE=%~dp0."
set "WHEELS=%~dp0wheels"
set "VENV={VENV_DIR}"
set "VPY={VENV_DIR}\\Scripts\\python.exe"
set "HOME_DIR=%~1"
if "%HOME_DIR%"=="" set "HOME_DIR={HOME_DEFAULT}"
if not exist "%WHEELS%\\*.whl" goto no_wheels

echo [1/5] 查找本机的 Python（{listed}，64 位）……
set "PY="
for %%v in ({tried}) do if not defined PY (py -%%v-64 -c "import sys" >nul 2>nul && set "PY=py -%%v-64")
if not defined PY where python >nul 2>nul && set "PY=python"
if not defined PY goto no_python
%PY% -c "import sys, struct; sys.exit(0 if sys.version_info[:2] in ({allowed},) and struct.calcsize('P') == 8 else 3)"
if errorlevel 1 goto bad_python

echo [2/5] 建立程序专用的 Python 环境："%VENV%"
if exist "%VENV%" rmdir /s /q "%VENV%"
if exist "%VENV%" goto venv_busy
%PY% -m venv "%VENV%"
if errorlevel 1 goto fail_venv

echo [3/5] 从安装包离线安装程序（不联网）……
"%VPY%" -m pip install --no-index --find-links "%WHEELS%" --disable-pip-version-check --no-warn-script-location "xl-automation[excel]=={version}"
if errorlevel 1 goto fail_pip

echo [4/5] 复制工作簿到 "%HOME_DIR%"，写入 Excel 按钮使用的 Python 设置……
"%VPY%" -m xl_automation install-excel --from "%BUNDLE%\\workbook" --to "%HOME_DIR%"
if errorlevel 1 goto fail_setup
setx {PYTHON_VAR} "%VPY%" >nul
if errorlevel 1 goto fail_setx
setx {HOME_VAR} "%HOME_DIR%" >nul
if errorlevel 1 goto fail_setx

echo [5/5] 检查环境……
"%VPY%" -m xl_automation doctor "%HOME_DIR%"
echo.
echo 安装完成。请信息技术人员把文件夹 "%HOME_DIR%" 设为 Excel 的受信任位置
echo （文件 → 选项 → 信任中心 → 信任中心设置 → 受信任位置 → 添加新位置，勾选“同时信任此位置的子文件夹”），
echo 然后重新打开 Excel。上面标着 × 的项目请按提示处理；以后可随时双击“检查环境.cmd”再检查。
set "RC=0"
goto end

:no_wheels
echo 安装失败：找不到安装包中的 wheels 文件夹（"%WHEELS%"）。请把整个安装包文件夹解压后，在其中运行 安装.cmd。
set "RC=2"
goto end
:no_python
echo 安装失败：本机没有找到 Python。请先安装 64 位 Python {listed} 之一（安装时勾选 Add python.exe to PATH），再运行本文件。
set "RC=2"
goto end
:bad_python
echo 安装失败：找到的 Python（%PY%）不是 64 位的 {listed}。请安装 64 位 Python {listed} 之一后再运行本文件。
echo 若系统提示从 Microsoft Store 安装 Python，请在“设置 → 应用 → 应用执行别名”中关闭 python.exe 的别名。
set "RC=2"
goto end
:venv_busy
echo 安装失败：无法删除旧的程序环境 "%VENV%"（文件正在使用）。请关闭 Excel 和所有命令行窗口后再运行本文件。
set "RC=2"
goto end
:fail_venv
echo 安装失败：无法用 %PY% 建立 Python 环境 "%VENV%"。请检查该文件夹的写入权限，或重新安装 Python 后再试。
set "RC=2"
goto end
:fail_pip
echo 安装失败：从安装包安装程序时出错（见上面的英文提示）。请确认安装包完整、与本机 Python 版本相符（{listed}）。
set "RC=2"
goto end
:fail_setup
echo 安装失败：复制工作簿或写入 Excel 设置时出错（原因见上一行）。请确认文件夹 "%HOME_DIR%" 可以写入，且工作簿未在 Excel 中打开。
set "RC=2"
goto end
:fail_setx
echo 安装未完成：无法设置用户环境变量 {PYTHON_VAR} / {HOME_VAR}。拖放用的 .cmd 文件将找不到程序，请联系信息技术人员。
set "RC=2"
goto end
:end
echo.
pause
{RESTORE_CODE_PAGE}exit /b %RC%
"""


def check_cmd() -> str:
    """检查环境.cmd: the doctor with the installed interpreter, on the installed workbook folder."""
    return f"""@echo off
{CODE_PAGE}rem 检查这台电脑能否使用综合受理台账的 Excel 按钮：每项一行，√ 正常，× 有问题并写明处理办法。
setlocal EnableExtensions DisableDelayedExpansion
set "VPY={VENV_DIR}\\Scripts\\python.exe"
if defined {PYTHON_VAR} set "VPY=%{PYTHON_VAR}%"
if not exist "%VPY%" goto not_installed
set "TARGET=%~1"
if "%TARGET%"=="" set "TARGET=%{HOME_VAR}%"
if "%TARGET%"=="" set "TARGET=%~dp0."
"%VPY%" -m xl_automation doctor "%TARGET%"
set "RC=%errorlevel%"
goto end
:not_installed
echo 本机还没有安装综合受理台账工具（找不到 "%VPY%"）。请先运行离线安装包中的 安装.cmd。
set "RC=2"
:end
echo.
pause
{RESTORE_CODE_PAGE}exit /b %RC%
"""


def readme_txt(version: str, pythons: list[str]) -> str:
    """The one-page 安装说明 inside the bundle (the full text is docs/安装说明.md)."""
    listed = "、".join(pythons)
    return f"""综合受理台账工具 {version} 离线安装包 —— 安装说明（给信息技术人员，一页）

适用：Windows 10/11 64 位，Microsoft Excel 2016 或更新（含 Microsoft 365），无需上网、无需管理员权限。

一、准备
  1. 本机须已安装 64 位 Python {listed} 之一（python.org 安装包，勾选 Add python.exe to PATH，保留 py launcher）。
  2. 把整个安装包文件夹（或 zip 解压后的文件夹）复制到本机，例如桌面。路径中有中文或空格都可以。

二、安装
  1. 双击“安装.cmd”。它会：
     - 找到本机的 Python，在 {VENV_DIR} 建立程序专用环境；
     - 从 wheels 文件夹离线安装程序和 xlwings（--no-index，不联网）；
     - 把工作簿（综合受理台账.xlsm、集团汇总.xlsm、综合受理.xlam 和拖放用的 .cmd）复制到 {HOME_DEFAULT}
       （也可运行“安装.cmd D:\\综合受理”指定文件夹），并去掉它们“来自互联网”的标记；
     - 写入 Excel 按钮读取的 xlwings 设置（%USERPROFILE%\\.xlwings\\xlwings.conf 和工作簿文件夹中的 xlwings.conf），
       让按钮使用刚装好的 Python；
     - 最后运行环境检查。
  2. 把上面的工作簿文件夹设为 Excel 的受信任位置：文件 → 选项 → 信任中心 → 信任中心设置 → 受信任位置 ›
     添加新位置，勾选“同时信任此位置的子文件夹”（网络共享还要勾选“允许网络上的受信任位置”）。
     批量部署可用组策略或注册表，见 docs\\安装说明.md 第 4 节。
  3. 需要功能区“综合受理”选项卡时：Excel → 文件 → 选项 → 加载项 → 管理 Excel 加载项 → 转到 → 浏览，
     选中工作簿文件夹中的 综合受理.xlam。

三、检查
  双击“检查环境.cmd”（或在集团汇总工作簿、功能区上点“环境检查”）。每项一行：✓ 正常；✗ 有问题，后面写着处理办法。
  检查项目：Python 版本和位数、xlwings 版本、xlwings DLL、按钮使用的 Python、“来自互联网”标记、受信任位置、
  按钮调用 Python 的往返测试、导出 PDF 用的 LibreOffice 和中文字体。

四、常见问题
  - 点按钮没有任何反应、顶部有红色“安全风险”提示：工作簿不在受信任位置或带有“来自互联网”标记，见二.2。
  - 杀毒软件删除了 xlwings64-*.dll 或拦截 Excel 启动 Python（攻击面减少规则“阻止 Office 应用程序创建子进程”）：
    请把 {VENV_DIR} 加入杀毒软件的信任列表，或为 Excel 放行该规则；检查环境会指出是哪一项。
  - 升级：用新版安装包再运行一次 安装.cmd（会重建程序环境；工作簿文件夹中的同名模板会被新版覆盖，
    各营业厅另存的台账不受影响）。
"""
