"""The reader's column-wise conversion gives, for any grid, what converting cell by cell gives."""
from datetime import date, datetime, time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xl_automation.model import labels
from xl_automation.xlsx.reader import ledger_from_grid
from xl_automation.xlsx import row_values
from xl_automation.xlsx.row_values import EMPTY as _EMPTY, converter as _converter, is_blank as _is_blank
from xl_automation.model.schema import COLUMNS, HEADERS, INPUT_COLUMNS

# values calamine gives: text clean or not (spaces, full-width, line breaks), blanks, datetimes with
# and without milliseconds, dates, times, serials, numbers, booleans, ticks; and values equal across
# types (True == 1 == 1.0, False == 0 == 0.0) that a lookup table keyed by value would take for one
CELLS = st.sampled_from([
    "", " ", "\u3000", "张三", " 张三", "张三 ", "张  三", "ＡＢＣ１２３", "13853312345", "０５３３－２１２３４５６",
    "两行\n文字", "\n开头换行", "结尾换行\n", "√", "✓", "是", "否", "×", "？", "窗口现场", "已办结", "工业",
    "2026-11-03 09:05", "2026年11月3日 下午3点", "2026/11/3", "不是时间", "45234.5", "12", "-",
    datetime(2026, 11, 3, 9, 5), datetime(2026, 11, 3, 8, 29, 59, 994000), datetime(2026, 11, 4, 0, 0),
    date(2026, 11, 5), time(9, 5), 45234.375, 2.5, 7, True, False, 1, 1.0, 0, 0.0])


def cell_by_cell(grid: list[list], header_row: int) -> list[tuple[int, dict]]:
    """The reference: each cell converted on its own, a row kept when any input cell is not blank; a
    date in a date-time column where any other cell reads as a time of day is that midnight (a grid
    carries no number formats: the reader decides by the column)."""
    body = grid[header_row + 1:]
    converted = [{col.key: _EMPTY[col.kind] if line[c] == "" else _converter(col.kind, False)(line[c])
                  for c, col in enumerate(COLUMNS)} for line in body]
    timed = {col.key for col in COLUMNS if col.kind == "datetime"
             and any(type(v[col.key]) is datetime and v[col.key].time() != time() for v in converted)}
    out = []
    for r, (line, values) in enumerate(zip(body, converted), start=header_row + 2):
        if all(_is_blank(line[c]) for c, col in enumerate(COLUMNS) if col in INPUT_COLUMNS):
            continue
        for c, col in enumerate(COLUMNS):
            if col.key in timed and type(line[c]) is date:
                values[col.key] = datetime.combine(line[c], time())
        out.append((r, values))
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(CELLS, min_size=len(COLUMNS), max_size=len(COLUMNS)), max_size=12),
       st.sampled_from(list(range(len(COLUMNS)))), st.data())
def test_columns_convert_as_cells_do(body, uniform, data):
    # some columns hold one value throughout (a filled column, a blank one), as real ledgers do
    value = data.draw(CELLS)
    for line in body:
        line[uniform] = value
    grid = [["台账"] + [""] * (len(COLUMNS) - 1), list(HEADERS)] + body
    ledger = ledger_from_grid(grid, sheet=labels.LEDGER_SHEET, path=Path("台账.xlsx"), info={})
    got = [(row.excel_row, dict(row.values.items())) for row in ledger.rows]
    assert got == cell_by_cell(grid, 1)


PALETTES = st.one_of(st.lists(CELLS, min_size=1, max_size=3),
                     st.sampled_from([["", "√"], ["√"], [""], ["是", "否"]]))   # tick columns as clerks fill them


@settings(max_examples=300, deadline=None)
@given(st.lists(PALETTES, min_size=len(COLUMNS), max_size=len(COLUMNS)), st.integers(0, 40),
       st.sampled_from([1, 2, 3, 5, 8]), st.data())
def test_block_by_block_as_cells_do(palettes, rows, block, data):
    # the reader converts BLOCK rows at a time, keeping what each column has seen: columns of a few
    # repeated values (choices, ticks, blanks) and of distinct ones, over many blocks, convert as cells do
    body = [[data.draw(st.sampled_from(palette)) for palette in palettes] for _ in range(rows)]
    for c in data.draw(st.sets(st.sampled_from(range(len(COLUMNS))))):
        for r, line in enumerate(body):     # a column of distinct values: ids, phones, addresses
            line[c] = f"值{c}-{r}" if r % 7 else line[c]
    for r in data.draw(st.sets(st.integers(0, max(rows - 1, 0)))) if rows else ():
        body[r] = [""] * len(COLUMNS)       # rows left empty between others
    assert read_in_blocks(body, block) == cell_by_cell(grid_of(body), 1)


@pytest.mark.parametrize("column", [c.key for c in COLUMNS])
def test_values_equal_across_types_in_a_column_of_distinct_values(column):
    # a column first seen holding distinct values (ids, phones, addresses) that later holds a Boolean cell and
    # the number it equals, in other blocks: each converted as its own cell is, never as the other
    at = [c.key for c in COLUMNS].index(column)
    odd = {20: True, 30: 1, 40: 1.0, 50: False, 60: 0, 70: 0.0}
    body = [["W01"] + [""] * (len(COLUMNS) - 1) for _ in range(80)]
    for r, line in enumerate(body):
        line[at] = odd.get(r, f"值-{r}")
    assert read_in_blocks(body, 8) == cell_by_cell(grid_of(body), 1)


def grid_of(body: list[list]) -> list[list]:
    return [["台账"] + [""] * (len(COLUMNS) - 1), list(HEADERS)] + body


def read_in_blocks(body: list[list], block: int) -> list[tuple[int, dict]]:
    """The reader's rows for a ledger of these body rows, converted `block` rows at a time."""
    saved = row_values.BLOCK
    row_values.BLOCK = block
    try:
        ledger = ledger_from_grid(grid_of(body), sheet=labels.LEDGER_SHEET, path=Path("台账.xlsx"), info={})
    finally:
        row_values.BLOCK = saved
    return [(row.excel_row, dict(row.values.items())) for row in ledger.rows]
