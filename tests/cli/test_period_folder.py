"""The period folder given to consolidate and notice, mistyped or pointing at a file: one line saying which,
and nothing written anywhere (no archive beside a folder that does not exist)."""
from __future__ import annotations

import pytest

from support.cli import run
from support.ledger_files import write_ledger

COMMANDS = {
    "consolidate": ("consolidate", "{folder}", "--period", "2026-11", "--out", "{out}", "--now", "2026-11-26 10:00"),
    "notice": ("notice", "{folder}", "--period", "2026-11", "--now", "2026-11-26 10:00"),
}


def _args(name, folder, out):
    return [a.format(folder=folder, out=out) for a in COMMANDS[name]]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_folder_that_does_not_exist(tmp_path, name):
    (tmp_path / "报送").mkdir()
    folder = tmp_path / "报送" / "2026-1l"          # a typo: letter l for digit 1
    done = run(*_args(name, folder, tmp_path / "月报.xlsx"), cwd=tmp_path)
    assert done.returncode == 2 and "内部错误" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "2026-1l" in lines[0] and "报送目录" in lines[0] and "不存在" in lines[0], lines
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == [tmp_path.joinpath("报送").relative_to(tmp_path)]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_file_given_as_the_folder(tmp_path, name):
    ledger = write_ledger(tmp_path / "ZLS01-2026-11.xlsx")
    before = ledger.read_bytes()
    done = run(*_args(name, ledger, tmp_path / "月报.xlsx"), cwd=tmp_path)
    assert done.returncode == 2 and "内部错误" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "ZLS01-2026-11.xlsx" in lines[0] and "不是文件夹" in lines[0], lines
    assert "找不到" not in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ZLS01-2026-11.xlsx"] and ledger.read_bytes() == before
