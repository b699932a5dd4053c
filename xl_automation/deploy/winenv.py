"""The one boundary to the Windows machine: registry (Office, trusted locations), alternate data streams
(Mark-of-the-Web), fonts, and a RunPython round trip through Excel.

doctor.py and install_excel.py ask a Machine; SystemMachine answers from this computer. Everything
Windows-only is imported inside the method that needs it, and answers None elsewhere, so the module
loads on Linux. Tests use a fake Machine (tests/support/fake_machine.py); the real Windows answers are proven
only on Windows (tests marked `excel`) and by the checklist in docs/验收清单.md.
"""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

OFFICE_VERSIONS = ("16.0", "15.0")          # 2016/2019/2021/365, 2013
TRUSTED_KEYS = (r"Software\Microsoft\Office\{v}\Excel\Security\Trusted Locations",
                r"Software\Policies\Microsoft\Office\{v}\Excel\Security\Trusted Locations")
CJK_FONT_FILES = ("simsun.ttc", "simhei.ttf", "msyh.ttc", "msyh.ttf", "Deng.ttf", "simkai.ttf")


@dataclass(frozen=True)
class Office:
    version: str              # "16.0"
    bits: int                 # 64 or 32


@dataclass(frozen=True)
class TrustedLocation:
    path: str
    subfolders: bool


class Machine(Protocol):
    is_windows: bool
    python_version: tuple[int, int]
    python_bits: int
    python_executable: str
    userprofile: str
    ansi_encoding: str

    def xlwings_version(self) -> str | None: ...
    def office(self) -> Office | None: ...
    def trusted_locations(self) -> list[TrustedLocation]: ...
    def zone_id(self, path: Path) -> int | None: ...
    def remove_zone(self, path: Path) -> bool: ...
    def exists(self, path: str) -> bool: ...
    def imports_ok(self, interpreter: str) -> str | None: ...
    def run_python(self, workbook: Path) -> str | None: ...
    def soffice(self) -> str | None: ...
    def cjk_fonts(self) -> list[str]: ...


class SystemMachine:
    """This computer."""

    def __init__(self) -> None:
        self.is_windows = sys.platform == "win32"
        self.python_version = sys.version_info[:2]
        self.python_bits = struct.calcsize("P") * 8
        self.python_executable = sys.executable
        self.userprofile = os.environ.get("USERPROFILE") or str(Path.home())
        # VBA's file I/O reads the ANSI code page ("mbcs" in Python on Windows); 936 elsewhere, for tests
        self.ansi_encoding = "mbcs" if self.is_windows else "gbk"

    def xlwings_version(self) -> str | None:
        from importlib import metadata
        try:
            return metadata.version("xlwings")
        except metadata.PackageNotFoundError:
            return None

    # -- registry -------------------------------------------------------------------------
    def office(self) -> Office | None:
        if not self.is_windows:
            return None
        import winreg
        for view in (winreg.KEY_WOW64_64KEY, winreg.KEY_WOW64_32KEY):
            for key, name in ((r"SOFTWARE\Microsoft\Office\ClickToRun\Configuration", "Platform"),
                              *((rf"SOFTWARE\Microsoft\Office\{v}\Outlook", "Bitness") for v in OFFICE_VERSIONS)):
                value = _reg_value(winreg.HKEY_LOCAL_MACHINE, key, name, view)
                if value:
                    version = next((v for v in OFFICE_VERSIONS if _reg_exists(
                        winreg.HKEY_LOCAL_MACHINE, rf"SOFTWARE\Microsoft\Office\{v}\Excel", view)), "16.0")
                    return Office(version, 64 if str(value).lower() in ("x64", "64") else 32)
        return None

    def trusted_locations(self) -> list[TrustedLocation]:
        if not self.is_windows:
            return []
        import winreg
        found = []
        for v in OFFICE_VERSIONS:
            for root in (winreg.HKEY_CURRENT_USER, winreg.HKEY_LOCAL_MACHINE):
                for template in TRUSTED_KEYS:
                    base = template.format(v=v)
                    for sub in _reg_subkeys(root, base):
                        path = _reg_value(root, rf"{base}\{sub}", "Path")
                        if path:
                            found.append(TrustedLocation(os.path.expandvars(str(path)),
                                                         bool(_reg_value(root, rf"{base}\{sub}", "AllowSubfolders"))))
        return found

    # -- alternate data streams -----------------------------------------------------------
    def zone_id(self, path: Path) -> int | None:
        """The ZoneId of the file's Zone.Identifier stream (3 = Internet), None when there is none."""
        if not self.is_windows:
            return None
        try:
            text = Path(f"{path}:Zone.Identifier").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        for line in text.splitlines():
            if line.strip().lower().startswith("zoneid="):
                try:
                    return int(line.split("=", 1)[1].strip())
                except ValueError:
                    return None
        return None

    def remove_zone(self, path: Path) -> bool:
        if not self.is_windows:
            return False
        try:
            os.remove(f"{path}:Zone.Identifier")
            return True
        except OSError:
            return False

    # -- processes --------------------------------------------------------------------------
    def exists(self, path: str) -> bool:
        return Path(path).is_file() or (os.sep not in path and "/" not in path and shutil.which(path) is not None)

    def imports_ok(self, interpreter: str) -> str | None:
        """None when the interpreter imports xl_automation and xlwings, else what it said."""
        try:
            done = subprocess.run([interpreter, "-c", "import xl_automation, xlwings"], capture_output=True,
                                  text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            return str(e)
        return None if done.returncode == 0 else (done.stderr.strip().splitlines() or ["?"])[-1]

    def run_python(self, workbook: Path) -> str | None:
        """Excel opens the workbook hidden and runs RunPython, which writes a token file; None when it came back."""
        if not self.is_windows:
            return "不是 Windows"
        import xlwings as xw
        token = Path(tempfile.gettempdir(), f"xl-automation-doctor-{os.getpid()}.txt")
        token.unlink(missing_ok=True)
        app = xw.App(visible=False, add_book=False)
        try:
            book = app.books.open(str(workbook), read_only=True)
            book.macro("xlwings.RunPython")(f"import xl_automation.excel as x; x.ping(r'{token}')")
            return None if token.is_file() else "RunPython 没有启动 Python（没有回应）"
        except Exception as e:   # noqa: BLE001 - every COM failure is an answer here
            return f"{type(e).__name__}: {e}"
        finally:
            app.quit()
            token.unlink(missing_ok=True)

    def soffice(self) -> str | None:
        from xl_automation.report.pdf import soffice
        return soffice()

    def cjk_fonts(self) -> list[str]:
        if self.is_windows:
            fonts = Path(os.environ.get("WINDIR", r"C:\Windows"), "Fonts")
            return [f for f in CJK_FONT_FILES if (fonts / f).exists()]
        if not shutil.which("fc-list"):
            return []
        done = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=60)
        return sorted({line.split(",")[0].strip() for line in done.stdout.splitlines() if line.strip()})


def _reg_value(root, key: str, name: str, view: int = 0):
    import winreg
    try:
        with winreg.OpenKey(root, key, 0, winreg.KEY_READ | view) as k:
            return winreg.QueryValueEx(k, name)[0]
    except OSError:
        return None


def _reg_exists(root, key: str, view: int = 0) -> bool:
    import winreg
    try:
        winreg.OpenKey(root, key, 0, winreg.KEY_READ | view).Close()
        return True
    except OSError:
        return False


def _reg_subkeys(root, key: str) -> list[str]:
    import winreg
    try:
        with winreg.OpenKey(root, key) as k:
            out, i = [], 0
            while True:
                try:
                    out.append(winreg.EnumKey(k, i))
                except OSError:
                    return out
                i += 1
    except OSError:
        return []
