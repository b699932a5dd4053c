"""Cells of the wrong type, as clerks type them in Excel, through the real command line: each gives one
finding naming the cell, never the internal-error line."""
from __future__ import annotations

import json
from datetime import datetime, time

import pytest

from xl_automation.model import labels
from xl_automation.model.ledger import column_letter
from xl_automation.model.schema import BY_KEY, HEADERS

from support.cli import run
from support.ledger_files import DEFAULT_INFO, Formatted, sample_rows, write_ledger


def cell(key: str, row: int) -> str:
    return f"{column_letter(HEADERS.index(BY_KEY[key].header) + 1)}{row}"


@pytest.mark.parametrize("engine", ["xlsxwriter", "openpyxl"])
@pytest.mark.parametrize("typed", [time(10, 0), time(0, 0), time(23, 59, 59)], ids=str)
def test_a_time_without_date_in_a_date_time_column(tmp_path, engine, typed):
    """A clerk types only 10:00 in 受理时间 / 回复对接时间 / 办结时间: Excel stores a time of day, no date."""
    rows = sample_rows(4)
    rows[1]["received_at"] = Formatted(typed, "hh:mm")
    rows[2]["replied_at"] = Formatted(typed, "hh:mm:ss")
    rows[3]["closed_at"] = Formatted(typed, "h:mm")
    rows[3]["result"] = "已办结"
    path = write_ledger(tmp_path / "台账.xlsx", rows, engine=engine)
    done = run("validate", path, "--json", "--now", "2026-11-20 12:00", cwd=tmp_path)
    assert "内部错误" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stderr
    found = {(f["cell"], f["code"]) for f in json.loads(done.stdout)["findings"]}
    # the ledger's header is on row 3, so rows[i] is on Excel row 4 + i
    for key, row in (("received_at", 5), ("replied_at", 6), ("closed_at", 7)):
        assert (cell(key, row), "datetime-invalid") in found, (key, sorted(found))
    text = run("validate", path, "--now", "2026-11-20 12:00", cwd=tmp_path)
    assert text.returncode == 1 and "内部错误" not in text.stderr
    line = next(x for x in text.stdout.splitlines() if cell("received_at", 5) in x)
    assert typed.strftime("%H:%M") in line and "处理：" in line


@pytest.mark.parametrize("period", ["2026年11月", Formatted(datetime(2026, 11, 1), "yyyy-mm"), 46000],
                         ids=["text", "date", "number"])
def test_a_period_the_program_cannot_read_is_named_with_its_file_and_sheet(tmp_path, period):
    """台账信息's 统计周期 typed as 2026年11月, or turned into a date by Excel: submit and new-ledger --from say
    which file and which sheet's field to correct, not only the bare value."""
    rows = sample_rows(3)
    path = write_ledger(tmp_path / "张店-台账.xlsx", rows, info={**DEFAULT_INFO, labels.INFO_PERIOD: period})
    before = path.read_bytes()
    for args in (("submit", path, "--to", tmp_path / "报送", "--now", "2026-11-26 10:00"),
                 ("new-ledger", "--from", path, "--out", tmp_path / "下期.xlsx")):
        done = run(*args, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert "内部错误" not in done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"张店-台账.xlsx › {labels.INFO_SHEET} › "), lines[0]
        assert labels.INFO_PERIOD in lines[0] and "2026-11" in lines[0]
    assert path.read_bytes() == before
    assert not (tmp_path / "下期.xlsx").exists() and not list((tmp_path).glob("报送/*"))
