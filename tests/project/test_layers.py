"""The layers of docs/架构.md hold: lint-imports keeps the contracts, and a wrong arrow breaks them.

Each wrong import is written into a copy of the package, so the check is shown to be able to fail.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.paths import ROOT as ROOT
LINT = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))


def lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([LINT, "--no-cache", "--config", str(root / "pyproject.toml")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def copy(tmp_path):
    shutil.copytree(ROOT / "xl_automation", tmp_path / "xl_automation",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_package_keeps_every_contract():
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 kept, 0 broken" in done.stdout


def _add_import(root: Path, module: str, line: str) -> None:
    path = root / "xl_automation" / Path(*module.split(".")).with_suffix(".py")
    text = path.read_text(encoding="utf-8")
    head, sep, rest = text.partition("from __future__ import annotations\n")
    path.write_text(head + sep + line + "\n" + rest if sep else line + "\n" + text, encoding="utf-8")


@pytest.mark.parametrize("module, line, broken", [
    ("model.labels", "from xl_automation.cli import main", "Each package imports only the packages below it"),
    ("demo.run", "from xl_automation.cli import main", "Each package imports only the packages below it"),
    ("excel.buttons", "from xl_automation.commands import ledger", "Each package imports only the packages below it"),
    ("model.schema", "from xl_automation.rules import normalize", "Each package imports only the packages below it"),
    ("rules.sla", "from xl_automation.xlsx import reader", "Each package imports only the packages below it"),
    ("xlsx.reader", "from xl_automation.report import workbook", "Each package imports only the packages below it"),
    ("month_end.collect", "import xlwings", "Only excel.app imports xlwings"),
    ("excel.buttons", "import xlwings", "Only excel.app imports xlwings"),
    ("rules.validate", "import sqlite3", "Rules are pure"),
    ("rules.periods", "import openpyxl", "Rules are pure"),
    ("rules.consolidate", "import os", "Rules are pure"),
])
def test_a_wrong_import_breaks_its_contract(copy, module, line, broken):
    assert lint(copy).returncode == 0          # the copy itself is clean
    _add_import(copy, module, line)
    done = lint(copy)
    assert done.returncode != 0
    assert "2 kept, 1 broken" in done.stdout, done.stdout
    assert broken in done.stdout.split("Broken contracts", 1)[1], done.stdout    # and it is this one
    assert f"xl_automation.{module}" in done.stdout, done.stdout
