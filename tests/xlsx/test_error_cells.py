"""Cells showing a formula's error value (#N/A from a VLOOKUP, #DIV/0!, #REF! after a deleted row): the
reader gets them as blanks, so each is named as a finding on its cell, never silently read as empty
(a #DIV/0! in 回复对接时间 would otherwise make a contacted request overdue, and a row of errors vanish)."""
from __future__ import annotations

import json
import random

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from xl_automation.model.ledger import column_letter
from xl_automation.model.schema import BY_KEY, HEADERS, INPUT_COLUMNS
from xl_automation.xlsx import xlsx_probe
from xl_automation.xlsx.reader import read_ledger

from support.cli import run
from support.ledger_files import FormulaResult, sample_rows, write_ledger

ERRORS = ["#N/A", "#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!"]


def cell(key: str, row: int) -> str:
    return f"{column_letter(HEADERS.index(BY_KEY[key].header) + 1)}{row}"


def test_every_error_cell_in_the_ledgers_columns_is_a_finding(tmp_path):
    rows = sample_rows(6)
    rows[0]["phone"] = FormulaResult('=VLOOKUP("x",A1:A2,1,FALSE)', "#N/A")
    rows[1]["replied_at"] = FormulaResult("=1/0", "#DIV/0!")
    rows[2]["request_id"] = FormulaResult("=#REF!", "#REF!")
    # a row whose every input cell is an error: it must not vanish as if empty
    rows[4] = {key: FormulaResult("=NA()", ERRORS[i % len(ERRORS)]) for i, key in enumerate(rows[4])}
    path = write_ledger(tmp_path / "台账.xlsx", rows)
    ledger = read_ledger(path)
    found = {f.cell: f for f in ledger.findings if f.code == "cell-error"}
    # header on row 3: rows[i] is Excel row 4 + i
    expected = {cell("phone", 4): "#N/A", cell("replied_at", 5): "#DIV/0!", cell("request_id", 6): "#REF!"}
    expected |= {cell(key, 8): ERRORS[i % len(ERRORS)] for i, key in enumerate(rows[4])}
    assert {c: f.value for c, f in found.items()} == expected
    assert all(f.severity == "error" and f.sheet == "受理台账" and f.column for f in found.values())
    assert all(f.value in f.message for f in found.values())

    done = run("validate", path, "--json", "--now", "2026-11-20 12:00", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    cells = {f["cell"] for f in json.loads(done.stdout)["findings"] if f["code"] == "cell-error"}
    assert cells == set(expected)
    text = run("validate", path, "--now", "2026-11-20 12:00", cwd=tmp_path).stdout
    line = next(x for x in text.splitlines() if f"!{cell('replied_at', 5)} " in x and "#DIV/0!" in x)
    assert "处理：" in line


@pytest.mark.libreoffice
def test_error_cells_of_an_old_xls_are_findings_too(tmp_path):
    """An .xls (Excel 97–2003, or WPS saving in that format): the error values are in the BIFF records (a
    FORMULA's cached result, a BOOLERR constant), which calamine also reads as blank."""
    from support.ledger_files import convert_with_soffice
    rows = sample_rows(5)
    rows[0]["phone"] = FormulaResult("=NA()", "#N/A")
    rows[1]["replied_at"] = FormulaResult("=1/0", "#DIV/0!")
    rows[3]["remarks"] = FormulaResult('="a"+1', "#VALUE!")
    xls = convert_with_soffice(write_ledger(tmp_path / "台账.xlsx", rows), "xls", tmp_path)
    ledger = read_ledger(xls)
    assert ledger.format == "xls"
    assert {f.cell: f.value for f in ledger.findings if f.code == "cell-error"} == {
        cell("phone", 4): "#N/A", cell("replied_at", 5): "#DIV/0!", cell("remarks", 7): "#VALUE!"}


def test_a_ledger_without_error_cells_has_no_such_finding(tmp_path):
    rows = sample_rows(4)
    rows[0]["remarks"] = FormulaResult('="备注"', "备注")            # a formula with a plain result
    path = write_ledger(tmp_path / "台账.xlsx", rows)
    assert not [f for f in read_ledger(path).findings if f.code == "cell-error"]


@pytest.fixture(scope="module")
def sprinkled(tmp_path_factory):
    """A ledger with error values in random input cells (seeded), and the cells openpyxl sees holding one."""
    rnd = random.Random(7)
    rows = sample_rows(60)
    for row in rows:
        for key in list(row):
            if rnd.random() < 0.08:
                row[key] = FormulaResult("=NA()", rnd.choice(ERRORS))
    path = write_ledger(tmp_path_factory.mktemp("errors") / "台账.xlsx", rows)
    ws = openpyxl.load_workbook(path, data_only=True)["受理台账"]
    inputs = {HEADERS.index(c.header) + 1 for c in INPUT_COLUMNS}
    expected = {(c.coordinate, c.value) for line in ws.iter_rows(min_row=4) for c in line
                if c.data_type == "e" and c.column in inputs}
    return path, expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunk=st.integers(min_value=16, max_value=4096))
def test_error_cells_are_found_wherever_the_chunks_cut_the_sheet(sprinkled, chunk, monkeypatch):
    """The scan reads the sheet's XML in chunks (1 MB; here any small size, so that cells, their tags and
    their values fall across chunk edges): every error cell is found exactly once, with its value."""
    path, expected = sprinkled
    assert len(expected) > 20
    monkeypatch.setattr(xlsx_probe, "_CHUNK", chunk)
    found = [(f.cell, f.value) for f in read_ledger(path).findings if f.code == "cell-error"]
    assert len(found) == len(set(found)) and set(found) == expected
