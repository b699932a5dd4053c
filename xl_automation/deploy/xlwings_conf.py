"""The xlwings settings the workbooks' VBA reads (xlwings 0.37.8, xlwings.bas GetConfig), and writing them.

GetConfig looks, in this order, at a sheet named `xlwings.conf` in the workbook (ours have none),
`xlwings.conf` in the workbook's folder, then `%USERPROFILE%\\.xlwings\\xlwings.conf`; RunPython then uses
INTERPRETER_WIN, else the legacy INTERPRETER, else `python` from PATH. The files are read with VBA's
`Input #`: one `"KEY","VALUE"` line per setting, keys compared case-insensitively, in the ANSI code page
(936 on Chinese Windows), so they are written in that code page with CRLF line ends.
"""
from __future__ import annotations

import re
from pathlib import Path

CONF_NAME = "xlwings.conf"
INTERPRETER_KEY = "INTERPRETER_WIN"
DEFAULT_INTERPRETER = "python"
_LINE = re.compile(r'^\s*"([^"]*)"\s*,\s*"([^"]*)"\s*$')


def _lines(text: str) -> list[str]:
    """Lines as VBA's Input # sees them: split at CR/LF only (str.splitlines also splits at \f, \v, \x1c…)."""
    return [line for line in re.split(r"\r\n|\r|\n", text) if line]


def user_conf(userprofile: str | Path) -> Path:
    return Path(userprofile) / ".xlwings" / CONF_NAME


def read_conf(path: Path, encoding: str) -> dict[str, str]:
    """{KEY (upper case): value} of one xlwings.conf; {} when it is missing or unreadable."""
    try:
        text = path.read_bytes().decode(encoding, errors="replace")
    except OSError:
        return {}
    out: dict[str, str] = {}
    for line in _lines(text):
        m = _LINE.match(line)
        if m and m.group(1).upper() not in out:      # VBA stops at the first match
            out[m.group(1).upper()] = m.group(2)
    return out


def interpreter_for(workbook_dir: Path, userprofile: str | Path, encoding: str) -> tuple[str, str]:
    """(interpreter, where it was set) as RunPython resolves it for a workbook in workbook_dir."""
    for path in (workbook_dir / CONF_NAME, user_conf(userprofile)):
        conf = read_conf(path, encoding)
        for key in (INTERPRETER_KEY, "INTERPRETER"):
            if conf.get(key):
                return conf[key], str(path)
    return DEFAULT_INTERPRETER, "xlwings 默认值（PATH 中的 python）"


def write_setting(path: Path, key: str, value: str, encoding: str) -> Path:
    """Set one key in an xlwings.conf, keeping every other line as it was."""
    if '"' in value or "\n" in value:
        raise ValueError(f"xlwings 设置 {key} 的值不能含有引号或换行：{value}")
    try:
        old = _lines(path.read_bytes().decode(encoding, errors="replace"))
    except FileNotFoundError:
        old = []
    kept = [line for line in old if not ((m := _LINE.match(line)) and m.group(1).upper() == key.upper())]
    kept.append(f'"{key}","{value}"')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(kept) + "\r\n").encode(encoding))
    return path
