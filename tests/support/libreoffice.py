"""A LibreOffice session for tests: one soffice per workbook, driven step by step through tests/lo_driver.py."""
from __future__ import annotations

import json
import select
import shutil
import subprocess
from pathlib import Path

import pytest

DRIVER = Path(__file__).with_name("lo_driver.py")
# the interpreter LibreOffice's Python bridge (uno) is built for: Debian's python3-uno
LO_PYTHON = "/usr/bin/python3"
TIMEOUT = 120

needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")


def check_uno() -> None:
    """uno must import when soffice is there: a missing bridge is a broken setup, not a reason to skip."""
    done = subprocess.run([LO_PYTHON, "-c", "import uno"], capture_output=True, text=True)
    assert done.returncode == 0, (f"{LO_PYTHON} cannot import uno ({done.stderr.strip()[-200:]}); install "
                                  "libreoffice-script-provider-python (python3-uno), as tests/run.sh does")


class Session:
    """soffice with one workbook open; call it with a step, get the step's result."""

    def __init__(self, path: Path):
        check_uno()
        self.proc = subprocess.Popen([LO_PYTHON, str(DRIVER), str(path)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, encoding="utf-8")
        assert self._line() == {"ready": True}

    def _line(self) -> dict:
        ready, _, _ = select.select([self.proc.stdout], [], [], TIMEOUT)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.close()
            raise AssertionError(f"LibreOffice driver gave no answer within {TIMEOUT} s (exit {self.proc.poll()})")
        return json.loads(line)

    def __call__(self, do: str, **step):
        self.proc.stdin.write(json.dumps({"do": do, **step}, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        answer = self._line()
        assert "error" not in answer, f"LibreOffice step {do} failed: {answer['error']}"
        return answer["result"]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=60)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


RECALC_ON_LOAD = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
</oor:items>
"""
