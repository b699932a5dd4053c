"""A Windows PC as doctor.py and install_excel.py see it (winenv.Machine), set up field by field.

The healthy default: 64-bit Python 3.12 in a venv made by 安装.cmd, 64-bit Office 16.0, the DLL in the
venv, xlwings.conf pointing at it, the workbook folder a trusted location, no Mark-of-the-Web.
Files that "exist" on the fake Windows side are listed in `files`; xlwings.conf files are real files
under `userprofile` and the workbook folder (a tmp_path), since xlwings_conf reads them for real.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from xl_automation.excel.build_vba import XLWINGS_VERSION
from xl_automation.deploy.winenv import Office, TrustedLocation

VENV = r"C:\Users\张三\AppData\Local\xl-automation\venv"
VPY = VENV + r"\Scripts\python.exe"


@dataclass
class FakeMachine:
    userprofile: str
    is_windows: bool = True
    python_version: tuple[int, int] = (3, 12)
    python_bits: int = 64
    python_executable: str = VPY
    ansi_encoding: str = "gbk"
    xlwings: str | None = XLWINGS_VERSION
    office_info: Office | None = Office("16.0", 64)
    trusted: list[TrustedLocation] = field(default_factory=list)
    zones: dict[str, int] = field(default_factory=dict)          # file path -> ZoneId
    files: set[str] = field(default_factory=lambda: {VPY, VENV + rf"\xlwings64-{XLWINGS_VERSION}.dll",
                                                     VENV + rf"\xlwings32-{XLWINGS_VERSION}.dll"})
    import_problem: str | None = None
    run_python_problem: str | None = None
    soffice_path: str | None = r"C:\Program Files\LibreOffice\program\soffice.exe"
    fonts: list[str] = field(default_factory=lambda: ["simsun.ttc", "msyh.ttc"])
    removed_zones: list[Path] = field(default_factory=list)
    round_trips: list[Path] = field(default_factory=list)

    def xlwings_version(self) -> str | None:
        return self.xlwings

    def office(self) -> Office | None:
        return self.office_info

    def trusted_locations(self) -> list[TrustedLocation]:
        return list(self.trusted)

    def zone_id(self, path: Path) -> int | None:
        return self.zones.get(str(path))

    def remove_zone(self, path: Path) -> bool:
        if self.zones.pop(str(path), None) is None:
            return False
        self.removed_zones.append(path)
        return True

    def exists(self, path: str) -> bool:
        return path in self.files

    def imports_ok(self, interpreter: str) -> str | None:
        return self.import_problem

    def run_python(self, workbook: Path) -> str | None:
        self.round_trips.append(workbook)
        return self.run_python_problem

    def soffice(self) -> str | None:
        return self.soffice_path

    def cjk_fonts(self) -> list[str]:
        return list(self.fonts)
