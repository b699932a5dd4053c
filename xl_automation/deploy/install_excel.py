"""The Python half of 安装.cmd: copy the workbooks to the users' folder, unblock them, point xlwings at
this interpreter. Done in Python, not in the batch file: paths arrive as Unicode arguments, and the
xlwings.conf files are written in the ANSI code page that Excel's VBA reads them in.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from xl_automation.deploy.winenv import Machine
from xl_automation.deploy.xlwings_conf import CONF_NAME, INTERPRETER_KEY, user_conf, write_setting

COPIED_SUFFIXES = (".xlsm", ".xlam", ".cmd")


class InstallError(Exception):
    """The install cannot go on; the message says what to do."""


@dataclass
class Installed:
    copied: list[Path] = field(default_factory=list)
    unblocked: list[Path] = field(default_factory=list)
    settings: list[Path] = field(default_factory=list)


def install(source: Path, target: Path, machine: Machine, interpreter: str) -> Installed:
    """Copy source's workbooks and .cmd files into target; write INTERPRETER_WIN beside them and for the user."""
    files = sorted(p for p in Path(source).iterdir() if p.suffix.lower() in COPIED_SUFFIXES) if source.is_dir() else []
    if not files:
        raise InstallError(f"{source} 中没有工作簿：请在完整的安装包文件夹中运行 安装.cmd")
    target.mkdir(parents=True, exist_ok=True)
    busy = [p.name for p in files if (target / f"~${p.name}").exists()]
    if busy:
        raise InstallError(f"{'、'.join(busy)} 正在 Excel 中打开（{target} 中有 ~$ 锁定文件）：请关闭 Excel 后再运行 安装.cmd")
    done = Installed()
    for src in files:
        dst = target / src.name
        try:
            shutil.copyfile(src, dst)          # contents only: no alternate data stream comes along
        except PermissionError:
            raise InstallError(f"无法写入 {dst}：没有权限或文件正被占用。请关闭 Excel 后再试，或换一个文件夹") from None
        done.copied.append(dst)
        if machine.remove_zone(dst):
            done.unblocked.append(dst)
    for conf in (target / CONF_NAME, user_conf(machine.userprofile)):
        done.settings.append(write_setting(conf, INTERPRETER_KEY, interpreter, machine.ansi_encoding))
    return done
